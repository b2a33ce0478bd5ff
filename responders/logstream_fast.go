package responders

import (
	"math/bits"
	"unicode/utf8"
)

// The fast path of the log-stream reader. Almost every line of an export
// is "clean": no backslash, no control character, valid UTF-8. In such a
// line a string ends at the next quote and its bytes are its value, so the
// functions below find string ends in a mask of the line's quotes
// (quotemasks.go, which also tells whether the line is clean) and walk
// the values triage skips (details, auth0_client, most of location_info)
// in one loop with a bit stack instead of a call per member. They pass the
// index they are at as an argument and a result, so that it lives in a
// register (a scanner's field was a load and a store around every token),
// and read string values in line: about 9,500 instructions for a 1.4 KB
// event (valgrind, BenchmarkParseLogEvent). It still validates everything
// it walks. It answers only when sure: a line it finds odd (not clean,
// malformed, nested deeper than 64) goes to the general scanner, which has
// the last word, so the fields and the malformed count are the general
// scanner's on every line (FuzzReadLogStream and
// TestTriageFastPathEqualsReferenceDecode check
// both paths against encoding/json).

// parseClean fills f from a clean line the way parseLine would; false
// means "ask parseLine" (the line is not clean, or is odd or malformed).
func (f *eventFields) parseClean(line []byte) bool {
	if len(line) > maxFastLine {
		return false
	}
	quotes, compact, ok := f.quoteMasks(line)
	if !ok {
		return false
	}
	l := fastLine{b: line, quotes: quotes, spaced: !compact}
	var outer, inner eventFields
	envelope := false
	i := l.sp(0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = l.event(i+1, &outer, &inner, &envelope)
	if i < 0 || l.sp(i) != len(line) {
		return false // malformed, or trailing bytes after the object
	}
	if envelope {
		if len(inner.logID) == 0 {
			inner.logID = outer.logID
		}
		outer = inner
	}
	if outer.typ == nil {
		return false
	}
	outer.scratch, outer.lower, outer.quotes = f.scratch, f.lower, f.quotes
	*f = outer
	return true
}

// maxFastLine is the longest line the fast path takes (an event is about
// 1.4 KB; Auth0 truncates long values).
const maxFastLine = 64 << 10

// letters pads a line's last block.
var letters = [64]byte{'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
	'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x'}

// quoteMasks returns the masks of line's quotes, a word a 64-byte block
// and a last zero word (so that the position after the line has one), and
// whether the line is compact (no space outside its strings); or false
// when the line is not clean: it holds a backslash, a byte below 0x20 or
// invalid UTF-8. UTF-8 sequences hold no ASCII byte, so a valid line's
// strings, cut at its ASCII quotes, are valid too.
func (f *eventFields) quoteMasks(line []byte) (quotes []uint64, compact, ok bool) {
	blocks := (len(line) + 63) / 64
	if cap(f.quotes) < blocks+1 {
		f.quotes = make([]uint64, maxFastLine/64+1)
	}
	masks := f.quotes[:blocks+1]
	masks[blocks] = 0
	whole := len(line) &^ 63
	flags := quoteMasks(line[:whole], masks, false)
	if whole < len(line) {
		// The last, partial block, padded with a letter (no quote, no
		// space).
		pad := letters
		copy(pad[:], line[whole:])
		flags = flags&^maskOpenString | quoteMasks(pad[:], masks[blocks-1:], flags&maskOpenString != 0)
	}
	if flags&maskNotClean != 0 || flags&maskNonASCII != 0 && !utf8.Valid(line) {
		return nil, false, false
	}
	return masks, flags&maskSpaced == 0, true
}

// fastLine is a clean line and the masks of its quotes. Its methods take
// the index to read at and return the index after what they read, or -1
// when the line is malformed or odd (the general scanner decides).
type fastLine struct {
	b      []byte
	quotes []uint64
	// spaced: the line has spaces outside its strings (the only
	// whitespace a clean line can hold). A compact line is not searched
	// for them: that search, before every token, was a quarter of the
	// fast path's work.
	spaced bool
}

// sp skips the spaces at i.
func (l *fastLine) sp(i int) int {
	if l.spaced {
		i = skipSpaces(l.b, i)
	}
	return i
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

// strEnd returns the index of the quote that closes the string whose
// first byte is at start (the next quote: the line is clean), -1 if there
// is none. start is at most the line's length: the masks have a word for
// it.
func strEnd(quotes []uint64, start int) int {
	k := start >> 6
	if k >= len(quotes) {
		return -1
	}
	w := quotes[k] >> (start & 63)
	for w == 0 {
		if k++; k >= len(quotes) {
			return -1
		}
		w, start = quotes[k], k<<6
	}
	return start + bits.TrailingZeros64(w)
}

// keyAt reads `"key":` at i: the key's bounds and the index after the
// colon. Its compact-line form is written out where it is hot (event,
// member, skip): a call per key cost more than the reading.
func keyAt(b []byte, quotes []uint64, i int) (start, end, next int) {
	i = skipSpaces(b, i)
	if i >= len(b) || b[i] != '"' {
		return 0, 0, -1
	}
	if end = strEnd(quotes, i+1); end < 0 {
		return 0, 0, -1
	}
	if next = skipSpaces(b, end+1); next >= len(b) || b[next] != ':' {
		return 0, 0, -1
	}
	return i + 1, end, next + 1
}

// event reads the members of an event object from i (after its '{')
// into ev, and returns the index after its '}'. For the line's outer
// object, data and envelope are where its "data" object goes. Most of an
// event's members are strings, read here without a call (a call spills
// every register: a closure per member cost more than the member).
func (l *fastLine) event(i int, ev, data *eventFields, envelope *bool) int {
	b, quotes, spaced := l.b, l.quotes, l.spaced
	if spaced {
		i = skipSpaces(b, i)
	}
	if i < len(b) && b[i] == '}' {
		return i + 1
	}
	for {
		var start, end int
		if spaced {
			if start, end, i = keyAt(b, quotes, i); i < 0 {
				return -1
			}
			i = skipSpaces(b, i)
		} else {
			if i >= len(b) || b[i] != '"' {
				return -1
			}
			start, end = i+1, strEnd(quotes, i+1)
			if end < 0 || end+1 >= len(b) || b[end+1] != ':' {
				return -1
			}
			i = end + 2
		}
		key := b[start:end]
		switch {
		case data != nil && string(key) == "data":
			if i >= len(b) || b[i] != '{' {
				*envelope = false
				i = l.skip(i)
				break
			}
			*data, *envelope = eventFields{}, true
			i = l.event(i+1, data, nil, nil)
		case i < len(b) && b[i] == '"':
			end := strEnd(quotes, i+1)
			if end < 0 {
				return -1
			}
			if dst := ev.stringField(key); dst != nil {
				*dst = b[i+1 : end]
			}
			i = end + 1
		default:
			i = l.field(ev, key, i)
		}
		if i < 0 {
			return -1
		}
		if spaced {
			i = skipSpaces(b, i)
		}
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1
		default:
			return -1
		}
	}
}

// member reads the members of an object from i (after its '{') and
// returns the index after its '}' and the text of the last value of the
// member named key (nil: none). Like event, it reads string values
// without a call.
func (l *fastLine) member(i int, key string) (next int, raw []byte) {
	b, quotes, spaced := l.b, l.quotes, l.spaced
	if spaced {
		i = skipSpaces(b, i)
	}
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		var start, end int
		if spaced {
			if start, end, i = keyAt(b, quotes, i); i < 0 {
				return -1, nil
			}
			i = skipSpaces(b, i)
		} else {
			if i >= len(b) || b[i] != '"' {
				return -1, nil
			}
			start, end = i+1, strEnd(quotes, i+1)
			if end < 0 || end+1 >= len(b) || b[end+1] != ':' {
				return -1, nil
			}
			i = end + 2
		}
		at := i
		if i < len(b) && b[i] == '"' {
			if i = strEnd(quotes, i+1); i < 0 {
				return -1, nil
			}
			i++
		} else if i = l.skip(i); i < 0 {
			return -1, nil
		}
		if string(b[start:end]) == key {
			raw = b[at:i]
		}
		if spaced {
			i = skipSpaces(b, i)
		}
		if i >= len(b) {
			return -1, nil
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, raw
		default:
			return -1, nil
		}
	}
}

