package responders

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// synthLog builds log events for the detectors' table tests: ids in date
// order, like Auth0's.
type synthLog struct {
	t0     time.Time
	events []auth0client.LogEvent
}

func newSynthLog() *synthLog {
	return &synthLog{t0: time.Date(2025, 4, 1, 8, 0, 0, 0, time.UTC)}
}

// add logs an event of typ at minute min after the start.
func (l *synthLog) add(min float64, typ, user, ip, country, ua string, details map[string]any) *auth0client.LogEvent {
	at := l.t0.Add(time.Duration(min * float64(time.Minute)))
	e := auth0client.LogEvent{
		ID: fmt.Sprintf("900%020d%06d", at.UnixMilli(), len(l.events)), Date: at, Type: typ, IP: ip,
		UserID: user, UserName: user + "@example.com", UserAgent: ua, Country: country, Details: details,
	}
	l.events = append(l.events, e)
	return &l.events[len(l.events)-1]
}

// shuffled returns the events in a random order (seeded).
func (l *synthLog) shuffled(seed uint64) []auth0client.LogEvent {
	out := slices.Clone(l.events)
	r := rand.New(rand.NewPCG(seed, seed+1))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

const (
	ttApp      = "AcmeShop/4.12.0 (com.acme.shop; build:4120; iOS 18.1.0) Alamofire/5.9.1"
	ttAppOld   = "AcmeShop/4.11.2 (Android 13; SM-A536B) okhttp/4.12.0"
	ttSafari   = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	ttChrome   = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	ttScript   = "python-requests/2.31.0"
	ttBackend  = "openid-client/5.7.0 (https://github.com/panva/node-openid-client)"
	ttReuseMsg = "Unsuccessful Refresh Token exchange, reused refresh token detected"
)

// appUser is an ordinary app customer: a login from home in the browser
// sheet, the app's code exchange from the phone and refreshes from home.
func appUser(l *synthLog, user, ip, cc string, start float64, refreshes int) {
	l.add(start, "s", user, ip, cc, ttSafari, nil)
	l.add(start+0.02, "seacft", user, ip, cc, ttApp, nil)
	for i := range refreshes {
		l.add(start+60*float64(i+1), "sertft", user, ip, cc, ttApp, map[string]any{"refresh_token_id": "rt_" + user})
	}
}

// ttNoise is a small tenant: app users at home, a web app whose backend
// exchanges codes for everyone, and an expired-token ferrt.
func ttNoise(l *synthLog) {
	for i := range 8 {
		appUser(l, fmt.Sprintf("auth0|bg%02d", i), fmt.Sprintf("73.162.%d.%d", 10+i, 20+i), "US", float64(7*i), 3)
	}
	for i := range 12 {
		user := fmt.Sprintf("auth0|web%02d", i)
		l.add(float64(5*i), "s", user, fmt.Sprintf("86.140.%d.9", i), "GB", ttChrome, nil)
		l.add(float64(5*i)+0.02, "seacft", user, "54.210.1.1", "US", ttBackend, nil)
		l.add(float64(5*i)+90, "sertft", user, "54.210.1.1", "US", ttBackend, map[string]any{"refresh_token_id": "rt_" + user})
	}
	l.add(300, "ferrt", "auth0|bg01", "73.162.11.21", "US", ttApp, map[string]any{"refresh_token_id": "rt_old"}).Description = "Unknown or invalid refresh token."
}

// feedDetector adds the events, then hands the named accounts' sessions
// and tokens over the way DetectTenant does.
func feedDetector(d Detector, events []auth0client.LogEvent, sessions map[string][]auth0client.Session, tokens map[string][]auth0client.RefreshToken) []AttackFinding {
	for _, e := range events {
		d.Add(e)
	}
	if sa, ok := d.(SessionAware); ok && (sessions != nil || tokens != nil) {
		for _, id := range sa.SessionCandidates() {
			sa.AddSessions(id, sessions[id], tokens[id])
		}
	}
	return d.Findings()
}

// findingVerdicts are the accounts of findings by verdict, sorted.
func findingVerdicts(fs []AttackFinding) map[Verdict][]string {
	out := map[Verdict][]string{}
	for _, f := range fs {
		for _, a := range f.Accounts {
			out[a.Verdict] = append(out[a.Verdict], a.UserID)
		}
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// victimFinding checks that no account but the victim is in a finding,
// and that the victim is in one exactly when want says so; found reports
// that the victim's account and finding came back.
func victimFinding(t *testing.T, fs []AttackFinding, victim string, want bool) (AttackAccount, AttackFinding, bool) {
	t.Helper()
	for _, f := range fs {
		for _, a := range f.Accounts {
			if a.UserID != victim {
				t.Errorf("background account %s in a finding: %v", a.UserID, f.Reasons)
			}
		}
	}
	a, f, found := findingAccount(fs, victim)
	switch {
	case !want && found:
		t.Fatalf("finding for the victim: %s %v", a.Verdict, f.Reasons)
	case want && !found:
		t.Fatalf("no finding for the victim")
	}
	return a, f, found
}

func findingAccount(fs []AttackFinding, id string) (AttackAccount, AttackFinding, bool) {
	for _, f := range fs {
		for _, a := range f.Accounts {
			if a.UserID == id {
				return a, f, true
			}
		}
	}
	return AttackAccount{}, AttackFinding{}, false
}

func TestTokenTheftRules(t *testing.T) {
	const victim = "auth0|victim"
	cases := []struct {
		name  string
		build func(l *synthLog)
		// tokens is what the tokens API says of the victim's tokens.
		tokens      []auth0client.RefreshToken
		verdict     Verdict // "" for no finding on the victim
		steps       []string
		networks    []string
		confidence  Confidence
		candidate   bool // the victim is named for a session read
		wantReasons []string
	}{
		{
			name: "a script exchanges the token from a host abroad while the owner keeps using it",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 4)
				for i := range 3 {
					l.add(400+float64(20*i), "sertft", victim, "167.99.12.34", "NL", ttScript, map[string]any{"refresh_token_id": "rt_" + victim})
				}
				l.add(500, "sertft", victim, "88.99.7.7", "DE", "Go-http-client/1.1", map[string]any{"refresh_token_id": "rt_" + victim})
			},
			verdict: VerdictCompromised, steps: ContainSteps, networks: []string{"167.99.12.34", "88.99.7.7"}, confidence: ConfidenceHigh,
		},
		{
			name: "one exchange by another client from abroad is enough, with medium confidence",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				l.add(400, "sertft", victim, "45.76.1.2", "JP", "okhttp/4.12.0", map[string]any{"refresh_token_id": "rt_" + victim})
			},
			verdict: VerdictCompromised, steps: ContainSteps, networks: []string{"45.76.1.2"}, confidence: ConfidenceMedium,
		},
		{
			name: "near miss: a phone on a new carrier address in its own country with its own app",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				for i := range 4 {
					l.add(300+float64(45*i), "sertft", victim, "100.64.7.9", "US", ttApp, map[string]any{"refresh_token_id": "rt_" + victim})
				}
			},
		},
		{
			name: "near miss: a traveller's phone refreshes abroad with its own app and no login",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				for i := range 5 {
					l.add(600+float64(50*i), "sertft", victim, "86.140.3.3", "GB", ttApp, map[string]any{"refresh_token_id": "rt_" + victim})
				}
			},
		},
		{
			name: "near miss: an app update changes the version, not the client",
			build: func(l *synthLog) {
				l.add(10, "s", victim, "73.162.40.8", "US", ttSafari, nil)
				l.add(10.02, "seacft", victim, "73.162.40.8", "US", ttAppOld, nil)
				l.add(200, "sertft", victim, "73.162.40.8", "US", ttAppOld, nil)
				l.add(900, "sertft", victim, "100.64.9.9", "US", ttApp, nil)
			},
		},
		{
			name: "near miss: the owner's app on a VPN abroad (a hosting network, a new country)",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				l.add(600, "sertft", victim, "185.206.224.9", "NL", ttApp, map[string]any{"refresh_token_id": "rt_" + victim})
			},
			tokens: []auth0client.RefreshToken{{ID: "rt_" + victim, Device: auth0client.Device{InitialIP: "73.162.40.8", InitialASN: "AS7922", LastIP: "185.206.224.9", LastASN: "AS9009"}}},
		},
		{
			name: "another client in the owner's country waits for the ASN; a hosting ASN convicts it",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				l.add(600, "sertft", victim, "157.230.1.1", "US", ttScript, map[string]any{"refresh_token_id": "rt_" + victim})
			},
			tokens:  []auth0client.RefreshToken{{ID: "rt_" + victim, Device: auth0client.Device{InitialIP: "73.162.40.8", InitialASN: "AS7922", LastIP: "157.230.1.1", LastASN: "AS14061"}}},
			verdict: VerdictCompromised, steps: ContainSteps, networks: []string{"157.230.1.1"}, confidence: ConfidenceHigh, candidate: true,
			wantReasons: []string{"hosting network (AS14061, DigitalOcean)"},
		},
		{
			name: "another client in the owner's country on a residential network stays quiet",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				l.add(600, "sertft", victim, "98.207.1.1", "US", ttScript, map[string]any{"refresh_token_id": "rt_" + victim})
			},
			tokens:    []auth0client.RefreshToken{{ID: "rt_" + victim, Device: auth0client.Device{InitialIP: "73.162.40.8", InitialASN: "AS7922", LastIP: "98.207.1.1", LastASN: "AS7922"}}},
			candidate: true,
		},
		{
			name: "reuse detected for a token presented by a script abroad: targeted, nothing to contain",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				l.add(500, "ferrt", victim, "47.74.5.5", "SG", ttScript, map[string]any{"refresh_token_id": "rt_" + victim}).Description = ttReuseMsg
				l.add(560, "ferrt", victim, "73.162.40.8", "US", ttApp, map[string]any{"refresh_token_id": "rt_" + victim}).Description = "Unknown or invalid refresh token."
				l.add(561, "s", victim, "73.162.40.8", "US", ttSafari, nil)
			},
			verdict: VerdictTargeted, networks: []string{"47.74.5.5"}, confidence: ConfidenceMedium,
		},
		{
			name: "near miss: reuse from the owner's own phone is an app caching tokens",
			build: func(l *synthLog) {
				appUser(l, victim, "73.162.40.8", "US", 10, 2)
				l.add(500, "ferrt", victim, "73.162.40.8", "US", ttApp, map[string]any{"refresh_token_id": "rt_" + victim}).Description = ttReuseMsg
			},
		},
		{
			name: "near miss: a web app's backend exchanges tokens for everyone",
			build: func(l *synthLog) {
				l.add(10, "s", victim, "73.162.40.8", "US", ttChrome, nil)
				l.add(10.02, "seacft", victim, "54.210.1.1", "US", ttBackend, nil)
				l.add(100, "sertft", victim, "54.210.1.1", "US", ttBackend, nil)
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newSynthLog()
			ttNoise(l)
			c.build(l)
			d := NewTokenTheftDetector().(SessionAware)
			for _, e := range l.events {
				d.Add(e)
			}
			if got := slices.Contains(d.SessionCandidates(), victim); got != c.candidate {
				t.Errorf("candidate: got %v, want %v (candidates %v)", got, c.candidate, d.SessionCandidates())
			}
			if c.tokens != nil {
				d.AddSessions(victim, nil, c.tokens)
			}
			a, f, found := victimFinding(t, d.Findings(), victim, c.verdict != "")
			if !found {
				return
			}
			if a.Verdict != c.verdict || !slices.Equal(a.Steps, c.steps) {
				t.Errorf("verdict %s steps %v, want %s %v", a.Verdict, a.Steps, c.verdict, c.steps)
			}
			if !slices.Equal(f.Networks, c.networks) {
				t.Errorf("networks %v, want %v", f.Networks, c.networks)
			}
			if f.Confidence != c.confidence {
				t.Errorf("confidence %s, want %s (%v)", f.Confidence, c.confidence, f.Reasons)
			}
			if len(a.Evidence) == 0 || len(a.Evidence) > tokenTheftEvidence {
				t.Errorf("evidence: %d log ids", len(a.Evidence))
			}
			if f.Kind != AttackRefreshTokenTheft || f.ID != FindingID(f.Kind, f.Accounts, f.Networks) || f.Title == "" || f.Response == "" {
				t.Errorf("finding: %+v", f)
			}
			for _, want := range c.wantReasons {
				if !slices.ContainsFunc(f.Reasons, func(r string) bool { return strings.Contains(r, want) }) {
					t.Errorf("reasons %q lack %q", f.Reasons, want)
				}
			}
		})
	}
}

