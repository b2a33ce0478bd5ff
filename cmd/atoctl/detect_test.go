package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/atoctl/atoctl/responders"
)

// TestEveryScenarioIsContainedFromItsFindings plays each training scenario
// as a responder with only detect would: detect names the attack, and
// running every finding's response scores at least 90% with no penalty.
func TestEveryScenarioIsContainedFromItsFindings(t *testing.T) {
	t.Parallel()
	for scenario, kind := range map[string]responders.AttackKind{
		"credential-stuffing": responders.AttackCredentialStuffing,
		"mfa-fatigue":         responders.AttackMFABombing,
		"refresh-token-theft": responders.AttackRefreshTokenTheft,
		"session-hijack":      responders.AttackSessionHijack,
	} {
		t.Run(scenario, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			base := []string{"--training", "--scenario", scenario}
			if res := c.trun(append(base, "training", "start")...); res.code != 0 {
				t.Fatalf("training start: exit %d: %s", res.code, res.stderr)
			}
			res := c.trun(append(base, "detect", "--since", "72h", "--json")...)
			if res.code != 0 {
				t.Fatalf("detect: exit %d: %s", res.code, res.stderr)
			}
			var out detectOutput
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatalf("detect --json: %v", err)
			}
			if len(out.Findings) == 0 || out.Findings[0].Kind != kind {
				var kinds []responders.AttackKind
				for _, f := range out.Findings {
					kinds = append(kinds, f.Kind)
				}
				t.Fatalf("findings %v: the most urgent must name the attack, %s", kinds, kind)
			}
			tickets := filepath.Join(t.TempDir(), "tickets")
			for _, f := range out.Findings {
				res := c.trun(append(base, "contain", "--finding", f.ID, "--yes", "--ticket-out", tickets)...)
				if res.code != 0 && res.code != exitPartial {
					t.Fatalf("contain --finding %s: exit %d: %s", f.ID, res.code, res.stderr)
				}
			}
			sc := score(t, c, scenario)
			if wrong := subjects(sc, responders.ScoreWrong); sc.Percent < 90 || len(wrong) > 0 || sc.Penalty != 0 {
				t.Fatalf("the findings' responses score %.1f%%: missed %v, wrong %v", sc.Percent, subjects(sc, responders.ScoreMissed), wrong)
			}
		})
	}
}

// TestDetectionAgreesWithTriageOnCredentialStuffing: the credential-stuffing
// finding holds exactly the accounts ip triage gives a verdict.
func TestDetectionAgreesWithTriageOnCredentialStuffing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	res := c.trun("--training", "detect", "--since", "48h", "--json")
	var out detectOutput
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || res.code != 0 {
		t.Fatalf("detect: exit %d %v: %s", res.code, err, res.stderr)
	}
	tri := c.trun("--training", "ip", "triage", "--since", "48h", "--json")
	var tr struct {
		Accounts []responders.AccountVerdict `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(tri.stdout), &tr); err != nil || tri.code != 0 {
		t.Fatalf("ip triage: exit %d %v: %s", tri.code, err, tri.stderr)
	}
	var stuffing *responders.AttackFinding
	for i := range out.Findings {
		if out.Findings[i].Kind == responders.AttackCredentialStuffing {
			stuffing = &out.Findings[i]
		}
	}
	if stuffing == nil {
		t.Fatal("no credential-stuffing finding on the credential-stuffing scenario")
	}
	verdict := func(list []string) []string { slices.Sort(list); return list }
	var want, got []string
	for _, a := range tr.Accounts {
		want = append(want, a.UserID+"="+string(a.Verdict))
	}
	for _, a := range stuffing.Accounts {
		got = append(got, a.UserID+"="+string(a.Verdict))
	}
	if !slices.Equal(verdict(got), verdict(want)) {
		t.Fatalf("the finding's %d accounts differ from triage's %d", len(got), len(want))
	}
}
