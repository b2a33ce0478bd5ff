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

// staleHeaders are what a 429 carries when the tenant's bucket says it is
// already full (x-ratelimit-reset not in the future): a limit reached
// elsewhere, or the sandbox's injected 429s.
func staleHeaders(limit int, now time.Time) http.Header {
	return headers(limit, 0, now.Truncate(time.Second))
}

// burst429 feeds n 429s, one per reset window (stale resets: one second
// apart), waiting for the budget between them as the transport does.
func burst429(t *testing.T, b *budget, clk *fakeClock, n int, check func()) {
	t.Helper()
	for range n {
		b.observe(staleHeaders(50, clk.t), http.StatusTooManyRequests)
		check()
		if err := b.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(1100 * time.Millisecond)
	}
}

// successesToReach counts the successful responses the budget needs to
// pace at `want` again (at most limit).
func successesToReach(t *testing.T, b *budget, clk *fakeClock, h func() http.Header, want float64, limit int) int {
	t.Helper()
	for i := range limit {
		if b.Rate() >= want {
			return i
		}
		if err := b.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.observe(h(), http.StatusOK)
	}
	t.Fatalf("rate %.2f after %d successes, want %.2f", b.Rate(), limit, want)
	return limit
}

func TestBudgetRecoversAfterABurstOf429s(t *testing.T) {
	// The adaptive case is the one that stalled: the refill-rate estimate
	// needs a half-drained bucket, which a budget pacing below the refill
	// rate never sees again.
	t.Run("adaptive", func(t *testing.T) {
		b, clk := newTestBudget(0)
		// 40 of 50 used, full again in 3 s: the tenant refills at 13.3/s,
		// and atoctl takes 80% of that.
		b.observe(headers(50, 10, clk.t.Add(3*time.Second)), http.StatusOK)
		ceiling := b.Rate()
		if want := 40.0 / 3 * 0.8; ceiling < want-0.01 || ceiling > want+0.01 {
			t.Fatalf("ceiling %.2f, want %.2f", ceiling, want)
		}
		floor := max(0.5, ceiling/10)
		burst429(t, b, clk, 20, func() {
			if r := b.Rate(); r < floor-1e-9 || r > ceiling+1e-9 {
				t.Fatalf("rate %.3f outside [%.3f, %.3f]", r, floor, ceiling)
			}
		})
		if r := b.Rate(); r > ceiling/2 {
			t.Fatalf("20 429s left the rate at %.2f of %.2f: no decrease", r, ceiling)
		}
		// The bucket is nearly full from now on: no new estimate comes.
		full := func() http.Header { return headers(50, 49, clk.t.Add(time.Second)) }
		if n := successesToReach(t, b, clk, full, 0.9*ceiling, 64); n > 40 {
			t.Fatalf("%d successes to recover", n)
		}
	})
	t.Run("max-rate", func(t *testing.T) {
		b, clk := newTestBudget(50)
		burst429(t, b, clk, 20, func() {
			if r := b.Rate(); r < 5-1e-9 || r > 50+1e-9 {
				t.Fatalf("rate %.3f outside [5, 50]", r)
			}
		})
		if r := b.Rate(); r > 25 {
			t.Fatalf("20 429s left the rate at %.2f of 50: no decrease", r)
		}
		ok := func() http.Header { return headers(50, 50, clk.t) }
		if n := successesToReach(t, b, clk, ok, 45, 64); n > 40 {
			t.Fatalf("%d successes to recover", n)
		}
	})
}

func TestBudgetStaysBetweenFloorAndCeiling(t *testing.T) {
	tests := []struct {
		name           string
		maxRate        float64
		floor, ceiling float64
	}{
		{"max-rate 50: floor is 10%", 50, 5, 50},
		{"max-rate 2: floor is 0.5/s", 2, 0.5, 2},
		{"max-rate 0.2: floor is the ceiling", 0.2, 0.2, 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clk := newTestBudget(tt.maxRate)
			// A deterministic mix: bursts of 429s (stale and announced
			// resets), runs of successes.
			for i := range 400 {
				switch {
				case i%7 == 0 || i%50 < 10:
					b.observe(staleHeaders(50, clk.t), http.StatusTooManyRequests)
				case i%13 == 0:
					b.observe(headers(50, 0, clk.t.Add(2*time.Second)), http.StatusTooManyRequests)
				default:
					b.observe(headers(50, 40, clk.t.Add(time.Second)), http.StatusOK)
				}
				if r := b.Rate(); r < tt.floor-1e-9 || r > tt.ceiling+1e-9 {
					t.Fatalf("step %d: rate %.3f outside [%.3f, %.3f]", i, r, tt.floor, tt.ceiling)
				}
				if err := b.wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				clk.t = clk.t.Add(150 * time.Millisecond)
			}
		})
	}
}

// Concurrent requests that all meet the same exhausted bucket are one
// signal, not many: the budget slows down once per reset window.
func TestBudgetDecreasesOncePerResetWindow(t *testing.T) {
	b, clk := newTestBudget(40)
	reset := clk.t.Add(2 * time.Second).Truncate(time.Second)
	for range 8 {
		b.observe(headers(50, 0, reset), http.StatusTooManyRequests)
	}
	once := b.Rate()
	if once >= 40 || once < 40*0.4 {
		t.Fatalf("8 429s of one window: rate %.2f, want one decrease from 40", once)
	}
	clk.t = reset.Add(10 * time.Millisecond)
	b.observe(headers(50, 0, clk.t.Add(2*time.Second)), http.StatusTooManyRequests)
	if b.Rate() >= once {
		t.Fatalf("a 429 of the next window did not decrease the rate (%.2f)", b.Rate())
	}
}