func TestTokenTheftFindingIDIgnoresEventOrder(t *testing.T) {
	l := newSynthLog()
	ttNoise(l)
	appUser(l, "auth0|v1", "73.162.40.8", "US", 10, 4)
	appUser(l, "auth0|v2", "71.105.3.3", "US", 20, 3)
	for i := range 3 {
		l.add(400+float64(i), "sertft", "auth0|v1", "167.99.12.34", "NL", ttScript, nil)
		l.add(410+float64(i), "sertft", "auth0|v2", "167.99.12.34", "NL", ttScript, nil)
		l.add(420+float64(i), "sertft", "auth0|v2", "88.99.7.7", "DE", ttScript, nil)
	}
	want := feedDetector(NewTokenTheftDetector(), l.events, nil, nil)
	if len(want) != 1 || len(want[0].Accounts) != 2 {
		t.Fatalf("want one finding of two accounts, got %+v", want)
	}
	for seed := range uint64(5) {
		got := feedDetector(NewTokenTheftDetector(), l.shuffled(seed), nil, nil)
		if len(got) != 1 || got[0].ID != want[0].ID || !slices.Equal(got[0].Networks, want[0].Networks) ||
			!slices.Equal(got[0].Evidence, want[0].Evidence) || !slices.EqualFunc(got[0].Accounts, want[0].Accounts, func(a, b AttackAccount) bool {
			return a.UserID == b.UserID && a.Verdict == b.Verdict && slices.Equal(a.Evidence, b.Evidence)
		}) {
			t.Fatalf("order %d: got %+v, want %+v", seed, got, want)
		}
	}
}

