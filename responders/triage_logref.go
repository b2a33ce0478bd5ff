package responders

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// logRef is a log event kept as evidence by reference: its date and its
// log id, packed. Auth0 log ids are up to 56 decimal digits
// (90020251003140932149…): they are stored two digits a byte, so a
// reference is 36 bytes and holds no pointer (the collector never scans
// it). Any other id (an export from elsewhere, a hostile file) is interned
// in the triage's table of odd ids and referenced by its index.
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

// ref packs id (empty: the zero ref, which is no evidence).
func refOf[S string | []byte](t *Triage, at int64, id S) logRef {
	r := logRef{at: at}
	if len(id) == 0 {
		return r
	}
	if len(id) <= 2*len(r.id) {
		digits := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			if c < '0' || c > '9' {
				digits = false
				break
			}
			r.id[i/2] |= (c - '0' + 1) << (4 * (1 - i%2))
		}
		if digits {
			return r
		}
		r.id = packedID{}
	}
	r.id[0] = oddIDMark
	i, ok := t.oddIndex[string(id)]
	if !ok {
		i = uint32(len(t.oddIDs))
		key := string(id)
		t.oddIDs = append(t.oddIDs, key)
		t.oddIndex[key] = i
	}
	binary.BigEndian.PutUint32(r.id[1:], i)
	return r
}

// idOf is the log id of r.
func (t *Triage) idOf(r logRef) string {
	if r.id.none() {
		return ""
	}
	if r.id.odd() {
		return t.oddIDs[binary.BigEndian.Uint32(r.id[1:])]
	}
	var b strings.Builder
	b.Grow(2 * len(r.id))
	for _, c := range r.id {
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
	case a.id == b.id:
		return 0
	case !a.id.odd() && !b.id.odd():
		return bytes.Compare(a.id[:], b.id[:])
	}
	return strings.Compare(t.idOf(a), t.idOf(b))
}

// keepEarliest sets *dst to the reference (at, id) if it is earlier (by
// date, then id) than the one kept; an event without an id is no evidence.
func keepEarliest[S string | []byte](t *Triage, dst *logRef, at int64, id S) {
	if len(id) == 0 || !dst.id.none() && at > dst.at {
		return // the common case of an export in date order: no packing
	}
	r := refOf(t, at, id)
	if dst.id.none() || t.cmpRef(r, *dst) < 0 {
		*dst = r
	}
}

// mergeEarliest keeps the earlier of *dst and src, a reference of from
// (another triage, whose odd ids are re-interned here).
func (t *Triage) mergeEarliest(dst *logRef, src logRef, from *Triage) {
	if src.id.none() {
		return
	}
	if src.id.odd() && from != t {
		src = refOf(t, src.at, from.idOf(src))
	}
	if dst.id.none() || t.cmpRef(src, *dst) < 0 {
		*dst = src
	}
}
