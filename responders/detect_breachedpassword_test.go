package responders

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	leakBot  = "45.140.2.20" // replays a breach corpus
	leakBot2 = "45.140.2.21"
	hotel    = "203.0.113.77"
)

func TestBreachedPasswordVerdicts(t *testing.T) {
	type want struct {
		verdicts   map[string]Verdict // nil: no finding
		steps      map[string][]string
		networks   []string
		confidence Confidence
		severity   int
	}
	tests := []struct {
		name   string
		events func(l *eventLog)
		want   want
	}{
		{
			name: "a bot replays a breach corpus and gets in once",
			events: func(l *eventLog) {
				// pwd_leak names the account by user name only; the
				// customers' own logins tie the names to ids.
				for i, u := range []string{"customer20", "customer21", "customer22"} {
					l.named(time.Duration(10+i)*time.Hour, "pwd_leak", leakBot, u+"@example.com")
				}
				l.named(14*time.Hour, "pwd_leak", leakBot, "ghost@example.com") // never signs in
				// Notification-only for this one: the login went through.
				l.named(15*time.Hour, "pwd_leak", leakBot, "customer23@example.com")
				l.add(15*time.Hour+3*time.Second, "s", leakBot, "auth0|customer23")
				l.add(16*time.Hour, "fp", leakBot, "auth0|customer24")
			},
			want: want{
				verdicts: map[string]Verdict{"auth0|customer23": VerdictCompromised, "auth0|customer20": VerdictTargeted,
					"auth0|customer21": VerdictTargeted, "auth0|customer22": VerdictTargeted, "name:ghost@example.com": VerdictTargeted},
				steps: map[string][]string{"auth0|customer23": ContainSteps, "auth0|customer20": ResetSteps,
					"auth0|customer21": ResetSteps, "auth0|customer22": ResetSteps, "name:ghost@example.com": nil},
				networks:   []string{leakBot},
				confidence: ConfidenceHigh,
				severity:   85,
			},
		},
		{
			name: "a success from a flagged address takes the account over",
			events: func(l *eventLog) {
				for i, u := range []string{"customer20", "customer21", "customer22", "customer25"} {
					l.named(time.Duration(10+i)*time.Hour, "pwd_leak", leakBot, u+"@example.com")
				}
				// A password from another corpus: no pwd_leak, but the
				// address is the catalog rule's suspicious IP.
				l.add(30*time.Hour, "s", leakBot, "auth0|customer26")
			},
			want: want{
				verdicts: map[string]Verdict{"auth0|customer26": VerdictCompromised, "auth0|customer20": VerdictTargeted,
					"auth0|customer21": VerdictTargeted, "auth0|customer22": VerdictTargeted, "auth0|customer25": VerdictTargeted},
				steps:      map[string][]string{"auth0|customer26": ContainSteps, "auth0|customer25": ResetSteps},
				networks:   []string{leakBot},
				confidence: ConfidenceHigh,
				severity:   85,
			},
		},
		{
			name: "notify-only login from an address new to the account",
			events: func(l *eventLog) {
				l.add(time.Hour, "s", homeOf+"210", "auth0|traveller")
				l.named(20*time.Hour, "pwd_leak", hotel, "traveller@example.com")
				l.add(20*time.Hour+4*time.Second, "s", hotel, "auth0|traveller")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|traveller": VerdictCompromised},
				steps:      map[string][]string{"auth0|traveller": ContainSteps},
				confidence: ConfidenceMedium,
				severity:   85,
			},
		},
		{
			name: "notify-only login at the owner's own address",
			events: func(l *eventLog) {
				l.add(time.Hour, "s", homeOf+"211", "auth0|reuser")
				l.named(20*time.Hour, "pwd_leak", homeOf+"211", "reuser@example.com")
				l.add(20*time.Hour+4*time.Second, "s", homeOf+"211", "auth0|reuser")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|reuser": VerdictTargeted},
				steps:      map[string][]string{"auth0|reuser": ResetSteps},
				confidence: ConfidenceLow,
				severity:   30,
			},
		},
		{
			name: "two addresses with two accounts each: no network",
			events: func(l *eventLog) {
				l.named(10*time.Hour, "pwd_leak", leakBot, "customer20@example.com")
				l.named(11*time.Hour, "pwd_leak", leakBot, "customer21@example.com")
				l.named(12*time.Hour, "pwd_leak", leakBot2, "customer22@example.com")
				l.named(13*time.Hour, "pwd_leak", leakBot2, "customer23@example.com")
			},
			want: want{
				verdicts: map[string]Verdict{"auth0|customer20": VerdictTargeted, "auth0|customer21": VerdictTargeted,
					"auth0|customer22": VerdictTargeted, "auth0|customer23": VerdictTargeted},
				confidence: ConfidenceMedium,
				severity:   30,
			},
		},
		{
			name: "breached passwords through a carrier NAT: shared, not blocked",
			events: func(l *eventLog) {
				// customer00..14 sign in through the NAT; three of them hit
				// pwd_leak there and then sign in again (their usual address).
				for i, u := range []string{"customer01", "customer02", "customer04"} {
					l.named(time.Duration(30+i)*time.Hour, "pwd_leak", "100.64.7.9", u+"@example.com")
				}
				l.add(-2*time.Hour, "s", "100.64.7.9", "auth0|customer01")
				l.add(-2*time.Hour, "s", "100.64.7.9", "auth0|customer02")
				l.add(-2*time.Hour, "s", "100.64.7.9", "auth0|customer04")
			},
			want: want{
				verdicts: map[string]Verdict{"auth0|customer01": VerdictTargeted, "auth0|customer02": VerdictTargeted,
					"auth0|customer04": VerdictTargeted},
				confidence: ConfidenceMedium,
				severity:   30,
			},
		},
		{
			name: "near miss: breached password at home, then a reset",
			events: func(l *eventLog) {
				l.named(20*time.Hour, "pwd_leak", homeOf+"212", "careful@example.com")
				l.add(20*time.Hour+3*time.Minute, "scpr", homeOf+"212", "auth0|careful")
				l.add(20*time.Hour+9*time.Minute, "scp", homeOf+"212", "auth0|careful")
				l.add(20*time.Hour+10*time.Minute, "s", homeOf+"212", "auth0|careful")
			},
		},
		{
			name: "breached password at home, no reset yet",
			events: func(l *eventLog) {
				l.named(20*time.Hour, "pwd_leak", homeOf+"213", "careless@example.com")
				l.add(-5*time.Hour, "s", homeOf+"213", "auth0|careless")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|careless": VerdictTargeted},
				steps:      map[string][]string{"auth0|careless": ResetSteps},
				confidence: ConfidenceLow,
				severity:   30,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &eventLog{prefix: "case-"}
			tt.events(l)
			events := append(detectorNoise(), l.events...)
			fs := runBothOrders(t, NewBreachedPasswordDetector, events)
			f := checkFinding(t, fs, AttackBreachedPassword, tt.want.verdicts, tt.want.steps, tt.want.networks)
			if tt.want.verdicts == nil {
				return
			}
			if f.Confidence != tt.want.confidence {
				t.Errorf("confidence %s, want %s (reasons %q)", f.Confidence, tt.want.confidence, f.Reasons)
			}
			if f.Severity != tt.want.severity {
				t.Errorf("severity %d, want %d", f.Severity, tt.want.severity)
			}
			if !strings.HasPrefix(f.ID, "breached-password-") || !strings.HasPrefix(f.Title, "breached-password logins: ") {
				t.Errorf("id %q, title %q", f.ID, f.Title)
			}
		})
	}
}

