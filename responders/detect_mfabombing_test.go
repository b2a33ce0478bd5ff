package responders

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// detectorT0 is the instant the hand-made detector tests count from.
var detectorT0 = time.Date(2025, 5, 2, 0, 0, 0, 0, time.UTC)

// eventLog builds hand-made log events with sequential ids.
type eventLog struct {
	prefix string
	n      int
	events []auth0client.LogEvent
}

// add logs one event at offset from detectorT0; user is a user id, and the
// user name is derived from it ("auth0|alice" → "alice@example.com").
func (l *eventLog) add(offset time.Duration, typ, ip, user string) *auth0client.LogEvent {
	l.n++
	e := auth0client.LogEvent{ID: fmt.Sprintf("%s%05d", l.prefix, l.n), Date: detectorT0.Add(offset), Type: typ, IP: ip, UserID: user}
	if user != "" {
		e.UserName = strings.TrimPrefix(user, "auth0|") + "@example.com"
	}
	l.events = append(l.events, e)
	return &l.events[len(l.events)-1]
}

// named logs an event that carries only the user name (pwd_leak, captcha
// failures).
func (l *eventLog) named(offset time.Duration, typ, ip, name string) {
	e := l.add(offset, typ, ip, "")
	e.UserName = name
}

// prompts logs n Guardian prompts of typ (with their mfar) from ip, gap
// apart, and returns the time after the last.
func (l *eventLog) prompts(at time.Duration, typ, ip, user string, n int, gap time.Duration) time.Duration {
	for range n {
		l.add(at, "mfar", ip, user)
		l.add(at+time.Second, typ, ip, user)
		at += gap
	}
	return at
}

// detectorNoise is two days of ordinary traffic: 40 customers signing in
// from their own addresses (a third with Guardian push, answered at once),
// the odd typo, a carrier NAT that 15 of them share, and the web backend's
// code exchanges.
func detectorNoise() []auth0client.LogEvent {
	r := rand.New(rand.NewPCG(7, 11))
	l := &eventLog{prefix: "noise-"}
	for i := range 40 {
		user := fmt.Sprintf("auth0|customer%02d", i)
		home := fmt.Sprintf("198.51.100.%d", 10+i)
		if i < 15 {
			home = "100.64.7.9" // the carrier NAT
		}
		for range 1 + r.IntN(5) {
			at := time.Duration(r.IntN(47*60)) * time.Minute
			if r.IntN(10) == 0 {
				l.add(at-40*time.Second, "fp", home, user)
			}
			if i%3 == 0 {
				l.add(at-20*time.Second, "mfar", home, user)
				l.add(at-19*time.Second, "gd_send_pn", home, user)
				l.add(at-5*time.Second, "gd_auth_succeed", home, user)
			}
			l.add(at, "s", home, user)
			l.add(at+time.Second, "seacft", "203.0.113.250", "")
		}
	}
	// Unknown users tried from a few residential addresses.
	for i := range 12 {
		l.named(time.Duration(r.IntN(47*60))*time.Minute, "fu", fmt.Sprintf("192.0.2.%d", 100+i%3), fmt.Sprintf("nobody%d@example.com", i))
	}
	return l.events
}

// runDetector feeds events to a fresh detector in the given order.
func runDetector(newDetector func() Detector, events []auth0client.LogEvent) []AttackFinding {
	d := newDetector()
	for _, e := range events {
		d.Add(e)
	}
	return d.Findings()
}

// runBothOrders runs the detector on the events in order and shuffled,
// and fails unless both give the same findings.
func runBothOrders(t *testing.T, newDetector func() Detector, events []auth0client.LogEvent) []AttackFinding {
	t.Helper()
	got := runDetector(newDetector, events)
	shuffled := slices.Clone(events)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	slices.Reverse(shuffled[:len(shuffled)/2])
	again := runDetector(newDetector, shuffled)
	if !reflect.DeepEqual(got, again) {
		t.Fatalf("findings depend on the order of the events:\n in order: %+v\n shuffled: %+v", got, again)
	}
	for _, f := range got {
		if f.ID != FindingID(f.Kind, f.Accounts, f.Networks) {
			t.Errorf("finding id %s is not FindingID of its accounts and networks", f.ID)
		}
	}
	return got
}

// accountsBy maps the finding's user ids (or user names, for name-only
// accounts) to their verdicts and steps.
func accountsBy(f AttackFinding) (map[string]Verdict, map[string][]string) {
	verdicts, steps := map[string]Verdict{}, map[string][]string{}
	for _, a := range f.Accounts {
		key := a.UserID
		if key == "" {
			key = "name:" + a.UserName
		}
		verdicts[key], steps[key] = a.Verdict, a.Steps
	}
	return verdicts, steps
}

