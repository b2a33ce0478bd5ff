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

// reserve is the share of the tenant's bucket (x-ratelimit-limit) atoctl
// leaves to other clients of the tenant: another atoctl, the customer's
// own applications. Below it, pacing slows in proportion to what is left
// (see budget.share), so several callers that each pace at headroom × the
// refill rate settle near the refill rate together instead of draining the
// bucket into 429s.
const reserve = 1 - headroom

// AIMD pacing constants.
const (
	// decrease is the multiplicative decrease on a 429, applied at most once
	// per reset window: the 429s of requests already in flight when the
	// bucket ran dry are one signal, not many.
	decrease = 0.5
	// increaseSteps is how many successful responses take the rate from
	// zero to the ceiling (each adds ceiling/increaseSteps): back to 90% of
	// the ceiling from the floor in 32 successes, from a halving in 20.
	increaseSteps = 40
	// floorShare and floorMin set the floor: max(floorMin, floorShare ×
	// ceiling), never above the ceiling.
	//
	// Why a floor at all, and this one: what protects the tenant after a 429
	// is the pause until x-ratelimit-reset, which holds every request
	// whatever the rate; the rate only spaces requests between resets. So
	// the rate needs no lower bound for safety, while without one a run of
	// 429s caused by someone else (the customer's own applications, a
	// global limit) compounds the decrease until a bulk run crawls (one
	// stalled at 0.03 requests/s). 10% of the ceiling bounds that slowdown
	// to 10× between resets; the absolute 0.5/s keeps a free-plan tenant
	// (2/s, a ceiling of 1.6/s) at one request every two seconds or better,
	// not one every six.
	floorShare = 0.1
	floorMin   = 0.5
	// staleWindow is the decrease window of a 429 whose reset is not in the
	// future: the header's resolution.
	staleWindow = time.Second
)

