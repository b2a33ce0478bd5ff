package responders

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"
)

var scoreT0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// scoreWorld is a small tenant: two compromised accounts (one with an
// attacker-set email, one with an attacker factor), one stopped by MFA, one
// targeted, two innocent; a botnet /24, one attacker address, a shared NAT.
func scoreWorld() (AnswerKey, Exercise) {
	ev := func(id, typ, ip string) []KeyEvent {
		return []KeyEvent{{LogID: "90020261127" + id, Date: scoreT0.Add(-time.Hour), Type: typ, IP: ip, UserID: id}}
	}
	key := AnswerKey{
		Scenario:        "test",
		Compromised:     []string{"auth0|c1", "auth0|c2"},
		StoppedByMFA:    []string{"auth0|m1"},
		Targeted:        []string{"auth0|t1"},
		Innocent:        []string{"auth0|i1", "auth0|i2"},
		AttackerIPs:     []string{"203.0.113.7"},
		AttackerCIDRs:   []string{"198.51.100.0/24"},
		SharedIPs:       []string{"100.64.1.1"},
		EmailChanged:    map[string]string{"auth0|c2": "c2.backup@evil.example"},
		AttackerFactors: map[string][]string{"auth0|c1": {"totp|dev_evil"}},
		Evidence: map[string][]KeyEvent{
			"auth0|c1": ev("auth0|c1", "s", "198.51.100.9"), "auth0|c2": ev("auth0|c2", "s", "203.0.113.7"),
			"auth0|m1": ev("auth0|m1", "mfar", "198.51.100.9"), "auth0|t1": ev("auth0|t1", "fp", "198.51.100.10"),
			"198.51.100.0/24": ev("", "fu", "198.51.100.3"), "203.0.113.7": ev("", "s", "203.0.113.7"),
		},
	}
	ex := Exercise{
		Started: scoreT0,
		Ended:   true, // the whole scorecard; TestScoreUnderWayNamesOnlyWhatWasTouched hides

		Users: map[string]UserEnd{
			"auth0|c1": {Email: "c1@example.com", Database: true, Sessions: 2, SessionsAtStart: 2, RefreshTokens: 1, RefreshTokensAtStart: 1, Factors: []string{"push|dev_own", "totp|dev_evil"}},
			"auth0|c2": {Email: "c2.backup@evil.example", Database: true, Sessions: 1, SessionsAtStart: 1, RefreshTokens: 1, RefreshTokensAtStart: 1},
			"auth0|m1": {Email: "m1@example.com", Database: true, Sessions: 1, SessionsAtStart: 1},
			"auth0|t1": {Email: "t1@example.com", Database: true, Sessions: 1, SessionsAtStart: 1},
			"auth0|i1": {Email: "i1@example.com", Database: true, Sessions: 1, SessionsAtStart: 1, RefreshTokens: 2, RefreshTokensAtStart: 2},
			"auth0|i2": {Email: "i2@example.com", Database: true},
		},
		Networks: map[string]NetworkEnd{
			"198.51.100.0/24": {Events: 900}, "203.0.113.7": {Events: 100}, "100.64.1.1": {Events: 300},
		},
	}
	return key, ex
}

// contain plays the playbook on one account: end state and journal.
func contain(ex *Exercise, id string, at time.Time, ticket bool, steps ...string) {
	u := ex.Users[id]
	u.Blocked, u.Sessions, u.RefreshTokens = true, 0, 0
	if ticket {
		u.Tickets++
	} else {
		u.ResetEmails++
	}
	if slices.Contains(steps, StepMFA) {
		u.Factors = slices.DeleteFunc(slices.Clone(u.Factors), func(f string) bool { return f == "totp|dev_evil" })
	}
	ex.Users[id] = u
	for i, s := range append([]string{StepBlock, StepRevoke, StepReset, StepUnblockCheck}, steps...) {
		ex.Records = append(ex.Records, Record{Time: at.Add(time.Duration(i) * time.Second), Mode: ModeTraining, Kind: KindOutcome, UserID: id, Step: s, Outcome: Done})
	}
}

func blockNetworks(ex *Exercise, nets ...string) {
	for _, n := range nets {
		ne := ex.Networks[n]
		ne.BlockedEvents, ne.Blocked = ne.Events, true
		ex.Networks[n] = ne
	}
}

func ideal(ex *Exercise) {
	contain(ex, "auth0|c1", scoreT0.Add(5*time.Minute), false, StepMFA)
	contain(ex, "auth0|c2", scoreT0.Add(6*time.Minute), true)
	u := ex.Users["auth0|m1"]
	u.ResetEmails++
	ex.Users["auth0|m1"] = u
	blockNetworks(ex, "198.51.100.0/24", "203.0.113.7")
}

func items(sc Scorecard, verdict string) []string {
	var out []string
	for _, it := range sc.Items {
		if it.Verdict == verdict {
			out = append(out, it.Category+" "+it.Subject)
		}
	}
	return out
}

