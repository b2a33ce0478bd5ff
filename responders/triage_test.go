package responders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// scenarioEvent converts a sandbox log event the way the log-stream reader
// and auth0client would see it.
func scenarioEvent(e *sandbox.LogEvent) TriageEvent {
	ev := TriageEvent{LogID: e.LogID, Date: e.Date, Type: e.Type, IP: e.IP, UserID: e.UserID, UserName: e.UserName,
		Agent: AgentHash(e.UserAgent)}
	if e.LocationInfo != nil {
		ev.Country = e.LocationInfo.CountryCode
	}
	if v, ok := e.Details["requiresVerification"].(bool); ok {
		ev.RequiresVerification = v
	}
	return ev
}

// generated is the default scenario, generated once per test binary.
var generated = sync.OnceValues(func() (*sandbox.State, *scenarios.AnswerKey) {
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	return sc.Generate(sc.DefaultSeed, time.Now())
})

// resolveFromDirectory answers UnresolvedNames from the tenant's users, as
// `atoctl ip triage` does with a user search.
func resolveFromDirectory(t *Triage, st *sandbox.State) {
	byEmail := map[string]string{}
	for _, u := range st.Users {
		byEmail[strings.ToLower(u.Email)] = u.UserID
	}
	ids := map[string]string{}
	for _, n := range t.UnresolvedNames() {
		if id, ok := byEmail[n]; ok {
			ids[n] = id
		}
	}
	t.ResolveNames(ids)
}