// field is scanner.field for a clean line: the value at i of member key
// into ev when triage wants it, skipped otherwise.
func (l *fastLine) field(ev *eventFields, key []byte, i int) int {
	if dst := ev.stringField(key); dst != nil {
		return l.str(i, dst)
	}
	switch string(key) {
	case "location_info":
		ev.country = nil
		if i = l.sp(i); i >= len(l.b) || l.b[i] != '{' {
			return l.skip(i)
		}
		var raw []byte
		if i, raw = l.member(i+1, "country_code"); len(raw) > 0 && raw[0] == '"' {
			ev.country = raw[1 : len(raw)-1]
		}
		return i
	case "details":
		ev.verify = false
		if i = l.sp(i); i >= len(l.b) || l.b[i] != '{' {
			return l.skip(i)
		}
		var raw []byte
		i, raw = l.member(i+1, "requiresVerification")
		ev.verify = string(raw) == "true"
		return i
	}
	return l.skip(i)
}

// str reads the value at i into *dst if it is a string (nil otherwise).
func (l *fastLine) str(i int, dst *[]byte) int {
	if i = l.sp(i); i >= len(l.b) || l.b[i] != '"' {
		*dst = nil
		return l.skip(i)
	}
	end := strEnd(l.quotes, i+1)
	if end < 0 {
		return -1
	}
	*dst = l.b[i+1 : end]
	return end + 1
}

