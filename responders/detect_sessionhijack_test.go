package responders

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/auth0client"
)

// webUser signs in from home and keeps the session alive with silent
// authentications; it returns the session id.
func webUser(l *synthLog, user, ip, cc string, start float64, silent int) string {
	sid := "sid_" + user + fmt.Sprint(start)
	l.add(start, "s", user, ip, cc, ttChrome, map[string]any{"session_id": sid})
	for i := range silent {
		l.add(start+25*float64(i+1), "ssa", user, ip, cc, ttChrome, map[string]any{"session_id": sid})
	}
	return sid
}

// shNoise is customers at home, one abroad who signed in there, and a
// carrier NAT that dozens sign in from.
func shNoise(l *synthLog) {
	for i := range 10 {
		webUser(l, fmt.Sprintf("auth0|bg%02d", i), fmt.Sprintf("73.162.%d.%d", 10+i, 20+i), "US", float64(11*i), 3)
	}
	webUser(l, "auth0|abroad", "73.162.99.1", "US", 5, 1)
	webUser(l, "auth0|abroad", "86.140.3.3", "GB", 800, 2)
	for i := range 12 {
		l.add(float64(3*i), "s", fmt.Sprintf("auth0|nat%02d", i), "100.64.0.1", "US", ttSafari, map[string]any{"session_id": fmt.Sprint("sid_nat", i)})
	}
}