// checkFinding asserts the single finding's verdicts, steps and networks.
func checkFinding(t *testing.T, fs []AttackFinding, kind AttackKind, verdicts map[string]Verdict, steps map[string][]string, networks []string) AttackFinding {
	t.Helper()
	if verdicts == nil {
		if len(fs) != 0 {
			t.Fatalf("want no finding, got %d: %+v", len(fs), fs)
		}
		return AttackFinding{}
	}
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %d: %+v", len(fs), fs)
	}
	f := fs[0]
	if f.Kind != kind {
		t.Errorf("kind %s, want %s", f.Kind, kind)
	}
	gotV, gotS := accountsBy(f)
	if !reflect.DeepEqual(gotV, verdicts) {
		t.Errorf("verdicts %v, want %v", gotV, verdicts)
	}
	for id, want := range steps {
		if !slices.Equal(gotS[id], want) {
			t.Errorf("steps of %s: %v, want %v", id, gotS[id], want)
		}
	}
	if !slices.Equal(f.Networks, networks) {
		t.Errorf("networks %v, want %v", f.Networks, networks)
	}
	for _, a := range f.Accounts {
		if len(a.Evidence) == 0 || len(a.Evidence) > 5 {
			t.Errorf("account %s has %d evidence ids, want 1 to 5", a.UserID, len(a.Evidence))
		}
	}
	if len(f.Evidence) == 0 || len(f.Reasons) == 0 || f.Title == "" || f.Response == "" || f.First.IsZero() || f.Last.Before(f.First) {
		t.Errorf("finding lacks evidence, reasons, title, response or times: %+v", f)
	}
	return f
}

const (
	attackerA = "45.77.1.10"  // bombs the victim
	attackerB = "45.77.1.11"  // bombs two more
	homeOf    = "198.51.100." // + n: a customer's own address
)

