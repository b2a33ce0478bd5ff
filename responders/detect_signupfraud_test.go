package responders

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

var sfDomains = []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de"}

// signup logs an ss for user with email at domain.
func signup(l *synthLog, min float64, user, domain, ip, ua string) {
	e := l.add(min, "ss", user, ip, "US", ua, map[string]any{"body": map[string]any{"email": user + "@" + domain}})
	e.UserName = strings.TrimPrefix(user, "auth0|") + "@" + domain
}

// sfNoise is an ordinary day: a few signups from home addresses, logins,
// a failed signup, and one privacy-minded customer with a throwaway address.
func sfNoise(l *synthLog) {
	for i := range 6 {
		signup(l, float64(90*i), fmt.Sprintf("auth0|new%02d", i), sfDomains[i%len(sfDomains)], fmt.Sprintf("98.207.%d.%d", 40+i, 9+i), ttChrome)
	}
	for i := range 20 {
		l.add(float64(13*i), "s", fmt.Sprintf("auth0|old%02d", i), fmt.Sprintf("73.162.%d.4", i), "US", ttChrome, nil)
	}
	l.add(30, "fs", "", "98.207.77.7", "US", ttChrome, nil)
	signup(l, 200, "auth0|private", "mailinator.com", "71.105.9.9", ttSafari)
}

