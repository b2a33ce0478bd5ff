package responders

import (
	"cmp"
	"slices"
	"strings"
	"testing"
)

// TestPackedLogIDsKeepTextAndOrder: a packed id reads back as its text and
// packed ids order as their strings, Auth0 digit ids and odd ones alike.
func TestPackedLogIDsKeepTextAndOrder(t *testing.T) {
	tr := NewTriage(TriageConfig{})
	ids := []string{
		"90020251003140932149000000000000000000000000000000000001",
		"90020251003140932149000000000000000000000000000000000002",
		"90020251003140932150000000000000000000000000000000000000",
		"9002025100314093214900000000000000000000000000000000000",   // 55 digits
		"900202510031409321490000000000000000000000000000000000011", // 57: odd
		"0", "1", "12", "9", "09", "x", "abc", "1a", "", "auth0|5f", strings.Repeat("9", 56),
	}
	for _, a := range ids {
		pa := packOf(tr, a)
		if got := tr.idString(pa); got != a {
			t.Errorf("%q reads back as %q", a, got)
		}
		for _, b := range ids {
			if a == "" || b == "" {
				continue
			}
			if got, want := tr.cmpID(pa, packOf(tr, b)), cmp.Compare(a, b); got != want {
				t.Errorf("cmp(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
	// An odd id is stored once however often it is packed.
	n := len(tr.oddIDs)
	packOf(tr, "x")
	packOf(tr, []byte("abc"))
	if len(tr.oddIDs) != n || !slices.Contains(tr.oddIDs, "auth0|5f") {
		t.Errorf("odd ids %v", tr.oddIDs)
	}
}

// TestEarliestKeepsTheFirstEventsID: a pair's evidence is the id of its
// earliest event (the smallest id on a tie), whatever the arrival order,
// and an undated or id-less event does not displace it wrongly.
func TestEarliestKeepsTheFirstEventsID(t *testing.T) {
	tr := NewTriage(TriageConfig{})
	type ev struct {
		at int64
		id string
	}
	for _, order := range [][]ev{
		{{300, "3"}, {100, "12"}, {100, "11"}, {200, "2"}},
		{{100, "11"}, {100, "12"}, {200, "2"}, {300, "3"}},
		{{200, "2"}, {100, ""}, {100, "11"}, {300, "x"}},
	} {
		first, id := int64(noTime), packedID{}
		for _, e := range order {
			earliest(tr, &first, &id, e.at, e.id)
		}
		if first != 100 || tr.idString(id) != "11" {
			t.Errorf("%v: first %d id %q, want 100 and 11", order, first, tr.idString(id))
		}
	}
}