// A 429 whose reset is not in the future (the bucket already refilled) holds
// requests for a pacing interval, not for a second each: a 10% share of
// such 429s must not make a run ten times slower.
func TestBudgetStale429PausesBriefly(t *testing.T) {
	b, clk := newTestBudget(50)
	_ = b.wait(context.Background())
	start := clk.t
	b.observe(staleHeaders(50, clk.t), http.StatusTooManyRequests)
	if err := b.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := clk.t.Sub(start); d > 3*time.Second/time.Duration(int(b.Rate())) {
		t.Fatalf("a stale 429 held the next request %v at %.1f/s", d, b.Rate())
	}
}

// An adaptive budget that has measured nothing (the tenant's bucket never
// drained) and meets a 429 whose headers say nothing either (stale reset;
// x-ratelimit-limit is a bucket size, not a rate) slows down from the rate
// it was sending, briefly, and is unpaced again once it has recovered.
func TestBudgetUnmeasured429SlowsFromTheSentRateAndReleases(t *testing.T) {
	b, clk := newTestBudget(0)
	// The sandbox with its limiter off: limit 1, remaining 1, reset now.
	idle := func() http.Header { return headers(1, 1, clk.t.Truncate(time.Second)) }
	for range 50 { // about 100 requests/s
		if err := b.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.observe(idle(), http.StatusOK)
		clk.t = clk.t.Add(10 * time.Millisecond)
	}
	if b.Rate() != 0 {
		t.Fatalf("paced at %.2f before any 429", b.Rate())
	}
	_ = b.wait(context.Background())
	before := clk.t
	b.observe(headers(1, 0, clk.t.Truncate(time.Second)), http.StatusTooManyRequests)
	if r := b.Rate(); r < 30 || r > 70 {
		t.Fatalf("after a 429 at ~100/s the rate is %.2f, want about half", r)
	}
	if err := b.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := clk.t.Sub(before); d > 100*time.Millisecond {
		t.Fatalf("a stale 429 held the next request %v", d)
	}
	n := 0
	for ; b.Rate() != 0 && n < 100; n++ {
		if err := b.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.observe(idle(), http.StatusOK)
	}
	if b.Rate() != 0 {
		t.Fatalf("still paced at %.2f after %d successes", b.Rate(), n)
	}
}

// Below the share of the bucket atoctl leaves to others (20% of
// x-ratelimit-limit), pacing slows in proportion to what is left, never
// below the floor, and is back at the full rate once the bucket climbs above
// the reserve again.
func TestBudgetFollowsRemainingBelowTheReserve(t *testing.T) {
	tests := []struct {
		name      string
		remaining int // of 50: the reserve is 10
		want      float64
	}{
		{"above the reserve: full rate", 30, 40},
		{"at the reserve: full rate", 10, 40},
		{"half the reserve: half the rate", 5, 20},
		{"a tenth of the reserve: a tenth", 1, 4},
		{"empty: the floor", 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, clk := newTestBudget(40) // floor 4
			b.observe(headers(50, tt.remaining, clk.t.Add(time.Second)), http.StatusOK)
			if r := b.Rate(); r < tt.want-1e-9 || r > tt.want+1e-9 {
				t.Fatalf("rate %.3f with %d of 50 left, want %.3f", r, tt.remaining, tt.want)
			}
			// The pace is what wait spaces requests at.
			_ = b.wait(context.Background())
			start := clk.t
			for range 10 {
				_ = b.wait(context.Background())
			}
			if got, want := clk.t.Sub(start).Seconds(), 10/tt.want; got < want*0.99 || got > want*1.01 {
				t.Fatalf("10 requests took %.3fs, want %.3fs", got, want)
			}
		})
	}
	t.Run("recovers as the bucket refills", func(t *testing.T) {
		b, clk := newTestBudget(40)
		b.observe(headers(50, 2, clk.t.Add(time.Second)), http.StatusOK)
		if r := b.Rate(); r >= 40 {
			t.Fatalf("rate %.2f with 2 of 50 left: no slowdown", r)
		}
		b.observe(headers(50, 25, clk.t.Add(time.Second)), http.StatusOK)
		if r := b.Rate(); r != 40 {
			t.Fatalf("rate %.2f with 25 of 50 left, want 40", r)
		}
	})
	t.Run("a 429's remaining is left to the AIMD decrease", func(t *testing.T) {
		b, clk := newTestBudget(40)
		b.observe(staleHeaders(50, clk.t), http.StatusTooManyRequests)
		if r := b.Rate(); r != 20 {
			t.Fatalf("rate %.2f after one 429, want one halving to 20", r)
		}
	})
	t.Run("adaptive: measured ceiling, scaled", func(t *testing.T) {
		b, clk := newTestBudget(0)
		// 45 of 50 used, full again in 3 s: 15/s refill, 12/s ceiling; 5
		// left is half the reserve.
		b.observe(headers(50, 5, clk.t.Add(3*time.Second)), http.StatusOK)
		if r := b.Rate(); r < 6-1e-9 || r > 6+1e-9 {
			t.Fatalf("rate %.3f, want 6 (half of 12)", r)
		}
	})
}