// TestBreachedPasswordResolvesNames checks that a name no event ties to an
// id is listed for a lookup, and that the answer gives the account its id
// and its reset.
func TestBreachedPasswordResolvesNames(t *testing.T) {
	l := &eventLog{prefix: "rn-"}
	l.named(10*time.Hour, "pwd_leak", leakBot, "Quiet@Example.com")
	l.named(11*time.Hour, "pwd_leak", leakBot, "customer20@example.com")
	d := NewBreachedPasswordDetector().(*breachedPassword)
	for _, e := range append(detectorNoise(), l.events...) {
		d.Add(e)
	}
	if got := d.UnresolvedNames(); !slices.Equal(got, []string{"quiet@example.com"}) {
		t.Fatalf("unresolved names %v", got)
	}
	before := d.Findings()
	d.ResolveNames(map[string]string{"quiet@example.com": "auth0|quiet"})
	after := d.Findings()
	if len(d.UnresolvedNames()) != 0 {
		t.Errorf("still unresolved: %v", d.UnresolvedNames())
	}
	_, steps := accountsBy(after[0])
	if !slices.Equal(steps["auth0|quiet"], ResetSteps) || !slices.Equal(steps["auth0|customer20"], ResetSteps) {
		t.Errorf("steps after resolving: %v", steps)
	}
	if before[0].ID == after[0].ID {
		t.Error("the finding id did not change with the account's id")
	}
}

func TestBreachedPasswordOnCredentialStuffing(t *testing.T) {
	st, key := generated()
	fs := runScenario(NewBreachedPasswordDetector, st)
	checkNoInnocent(t, fs, key)
	named := 0
	for _, f := range fs {
		for _, a := range f.Accounts {
			if a.Verdict == VerdictCompromised && !slices.Contains(key.Compromised, a.UserID) {
				t.Errorf("%s called compromised, not in the answer key", a.UserID)
			}
			if a.UserID != "" && !slices.Contains(key.Targeted, a.UserID) && !slices.Contains(key.Compromised, a.UserID) {
				t.Errorf("%s (%s) is neither targeted nor compromised in the answer key", a.UserID, a.Verdict)
			}
			named++
		}
		for _, n := range f.Networks {
			if !key.IsAttackerIP(n) {
				t.Errorf("network %s is not an attacker address", n)
			}
		}
		t.Logf("%s: %s; networks %v; %q", f.ID, f.Title, f.Networks, f.Reasons)
	}
	if named == 0 {
		t.Error("the scenario's pwd_leak events named no account")
	}
}
