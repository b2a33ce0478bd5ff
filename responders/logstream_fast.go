package responders

import (
	"math/bits"
	"unicode/utf8"
)

// The fast path of the log-stream reader. Almost every line of an export
// is "clean": no backslash, no control character, valid UTF-8. In such a
// line a string ends at the next quote and its bytes are its value, so the
// scanner below finds string ends in a mask of the line's quotes
// (quotemasks.go, which also tells whether the line is clean) and walks
// the values triage skips (details, auth0_client, most of location_info)
// in one loop with a bit stack instead of a call per member: about three
// times fewer instructions a line than the general scanner in
// logstream.go. It still validates everything it walks. It answers only
// when sure: a line it finds odd (not clean, malformed, nested deeper
// than 64) goes to the general scanner, which has the last word, so the
// fields and the malformed count are the general scanner's on every line
// (FuzzReadLogStream and TestTriageFastPathEqualsReferenceDecode check
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
	s := scanner{b: line, quotes: quotes, compact: compact}
	var outer, inner eventFields
	envelope := false
	if s.next() != '{' {
		return false
	}
	s.i++
	if !s.members(func(key []byte) bool {
		if string(key) == "data" {
			if s.next() != '{' {
				envelope = false
				return s.fastSkip()
			}
			inner, envelope = eventFields{}, true
			s.i++
			return s.members(func(key []byte) bool { return s.fastField(&inner, key) })
		}
		return s.fastField(&outer, key)
	}) {
		return false
	}
	if s.next() != 0 {
		return false // trailing bytes after the object
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

// next skips spaces (the only whitespace a clean line can hold) and
// returns the byte there, 0 at the end. A compact line has no space to
// skip: it is called before every token, a quarter of the fast path's
// work when it looped.
func (s *scanner) next() byte {
	if s.compact {
		if s.i < len(s.b) {
			return s.b[s.i]
		}
		return 0
	}
	for s.i < len(s.b) {
		if c := s.b[s.i]; c != ' ' {
			return c
		}
		s.i++
	}
	return 0
}

// cleanStr reads the string at s.i (a quote) of a clean line.
func (s *scanner) cleanStr() ([]byte, bool) {
	start := s.i + 1
	end := s.skipStr()
	if end < 0 {
		return nil, false
	}
	return s.b[start:end], true
}

// skipStr moves past the string at s.i (a quote) of a clean line and
// returns the index of its closing quote (-1: there is none): the next
// quote, found in the masks.
func (s *scanner) skipStr() int {
	start := s.i + 1 // at most len(s.b): s.quotes has a word for it
	b := start >> 6
	w := s.quotes[b] >> (start & 63)
	for w == 0 {
		if b++; b >= len(s.quotes) {
			return -1
		}
		w, start = s.quotes[b], b<<6
	}
	end := start + bits.TrailingZeros64(w)
	s.i = end + 1
	return end
}

// members reads an object's members after its '{', calling member with
// each key and the scanner before the value, which member consumes.
func (s *scanner) members(member func(key []byte) bool) bool {
	if s.next() == '}' {
		s.i++
		return true
	}
	for {
		if s.next() != '"' {
			return false
		}
		// cleanStr, by hand: the hottest call of the fast path.
		start := s.i + 1
		end := s.skipStr()
		if end < 0 || s.next() != ':' {
			return false
		}
		key := s.b[start:end]
		s.i++
		if !member(key) {
			return false
		}
		switch s.next() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// fastField is field for a clean line: the value of member key into ev
// when triage wants it, skipped otherwise.
func (s *scanner) fastField(ev *eventFields, key []byte) bool {
	if dst := ev.stringField(key); dst != nil {
		return s.fastString(dst)
	}
	switch string(key) {
	case "location_info":
		ev.country = nil
		if s.next() != '{' {
			return s.fastSkip()
		}
		s.i++
		return s.members(func(k []byte) bool {
			if string(k) == "country_code" {
				return s.fastString(&ev.country)
			}
			return s.fastSkip()
		})
	case "details":
		ev.verify = false
		if s.next() != '{' {
			return s.fastSkip()
		}
		s.i++
		return s.members(func(k []byte) bool {
			if string(k) == "requiresVerification" {
				start := s.next()
				at := s.i
				if !s.fastSkip() {
					return false
				}
				ev.verify = start == 't' && string(s.b[at:s.i]) == "true"
				return true
			}
			return s.fastSkip()
		})
	}
	return s.fastSkip()
}

// fastString reads a value into *dst if it is a string (nil otherwise).
func (s *scanner) fastString(dst *[]byte) bool {
	if s.next() != '"' {
		*dst = nil
		return s.fastSkip()
	}
	v, ok := s.cleanStr()
	*dst = v
	return ok
}

// maxFastDepth bounds the nesting fastSkip walks; deeper values go to the
// general scanner.
const maxFastDepth = 64

// fastSkip consumes and validates one value of a clean line, in one loop:
// stack holds a bit per open container (1: object, 0: array).
func (s *scanner) fastSkip() bool {
	var stack uint64
	depth := 0
	for {
		// A value.
		switch c := s.next(); {
		case c == '"':
			if s.skipStr() < 0 {
				return false
			}
		case c == '{' || c == '[':
			if depth == maxFastDepth {
				return false
			}
			s.i++
			stack, depth = stack<<1, depth+1
			if c == '{' {
				stack |= 1
				if s.next() == '}' {
					s.i++
					stack, depth = stack>>1, depth-1
					break
				}
				if !s.fastKey() {
					return false
				}
				continue
			}
			if s.next() == ']' {
				s.i++
				stack, depth = stack>>1, depth-1
				break
			}
			continue
		case c == 't':
			if !s.literal("true") {
				return false
			}
		case c == 'f':
			if !s.literal("false") {
				return false
			}
		case c == 'n':
			if !s.literal("null") {
				return false
			}
		case c == '-' || '0' <= c && c <= '9':
			if !s.number() {
				return false
			}
		default:
			return false
		}
		// After a value: close containers, or go on to the next element.
		for {
			if depth == 0 {
				return true
			}
			c := s.next()
			if c == ',' {
				s.i++
				if stack&1 == 1 && !s.fastKey() {
					return false
				}
				break
			}
			if c == '}' && stack&1 == 1 || c == ']' && stack&1 == 0 {
				s.i++
				stack, depth = stack>>1, depth-1
				continue
			}
			return false
		}
	}
}

// fastKey consumes `"key":` inside an object being skipped.
func (s *scanner) fastKey() bool {
	if s.next() != '"' {
		return false
	}
	if s.skipStr() < 0 || s.next() != ':' {
		return false
	}
	s.i++
	return true
}