func TestMFABombingVerdicts(t *testing.T) {
	type want struct {
		verdicts   map[string]Verdict // nil: no finding
		steps      map[string][]string
		networks   []string
		confidence Confidence
		severity   int
		title      string
	}
	tests := []struct {
		name   string
		events func(l *eventLog)
		want   want
	}{
		{
			name: "approved push then enrolled factor, two more bombed",
			events: func(l *eventLog) {
				at := 3 * time.Hour
				l.add(at-20*time.Hour, "s", homeOf+"200", "auth0|victim")
				for range 3 {
					at = l.prompts(at, "gd_send_pn", attackerA, "auth0|victim", 7, 50*time.Second) + 8*time.Minute
				}
				l.add(at, "gd_auth_succeed", attackerA, "auth0|victim")
				l.add(at+2*time.Second, "s", attackerA, "auth0|victim")
				l.add(at+6*time.Minute, "gd_enrollment_complete", attackerA, "auth0|victim")
				for i, u := range []string{"auth0|bombed1", "auth0|bombed2"} {
					at := 4*time.Hour + time.Duration(i)*time.Hour
					at = l.prompts(at, "gd_send_pn", attackerB, u, 6, 40*time.Second)
					l.add(at, "gd_auth_rejected", attackerB, u)
					l.prompts(at+20*time.Minute, "gd_send_pn", attackerB, u, 8, 30*time.Second)
				}
				// The attacker's stale passwords fail too.
				l.add(5*time.Hour, "fp", attackerB, "auth0|customer07")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|victim": VerdictCompromised, "auth0|bombed1": VerdictStoppedByMFA, "auth0|bombed2": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|victim": ContainWithMFASteps, "auth0|bombed1": ResetSteps, "auth0|bombed2": ResetSteps},
				networks:   []string{attackerB, attackerA}, // 28 prompts, then 21
				confidence: ConfidenceHigh,
				severity:   95,
				title:      "MFA push bombing: 1 account approved a push, 2 bombed",
			},
		},
		{
			name: "login right after the burst without enrolling",
			events: func(l *eventLog) {
				at := l.prompts(2*time.Hour, "gd_send_pn", attackerA, "auth0|victim", 9, 30*time.Second)
				l.add(at+40*time.Second, "s", attackerA, "auth0|victim")
				// The owner's factor, enrolled long before: not the attacker's.
				l.add(-time.Hour, "gd_enrollment_complete", homeOf+"200", "auth0|victim")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|victim": VerdictCompromised},
				steps:      map[string][]string{"auth0|victim": ContainSteps},
				networks:   []string{attackerA},
				confidence: ConfidenceMedium,
				severity:   90,
				title:      "MFA push bombing: 1 account approved a push, 0 bombed",
			},
		},
		{
			name: "paced prompts, ten in an hour",
			events: func(l *eventLog) {
				l.prompts(6*time.Hour, "gd_send_pn", attackerA, "auth0|paced", 11, 5*time.Minute)
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|paced": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|paced": ResetSteps},
				networks:   []string{attackerA},
				confidence: ConfidenceMedium,
				severity:   60,
				title:      "MFA push bombing: 0 accounts approved a push, 1 bombed",
			},
		},
		{
			name: "SMS bombing",
			events: func(l *eventLog) {
				l.prompts(6*time.Hour, "gd_send_sms", attackerA, "auth0|texted", 6, 80*time.Second)
				l.add(7*time.Hour, "fp", attackerA, "auth0|customer03")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|texted": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|texted": ResetSteps},
				networks:   []string{attackerA},
				confidence: ConfidenceHigh,
				severity:   60,
				title:      "MFA SMS bombing: 0 accounts approved an SMS, 1 bombed",
			},
		},
		{
			name: "owner's later login from home is no approval",
			events: func(l *eventLog) {
				l.add(time.Hour, "s", homeOf+"201", "auth0|denier")
				at := l.prompts(2*time.Hour, "gd_send_pn", attackerA, "auth0|denier", 12, 20*time.Second)
				l.add(at, "gd_auth_rejected", attackerA, "auth0|denier")
				l.add(at+3*time.Hour, "gd_send_pn", homeOf+"201", "auth0|denier")
				l.add(at+3*time.Hour+5*time.Second, "gd_auth_succeed", homeOf+"201", "auth0|denier")
				l.add(at+3*time.Hour+6*time.Second, "s", homeOf+"201", "auth0|denier")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|denier": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|denier": ResetSteps},
				networks:   []string{attackerA},
				confidence: ConfidenceMedium,
				severity:   60,
				title:      "MFA push bombing: 0 accounts approved a push, 1 bombed",
			},
		},
		{
			name: "bursts through a shared address are not blocked",
			events: func(l *eventLog) {
				// The carrier NAT where customer00..14 sign in.
				l.prompts(9*time.Hour, "gd_send_pn", "100.64.7.9", "auth0|natvictim", 8, 30*time.Second)
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|natvictim": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|natvictim": ResetSteps},
				networks:   nil,
				confidence: ConfidenceLow,
				severity:   60,
				title:      "MFA push bombing: 0 accounts approved a push, 1 bombed",
			},
		},
		{
			name: "owner signed in at home just before the bombing",
			events: func(l *eventLog) {
				// The training tenant at seed 20: a push and a login at home
				// 14 minutes before the attack falls inside its hour window.
				l.add(11*time.Hour, "gd_send_pn", homeOf+"205", "auth0|early")
				l.add(11*time.Hour+25*time.Second, "gd_auth_succeed", homeOf+"205", "auth0|early")
				l.add(11*time.Hour+26*time.Second, "s", homeOf+"205", "auth0|early")
				l.prompts(11*time.Hour+14*time.Minute, "gd_send_pn", attackerA, "auth0|early", 11, 50*time.Second)
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|early": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|early": ResetSteps},
				networks:   []string{attackerA},
				confidence: ConfidenceMedium,
				severity:   60,
				title:      "MFA push bombing: 0 accounts approved a push, 1 bombed",
			},
		},
		{
			name: "owner signs in from a new address while being bombed",
			events: func(l *eventLog) {
				at := l.prompts(11*time.Hour, "gd_send_pn", attackerA, "auth0|awake", 6, 40*time.Second)
				l.add(at, "gd_send_pn", homeOf+"206", "auth0|awake")
				l.add(at+20*time.Second, "gd_auth_succeed", homeOf+"206", "auth0|awake")
				l.add(at+21*time.Second, "s", homeOf+"206", "auth0|awake")
				l.prompts(at+time.Minute, "gd_send_pn", attackerA, "auth0|awake", 4, 40*time.Second)
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|awake": VerdictStoppedByMFA},
				steps:      map[string][]string{"auth0|awake": ResetSteps},
				networks:   []string{attackerA},
				confidence: ConfidenceMedium,
				severity:   60,
				title:      "MFA push bombing: 0 accounts approved a push, 1 bombed",
			},
		},
		{
			name: "a proxy pool, one prompt per address, approved",
			events: func(l *eventLog) {
				at := 30 * time.Hour
				for i := range 8 {
					l.prompts(at, "gd_send_pn", fmt.Sprintf("185.220.101.%d", i), "auth0|pooled", 1, 0)
					at += 70 * time.Second
				}
				l.add(at-50*time.Second, "gd_auth_succeed", "185.220.101.7", "auth0|pooled")
				l.add(at-49*time.Second, "s", "185.220.101.7", "auth0|pooled")
			},
			want: want{
				verdicts:   map[string]Verdict{"auth0|pooled": VerdictCompromised},
				steps:      map[string][]string{"auth0|pooled": ContainSteps},
				networks:   nil,
				confidence: ConfidenceHigh,
				severity:   90,
				title:      "MFA push bombing: 1 account approved a push, 0 bombed",
			},
		},
		{
			name: "near miss: fails MFA twice, then signs in from home",
			events: func(l *eventLog) {
				l.add(10*time.Hour, "gd_send_pn", homeOf+"202", "auth0|missed")
				l.add(10*time.Hour+time.Minute, "gd_send_pn", homeOf+"202", "auth0|missed")
				l.add(10*time.Hour+90*time.Second, "gd_auth_succeed", homeOf+"202", "auth0|missed")
				l.add(10*time.Hour+92*time.Second, "s", homeOf+"202", "auth0|missed")
			},
		},
		{
			name: "near miss: three pushes over a day",
			events: func(l *eventLog) {
				for i := range 3 {
					at := time.Duration(8+5*i) * time.Hour
					l.add(at, "gd_send_pn", homeOf+"203", "auth0|daily")
					l.add(at+10*time.Second, "gd_auth_succeed", homeOf+"203", "auth0|daily")
					l.add(at+11*time.Second, "s", homeOf+"203", "auth0|daily")
				}
			},
		},
		{
			name: "near miss: owner pressing resend at home",
			events: func(l *eventLog) {
				l.add(2*time.Hour, "s", homeOf+"204", "auth0|impatient")
				at := l.prompts(20*time.Hour, "gd_send_sms", homeOf+"204", "auth0|impatient", 6, 45*time.Second)
				l.add(at, "gd_auth_succeed", homeOf+"204", "auth0|impatient")
				l.add(at+time.Second, "s", homeOf+"204", "auth0|impatient")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &eventLog{prefix: "case-"}
			tt.events(l)
			events := append(detectorNoise(), l.events...)
			fs := runBothOrders(t, NewMFABombingDetector, events)
			f := checkFinding(t, fs, AttackMFABombing, tt.want.verdicts, tt.want.steps, tt.want.networks)
			if tt.want.verdicts == nil {
				return
			}
			if f.Confidence != tt.want.confidence {
				t.Errorf("confidence %s, want %s (reasons %q)", f.Confidence, tt.want.confidence, f.Reasons)
			}
			if f.Severity != tt.want.severity {
				t.Errorf("severity %d, want %d", f.Severity, tt.want.severity)
			}
			if f.Title != tt.want.title {
				t.Errorf("title %q, want %q", f.Title, tt.want.title)
			}
			if !strings.HasPrefix(f.ID, "mfa-bombing-") {
				t.Errorf("id %q", f.ID)
			}
		})
	}
}