// budget paces the requests of one API (Management or Authentication). Auth0
// limits each API separately with a token bucket shared by every caller of
// the tenant, so one budget is shared by all of atoctl's goroutines.
//
// Pacing is GCRA (a virtual schedule): each request reserves the next slot,
// so N workers together never exceed the rate, without a central ticker.
// The rate is AIMD: halved on a 429 (once per reset window), raised by a
// fixed step on every successful response, between a floor and the ceiling.
type budget struct {
	mu sync.Mutex
	// fixed is the rate set by --max-rate; 0 means adaptive.
	fixed float64
	// ceiling is the most the budget paces at: fixed, or headroom × the
	// tenant's refill rate as measured from the rate-limit headers, or
	// (provisional) the rate that was refused. 0 means not known yet.
	ceiling float64
	// measured says the adaptive ceiling comes from a measurement.
	measured bool
	// provisional says the ceiling is the send rate a 429 refused, for want
	// of a measurement: once the rate is back up to it, pacing is released.
	provisional bool
	// rate is the pacing rate in requests/s; 0 means not paced yet (the
	// adaptive budget has neither seen the bucket drain enough to estimate
	// its refill rate nor been refused).
	rate float64
	// share scales rate by how much of the reserve the tenant's bucket still
	// holds: 1 while x-ratelimit-remaining ≥ reserve × limit, then
	// remaining / (reserve × limit), never taking the pace below the floor.
	// AIMD moves rate; share follows the bucket, response by response.
	share float64
	// tat is the theoretical arrival time of the next request.
	tat time.Time
	// burst is how many requests may go back to back at the start.
	burst int
	// pausedUntil holds every request after a 429 until the bucket resets.
	pausedUntil time.Time
	// calmUntil ends the current decrease window: a 429 before it does not
	// decrease the rate again.
	calmUntil time.Time
	// lastGrant and gap (a moving average of the time between grants)
	// measure the rate actually sent, which an unpaced budget refused with
	// nothing better to go on slows down from.
	lastGrant time.Time
	gap       time.Duration

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newBudget(maxRate float64) *budget {
	b := &budget{fixed: maxRate, ceiling: maxRate, rate: maxRate, share: 1, burst: 1, now: time.Now, sleep: sleepCtx}
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
	if rate := b.pace(); rate > 0 {
		interval := time.Duration(float64(time.Second) / rate)
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
	if !b.lastGrant.IsZero() {
		// Idle time is not a rate: cap one gap's weight.
		g := min(start.Sub(b.lastGrant), 2*time.Second)
		if b.gap == 0 {
			b.gap = g
		} else {
			b.gap = (4*b.gap + g) / 5
		}
	}
	b.lastGrant = start
	b.mu.Unlock()
	if d := start.Sub(now); d > 0 {
		return b.sleep(ctx, d)
	}
	return ctx.Err()
}

// observe feeds one response's status and rate-limit headers
// (x-ratelimit-limit, -remaining, -reset in unix seconds) into the budget.
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
	// A 429's headers measure the refill rate only until something better
	// is known: a 429 caused by another limit (or injected) can claim an
	// empty bucket whose reset says otherwise, and overestimate it.
	limited := status == http.StatusTooManyRequests
	if errL == nil && errR == nil && limit > 0 && !reset.IsZero() && (!limited || !b.measured) {
		b.measure(limit, remaining, reset.Sub(now))
	}
	switch {
	case limited:
		b.refused(now, reset)
	case status < 500:
		// Any answer but a 429 or a server error says the tenant took the
		// request: walk back toward the ceiling.
		if errL == nil && errR == nil && limit > 0 {
			b.follow(limit, remaining)
		}
		if b.rate > 0 {
			b.rate = min(b.ceiling, b.rate+b.ceiling/increaseSteps)
		}
		if b.provisional && b.rate >= b.ceiling {
			b.rate, b.ceiling, b.provisional = 0, 0, false
		}
	}
}

// measure estimates the tenant's refill rate (adaptive budgets only) from
// one response's headers. It needs the bucket at least half drained: then
// the time to refill is long enough (seconds) for the header's one-second
// resolution not to matter much.
func (b *budget) measure(limit, remaining int, untilFull time.Duration) {
	if b.fixed > 0 {
		return
	}
	used := limit - remaining
	until := untilFull.Seconds()
	if used*2 < limit || until < 1 {
		return
	}
	est := float64(used) / until * headroom
	b.provisional = false // a measurement beats the refused rate
	if b.measured {
		b.ceiling = 0.7*b.ceiling + 0.3*est
	} else {
		b.ceiling, b.measured = est, true
	}
	if b.rate == 0 || b.rate > b.ceiling {
		b.rate = b.ceiling
	}
	b.rate = max(b.rate, b.floor())
}

// follow sets share from one accepted response's bucket: full speed while
// the bucket holds at least the reserve, slower the further below it. A
// 429's headers are left to refused (its remaining is 0 whatever the bucket
// holds when the 429 was injected or comes from another limit).
func (b *budget) follow(limit, remaining int) {
	keep := reserve * float64(limit)
	b.share = min(1, max(0, float64(remaining))/keep)
}

// pace is the rate wait spaces requests at: rate scaled by share, never
// below the floor (nor above rate). 0 means not paced.
func (b *budget) pace() float64 {
	if b.rate <= 0 || b.share >= 1 {
		return b.rate
	}
	return min(b.rate, max(b.floor(), b.rate*b.share))
}

// refused handles a 429: hold every request until the announced reset, and
// decrease the rate once per reset window.
func (b *budget) refused(now, reset time.Time) {
	if b.ceiling == 0 && b.gap > 0 {
		// Refused before any measurement, with headers that allow none
		// (x-ratelimit-limit is a bucket size, not a rate): slow down from
		// the rate that was refused, and return to it.
		b.ceiling = float64(time.Second) / float64(max(b.gap, time.Millisecond))
		b.rate, b.provisional = b.ceiling, true
	}
	if !now.Before(b.calmUntil) && b.rate > 0 {
		b.rate = max(b.floor(), b.rate*decrease)
		b.calmUntil = now.Add(staleWindow)
		if reset.After(b.calmUntil) {
			b.calmUntil = reset
		}
	}
	// Auth0 says when the bucket refills: wait for it, however long
	// (go-auth0's own retry caps this at 10 s and then fails the call). A
	// reset that is not in the future says the bucket is full already:
	// hold requests for one interval at the new rate, not a second each,
	// or a trickle of such 429s would multiply a run's time.
	until := reset
	if !until.After(now) {
		pause := staleWindow / 4 // no rate to go by: a short pause
		if rate := b.pace(); rate > 0 {
			pause = time.Duration(float64(time.Second) / rate)
		}
		until = now.Add(pause)
	}
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

// floor is the lowest rate a 429 brings the budget to (see floorShare).
func (b *budget) floor() float64 {
	return min(b.ceiling, max(floorMin, floorShare*b.ceiling))
}

// Rate is the current pacing rate (requests/s; 0 = not paced): the AIMD
// rate scaled down while the tenant's bucket is below the reserve.
func (b *budget) Rate() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pace()
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
