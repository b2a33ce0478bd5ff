package responders

import (
	"net/netip"
	"slices"
)

// MergeCIDRs returns the smallest set of prefixes covering exactly the
// given addresses and prefixes: duplicates and contained prefixes are
// dropped and sibling halves are joined (203.0.113.0/25 + .128/25 = /24).
// It never widens past what was given, so it cannot block a neighbour the
// analyst did not name.
func MergeCIDRs(in []netip.Prefix) []netip.Prefix {
	ps := make([]netip.Prefix, 0, len(in))
	for _, p := range in {
		if p.IsValid() {
			ps = append(ps, p.Masked())
		}
	}
	sortPrefixes(ps)
	for {
		ps = dropContained(ps)
		merged, changed := joinSiblings(ps)
		ps = merged
		if !changed {
			return ps
		}
		sortPrefixes(ps)
	}
}

func sortPrefixes(ps []netip.Prefix) {
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
}

// dropContained removes prefixes inside an earlier (wider) one; ps sorted.
func dropContained(ps []netip.Prefix) []netip.Prefix {
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Contains(p.Addr()) && out[n-1].Bits() <= p.Bits() && out[n-1].Addr().Is4() == p.Addr().Is4() {
			continue
		}
		out = append(out, p)
	}
	return out
}

// joinSiblings joins adjacent halves of the same parent prefix.
func joinSiblings(ps []netip.Prefix) ([]netip.Prefix, bool) {
	var out []netip.Prefix
	changed := false
	for i := 0; i < len(ps); i++ {
		p := ps[i]
		if i+1 < len(ps) && p.Bits() > 0 && ps[i+1].Bits() == p.Bits() {
			parent, _ := p.Addr().Prefix(p.Bits() - 1)
			if parent.Addr() == p.Addr() && parent.Contains(ps[i+1].Addr()) {
				out = append(out, parent)
				i++
				changed = true
				continue
			}
		}
		out = append(out, p)
	}
	return out, changed
}