func verdicts(r TriageResult) map[Verdict][]string {
	out := map[Verdict][]string{VerdictCompromised: {}, VerdictStoppedByMFA: {}, VerdictTargeted: {}}
	for _, a := range r.Accounts {
		out[a.Verdict] = append(out[a.Verdict], a.UserID)
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// checkAgainstKey is the scenario's truth, shared by the engine, file and
// CLI tests.
func checkAgainstKey(t *testing.T, r TriageResult, key *scenarios.AnswerKey) {
	t.Helper()
	got := verdicts(r)
	for v, want := range map[Verdict][]string{VerdictCompromised: key.Compromised, VerdictStoppedByMFA: key.StoppedByMFA, VerdictTargeted: key.Targeted} {
		if !slices.Equal(got[v], want) {
			t.Errorf("%s: got %d accounts, want %d\nmissing %v\nextra %v", v, len(got[v]), len(want), minus(want, got[v]), minus(got[v], want))
		}
	}
	// Attacker addresses first, every one of them.
	seenOther := ""
	for _, ip := range r.IPs {
		if key.IsAttackerIP(ip.IP) {
			if seenOther != "" {
				t.Fatalf("attacker %s (rank %d, score %d) ranks after non-attacker %s", ip.IP, ip.Rank, ip.Score, seenOther)
			}
			if !ip.Flagged || ip.Label != LabelAttacker || len(ip.Reasons) == 0 {
				t.Errorf("attacker %s: flagged %v label %q reasons %v", ip.IP, ip.Flagged, ip.Label, ip.Reasons)
			}
		} else {
			if ip.Flagged {
				t.Errorf("%s flagged but not an attacker: %v", ip.IP, ip.Reasons)
			}
			if seenOther == "" {
				seenOther = ip.IP
			}
		}
	}
	compromised := map[string]bool{}
	for _, id := range got[VerdictCompromised] {
		compromised[id] = true
	}
	for _, shared := range key.SharedIPs {
		i := slices.IndexFunc(r.IPs, func(ip IPReport) bool { return ip.IP == shared })
		if i < 0 {
			t.Fatalf("shared %s missing", shared)
		}
		ip := r.IPs[i]
		if ip.Label != LabelShared || ip.Flagged || ip.Score != 0 {
			t.Errorf("shared %s: label %q flagged %v score %d", shared, ip.Label, ip.Flagged, ip.Score)
		}
		// Its many innocent users are not compromised; at most the
		// attacker's one victim through the carrier NAT is.
		for _, id := range ip.SucceededFor {
			if compromised[id] && !slices.Contains(key.Compromised, id) {
				t.Errorf("innocent %s of shared %s compromised", id, shared)
			}
		}
		if ip.AccountsActive < 10 {
			t.Errorf("shared %s: only %d accounts active", shared, ip.AccountsActive)
		}
	}
	for _, a := range r.Accounts {
		if len(a.Evidence) == 0 || len(a.Reasons) == 0 || len(a.IPs) == 0 {
			t.Errorf("%s %s: no evidence, reasons or addresses: %+v", a.Verdict, a.UserID, a)
		}
	}
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func TestTriageFindsTheScenariosAttackers(t *testing.T) {
	st, key := generated()
	tr := NewTriage(TriageConfig{})
	for _, e := range st.Logs {
		tr.Add(scenarioEvent(e))
	}
	resolveFromDirectory(tr, st)
	r := tr.Result()
	checkAgainstKey(t, r, key)
	if r.Events != int64(len(st.Logs)) {
		t.Errorf("events %d, want %d", r.Events, len(st.Logs))
	}
	if len(r.Clusters) == 0 || r.Clusters[0].CIDR != key.AttackerCIDRs[0] {
		t.Errorf("first cluster %+v, want %s", r.Clusters, key.AttackerCIDRs[0])
	}
	// The victim behind the carrier NAT is compromised by account-level
	// evidence, and the NAT says so without being flagged.
	cgnat := key.SharedIPs[0]
	var victim *AccountVerdict
	for i, a := range r.Accounts {
		if a.Verdict == VerdictCompromised && slices.Contains(a.IPs, cgnat) {
			victim = &r.Accounts[i]
		}
	}
	if victim == nil || !strings.Contains(victim.Reasons[0], cgnat) {
		t.Fatalf("no compromise through the carrier NAT %s: %+v", cgnat, victim)
	}
}

func TestTriageWithoutDirectoryLeavesNameOnlyAccountsUnresolved(t *testing.T) {
	st, key := generated()
	tr := NewTriage(TriageConfig{})
	for _, e := range st.Logs {
		tr.Add(scenarioEvent(e))
	}
	got := verdicts(tr.Result())
	// Logs alone cannot tie a captcha failure or a pwd_leak to an account
	// that never signed in: those targeted accounts stay among the names.
	if !slices.Equal(got[VerdictCompromised], key.Compromised) || !slices.Equal(got[VerdictStoppedByMFA], key.StoppedByMFA) {
		t.Errorf("compromised/MFA differ without the directory")
	}
	if extra := minus(got[VerdictTargeted], key.Targeted); len(extra) > 0 {
		t.Errorf("targeted not in the key: %v", extra)
	}
	if len(tr.UnresolvedNames()) == 0 {
		t.Error("no unresolved names")
	}
}

// ev builds a small event for rule tests.
func ev(typ, ip, user string, at int) TriageEvent {
	e := TriageEvent{LogID: fmt.Sprintf("%s-%s-%s-%d", typ, ip, user, at), Date: time.Date(2025, 3, 1, 0, at, 0, 0, time.UTC),
		Type: typ, IP: ip, UserName: user + "@example.com"}
	if !strings.HasPrefix(user, "ghost") {
		e.UserID = "auth0|" + user
	}
	return e
}

func stuff(tr *Triage, ip string, n, at int) {
	for i := range n {
		tr.Add(ev("fp", ip, fmt.Sprintf("victim%d", i), at+i))
	}
}

func TestTriageRules(t *testing.T) {
	tests := []struct {
		name   string
		cfg    TriageConfig
		events func(*Triage)
		ip     string
		label  IPLabel
		want   map[string]Verdict
	}{
		{
			name:   "stuffing then success compromises",
			events: func(tr *Triage) { stuff(tr, "203.0.113.5", 6, 0); tr.Add(ev("s", "203.0.113.5", "alice", 10)) },
			ip:     "203.0.113.5", label: LabelAttacker,
			want: map[string]Verdict{"auth0|alice": VerdictCompromised, "auth0|victim0": VerdictTargeted},
		},
		{
			name:   "below the stuffing threshold nothing is flagged",
			events: func(tr *Triage) { stuff(tr, "203.0.113.5", 4, 0); tr.Add(ev("s", "203.0.113.5", "alice", 10)) },
			ip:     "203.0.113.5", label: LabelSuspicious,
			want: map[string]Verdict{},
		},
		{
			name: "catalog rule: pla requiring verification and a signup",
			events: func(tr *Triage) {
				e := ev("pla", "198.51.100.7", "ghost1", 0)
				e.RequiresVerification = true
				tr.Add(e)
				tr.Add(ev("ss", "198.51.100.7", "bob", 1))
			},
			ip: "198.51.100.7", label: LabelAttacker,
			want: map[string]Verdict{"auth0|bob": VerdictCompromised},
		},
		{
			name: "pla without requiresVerification is no attack protection event",
			events: func(tr *Triage) {
				tr.Add(ev("pla", "198.51.100.7", "ghost1", 0))
				tr.Add(ev("s", "198.51.100.7", "bob", 1))
			},
			ip: "198.51.100.7", label: LabelNone,
			want: map[string]Verdict{},
		},
		{
			name: "MFA challenge after a correct password",
			events: func(tr *Triage) {
				stuff(tr, "203.0.113.5", 6, 0)
				tr.Add(ev("mfar", "203.0.113.5", "carol", 10))
				tr.Add(ev("gd_send_sms", "203.0.113.5", "carol", 11))
			},
			ip: "203.0.113.5", label: LabelAttacker,
			want: map[string]Verdict{"auth0|carol": VerdictStoppedByMFA},
		},
		{
			name: "allowlisted addresses are never flagged",
			cfg:  TriageConfig{Allowlist: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}},
			events: func(tr *Triage) {
				stuff(tr, "203.0.113.5", 20, 0)
				tr.Add(ev("s", "203.0.113.5", "alice", 30))
			},
			ip: "203.0.113.5", label: LabelAllowlisted,
			want: map[string]Verdict{},
		},
		{
			name: "the operator's address is never flagged and never compromises",
			cfg:  TriageConfig{OperatorIPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}},
			events: func(tr *Triage) {
				stuff(tr, "192.0.2.10", 20, 0)
				tr.Add(ev("s", "192.0.2.10", "victim1", 30))
			},
			ip: "192.0.2.10", label: LabelOperator,
			want: map[string]Verdict{},
		},
		{
			name: "many successes without failures is shared infrastructure",
			events: func(tr *Triage) {
				for i := range 12 {
					tr.Add(ev("seacft", "54.210.1.1", fmt.Sprintf("u%d", i), i))
				}
			},
			ip: "54.210.1.1", label: LabelShared,
			want: map[string]Verdict{},
		},
		{
			name: "a tried account signing in from a new shared address is compromised; its regulars are not",
			events: func(tr *Triage) {
				tr.Add(ev("s", "73.1.1.1", "dave", 0)) // dave's own address
				for i := range 12 {
					tr.Add(ev("s", "100.64.1.1", fmt.Sprintf("regular%d", i), i))
				}
				stuff(tr, "203.0.113.5", 6, 20)
				tr.Add(ev("fp", "203.0.113.5", "dave", 30))
				tr.Add(ev("s", "100.64.1.1", "dave", 40))
			},
			ip: "100.64.1.1", label: LabelShared,
			want: map[string]Verdict{"auth0|dave": VerdictCompromised, "auth0|victim0": VerdictTargeted},
		},
		{
			name: "a tried account signing in from a new unshared address is only targeted",
			events: func(tr *Triage) {
				tr.Add(ev("s", "73.1.1.1", "dave", 0))
				stuff(tr, "203.0.113.5", 6, 20)
				tr.Add(ev("fp", "203.0.113.5", "dave", 30))
				tr.Add(ev("s", "81.2.2.2", "dave", 40)) // a hotel
			},
			ip: "81.2.2.2", label: LabelNone,
			want: map[string]Verdict{"auth0|dave": VerdictTargeted},
		},
		{
			name: "a captcha failure by name counts for the account of that name",
			events: func(tr *Triage) {
				stuff(tr, "203.0.113.5", 6, 0)
				e := ev("f", "203.0.113.5", "erin", 10)
				e.UserID = ""
				tr.Add(e)
				tr.Add(ev("s", "73.1.1.2", "erin", 20)) // her own login, with her id
			},
			ip: "203.0.113.5", label: LabelAttacker,
			want: map[string]Verdict{"auth0|erin": VerdictTargeted},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTriage(tc.cfg)
			tc.events(tr)
			r := tr.Result()
			i := slices.IndexFunc(r.IPs, func(ip IPReport) bool { return ip.IP == tc.ip })
			if i < 0 || r.IPs[i].Label != tc.label {
				t.Errorf("label of %s: %+v, want %q", tc.ip, r.IPs[i], tc.label)
			}
			for id, want := range tc.want {
				j := slices.IndexFunc(r.Accounts, func(a AccountVerdict) bool { return a.UserID == id })
				if j < 0 || r.Accounts[j].Verdict != want {
					t.Errorf("%s: got %+v, want %s", id, r.Accounts, want)
				}
			}
			for _, a := range r.Accounts {
				if _, ok := tc.want[a.UserID]; !ok && a.Verdict != VerdictTargeted {
					t.Errorf("unexpected %s %s: %v", a.Verdict, a.UserID, a.Reasons)
				}
			}
		})
	}
}

