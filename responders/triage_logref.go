package responders

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// logRef is a log event kept as evidence by reference: its date and its
// log id, packed. Auth0 log ids are up to 56 decimal digits
// (90020251003140932149…): they are stored two digits a byte, so an id is
// 28 bytes and holds no pointer (the collector never scans it). Any other
// id (an export from elsewhere, a hostile file) is interned in the
// triage's table of odd ids and referenced by its index; that table grows
// with the odd ids that were ever some pair's earliest, which in an export
// of Auth0 events is none.
type logRef struct {
	at int64 // unix ms, noTime when undated
	id packedID
}

// packedID is a log id: nibbles digit+1 (0 ends the id), so comparing two
// packed digit ids bytewise orders them as their strings; or oddIDMark and
// the big-endian index of an odd id. All zero: no id.
type packedID [28]byte

const oddIDMark = 0xFF

func (p *packedID) none() bool { return *p == packedID{} }

func (p *packedID) odd() bool { return p[0] == oddIDMark }

// packOf packs id (empty: the zero id, which is no evidence).
func packOf[S string | []byte](t *Triage, id S) packedID {
	var p packedID
	if len(id) == 0 {
		return p
	}
	if len(id) <= 2*len(p) {
		digits := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			if c < '0' || c > '9' {
				digits = false
				break
			}
			p[i/2] |= (c - '0' + 1) << (4 * (1 - i%2))
		}
		if digits {
			return p
		}
		p = packedID{}
	}
	p[0] = oddIDMark
	i, ok := t.oddIndex[string(id)]
	if !ok {
		i = uint32(len(t.oddIDs))
		key := string(id)
		t.oddIDs = append(t.oddIDs, key)
		t.oddIndex[key] = i
	}
	binary.BigEndian.PutUint32(p[1:], i)
	return p
}

// idOf is the log id of r.
func (t *Triage) idOf(r logRef) string { return t.idString(r.id) }

func (t *Triage) idString(p packedID) string {
	if p.none() {
		return ""
	}
	if p.odd() {
		return t.oddIDs[binary.BigEndian.Uint32(p[1:])]
	}
	var b strings.Builder
	b.Grow(2 * len(p))
	for _, c := range p {
		for _, n := range [2]byte{c >> 4, c & 0xF} {
			if n == 0 {
				return b.String()
			}
			b.WriteByte('0' + n - 1)
		}
	}
	return b.String()
}

// cmpRef orders references by date, then by log id (as strings).
func (t *Triage) cmpRef(a, b logRef) int {
	switch {
	case a.at < b.at:
		return -1
	case a.at > b.at:
		return 1
	}
	return t.cmpID(a.id, b.id)
}

func (t *Triage) cmpID(a, b packedID) int {
	switch {
	case a == b:
		return 0
	case !a.odd() && !b.odd():
		return bytes.Compare(a[:], b[:])
	}
	return strings.Compare(t.idString(a), t.idString(b))
}

// earliest keeps, in (*first, *id), the date of the earliest event of a
// kind and its log id (the smallest id among events of that date); an
// event without an id leaves none.
func earliest[S string | []byte](t *Triage, first *int64, id *packedID, at int64, logID S) {
	switch {
	case at < *first:
		*first, *id = at, packOf(t, logID)
	case at == *first && len(logID) > 0:
		// The common case of an export in date order never gets here
		// after the first event: no packing.
		if p := packOf(t, logID); id.none() || t.cmpID(p, *id) < 0 {
			*id = p
		}
	}
}

// mergeEarliest folds the earliest (srcFirst, srcID) of triage from into
// (*first, *id) of t, re-interning an odd id.
func (t *Triage) mergeEarliest(first *int64, id *packedID, srcFirst int64, srcID packedID, from *Triage) {
	if srcID.odd() && from != t {
		srcID = packOf(t, from.idString(srcID))
	}
	switch {
	case srcFirst < *first:
		*first, *id = srcFirst, srcID
	case srcFirst == *first && !srcID.none() && (id.none() || t.cmpID(srcID, *id) < 0):
		*id = srcID
	}
}
