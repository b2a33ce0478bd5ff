package auth0client

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// headroom is the share of the observed rate limit atoctl uses by default,
// leaving the rest to the customer's own applications during an incident.
const headroom = 0.8

// budget paces the requests of one API (Management or Authentication). Auth0
// limits each API separately with a token bucket shared by every caller of
// the tenant, so one budget is shared by all of atoctl's goroutines.
//
// Pacing is GCRA (a virtual schedule): each request reserves the next slot,
// so N workers together never exceed the rate, without a central ticker.
type budget struct {
	mu sync.Mutex
	// fixed is the rate set by --max-rate; 0 means adaptive.
	fixed float64
	// rate is the pacing rate in requests/s; 0 means not paced yet (the
	// adaptive budget has not seen the bucket drain enough to estimate it).
	rate float64
	// tat is the theoretical arrival time of the next request.
	tat time.Time
	// burst is how many requests may go back to back at the start.
	burst int
	// pausedUntil holds every request after a 429 until the bucket resets.
	pausedUntil time.Time

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newBudget(maxRate float64) *budget {
	b := &budget{fixed: maxRate, rate: maxRate, burst: 1, now: time.Now, sleep: sleepCtx}
	if maxRate == 0 {
		b.burst = 4
	}
	return b
}

// wait blocks until the next request may be sent, or ctx ends.
func (b *budget) wait(ctx context.Context) error {
	b.mu.Lock()
	now := b.now()
	start := now
	if b.pausedUntil.After(start) {
		start = b.pausedUntil
	}
	if b.rate > 0 {
		interval := time.Duration(float64(time.Second) / b.rate)
		if b.tat.Before(start) {
			// Idle time earns at most `burst` back-to-back requests.
			earliest := start.Add(-time.Duration(b.burst-1) * interval)
			if b.tat.Before(earliest) {
				b.tat = earliest
			}
		}
		if b.tat.After(start) {
			start = b.tat
		}
		b.tat = b.tat.Add(interval)
	}
	b.mu.Unlock()
	if d := start.Sub(now); d > 0 {
		return b.sleep(ctx, d)
	}
	return ctx.Err()
}

// observe feeds one response's rate-limit headers (x-ratelimit-limit,
// -remaining, -reset in unix seconds) into the budget.
func (b *budget) observe(h http.Header, status int) {
	limit, errL := strconv.Atoi(h.Get("x-ratelimit-limit"))
	remaining, errR := strconv.Atoi(h.Get("x-ratelimit-remaining"))
	resetUnix, errT := strconv.ParseInt(h.Get("x-ratelimit-reset"), 10, 64)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	var reset time.Time
	if errT == nil && resetUnix > 0 {
		reset = time.Unix(resetUnix, 0)
	}
	if status == http.StatusTooManyRequests {
		// Auth0 says when the bucket refills: wait for it, however long
		// (go-auth0's own retry caps this at 10 s and then fails the call).
		until := reset
		if !until.After(now) {
			until = now.Add(time.Second)
		}
		if until.After(b.pausedUntil) {
			b.pausedUntil = until
		}
		if b.fixed == 0 && b.rate > 0 {
			b.rate *= 0.7
		}
		return
	}
	if b.fixed > 0 || errL != nil || errR != nil || reset.IsZero() || limit <= 0 {
		return
	}
	// Estimate the sustained refill rate once the bucket is at least half
	// drained: then the time to refill is long enough (seconds) for the
	// header's one-second resolution not to matter much.
	used := limit - remaining
	until := reset.Sub(now).Seconds()
	if used*2 >= limit && until >= 1 {
		est := float64(used) / until * headroom
		if b.rate == 0 {
			b.rate = est
		} else {
			b.rate = 0.7*b.rate + 0.3*est
		}
	}
}

// Rate is the current pacing rate (requests/s; 0 = not paced yet).
func (b *budget) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rate
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