// scenarioLogEvent converts a sandbox log event as auth0client reads it.
func scenarioLogEvent(e *sandbox.LogEvent) auth0client.LogEvent {
	c := auth0client.Clean
	out := auth0client.LogEvent{ID: c(e.LogID), Date: e.Date, Type: c(e.Type), Description: c(e.Description), IP: c(e.IP),
		UserID: c(e.UserID), UserName: c(e.UserName), ClientID: c(e.ClientID), ClientName: c(e.ClientName), Connection: c(e.Connection),
		UserAgent: c(e.UserAgent), Hostname: c(e.Hostname), IsMobile: e.IsMobile, Details: e.Details}
	if e.LocationInfo != nil {
		out.Country, out.City = c(e.LocationInfo.CountryCode), c(e.LocationInfo.CityName)
	}
	return out
}

// tokenTheftEvents are a scenario's log events as the detectors get them.
func tokenTheftEvents(st *sandbox.State) []auth0client.LogEvent {
	out := make([]auth0client.LogEvent, 0, len(st.Logs))
	for _, e := range st.Logs {
		out = append(out, scenarioLogEvent(e))
	}
	return out
}

// scenarioSessions are a scenario's sessions and refresh tokens by user, as
// auth0client reads them.
func scenarioSessions(st *sandbox.State) (map[string][]auth0client.Session, map[string][]auth0client.RefreshToken) {
	parse := func(s string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, s)
		return t
	}
	dev := func(d sandbox.SessionDevice) auth0client.Device {
		return auth0client.Device{InitialIP: d.InitialIP, InitialASN: d.InitialASN, InitialUserAgent: d.InitialUserAgent,
			LastIP: d.LastIP, LastASN: d.LastASN, LastUserAgent: d.LastUserAgent}
	}
	sessions := map[string][]auth0client.Session{}
	for _, s := range st.Sessions {
		sessions[s.UserID] = append(sessions[s.UserID], auth0client.Session{ID: s.ID, UserID: s.UserID, CreatedAt: parse(s.CreatedAt),
			UpdatedAt: parse(s.UpdatedAt), AuthenticatedAt: parse(s.AuthenticatedAt), LastInteractedAt: parse(s.LastInteractedAt), Device: dev(s.Device)})
	}
	tokens := map[string][]auth0client.RefreshToken{}
	for _, t := range st.RefreshTokens {
		tokens[t.UserID] = append(tokens[t.UserID], auth0client.RefreshToken{ID: t.ID, UserID: t.UserID, ClientID: t.ClientID, SessionID: t.SessionID,
			CreatedAt: t.CreatedAt, LastExchangedAt: parse(t.LastExchangedAt), Rotating: t.Rotating, Device: dev(t.Device)})
	}
	return sessions, tokens
}

