package auth0client

import (
	"context"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// readUsers reads n users one after the other, as a bulk run's worker does,
// and returns how long that took.
func readUsers(ctx context.Context, t *testing.T, c *Client, srv *sandbox.Server, from, n int) time.Duration {
	t.Helper()
	start := time.Now()
	for i := range n {
		id := userAt(srv, from+i)
		u, err := c.User(ctx, id)
		if err != nil {
			t.Fatalf("read %d of %d after %v: %v", i+1, n, time.Since(start).Round(time.Millisecond), err)
		}
		if u.ID != id {
			t.Fatalf("read %s, got %s", id, u.ID)
		}
	}
	return time.Since(start)
}

// A share of 429s that say nothing about the bucket (the sandbox's
// limiter is off; the 429s are injected) must cost a bounded slowdown, and
// once they stop the client must be back near its budget: the old pacing
// cut the rate by 30% on every 429, never raised it again, and held every
// request for a full second after each one.
//
// Both runs are measured in this test and compared with each other, with a
// generous bound, so a slow machine slows both alike.
func TestPacingRecoversFromInjected429s(t *testing.T) {
	const (
		budget = 50.0 // --max-rate
		reads  = 120  // 2.4 s clean at 50/s
		after  = 50   // reads after the faults stop
	)
	srv, _ := startScenario(t, sandbox.WithRateLimit(0, 50))

	clean := clientFor(t, srv, budget)
	cleanTime := readUsers(ctxT(t), t, clean, srv, 0, reads)

	srv.SetFaults(sandbox.Faults{Share429: 0.1, Seed: 11})
	srv.ResetStats()
	c := clientFor(t, srv, budget)
	// The bound is the deadline: a run that would take longer fails at it
	// instead of stalling the suite.
	limit := 4 * cleanTime
	ctx, cancel := context.WithTimeout(ctxT(t), limit)
	defer cancel()
	faultyTime := readUsers(ctx, t, c, srv, 0, reads)
	injected := srv.Stats().Faulted
	if injected < reads/20 {
		t.Fatalf("only %d 429s injected: the test did not exercise pacing", injected)
	}
	t.Logf("clean %v, with %d injected 429s %v (%.2fx)", cleanTime.Round(time.Millisecond), injected,
		faultyTime.Round(time.Millisecond), float64(faultyTime)/float64(cleanTime))

	// After the burst: the faults stop, and the effective rate must be back
	// above half of the clean run's (which is the budget, on a healthy
	// machine).
	srv.SetFaults(sandbox.Faults{})
	srv.ResetStats()
	cleanRate := float64(reads) / cleanTime.Seconds()
	ctx, cancel = context.WithTimeout(ctxT(t), time.Duration(float64(after)/(cleanRate/2)*float64(time.Second)))
	defer cancel()
	afterTime := readUsers(ctx, t, c, srv, reads, after)
	if got := srv.Stats().ManagementRequests; got != after {
		t.Fatalf("the tenant saw %d requests for %d reads", got, after)
	}
	rate := float64(after) / afterTime.Seconds()
	t.Logf("after the faults: %.1f requests/s (clean %.1f, budget %.0f)", rate, cleanRate, budget)
	if rate < cleanRate/2 {
		t.Fatalf("after the 429s the client ran at %.1f requests/s, under half the clean run's %.1f", rate, cleanRate)
	}
}
