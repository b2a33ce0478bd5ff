package tui

import (
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// fastClock runs speed times faster than the wall clock from start.
type fastClock struct {
	mu    sync.Mutex
	start time.Time
	wall  time.Time
	speed float64
}

func (c *fastClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(time.Duration(float64(time.Since(c.wall)) * c.speed))
}

// TestFollowShowsTheLiveAttack opens the logs page on a training tenant
// whose attacker keeps going (on a clock 120 times faster than the wall
// clock) and follows (`f`): new attacker events come to the top within a
// few follow ticks.
func TestFollowShowsTheLiveAttack(t *testing.T) {
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, key := sc.Generate(sc.DefaultSeed, epoch)
	clk := &fastClock{start: st.Epoch, wall: time.Now(), speed: 120}
	srv := sandbox.New(st, sandbox.WithRateLimit(0, 0), sandbox.WithClock(clk.now), sandbox.WithAttacker(scenarios.Live(st, key)))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	base, err := auth0client.ParseDomain(url)
	if err != nil {
		t.Fatal(err)
	}
	feed := NewCallFeed()
	c, err := auth0client.New(auth0client.Config{BaseURL: base, ClientID: sandbox.ClientID,
		ClientSecret: auth0client.NewSecret(sandbox.ClientSecret), Observer: feed.Observe})
	if err != nil {
		t.Fatal(err)
	}
	tn := &tenant{srv: srv, key: key, client: c, feed: feed, dir: t.TempDir()}
	d := newDriver(t, tn.options(false), 120, 40)
	d.timeout = 30 * time.Second
	d.keys("esc", ":", "logs", "enter")
	d.untilContains("events ·")
	d.keys("f")
	if !d.m.logs.following {
		t.Fatal("f did not start following")
	}
	d.until("new attacker events on top", func(string) bool {
		evs := d.m.logs.events
		return d.m.logs.newCount > 0 && len(evs) > 0 && key.IsAttackerIP(evs[0].IP) && evs[0].Date.After(st.Epoch)
	})
}
