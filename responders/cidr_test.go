package responders

import (
	"net/netip"
	"slices"
	"testing"
)

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func TestMergeCIDRsCoversExactlyWhatWasGiven(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"single", []string{"203.0.113.7/32"}, []string{"203.0.113.7/32"}},
		{"duplicates", []string{"203.0.113.7/32", "203.0.113.7/32"}, []string{"203.0.113.7/32"}},
		{"siblings join", []string{"203.0.113.6/32", "203.0.113.7/32"}, []string{"203.0.113.6/31"}},
		{"non-siblings stay", []string{"203.0.113.7/32", "203.0.113.8/32"}, []string{"203.0.113.7/32", "203.0.113.8/32"}},
		{"contained dropped", []string{"203.0.113.0/24", "203.0.113.9/32"}, []string{"203.0.113.0/24"}},
		{"halves to a /24", []string{"203.0.113.0/25", "203.0.113.128/25"}, []string{"203.0.113.0/24"}},
		{"cascade", []string{"10.0.0.0/32", "10.0.0.1/32", "10.0.0.2/32", "10.0.0.3/32"}, []string{"10.0.0.0/30"}},
		{"v6 apart from v4", []string{"2001:db8::1/128", "203.0.113.1/32"}, []string{"203.0.113.1/32", "2001:db8::1/128"}},
		{"unmasked input", []string{"203.0.113.77/24"}, []string{"203.0.113.0/24"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeCIDRs(prefixes(tt.in...))
			want := prefixes(tt.want...)
			if !slices.Equal(got, want) {
				t.Fatalf("MergeCIDRs(%v) = %v, want %v", tt.in, got, want)
			}
			// Exactness: every input address is covered, nothing else.
			for _, in := range prefixes(tt.in...) {
				if !slices.ContainsFunc(got, func(p netip.Prefix) bool { return p.Contains(in.Masked().Addr()) }) {
					t.Errorf("%s not covered", in)
				}
			}
		})
	}
}

func FuzzMergeCIDRs(f *testing.F) {
	f.Add([]byte{203, 0, 113, 7, 32, 203, 0, 113, 6, 32})
	f.Fuzz(func(t *testing.T, data []byte) {
		var in []netip.Prefix
		for i := 0; i+5 <= len(data) && len(in) < 64; i += 5 {
			a := netip.AddrFrom4([4]byte(data[i : i+4]))
			p, err := a.Prefix(int(data[i+4]) % 33)
			if err == nil {
				in = append(in, p)
			}
		}
		out := MergeCIDRs(in)
		// Exactness: the addresses covered are the same set, before and after.
		if !slices.Equal(union(in), union(out)) {
			t.Fatalf("MergeCIDRs(%v) = %v covers a different set", in, out)
		}
		if again := MergeCIDRs(out); !slices.Equal(again, out) {
			t.Fatalf("not minimal: merging %v again gives %v", out, again)
		}
	})
}

// union turns IPv4 prefixes into sorted, merged [first, last] ranges.
func union(ps []netip.Prefix) [][2]uint32 {
	var rs [][2]uint32
	for _, p := range ps {
		a := p.Masked().Addr().As4()
		first := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		last := first | uint32((uint64(1)<<(32-p.Bits()))-1)
		rs = append(rs, [2]uint32{first, last})
	}
	slices.SortFunc(rs, func(x, y [2]uint32) int {
		if x[0] != y[0] {
			if x[0] < y[0] {
				return -1
			}
			return 1
		}
		return 0
	})
	var out [][2]uint32
	for _, r := range rs {
		if n := len(out); n > 0 && uint64(r[0]) <= uint64(out[n-1][1])+1 {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}