func TestSignupFraudRules(t *testing.T) {
	type want struct {
		accounts   int
		steps      []string
		networks   []string
		confidence Confidence
		reason     string
	}
	cases := []struct {
		name  string
		build func(l *synthLog)
		want  []want // one per finding, most urgent first
	}{
		{
			name: "a script signs up 25 accounts from one /24 in 40 minutes",
			build: func(l *synthLog) {
				for i := range 25 {
					signup(l, 300+1.6*float64(i), fmt.Sprintf("auth0|bot%02d", i), sfDomains[i%len(sfDomains)], fmt.Sprintf("203.0.113.%d", 10+i%7), ttScript)
				}
				for range 30 {
					l.add(310, "fs", "", "203.0.113.12", "US", ttScript, nil)
				}
			},
			want: []want{{accounts: 25, steps: []string{StepBlock}, networks: []string{"203.0.113.0/24"}, confidence: ConfidenceHigh, reason: "30 failed signups"}},
		},
		{
			name: "a burst across the hour boundary is one burst",
			build: func(l *synthLog) {
				for i := range 10 {
					signup(l, 52+1.5*float64(i), fmt.Sprintf("auth0|bot%02d", i), "gmail.com", "203.0.113.50", ttChrome)
				}
			},
			want: []want{{accounts: 10, steps: []string{StepBlock}, networks: []string{"203.0.113.0/24"}, confidence: ConfidenceHigh, reason: "10 of 10 signups with one user agent"}},
		},
		{
			name: "disposable addresses from many networks within an hour",
			build: func(l *synthLog) {
				for i, d := range []string{"mailinator.com", "yopmail.com", "sharklasers.com", "guerrillamail.com", "mailinator.com", "getnada.com", "x.10minutemail.com"} {
					signup(l, 500+7*float64(i), fmt.Sprintf("auth0|tmp%02d", i), d, fmt.Sprintf("%d.%d.7.7", 60+i, 20+i), []string{ttChrome, ttSafari}[i%2])
				}
			},
			want: []want{{accounts: 7, steps: []string{StepBlock}, confidence: ConfidenceMedium, reason: "mailinator.com ×2"}},
		},
		{
			name: "near miss: a product launch, 50 signups from 50 ISPs with ordinary domains",
			build: func(l *synthLog) {
				for i := range 50 {
					signup(l, 600+float64(i)/1.2, fmt.Sprintf("auth0|fan%02d", i), sfDomains[i%len(sfDomains)], fmt.Sprintf("%d.%d.%d.%d", 24+i%60, 10+i, i, 5+i), []string{ttChrome, ttSafari}[i%2])
				}
			},
		},
		{
			name: "near miss: a launch behind a carrier NAT that many customers sign in from",
			build: func(l *synthLog) {
				for i := range 15 {
					l.add(float64(20*i), "s", fmt.Sprintf("auth0|nat%02d", i), "100.64.0.1", "US", ttSafari, nil)
				}
				for i := range 12 {
					signup(l, 600+4*float64(i), fmt.Sprintf("auth0|fan%02d", i), sfDomains[i%len(sfDomains)], "100.64.0.1", ttSafari)
				}
			},
		},
		{
			name: "near miss: ten signups from one office over a working day",
			build: func(l *synthLog) {
				for i := range 10 {
					signup(l, 30*float64(i), fmt.Sprintf("auth0|staff%02d", i), "acme-corp.example", "198.51.100.7", ttScript)
				}
			},
		},
		{
			name: "a conference on one network: a finding to look at, nothing to block",
			build: func(l *synthLog) {
				uas := []string{ttChrome, ttSafari, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15"}
				for i := range 14 {
					signup(l, 700+3*float64(i), fmt.Sprintf("auth0|guest%02d", i), sfDomains[i%len(sfDomains)], fmt.Sprintf("192.0.2.%d", 20+i), uas[i%3])
				}
			},
			want: []want{{accounts: 14, confidence: ConfidenceLow, reason: "a conference or a launch"}},
		},
		{
			name: "a disposable burst from one network is the network's finding",
			build: func(l *synthLog) {
				for i := range 12 {
					signup(l, 800+2*float64(i), fmt.Sprintf("auth0|tmp%02d", i), "yopmail.com", "203.0.113.9", ttChrome)
				}
			},
			want: []want{{accounts: 12, steps: []string{StepBlock}, networks: []string{"203.0.113.0/24"}, confidence: ConfidenceHigh, reason: "12 of 12 signups with disposable email domains"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newSynthLog()
			sfNoise(l)
			c.build(l)
			fs := feedDetector(NewSignupFraudDetector(), l.events, nil, nil)
			if len(fs) != len(c.want) {
				t.Fatalf("%d findings, want %d: %+v", len(fs), len(c.want), fs)
			}
			for i, w := range c.want {
				f := fs[i]
				if len(f.Accounts) != w.accounts || !slices.Equal(f.Networks, w.networks) || f.Confidence != w.confidence {
					t.Errorf("finding %d: %d accounts, networks %v, confidence %s; want %d, %v, %s (%v)", i, len(f.Accounts), f.Networks, f.Confidence,
						w.accounts, w.networks, w.confidence, f.Reasons)
				}
				for _, a := range f.Accounts {
					if a.Verdict != VerdictTargeted || !slices.Equal(a.Steps, w.steps) || len(a.Evidence) != 1 {
						t.Errorf("%s: %s %v %v", a.UserID, a.Verdict, a.Steps, a.Evidence)
					}
					if strings.HasPrefix(a.UserID, "auth0|new") || strings.HasPrefix(a.UserID, "auth0|old") || a.UserID == "auth0|private" {
						t.Errorf("an ordinary customer in the finding: %s", a.UserID)
					}
				}
				if !slices.ContainsFunc(f.Reasons, func(r string) bool { return strings.Contains(r, w.reason) }) {
					t.Errorf("reasons %q lack %q", f.Reasons, w.reason)
				}
				if f.Kind != AttackSignupFraud || f.ID != FindingID(f.Kind, f.Accounts, f.Networks) || f.Title == "" || f.Response == "" || f.First.IsZero() || f.Last.Before(f.First) {
					t.Errorf("finding: %+v", f)
				}
			}
		})
	}
}

func TestSignupFraudFindingIDIgnoresEventOrder(t *testing.T) {
	l := newSynthLog()
	sfNoise(l)
	for i := range 15 {
		signup(l, 300+2*float64(i), fmt.Sprintf("auth0|bot%02d", i), "gmail.com", fmt.Sprintf("203.0.113.%d", i), ttScript)
		signup(l, 900+3*float64(i), fmt.Sprintf("auth0|tmp%02d", i), "mailinator.com", fmt.Sprintf("%d.9.9.9", 40+i), ttChrome)
	}
	want := feedDetector(NewSignupFraudDetector(), l.events, nil, nil)
	if len(want) != 2 {
		t.Fatalf("want two findings, got %+v", want)
	}
	for seed := range uint64(5) {
		got := feedDetector(NewSignupFraudDetector(), l.shuffled(seed), nil, nil)
		if len(got) != 2 {
			t.Fatalf("order %d: %d findings", seed, len(got))
		}
		for i := range got {
			if got[i].ID != want[i].ID || !slices.Equal(got[i].Evidence, want[i].Evidence) || !slices.Equal(got[i].Reasons, want[i].Reasons) {
				t.Errorf("order %d: got %+v, want %+v", seed, got[i], want[i])
			}
		}
	}
}

func TestSignupFraudQuietOnCredentialStuffing(t *testing.T) {
	st, key := generated()
	checkNoInnocentInFindings(t, feedDetector(NewSignupFraudDetector(), tokenTheftEvents(st), nil, nil), key)
}