func TestTriageMergeEqualsOnePass(t *testing.T) {
	st, _ := generated()
	one := NewTriage(TriageConfig{})
	parts := []*Triage{NewTriage(TriageConfig{}), NewTriage(TriageConfig{}), NewTriage(TriageConfig{})}
	for i, e := range st.Logs {
		one.Add(scenarioEvent(e))
		parts[(i*7)%3].Add(scenarioEvent(st.Logs[len(st.Logs)-1-i])) // reversed and interleaved
	}
	parts[0].Merge(parts[1])
	parts[0].Merge(parts[2])
	a, _ := json.Marshal(one.Result())
	b, _ := json.Marshal(parts[0].Result())
	if !bytes.Equal(a, b) {
		t.Fatal("merged result differs from one pass")
	}
}

func TestTriageCleansAttackerText(t *testing.T) {
	tr := NewTriage(TriageConfig{})
	stuff(tr, "203.0.113.5", 6, 0)
	e := ev("s", "203.0.113.5", "mallory", 10)
	e.UserName = "\x1b]52;c;ZWNobyBwd25lZA==\x07admin\u202e"
	e.LogID = "id\x1b[2J"
	tr.Add(e)
	b, _ := json.Marshal(tr.Result())
	if bytes.Contains(b, []byte(`\u001b`)) || bytes.Contains(b, []byte("\u202e")) {
		t.Fatalf("raw attacker text in result: %s", b)
	}
}