// scenarioGenerated generates a scenario with its default seed.
func scenarioGenerated(t *testing.T, name string) (*sandbox.State, *scenarios.AnswerKey) {
	t.Helper()
	sc, ok := scenarios.Get(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	return sc.Generate(sc.DefaultSeed, time.Now().UTC())
}

// checkNoInnocentInFindings fails when an innocent account of the key is in a finding.
func checkNoInnocentInFindings(t *testing.T, fs []AttackFinding, key *scenarios.AnswerKey) {
	t.Helper()
	for _, f := range fs {
		for _, a := range f.Accounts {
			if _, ok := slices.BinarySearch(key.Innocent, a.UserID); ok {
				t.Errorf("innocent %s is %s in %s: %v", a.UserID, a.Verdict, f.ID, f.Reasons)
			}
		}
		for _, n := range f.Networks {
			if slices.Contains(key.SharedIPs, n) {
				t.Errorf("shared address %s to block in %s", n, f.ID)
			}
		}
	}
}

func TestTokenTheftFindsTheScenarioThieves(t *testing.T) {
	st, key := scenarioGenerated(t, "refresh-token-theft")
	sessions, tokens := scenarioSessions(st)
	for _, withSessions := range []bool{false, true} {
		t.Run(fmt.Sprintf("sessions=%v", withSessions), func(t *testing.T) {
			var fs []AttackFinding
			if withSessions {
				fs = feedDetector(NewTokenTheftDetector(), tokenTheftEvents(st), sessions, tokens)
			} else {
				fs = feedDetector(NewTokenTheftDetector(), tokenTheftEvents(st), nil, nil)
			}
			got := findingVerdicts(fs)
			if !slices.Equal(got[VerdictCompromised], key.Compromised) {
				t.Errorf("compromised: missing %v, extra %v", minus(key.Compromised, got[VerdictCompromised]), minus(got[VerdictCompromised], key.Compromised))
			}
			if !slices.Equal(got[VerdictTargeted], key.Targeted) {
				t.Errorf("targeted: missing %v, extra %v", minus(key.Targeted, got[VerdictTargeted]), minus(got[VerdictTargeted], key.Targeted))
			}
			checkNoInnocentInFindings(t, fs, key)
			for _, f := range fs {
				for _, n := range f.Networks {
					if !key.IsAttackerIP(n) {
						t.Errorf("%s: %s is no thief's address", f.ID, n)
					}
				}
				for _, a := range f.Accounts {
					if a.Verdict == VerdictCompromised && !slices.Equal(a.Steps, ContainSteps) || a.Verdict == VerdictTargeted && len(a.Steps) > 0 {
						t.Errorf("%s %s: steps %v", a.UserID, a.Verdict, a.Steps)
					}
				}
			}
			var nets []string
			for _, f := range fs {
				nets = append(nets, f.Networks...)
			}
			slices.Sort(nets)
			if !slices.Equal(nets, key.AttackerIPs) {
				t.Errorf("networks %v, want %v", nets, key.AttackerIPs)
			}
		})
	}
}

func TestTokenTheftQuietOnCredentialStuffing(t *testing.T) {
	st, key := generated()
	sessions, tokens := scenarioSessions(st)
	checkNoInnocentInFindings(t, feedDetector(NewTokenTheftDetector(), tokenTheftEvents(st), sessions, tokens), key)
}