func TestSessionHijackRules(t *testing.T) {
	const victim = "auth0|victim"
	home := auth0client.Device{InitialIP: "73.162.40.8", InitialASN: "AS7922", LastIP: "73.162.40.8", LastASN: "AS7922"}
	moved := func(ip, asn string) auth0client.Device {
		d := home
		d.LastIP, d.LastASN = ip, asn
		return d
	}
	cases := []struct {
		name       string
		build      func(l *synthLog)
		sessions   []auth0client.Session
		verdict    Verdict
		networks   []string
		confidence Confidence
		candidate  bool
		reason     string
	}{
		{
			name: "a cookie opened at home replayed from abroad, logs only: the login's session id ties them",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 2)
				for i := range 3 {
					l.add(600+float64(30*i), "ssa", victim, "177.94.3.4", "BR", ttChrome, map[string]any{"session_id": sid})
				}
			},
			verdict: VerdictCompromised, networks: []string{"177.94.3.4"}, confidence: ConfidenceMedium, candidate: true,
			reason: "was opened by a login in US",
		},
		{
			name: "the same with the sessions API: the session moved country",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 2)
				for i := range 3 {
					l.add(600+float64(30*i), "ssa", victim, "177.94.3.4", "BR", ttChrome, map[string]any{"session_id": sid})
				}
			},
			sessions: []auth0client.Session{{ID: "sid_" + victim + "10", Device: moved("177.94.3.4", "AS26599")}},
			verdict:  VerdictCompromised, networks: []string{"177.94.3.4"}, confidence: ConfidenceHigh, candidate: true,
			reason: "moved from 73.162.40.8 (US, AS7922) to 177.94.3.4 (BR, AS26599)",
		},
		{
			name: "without session ids and at other times, the log signal is weak",
			build: func(l *synthLog) {
				l.add(10, "s", victim, "73.162.40.8", "US", ttChrome, nil)
				l.add(900, "ssa", victim, "27.72.1.1", "VN", ttChrome, nil)
			},
			verdict: VerdictCompromised, networks: []string{"27.72.1.1"}, confidence: ConfidenceLow, candidate: true,
		},
		{
			name: "the account active at home while its session is used abroad",
			build: func(l *synthLog) {
				l.add(10, "s", victim, "73.162.40.8", "US", ttChrome, nil)
				l.add(600, "ssa", victim, "27.72.1.1", "VN", ttChrome, nil)
				l.add(640, "ssa", victim, "73.162.40.8", "US", ttChrome, nil)
				l.add(700, "ssa", victim, "27.72.1.1", "VN", ttChrome, nil)
			},
			verdict: VerdictCompromised, networks: []string{"27.72.1.1"}, confidence: ConfidenceMedium, candidate: true,
			reason: "active in US meanwhile",
		},
		{
			name: "near miss: a traveller signs in abroad, which opens a new session there",
			build: func(l *synthLog) {
				webUser(l, victim, "73.162.40.8", "US", 10, 2)
				webUser(l, victim, "86.140.7.7", "GB", 900, 4)
			},
			sessions: []auth0client.Session{{ID: "a", Device: home}, {ID: "b", Device: auth0client.Device{InitialIP: "86.140.7.7", InitialASN: "AS2856", LastIP: "86.140.7.7", LastASN: "AS2856"}}},
		},
		{
			name: "near miss: a traveller's laptop keeps its home session abroad, where they also signed in",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 2)
				webUser(l, victim, "86.140.7.7", "GB", 900, 1)
				l.add(1000, "ssa", victim, "86.140.7.7", "GB", ttChrome, map[string]any{"session_id": sid})
			},
			sessions: []auth0client.Session{{ID: "sid_" + victim + "10", Device: moved("86.140.7.7", "AS2856")}},
		},
		{
			name: "near miss: a phone leaves home Wi-Fi for the carrier in the same country",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 1)
				for i := range 3 {
					l.add(100+float64(30*i), "ssa", victim, "100.64.0.1", "US", ttSafari, map[string]any{"session_id": sid})
				}
			},
			sessions: []auth0client.Session{{ID: "sid_" + victim + "10", Device: moved("100.64.0.1", "AS21928")}},
		},
		{
			name: "an address of unknown country: the session's hosting ASN decides",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 1)
				l.add(300, "ssa", victim, "68.183.9.9", "", ttChrome, map[string]any{"session_id": sid})
			},
			sessions: []auth0client.Session{{ID: "sid_" + victim + "10", Device: moved("68.183.9.9", "AS14061")}},
			verdict:  VerdictCompromised, networks: []string{"68.183.9.9"}, confidence: ConfidenceHigh, candidate: true,
			reason: "a hosting network (DigitalOcean)",
		},
		{
			name: "an address of unknown country on a residential ASN stays quiet",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 1)
				l.add(300, "ssa", victim, "98.207.9.9", "", ttChrome, map[string]any{"session_id": sid})
			},
			sessions:  []auth0client.Session{{ID: "sid_" + victim + "10", Device: moved("98.207.9.9", "AS7018")}},
			candidate: true,
		},
		{
			name: "replayed through an address many accounts sign in from: contain, but block nothing",
			build: func(l *synthLog) {
				sid := webUser(l, victim, "73.162.40.8", "US", 10, 1)
				for i := range 12 {
					l.add(float64(2*i), "s", fmt.Sprintf("auth0|br%02d", i), "177.94.0.1", "BR", ttChrome, nil)
				}
				l.add(500, "ssa", victim, "177.94.0.1", "BR", ttChrome, map[string]any{"session_id": sid})
			},
			verdict: VerdictCompromised, confidence: ConfidenceMedium, candidate: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newSynthLog()
			shNoise(l)
			c.build(l)
			d := NewSessionHijackDetector().(SessionAware)
			for _, e := range l.events {
				d.Add(e)
			}
			cands := d.SessionCandidates()
			if got := slices.Contains(cands, victim); got != c.candidate {
				t.Errorf("candidate: got %v, want %v (%v)", got, c.candidate, cands)
			}
			if len(cands) > 1 || len(cands) == 1 && cands[0] != victim {
				t.Errorf("background accounts named for a session read: %v", cands)
			}
			if c.sessions != nil {
				d.AddSessions(victim, c.sessions, nil)
			}
			a, f, found := victimFinding(t, d.Findings(), victim, c.verdict != "")
			if !found {
				return
			}
			if a.Verdict != c.verdict || !slices.Equal(a.Steps, ContainSteps) {
				t.Errorf("verdict %s steps %v", a.Verdict, a.Steps)
			}
			if !slices.Equal(f.Networks, c.networks) {
				t.Errorf("networks %v, want %v", f.Networks, c.networks)
			}
			if f.Confidence != c.confidence {
				t.Errorf("confidence %s, want %s (%v)", f.Confidence, c.confidence, f.Reasons)
			}
			if c.reason != "" && !slices.ContainsFunc(f.Reasons, func(r string) bool { return strings.Contains(r, c.reason) }) {
				t.Errorf("reasons %q lack %q", f.Reasons, c.reason)
			}
			if f.Kind != AttackSessionHijack || f.ID != FindingID(f.Kind, f.Accounts, f.Networks) || f.Title == "" || f.Response == "" || f.First.IsZero() {
				t.Errorf("finding: %+v", f)
			}
			if len(a.Evidence) > sessionHijackEvidence || len(a.Evidence) == 0 && c.sessions == nil {
				t.Errorf("evidence: %v", a.Evidence)
			}
		})
	}
}

