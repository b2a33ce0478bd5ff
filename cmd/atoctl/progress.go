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
	tty      bool
	start    time.Time
	startReq int64

	mu       sync.Mutex
	counts   *responders.Progress
	lastLine time.Time
}

func newProgress(env *environment, c *auth0client.Client, stepsFor map[string]int) *progress {
	return &progress{env: env, client: c, counts: responders.NewProgress(stepsFor), tty: isTTY(env.stderr), start: time.Now(), startReq: c.Stats().Requests.Load()}
}

// consume reads a run's events until the channel closes.
func (p *progress) consume(events <-chan responders.Event) {
	for ev := range events {
		p.mu.Lock()
		phase := p.counts.Phase
		finished := p.counts.Add(ev)
		changed := p.counts.Phase != phase
		p.mu.Unlock()
		if changed && !p.tty {
			fmt.Fprintf(p.env.stderr, "phase: %s\n", p.counts.Phase)
		}
		if finished || changed {
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
		c := p.counts
		filled := 0
		if c.Total > 0 {
			filled = width * c.Finished / c.Total
		}
		fmt.Fprintf(p.env.stderr, "\r[%s%s] %d/%d accounts · %d failed · %.1f req/s · %-20s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), c.Finished, c.Total, c.Failed, rate, c.Phase)
		if final {
			fmt.Fprintln(p.env.stderr)
		}
		return
	}
	if final || time.Since(p.lastLine) >= 2*time.Second {
		p.lastLine = time.Now()
		c := p.counts
		fmt.Fprintf(p.env.stderr, "progress: %d/%d accounts, %d failed, %.1f req/s, %s elapsed\n", c.Finished, c.Total, c.Failed, rate, time.Since(p.start).Round(time.Second))
	}
}

func (p *progress) finish() { p.draw(true) }