// maxFastDepth bounds the nesting skip walks; deeper values go to the
// general scanner.
const maxFastDepth = 64

// skip reads and validates the value at i, in one loop: stack holds a bit
// per open container (1: object, 0: array).
func (l *fastLine) skip(i int) int {
	b, quotes, spaced := l.b, l.quotes, l.spaced
	var stack uint64
	depth := 0
	key := false // a key comes first: after '{' or an object's ','
	for {
		if spaced {
			i = skipSpaces(b, i)
		}
		if key {
			key = false
			if spaced {
				if _, _, i = keyAt(b, quotes, i); i < 0 {
					return -1
				}
				i = skipSpaces(b, i)
			} else {
				if i >= len(b) || b[i] != '"' {
					return -1
				}
				end := strEnd(quotes, i+1)
				if end < 0 || end+1 >= len(b) || b[end+1] != ':' {
					return -1
				}
				i = end + 2
			}
		}
		// A value.
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case c == '"':
			if i = strEnd(quotes, i+1); i < 0 {
				return -1
			}
			i++
		case c == '{' || c == '[':
			if depth == maxFastDepth {
				return -1
			}
			i++
			stack, depth = stack<<1, depth+1
			if spaced {
				i = skipSpaces(b, i)
			}
			if c == '{' {
				stack |= 1
				if i < len(b) && b[i] == '}' {
					i++
					stack, depth = stack>>1, depth-1
					break
				}
				key = true
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				stack, depth = stack>>1, depth-1
				break
			}
			continue
		case c == 't':
			if i+4 > len(b) || string(b[i:i+4]) != "true" {
				return -1
			}
			i += 4
		case c == 'f':
			if i+5 > len(b) || string(b[i:i+5]) != "false" {
				return -1
			}
			i += 5
		case c == 'n':
			if i+4 > len(b) || string(b[i:i+4]) != "null" {
				return -1
			}
			i += 4
		case c == '-' || c-'0' < 10:
			if i = numberEnd(b, i); i < 0 {
				return -1
			}
		default:
			return -1
		}
		// After a value: close containers, or go on to the next element.
		for {
			if depth == 0 {
				return i
			}
			if spaced {
				i = skipSpaces(b, i)
			}
			if i >= len(b) {
				return -1
			}
			c := b[i]
			if c == ',' {
				i++
				key = stack&1 == 1
				break
			}
			if c == '}' && stack&1 == 1 || c == ']' && stack&1 == 0 {
				i++
				stack, depth = stack>>1, depth-1
				continue
			}
			return -1
		}
	}
}
