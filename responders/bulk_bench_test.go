package responders

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// bulkTargets picks n database users of the scenario that hold sessions, to
// contain as if compromised (the scenario itself has fewer takeovers).
func bulkTargets(st *sandbox.State, n int) []string {
	has := map[string]bool{}
	for _, s := range st.Sessions {
		has[s.UserID] = true
	}
	var out []string
	for _, u := range st.Users {
		if len(out) == n {
			break
		}
		if has[u.UserID] && len(u.Identities) == 1 && u.Identities[0].Provider == "auth0" && u.Email != "" {
			out = append(out, u.UserID)
		}
	}
	return out
}

// bulkTenant is a sandbox of the default scenario, a client paced at rate
// requests/s, an open journal and n accounts to contain.
type bulkTenant struct {
	srv     *sandbox.Server
	c       *auth0client.Client
	j       *Journal
	users   []string
	journal string // the journal's directory
}

func newBulkTenant(tb testing.TB, n int, rate float64, opts ...sandbox.Option) *bulkTenant {
	tb.Helper()
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, _ := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	users := bulkTargets(st, n)
	if len(users) < n {
		tb.Fatalf("the scenario has %d database users with sessions, want %d", len(users), n)
	}
	srv := sandbox.New(st, opts...)
	if _, err := srv.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	u, _ := auth0client.ParseDomain(srv.URL())
	var reset string
	srv.View(func(st *sandbox.State) {
		for _, c := range st.Connections {
			if c.Strategy == "auth0" {
				reset = c.EnabledClients[0]
			}
		}
	})
	c, err := auth0client.New(auth0client.Config{BaseURL: u, ClientID: sandbox.ClientID, ClientSecret: auth0client.NewSecret(sandbox.ClientSecret), MaxRate: rate, ResetClientID: reset})
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	j, err := OpenJournal(dir, "inc-bulk", JournalMeta{Operator: "test@host", Tenant: c.Tenant(), Mode: ModeTraining})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = j.Close() })
	return &bulkTenant{srv: srv, c: c, j: j, users: users, journal: dir}
}

func (bt *bulkTenant) opts() Options {
	return Options{WindowStart: time.Now().Add(-72 * time.Hour), ResetMethod: "email", VerifyTimeout: 60 * time.Second}
}

// lockoutClock records when each account's block was confirmed.
type lockoutClock struct {
	mu   sync.Mutex
	last time.Time
	n    int
}

// drain consumes events until they close, noting confirmed blocks.
func (lc *lockoutClock) drain(events <-chan Event, done chan<- struct{}) {
	for ev := range events {
		if ev.Step == StepBlock && (ev.Outcome == Done || ev.Outcome == AlreadyDone) {
			lc.mu.Lock()
			lc.last, lc.n = time.Now(), lc.n+1
			lc.mu.Unlock()
		}
	}
	close(done)
}

// containRun is one measured containment: wall time, the time until every
// account was blocked, and the sandbox's request counts.
type containRun struct {
	wall, lockout time.Duration
	blocked       int
	stats         sandbox.Stats
	results       []UserResult
}

// containInOldOrder is how bulk runs worked before the bulk engine: the
// playbook per account (snapshot, block, revoke, reset, unblock check) on 8
// workers, each account blocked only when its worker reaches it.
func containInOldOrder(tb testing.TB, bt *bulkTenant) containRun {
	var steps []Step
	for _, name := range DefaultSteps {
		s, _ := StepByName(name)
		steps = append(steps, s)
	}
	events := make(chan Event, 256)
	r := &Runner{Client: bt.c, Writer: bt.c, Journal: bt.j, Steps: steps, Workers: DefaultBulkWorkers, Opts: bt.opts(), Events: events}
	var lc lockoutClock
	done := make(chan struct{})
	go lc.drain(events, done)
	bt.srv.ResetStats()
	start := time.Now()
	results, err := r.Run(context.Background(), bt.users)
	close(events)
	<-done
	if err != nil {
		tb.Fatal(err)
	}
	return containRun{wall: time.Since(start), lockout: lc.last.Sub(start), blocked: lc.n, stats: bt.srv.Stats(), results: results}
}

