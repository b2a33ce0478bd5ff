package responders

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// TestScoreUnderWayNamesOnlyWhatWasTouched: before the end, the scorecard
// keeps the items about the accounts and networks the training journal
// acted on (and those that name nothing), without evidence, and counts the
// others; at the end it keeps everything.
func TestScoreUnderWayNamesOnlyWhatWasTouched(t *testing.T) {
	key, ex := scoreWorld()
	contain(&ex, "auth0|c1", scoreT0.Add(5*time.Minute), false, StepMFA)
	blockNetworks(&ex, "198.51.100.0/24")
	ex.Records = append(ex.Records,
		Record{Time: scoreT0.Add(7 * time.Minute), Mode: ModeTraining, Kind: KindOutcome, Step: StepACL, Outcome: Done,
			Reason: "block 198.51.100.0/24 in the atoctl-managed Network ACL",
			Calls:  []Call{{Method: "POST", Path: "/api/v2/network-acls", Body: map[string]any{"rule": map[string]any{"match": map[string]any{"ipv4_cidrs": []any{"198.51.100.0/24"}}}}}}},
		// A dry run touches nothing.
		Record{Time: scoreT0.Add(8 * time.Minute), Mode: ModeDryRun, Kind: KindOutcome, UserID: "auth0|c2", Step: StepBlock, Outcome: Planned})
	ex.Now = scoreT0.Add(20 * time.Minute)
	for _, tc := range []struct {
		ended  bool
		hidden bool
	}{{false, true}, {true, false}} {
		t.Run(fmt.Sprintf("ended=%v", tc.ended), func(t *testing.T) {
			ex.Ended = tc.ended
			sc := Score(key, ex)
			if sc.Revealed != tc.ended || (sc.Hidden > 0) != tc.hidden || sc.Elapsed != "20m0s" {
				t.Fatalf("revealed %v, hidden %d, elapsed %q", sc.Revealed, sc.Hidden, sc.Elapsed)
			}
			shown := map[string]bool{}
			for _, it := range sc.Items {
				shown[it.Subject] = true
				if tc.hidden && len(it.Evidence) > 0 {
					t.Errorf("under way, item %s %s carries evidence", it.Category, it.Subject)
				}
			}
			for _, s := range []string{"auth0|c1", "198.51.100.0/24", "containment"} {
				if !shown[s] {
					t.Errorf("%s not shown: %v", s, items(sc, ScoreMissed))
				}
			}
			for _, s := range []string{"auth0|c2", "auth0|m1", "203.0.113.7"} {
				if shown[s] == tc.hidden {
					t.Errorf("%s shown %v, want %v", s, shown[s], !tc.hidden)
				}
			}
			total := 0
			for _, c := range sc.Counts {
				total += c.Right + c.Missed + c.Wrong
			}
			if total != len(sc.Items)+sc.Hidden {
				t.Errorf("counts add up to %d, items %d + hidden %d", total, len(sc.Items), sc.Hidden)
			}
		})
	}
}

// TestScoreCountsTheLiveAttackAgainstTheResponder: takeovers after the
// start and attack traffic after the grace cost points, with the reason
// named and the penalty capped.
func TestScoreCountsTheLiveAttackAgainstTheResponder(t *testing.T) {
	key, ex := scoreWorld()
	ex.Ended = true
	ideal(&ex)
	clean := Score(key, ex)
	login := func(id string, after time.Duration) KeyEvent {
		return KeyEvent{LogID: fmt.Sprint(after), Date: scoreT0.Add(after), Type: "s", IP: "198.51.100.9", UserID: id}
	}
	for _, tc := range []struct {
		name      string
		takeovers []KeyEvent
		late      int
		penalty   float64
		why       string
	}{
		{"one takeover", []KeyEvent{login("auth0|c1", 20*time.Minute)}, 0, PenaltyRetakeover, "taken over again after the start"},
		{"many takeovers are capped", func() []KeyEvent {
			var out []KeyEvent
			for i := range 20 {
				out = append(out, login("auth0|c2", time.Duration(20+i)*time.Minute))
			}
			return out
		}(), 0, PenaltyRetakeoverMax, "20 new successful attacker logins"},
		{"late traffic", nil, 250, 2 * PenaltyLateEvents, "250 attacker events reached the tenant"},
		{"late traffic is capped", nil, 100_000, PenaltyLateMax, "attacker events reached the tenant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex := ex
			ex.Takeovers = tc.takeovers
			ex.Networks = maps.Clone(ex.Networks)
			ne := ex.Networks["203.0.113.7"]
			ne.LateEvents = tc.late
			ex.Networks["203.0.113.7"] = ne
			sc := Score(key, ex)
			if got := sc.Percent; got != clean.Percent-tc.penalty {
				t.Errorf("score %.1f, want %.1f - %.1f", got, clean.Percent, tc.penalty)
			}
			named := false
			for _, it := range sc.Items {
				if it.Verdict == ScoreWrong && strings.Contains(it.What, tc.why) {
					named = true
				}
			}
			if !named {
				t.Errorf("no wrong item says %q: %v", tc.why, items(sc, ScoreWrong))
			}
		})
	}
}