func TestSessionHijackFindingIDIgnoresEventOrder(t *testing.T) {
	l := newSynthLog()
	shNoise(l)
	for i, ip := range []string{"177.94.3.4", "27.72.1.1"} {
		user := fmt.Sprintf("auth0|v%d", i)
		sid := webUser(l, user, fmt.Sprintf("71.105.%d.3", i), "US", 10, 2)
		for k := range 3 {
			l.add(600+float64(30*k), "ssa", user, ip, map[string]string{"177.94.3.4": "BR", "27.72.1.1": "VN"}[ip], ttChrome, map[string]any{"session_id": sid})
		}
		l.add(700, "ssa", user, "68.183.2.2", "SG", ttChrome, map[string]any{"session_id": sid})
	}
	want := feedDetector(NewSessionHijackDetector(), l.events, nil, nil)
	if len(want) != 1 || len(want[0].Accounts) != 2 || len(want[0].Networks) != 3 {
		t.Fatalf("want one finding of two accounts and three networks, got %+v", want)
	}
	for seed := range uint64(5) {
		got := feedDetector(NewSessionHijackDetector(), l.shuffled(seed), nil, nil)
		if len(got) != 1 || got[0].ID != want[0].ID || !slices.Equal(got[0].Networks, want[0].Networks) ||
			!slices.Equal(got[0].Reasons, want[0].Reasons) || !slices.Equal(got[0].Evidence, want[0].Evidence) {
			t.Fatalf("order %d: got %+v, want %+v", seed, got, want)
		}
	}
}

func TestSessionHijackFindsTheScenarioSessions(t *testing.T) {
	st, key := scenarioGenerated(t, "session-hijack")
	sessions, tokens := scenarioSessions(st)
	for _, withSessions := range []bool{false, true} {
		t.Run(fmt.Sprintf("sessions=%v", withSessions), func(t *testing.T) {
			d := NewSessionHijackDetector()
			var fs []AttackFinding
			if withSessions {
				fs = feedDetector(d, tokenTheftEvents(st), sessions, tokens)
			} else {
				fs = feedDetector(d, tokenTheftEvents(st), nil, nil)
			}
			got := findingVerdicts(fs)
			if !slices.Equal(got[VerdictCompromised], key.Compromised) {
				t.Errorf("compromised: missing %v, extra %v", minus(key.Compromised, got[VerdictCompromised]), minus(got[VerdictCompromised], key.Compromised))
			}
			checkNoInnocentInFindings(t, fs, key)
			for _, f := range fs {
				for _, n := range f.Networks {
					if !key.IsAttackerIP(n) {
						t.Errorf("%s: %s is no attacker's address", f.ID, n)
					}
				}
				if withSessions && f.Confidence != ConfidenceHigh {
					t.Errorf("%s: confidence %s with the sessions API", f.ID, f.Confidence)
				}
			}
			for _, c := range d.(SessionAware).SessionCandidates() {
				if _, ok := slices.BinarySearch(key.Innocent, c); ok {
					t.Logf("innocent %s named for a session read", c)
				}
			}
		})
	}
}

func TestSessionHijackQuietOnCredentialStuffing(t *testing.T) {
	st, key := generated()
	sessions, tokens := scenarioSessions(st)
	checkNoInnocentInFindings(t, feedDetector(NewSessionHijackDetector(), tokenTheftEvents(st), sessions, tokens), key)
}
