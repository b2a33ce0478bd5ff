package auth0client

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// fakeClock lets budget tests run instantly: sleeping advances time.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return nil
}

func newTestBudget(rate float64) (*budget, *fakeClock) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	b := newBudget(rate)
	b.now, b.sleep = clk.now, clk.sleep
	return b, clk
}

func TestBudgetPacesAtFixedRate(t *testing.T) {
	b, clk := newTestBudget(16)
	start := clk.t
	for range 161 {
		if err := b.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.t.Sub(start); got < 9900*time.Millisecond || got > 10100*time.Millisecond {
		t.Fatalf("161 requests at 16/s took %v, want 10s", got)
	}
}

func headers(limit, remaining int, reset time.Time) http.Header {
	h := http.Header{}
	h.Set("x-ratelimit-limit", strconv.Itoa(limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-ratelimit-reset", strconv.FormatInt(reset.Unix(), 10))
	return h
}

func TestBudgetWaitsUntilResetAfter429(t *testing.T) {
	b, clk := newTestBudget(16)
	reset := clk.t.Add(7 * time.Second).Truncate(time.Second)
	b.observe(headers(50, 0, reset), http.StatusTooManyRequests)
	if err := b.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if clk.t.Before(reset) {
		t.Fatalf("resumed at %v, before the reset %v", clk.t, reset)
	}
}

func TestBudgetAdaptiveUsesEightyPercentOfObservedRate(t *testing.T) {
	b, clk := newTestBudget(0)
	if b.Rate() != 0 {
		t.Fatal("adaptive budget should start unpaced")
	}
	// 40 of 50 used, full again in 2.5 s → 16/s; 80% of that is 12.8/s.
	b.observe(headers(50, 10, clk.t.Add(2500*time.Millisecond).Add(500*time.Millisecond)), http.StatusOK)
	if r := b.Rate(); r < 9 || r > 13.5 {
		t.Fatalf("rate = %.2f, want about 12.8 (80%% of 16/s, header rounding aside)", r)
	}
}

func TestBudgetWaitHonoursContext(t *testing.T) {
	b := newBudget(0.001)
	_ = b.wait(context.Background()) // first is free
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.wait(ctx); err == nil {
		t.Fatal("wait ignored a cancelled context")
	}
}