// containInBulk runs the bulk engine on the accounts (with acl, one
// network blocked first).
func containInBulk(tb testing.TB, bt *bulkTenant, acl []string) containRun {
	plan := BulkPlan{Targets: acl, Since: bt.opts().WindowStart, Compromised: bt.users, Block: acl, ACL: len(acl) > 0}
	b := &Bulk{Client: bt.c, Writer: bt.c, Journal: bt.j, Plan: plan, Opts: bt.opts(), Workers: DefaultBulkWorkers}
	if len(acl) > 0 {
		p, err := PlanBulkACL(context.Background(), bt.c, "inc-bulk", plan)
		if err != nil {
			tb.Fatal(err)
		}
		b.ACL = p
	}
	events := make(chan Event, 256)
	var lc lockoutClock
	done := make(chan struct{})
	go lc.drain(events, done)
	bt.srv.ResetStats()
	start := time.Now()
	res, err := b.Run(context.Background(), events)
	close(events)
	<-done
	if err != nil {
		tb.Fatal(err)
	}
	return containRun{wall: time.Since(start), lockout: lc.last.Sub(start), blocked: lc.n, stats: bt.srv.Stats(), results: res.Results}
}

// assertContained reads the sandbox: every account blocked, no session or
// refresh token left, one reset requested.
func assertContained(tb testing.TB, bt *bulkTenant, run containRun) {
	tb.Helper()
	for _, r := range run.results {
		if r.Failed() {
			tb.Fatalf("%s not contained: %+v", r.UserID, r)
		}
	}
	bt.srv.View(func(s *sandbox.State) {
		left := map[string]bool{}
		for _, x := range s.Sessions {
			left[x.UserID] = true
		}
		for _, x := range s.RefreshTokens {
			left[x.UserID] = true
		}
		blocked := map[string]bool{}
		for _, u := range s.Users {
			blocked[u.UserID] = u.Blocked
		}
		for _, u := range bt.users {
			if left[u] || !blocked[u] {
				tb.Fatalf("%s: blocked=%v, still holds sessions or tokens=%v", u, blocked[u], left[u])
			}
		}
	})
	for _, u := range bt.users {
		if n := bt.srv.ResetRequests(u); n != 1 {
			tb.Fatalf("%s: %d reset emails, want 1", u, n)
		}
	}
}

// BenchmarkBulkContain contains 100 accounts against a sandbox at 16
// requests/s (burst 50) with 200 ms latency and --max-rate 16: the bulk
// engine (ACL first, every account blocked, then evidence and revoke, then
// resets verified together, the unblock Action read once) beside the old
// order (the playbook per account on 8 workers) on a fresh tenant in the
// same run, and the bulk engine again with 10% of requests answered 429.
// Targets: ≤ 10 Management API requests per account, every account blocked
// within 1.1 × (accounts ÷ 16 req/s) + 2 s of the start, and the 429 run
// at most 4× the clean one.
// Run: go test ./responders -run '^$' -bench BulkContain -benchtime 1x -timeout 30m
func BenchmarkBulkContain(b *testing.B) {
	const accounts, rate = 100, 16.0
	latency := sandbox.WithFaults(sandbox.Faults{Latency: 200 * time.Millisecond})
	limit := sandbox.WithRateLimit(rate, 50)
	target := time.Duration((1.1*accounts/rate + 2) * float64(time.Second))
	for range b.N {
		bt := newBulkTenant(b, accounts, rate, limit, latency)
		run := containInBulk(b, bt, []string{netip.MustParsePrefix("198.51.100.0/24").String()})
		assertContained(b, bt, run)
		if run.blocked != accounts {
			b.Fatalf("%d blocks confirmed, want %d", run.blocked, accounts)
		}
		b.ReportMetric(run.wall.Seconds(), "wall_s")
		b.ReportMetric(run.lockout.Seconds(), "lockout_s")
		b.ReportMetric(target.Seconds(), "lockout_target_s")
		b.ReportMetric(float64(run.stats.ManagementRequests)/accounts, "mgmt_req/account")
		b.ReportMetric(float64(run.stats.RateLimited), "429s")

		// The same run with 10% of the requests answered 429: pacing backs
		// off and climbs back, so the run costs a bounded multiple.
		faulty := newBulkTenant(b, accounts, rate, limit,
			sandbox.WithFaults(sandbox.Faults{Latency: 200 * time.Millisecond, Share429: 0.10, Seed: 7}))
		under429 := containInBulk(b, faulty, []string{netip.MustParsePrefix("198.51.100.0/24").String()})
		assertContained(b, faulty, under429)
		b.ReportMetric(under429.wall.Seconds(), "429s10pct_wall_s")
		b.ReportMetric(under429.wall.Seconds()/run.wall.Seconds(), "429s10pct_wall/clean")
		b.ReportMetric(float64(under429.stats.Faulted), "429s10pct_injected_429s")

		old := newBulkTenant(b, accounts, rate, limit, latency)
		base := containInOldOrder(b, old)
		assertContained(b, old, base)
		b.ReportMetric(base.wall.Seconds(), "old_order_wall_s")
		b.ReportMetric(base.lockout.Seconds(), "old_order_lockout_s")
		b.ReportMetric(float64(base.stats.ManagementRequests)/accounts, "old_order_mgmt_req/account")
	}
}
