package tui

import (
	"strings"
	"testing"
)

func TestPosturePageShowsThePlantedWeaknessesFirst(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.keys("esc", ":", "posture", "enter")
	v := d.untilContains("pass · ")
	checkScreen(t, v, 120, 40)
	golden(t, "posture_120x40", v, false)
	p, ok := d.m.top().(*posturePage)
	if !ok {
		t.Fatalf("top page is %T", d.m.top())
	}
	// The findings come first, exactly the scenario's planted weaknesses.
	want := tn.key.Posture
	if len(p.checks) < len(want) {
		t.Fatalf("%d checks, want at least %d", len(p.checks), len(want))
	}
	for i, w := range want {
		found := false
		for _, ch := range p.checks[:len(want)] {
			if ch.ID == w.Check && ch.Target == w.Target && string(ch.Status) == w.Status {
				found = true
			}
		}
		if !found {
			t.Errorf("planted weakness %d (%+v) is not among the first rows", i, w)
		}
	}
	if len(p.checks) > len(want) && p.checks[len(want)].Status != "pass" {
		t.Errorf("a finding beyond the planted ones: %+v", p.checks[len(want)])
	}
	// The selected (first) row's evidence and fix are shown.
	if !strings.Contains(v, "evidence: ") || !strings.Contains(v, "fix: ") {
		t.Errorf("no evidence/fix lines:\n%s", v)
	}
}
