package responders

import (
	"context"
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

// containAll runs the playbook on users against a fresh sandbox at Auth0's
// Enterprise limits with 200 ms latency, and returns the wall time and the
// sandbox's request counts.
func containAll(b *testing.B, workers int, n int) (time.Duration, sandbox.Stats, []UserResult, *sandbox.Server, []string) {
	b.Helper()
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, _ := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	users := bulkTargets(st, n)
	srv := sandbox.New(st, sandbox.WithRateLimit(16, 50), sandbox.WithFaults(sandbox.Faults{Latency: 200 * time.Millisecond}))
	if _, err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	u, _ := auth0client.ParseDomain(srv.URL())
	var reset string
	srv.View(func(st *sandbox.State) {
		for _, c := range st.Connections {
			if c.Strategy == "auth0" {
				reset = c.EnabledClients[0]
			}
		}
	})
	c, err := auth0client.New(auth0client.Config{BaseURL: u, ClientID: sandbox.ClientID, ClientSecret: auth0client.NewSecret(sandbox.ClientSecret), MaxRate: 16, ResetClientID: reset})
	if err != nil {
		b.Fatal(err)
	}
	var steps []Step
	for _, name := range DefaultSteps {
		s, _ := StepByName(name)
		steps = append(steps, s)
	}
	r := &Runner{Client: c, Writer: c, Steps: steps, Workers: workers,
		Opts: Options{WindowStart: time.Now().Add(-72 * time.Hour), ResetMethod: "email", VerifyTimeout: 60 * time.Second}}
	srv.ResetStats()
	start := time.Now()
	results := r.Run(context.Background(), users)
	return time.Since(start), srv.Stats(), results, srv, users
}

// BenchmarkBulkContain contains 100 accounts with the full playbook against
// a sandbox at 16 requests/s (burst 50) with 200 ms latency and
// --max-rate 16, and the same work at concurrency 1 as the baseline.
// Targets: wall ≤ 1.15 × ideal (Management API requests ÷ 16), 429s ≤ 1%.
// Run: go test ./responders -run '^$' -bench BulkContain -benchtime 1x -timeout 30m
func BenchmarkBulkContain(b *testing.B) {
	const accounts = 100
	for range b.N {
		wall, st, results, srv, users := containAll(b, 16, accounts)
		for _, r := range results {
			if r.Failed() {
				b.Fatalf("%s not contained: %+v", r.UserID, r)
			}
		}
		// Verified contained, read from the sandbox.
		srv.View(func(s *sandbox.State) {
			left := map[string]bool{}
			for _, x := range s.Sessions {
				left[x.UserID] = true
			}
			for _, x := range s.RefreshTokens {
				left[x.UserID] = true
			}
			for _, u := range users {
				if left[u] {
					b.Fatalf("%s still holds sessions or tokens", u)
				}
			}
		})
		ideal := time.Duration(float64(st.ManagementRequests) / 16 * float64(time.Second))
		b.ReportMetric(wall.Seconds(), "wall_s")
		b.ReportMetric(ideal.Seconds(), "ideal_s")
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "wall/ideal")
		b.ReportMetric(float64(st.ManagementRequests), "mgmt_requests")
		b.ReportMetric(float64(st.RateLimited), "429s")
		b.ReportMetric(100*float64(st.RateLimited)/float64(st.ManagementRequests), "%_429")

		base, bst, _, _, _ := containAll(b, 1, accounts)
		b.ReportMetric(base.Seconds(), "baseline_c1_wall_s")
		b.ReportMetric(float64(bst.ManagementRequests), "baseline_c1_requests")
	}
}
