package main

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// progress reports a bulk run on stderr: a bar redrawn in place on a
// terminal, a line every few seconds otherwise (logs, CI, SOAR runners).
type progress struct {
	env      *environment
	client   *auth0client.Client
	total    int
	tty      bool
	start    time.Time
	startReq int64

	mu           sync.Mutex
	done, failed int
	lastLine     time.Time
}

func newProgress(env *environment, c *auth0client.Client, total int) *progress {
	return &progress{env: env, client: c, total: total, tty: isTTY(env.stderr), start: time.Now(), startReq: c.Stats().Requests.Load()}
}

// consume reads a Runner's events until the channel closes; a user is
// finished when all of its steps have an outcome.
func (p *progress) consume(events <-chan responders.Event, stepsPerUser int) {
	seen := map[string]int{}
	bad := map[string]bool{}
	for ev := range events {
		if ev.Outcome == responders.Running {
			continue
		}
		if ev.Step == "" { // the user could not be loaded
			seen[ev.UserID] = stepsPerUser
		} else {
			seen[ev.UserID]++
		}
		if ev.Outcome == responders.Failed {
			bad[ev.UserID] = true
		}
		if seen[ev.UserID] == stepsPerUser {
			p.mu.Lock()
			p.done++
			if bad[ev.UserID] {
				p.failed++
			}
			p.mu.Unlock()
			p.draw(false)
		}
	}
}

func (p *progress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := time.Since(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.client.Stats().Requests.Load()-p.startReq) / elapsed
	}
	if p.tty {
		width := 30
		filled := 0
		if p.total > 0 {
			filled = width * p.done / p.total
		}
		fmt.Fprintf(p.env.stderr, "\r[%s%s] %d/%d accounts · %d failed · %.1f req/s ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.done, p.total, p.failed, rate)
		if final {
			fmt.Fprintln(p.env.stderr)
		}
		return
	}
	if final || time.Since(p.lastLine) >= 2*time.Second {
		p.lastLine = time.Now()
		fmt.Fprintf(p.env.stderr, "progress: %d/%d accounts, %d failed, %.1f req/s, %s elapsed\n", p.done, p.total, p.failed, rate, time.Since(p.start).Round(time.Second))
	}
}

func (p *progress) finish() { p.draw(true) }
