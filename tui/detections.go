package tui

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/responders"
)

// detections is the console's one detection per window: the triage, IP and
// findings pages read the same computation, so their counts agree.
type detections struct {
	mu   sync.Mutex
	runs map[time.Duration]*detectionRun
	// reading marks a window being read: a second page asking for it
	// waits for that read instead of starting its own, and hears its
	// progress meanwhile.
	reading map[time.Duration]*windowRead
}

// windowRead is a read in flight: done closes when it ends, read counts
// the events read so far.
type windowRead struct {
	done chan struct{}
	read atomic.Int64
}

// progressEvery is how often a page reading a window, or waiting for
// another page's read of it, reports the count of events read.
const progressEvery = 150 * time.Millisecond

// detectionRun is one detection of a window, started at since.
type detectionRun struct {
	since time.Time
	det   responders.Detected
}

// detect returns the detection of window, running it (from a Cmd, never
// Update) unless one is cached; fresh forces a new run (r on a page).
func (sh *shared) detect(ctx context.Context, window time.Duration, fresh bool, progress func(int)) (detectionRun, error) {
	d := &sh.detections
	for {
		d.mu.Lock()
		if run, ok := d.runs[window]; ok && !fresh {
			d.mu.Unlock()
			return *run, nil
		}
		other, busy := d.reading[window]
		if !busy {
			break // d.mu held: this call reads
		}
		d.mu.Unlock()
		if err := waitRead(ctx, other, progress); err != nil {
			return detectionRun{}, err
		}
		fresh = false // the read just finished is fresh enough
	}
	if d.reading == nil {
		d.reading, d.runs = map[time.Duration]*windowRead{}, map[time.Duration]*detectionRun{}
	}
	mine := &windowRead{done: make(chan struct{})}
	d.reading[window] = mine
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.reading, window)
		d.mu.Unlock()
		close(mine.done)
	}()
	since := sh.now().Add(-window)
	det, err := responders.DetectTenantFrom(ctx, sh.opts.events(), responders.DetectConfig{Since: since, Guard: sh.opts.Guard}, 0, func(n int) {
		mine.read.Store(int64(n))
		progress(n)
	})
	if err != nil {
		return detectionRun{}, err
	}
	run := &detectionRun{since: since, det: det}
	d.mu.Lock()
	d.runs[window] = run
	d.mu.Unlock()
	return *run, nil
}

// cached is the detection of window that started at since, if there is one.
func (sh *shared) cached(window time.Duration, since time.Time) (detectionRun, bool) {
	d := &sh.detections
	d.mu.Lock()
	defer d.mu.Unlock()
	run, ok := d.runs[window]
	if !ok || !run.since.Equal(since) {
		return detectionRun{}, false
	}
	return *run, true
}

// readDetection runs the window's detection in a stream: progress (at most
// every 150 ms) and the end come back as the page's own messages.
func (sh *shared) readDetection(window time.Duration, fresh bool, progress func(st *stream, read int) tea.Msg, done func(run detectionRun, err error) tea.Msg) *stream {
	return startStream(sh.ctx, func(st *stream, send func(tea.Msg)) {
		ctx, cancel := context.WithTimeout(sh.ctx, 10*time.Minute)
		defer cancel()
		last := time.Time{}
		run, err := sh.detect(ctx, window, fresh, func(n int) {
			if time.Since(last) >= progressEvery {
				last = time.Now()
				st.offer(progress(st, n))
			}
		})
		send(done(run, err))
	})
}

// waitRead waits for another page's read of the window to end, telling
// progress how far it got meanwhile (a page that only said "0 read" for
// the minute the other read took looked stuck).
func waitRead(ctx context.Context, r *windowRead, progress func(int)) error {
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if n := r.read.Load(); n > 0 {
				progress(int(n))
			}
		}
	}
}
