package auth0client

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// syntheticLogs builds a tenant with n failed-login events in the last day,
// shaped like Auth0's (ids ascending with dates).
func syntheticLogs(n int) *sandbox.State {
	now := time.Now().UTC()
	st := &sandbox.State{Epoch: now, Domain: "bench.sandbox.local"}
	st.Users = []*sandbox.User{{UserID: "auth0|bench", Email: "bench@example.com", CreatedAt: now, UpdatedAt: now,
		Identities: []sandbox.Identity{{Connection: "Username-Password-Authentication", UserID: "bench", Provider: "auth0"}}}}
	start := now.Add(-23 * time.Hour)
	step := 23 * time.Hour / time.Duration(n)
	for i := range n {
		d := start.Add(time.Duration(i) * step)
		st.Logs = append(st.Logs, &sandbox.LogEvent{
			LogID: sandbox.LogID(d, uint64(i+1)), Date: d, Type: "fp",
			Description: "Wrong email or password.", Connection: "Username-Password-Authentication",
			ClientID: "bench-client", ClientName: "Bench App", IP: fmt.Sprintf("193.42.33.%d", i%250+1),
			UserID: "auth0|bench", UserName: "bench@example.com",
			UserAgent:    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
			Details:      map[string]any{"error": map[string]any{"message": "Wrong email or password."}},
			LocationInfo: &sandbox.LocationInfo{CountryCode: "RO", CountryName: "Romania", CityName: "Bucharest"},
		})
	}
	return st
}

// BenchmarkPageLogsAtRateLimit pages 100,000 events with checkpoint paging
// from a sandbox limited to 16 requests/s (burst 50), with --max-rate 16.
// The bound is 16 × 100 events/s; the target is ≥ 90% of it with ≤ 1% 429s.
// Run: go test ./auth0client -run '^$' -bench PageLogs -benchtime 1x
func BenchmarkPageLogsAtRateLimit(b *testing.B) {
	const events = 100_000
	srv := startServer(b, syntheticLogs(events), sandbox.WithRateLimit(16, 50))
	for range b.N {
		c := clientFor(b, srv, 16)
		srv.ResetStats()
		start := time.Now()
		got, from := 0, ""
		for {
			batch, err := c.LogsAfter(context.Background(), from, MaxPerPage)
			if err != nil {
				b.Fatal(err)
			}
			if len(batch) == 0 {
				break
			}
			got += len(batch)
			from = batch[len(batch)-1].ID
		}
		elapsed := time.Since(start).Seconds()
		if got != events {
			b.Fatalf("paged %d events, the tenant has %d", got, events)
		}
		st := srv.Stats()
		rate := float64(got) / elapsed
		b.ReportMetric(rate, "events/s")
		b.ReportMetric(100*rate/(16*MaxPerPage), "%_of_bound")
		b.ReportMetric(float64(st.RateLimited), "429s")
		b.ReportMetric(100*float64(st.RateLimited)/float64(st.ManagementRequests), "%_429")
	}
}