// TestMFABombingEvidence checks that a taken-over account's evidence holds
// the approval, the login and the enrollment besides the first prompts.
func TestMFABombingEvidence(t *testing.T) {
	l := &eventLog{prefix: "ev-"}
	at := l.prompts(time.Hour, "gd_send_pn", attackerA, "auth0|victim", 12, 20*time.Second)
	approve := l.add(at, "gd_auth_succeed", attackerA, "auth0|victim").ID
	login := l.add(at+time.Second, "s", attackerA, "auth0|victim").ID
	enrol := l.add(at+5*time.Minute, "gd_enrollment_complete", attackerA, "auth0|victim").ID
	fs := runBothOrders(t, NewMFABombingDetector, append(detectorNoise(), l.events...))
	if len(fs) != 1 || len(fs[0].Accounts) != 1 {
		t.Fatalf("findings %+v", fs)
	}
	a := fs[0].Accounts[0]
	for _, id := range []string{approve, login, enrol} {
		if !slices.Contains(a.Evidence, id) {
			t.Errorf("evidence %v lacks %s", a.Evidence, id)
		}
		if !slices.Contains(fs[0].Evidence, id) {
			t.Errorf("finding evidence %v lacks %s", fs[0].Evidence, id)
		}
	}
	if a.Evidence[0] != "ev-00002" { // the first gd_send_pn
		t.Errorf("evidence %v does not start with the first prompt", a.Evidence)
	}
}