func TestScoreIdealResponseIs100(t *testing.T) {
	key, ex := scoreWorld()
	ideal(&ex)
	sc := Score(key, ex)
	if sc.Percent != 100 || len(items(sc, ScoreWrong))+len(items(sc, ScoreMissed)) != 0 {
		t.Fatalf("ideal: %.1f%%, wrong %v, missed %v", sc.Percent, items(sc, ScoreWrong), items(sc, ScoreMissed))
	}
	if sc.ContainedAfter != "6m3s" {
		t.Errorf("contained after %q, want 6m3s (the last step of the last account)", sc.ContainedAfter)
	}
}

func TestScoreDoingNothingIsAtMost10(t *testing.T) {
	key, ex := scoreWorld()
	sc := Score(key, ex)
	if sc.Percent > 10 {
		t.Fatalf("doing nothing scores %.1f%%", sc.Percent)
	}
	if got := len(items(sc, ScoreMissed)); got < 5 {
		t.Errorf("doing nothing: %d missed items, want every account and network: %v", got, items(sc, ScoreMissed))
	}
}

func TestScoreContainingEveryoneNamesTheFalsePositives(t *testing.T) {
	key, ex := scoreWorld()
	ideal(&ex)
	for _, id := range []string{"auth0|t1", "auth0|i1"} {
		contain(&ex, id, scoreT0.Add(7*time.Minute), false)
	}
	sc := Score(key, ex)
	if sc.Percent >= 100 {
		t.Fatalf("containing innocents too scores %.1f%%", sc.Percent)
	}
	wrong := items(sc, ScoreWrong)
	if !slices.Equal(wrong, []string{"innocent auth0|i1", "targeted auth0|t1"}) {
		t.Fatalf("wrong = %v", wrong)
	}
}

func TestScoreOneMissAndOneFalsePositiveNamesBoth(t *testing.T) {
	key, ex := scoreWorld()
	contain(&ex, "auth0|c1", scoreT0.Add(5*time.Minute), false, StepMFA)
	contain(&ex, "auth0|i1", scoreT0.Add(6*time.Minute), false)
	blockNetworks(&ex, "198.51.100.0/24", "203.0.113.7")
	u := ex.Users["auth0|m1"]
	u.ResetEmails++
	ex.Users["auth0|m1"] = u
	sc := Score(key, ex)
	if !slices.Contains(items(sc, ScoreMissed), "compromised auth0|c2") || !slices.Contains(items(sc, ScoreWrong), "innocent auth0|i1") {
		t.Fatalf("missed %v, wrong %v", items(sc, ScoreMissed), items(sc, ScoreWrong))
	}
	var text bytes.Buffer
	if err := sc.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Missed:", "Wrong:", "auth0|c2", "auth0|i1", "90020261127auth0|c2", "203.0.113.7"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

func TestScoreNeedsATicketWhenTheAttackerChangedTheEmail(t *testing.T) {
	key, ex := scoreWorld()
	ideal(&ex)
	contain(&ex, "auth0|c2", scoreT0.Add(6*time.Minute), false) // an email too, to the attacker
	u := ex.Users["auth0|c2"]
	u.Tickets = 0
	ex.Users["auth0|c2"] = u
	sc := Score(key, ex)
	if sc.Percent >= 100 || !slices.Contains(items(sc, ScoreWrong), "compromised auth0|c2") || !slices.Contains(items(sc, ScoreMissed), "compromised auth0|c2") {
		t.Fatalf("%.1f%%: wrong %v, missed %v", sc.Percent, items(sc, ScoreWrong), items(sc, ScoreMissed))
	}
}

func TestScoreBlockingSharedInfrastructureCosts(t *testing.T) {
	key, ex := scoreWorld()
	ideal(&ex)
	blockNetworks(&ex, "100.64.1.1")
	sc := Score(key, ex)
	if sc.Percent != 100-PenaltySharedIP || !slices.Contains(items(sc, ScoreWrong), "shared 100.64.1.1") {
		t.Fatalf("%.1f%%, wrong %v", sc.Percent, items(sc, ScoreWrong))
	}
}

func TestScoreIgnoresRecordsFromBeforeTheExercise(t *testing.T) {
	key, ex := scoreWorld()
	ideal(&ex)
	for i := range ex.Records {
		if ex.Records[i].UserID == "auth0|c1" && ex.Records[i].Step == StepUnblockCheck {
			ex.Records[i].Time = scoreT0.Add(-time.Hour) // an earlier exercise's journal
		}
	}
	sc := Score(key, ex)
	if !slices.Contains(items(sc, ScoreMissed), "compromised auth0|c1") {
		t.Fatalf("a stale unblock-check counted: missed %v", items(sc, ScoreMissed))
	}
}

func TestScoreCountsAnOwnerUnblockedByTheActionAsContained(t *testing.T) {
	key, ex := scoreWorld()
	ideal(&ex)
	// The owner of c1 completed the reset and the Action unblocked them.
	u := ex.Users["auth0|c1"]
	u.Blocked, u.PasswordChanged = false, true
	ex.Users["auth0|c1"] = u
	if sc := Score(key, ex); sc.Percent != 100 {
		t.Fatalf("unblocked by the Action after the reset: %.1f%%, missed %v", sc.Percent, items(sc, ScoreMissed))
	}
	// Unblocked without a password change is still a miss.
	u.PasswordChanged = false
	ex.Users["auth0|c1"] = u
	if sc := Score(key, ex); sc.Percent == 100 {
		t.Fatal("an account unblocked without a password change scored as contained")
	}
}