func TestTriageSinceDropsOlderEvents(t *testing.T) {
	tr := NewTriage(TriageConfig{Since: time.Date(2025, 3, 1, 0, 5, 0, 0, time.UTC)})
	stuff(tr, "203.0.113.5", 10, 0)
	r := tr.Result()
	if r.SkippedBeforeSince != 5 || r.IPs[0].Failures != 5 {
		t.Fatalf("skipped %d, failures %d", r.SkippedBeforeSince, r.IPs[0].Failures)
	}
}

func TestTriageLogStreamOfTheScenario(t *testing.T) {
	st, key := generated()
	var b bytes.Buffer
	for i, e := range st.Logs {
		line, _ := json.Marshal(e)
		if i%2 == 0 { // both log-stream forms
			line, _ = json.Marshal(map[string]any{"log_id": e.LogID, "data": e})
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	tr, stats, err := TriageLogStream(context.Background(), &b, TriageConfig{}, LogStreamOptions{Workers: 2, ChunkBytes: 256 << 10})
	if err != nil || stats.Events != int64(len(st.Logs)) || stats.Malformed != 0 {
		t.Fatalf("err %v stats %+v", err, stats)
	}
	resolveFromDirectory(tr, st)
	checkAgainstKey(t, tr.Result(), key)
}