// clientEventOf converts a sandbox log event into what auth0client reads.
func clientEventOf(e *sandbox.LogEvent) auth0client.LogEvent {
	out := auth0client.LogEvent{ID: e.LogID, Date: e.Date, Type: e.Type, Description: e.Description, IP: e.IP,
		UserID: e.UserID, UserName: e.UserName, ClientID: e.ClientID, ClientName: e.ClientName, Connection: e.Connection,
		UserAgent: e.UserAgent, Hostname: e.Hostname, IsMobile: e.IsMobile, Details: e.Details}
	if e.LocationInfo != nil {
		out.Country, out.City = e.LocationInfo.CountryCode, e.LocationInfo.CityName
	}
	return out
}

// runScenario runs a fresh detector over a generated scenario's logs.
func runScenario(newDetector func() Detector, st *sandbox.State) []AttackFinding {
	d := newDetector()
	for _, e := range st.Logs {
		d.Add(clientEventOf(e))
	}
	return d.Findings()
}

// mfaFatigue is the mfa-fatigue scenario, generated once per test binary.
var mfaFatigue = sync.OnceValues(func() (*sandbox.State, *scenarios.AnswerKey) {
	sc, _ := scenarios.Get("mfa-fatigue")
	return sc.Generate(sc.DefaultSeed, time.Now().UTC())
})

// checkNoInnocent fails when a finding names an innocent account.
func checkNoInnocent(t *testing.T, fs []AttackFinding, key *scenarios.AnswerKey) {
	t.Helper()
	for _, f := range fs {
		for _, a := range f.Accounts {
			if slices.Contains(key.Innocent, a.UserID) {
				t.Errorf("%s names innocent account %s (%s)", f.ID, a.UserID, a.Verdict)
			}
		}
	}
}

func TestMFABombingFindsTheTrainingScenario(t *testing.T) {
	st, key := mfaFatigue()
	fs := runScenario(NewMFABombingDetector, st)
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %d: %+v", len(fs), fs)
	}
	f := fs[0]
	by := map[Verdict][]string{}
	for _, a := range f.Accounts {
		by[a.Verdict] = append(by[a.Verdict], a.UserID)
		if want := ResetSteps; a.Verdict == VerdictCompromised {
			want = ContainSteps
			if len(key.AttackerFactors[a.UserID]) > 0 {
				want = ContainWithMFASteps
			}
			if !slices.Equal(a.Steps, want) {
				t.Errorf("steps of %s: %v, want %v", a.UserID, a.Steps, want)
			}
		} else if !slices.Equal(a.Steps, want) {
			t.Errorf("steps of %s: %v, want %v", a.UserID, a.Steps, want)
		}
	}
	for v, want := range map[Verdict][]string{VerdictCompromised: key.Compromised, VerdictStoppedByMFA: key.StoppedByMFA} {
		got := slices.Sorted(slices.Values(by[v]))
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
	if n := len(by[VerdictTargeted]); n > 0 {
		t.Errorf("%d targeted accounts: the detector has no such verdict", n)
	}
	checkNoInnocent(t, fs, key)
	for _, n := range f.Networks {
		if !key.IsAttackerIP(n) || slices.Contains(key.SharedIPs, n) {
			t.Errorf("network %s is not an attacker address", n)
		}
	}
	if len(f.Networks) == 0 {
		t.Error("no network to block")
	}
	if f.Confidence != ConfidenceHigh || f.Severity < 90 {
		t.Errorf("confidence %s, severity %d", f.Confidence, f.Severity)
	}
	t.Logf("%s: %s; networks %v; %q", f.ID, f.Title, f.Networks, f.Reasons)
}

func TestMFABombingQuietOnCredentialStuffing(t *testing.T) {
	st, key := generated()
	fs := runScenario(NewMFABombingDetector, st)
	checkNoInnocent(t, fs, key)
	for _, f := range fs {
		for _, a := range f.Accounts {
			if a.Verdict == VerdictCompromised && !slices.Contains(key.Compromised, a.UserID) {
				t.Errorf("%s called compromised, not in the answer key", a.UserID)
			}
		}
	}
}

// TestMFABombingAndBreachedPasswordSpareOtherScenarios runs both detectors
// on the training scenarios of other attacks: they name no innocent
// account there.
func TestMFABombingAndBreachedPasswordSpareOtherScenarios(t *testing.T) {
	for _, name := range []string{"session-hijack", "refresh-token-theft"} {
		sc, ok := scenarios.Get(name)
		if !ok {
			t.Fatalf("no scenario %s", name)
		}
		st, key := sc.Generate(sc.DefaultSeed, time.Now().UTC())
		for _, newDetector := range []func() Detector{NewMFABombingDetector, NewBreachedPasswordDetector} {
			checkNoInnocent(t, runScenario(newDetector, st), key)
		}
	}
}
