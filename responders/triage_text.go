package responders

import (
	"math"
	"strings"
	"unsafe"
)

// text is a string a triage keeps (an address, a user id, a user name, a
// country): an offset and a length in the triage's text arena. The
// records that hold texts hold no pointer, so the collector neither scans
// them nor marks a string per record; and keeping a string is an append,
// not an allocation.
type text struct{ off, n uint32 }

func (x text) empty() bool { return x.n == 0 }

// keepText copies s into t's arena.
func keepText[S string | []byte](t *Triage, s S) text {
	if len(s) == 0 {
		return text{}
	}
	if len(t.texts)+len(s) > math.MaxUint32 {
		panic("triage: more than 4 GiB of addresses, user ids and names")
	}
	x := text{uint32(len(t.texts)), uint32(len(s))}
	if len(t.texts)+len(s) > cap(t.texts) {
		t.texts = roomFor(t.texts, max(len(t.texts), len(s), 64<<10)) // doubling
	}
	t.texts = append(t.texts, s...)
	return x
}

// keepLower copies s, lowercased (ASCII letters), into t's arena.
func keepLower[S string | []byte](t *Triage, s S) text {
	x := keepText(t, s)
	b := t.texts[x.off : x.off+x.n]
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return x
}

// textBytes is x's bytes, valid until more text is kept: for comparing
// and copying, not for holding.
func (t *Triage) textBytes(x text) []byte { return t.texts[x.off : x.off+x.n : x.off+x.n] }

// textView is x as a string that shares the arena's bytes, without a
// copy. That is safe because kept bytes never change (keepText and
// keepLower write only the bytes they append, before any view of them
// exists) and a string holds its bytes alive even after a growing arena
// moves to a new array.
func (t *Triage) textView(x text) string {
	if x.n == 0 {
		return ""
	}
	return unsafe.String(&t.texts[x.off], int(x.n))
}

// textString is x as a string (a copy).
func (t *Triage) textString(x text) string { return string(t.textBytes(x)) }

// compareText orders two texts as their strings.
func (t *Triage) compareText(a, b text) int {
	return strings.Compare(string(t.textBytes(a)), string(t.textBytes(b)))
}

// appendTexts appends o's arena to t's and returns the offset to add to
// o's texts (mergeShare moves o's records over as they are).
func (t *Triage) appendTexts(o *Triage) uint32 {
	if len(t.texts)+len(o.texts) > math.MaxUint32 {
		panic("triage: more than 4 GiB of addresses, user ids and names")
	}
	base := uint32(len(t.texts))
	t.texts = append(t.texts, o.texts...)
	return base
}

// moved is x after its arena was appended at base.
func (x text) moved(base uint32) text {
	if x.n == 0 {
		return x
	}
	return text{x.off + base, x.n}
}
