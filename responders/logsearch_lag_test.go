package responders

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// Past the search cap, ReadLogsSince reads by checkpoint. On a tenant that
// ingests its own events late, log ids stop following dates: an event
// dated after the window's first holds a smaller id. Every event of the
// window is read, each once.
func TestReadLogsSinceReadsLateIngestedEventsExactlyOnce(t *testing.T) {
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, _ := sc.Generate(sc.DefaultSeed, time.Now().UTC().Add(-time.Hour))
	srv := sandbox.New(st, sandbox.WithRateLimit(0, 0), sandbox.WithIngestionLag(400*time.Millisecond))
	if _, err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	u, _ := auth0client.ParseDomain(srv.URL())
	c, err := auth0client.New(auth0client.Config{BaseURL: u, ClientID: sandbox.ClientID, ClientSecret: auth0client.NewSecret(sandbox.ClientSecret)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	since := time.Now().Add(-time.Second)
	var users []string
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users[:3] {
			users = append(users, u.UserID)
		}
	})
	for i, id := range users {
		// A write the tenant logs late (sapi), then traffic logged at once.
		if _, err := c.SetBlocked(ctx, id, true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		srv.AppendLogIngested(sandbox.LogEvent{Type: "f", IP: "198.51.100.7", UserName: "prompt", Description: string(rune('a' + i))})
	}
	time.Sleep(500 * time.Millisecond) // every late event is due

	var got []string
	n, limited, err := ReadLogsSince(ctx, c, since, 1<<30, func(e auth0client.LogEvent) { got = append(got, e.ID) })
	if err != nil || limited || n != len(got) {
		t.Fatalf("ReadLogsSince: n=%d limited=%v err=%v (%d handed over)", n, limited, err, len(got))
	}
	var want []string
	outOfOrder := false
	srv.View(func(st *sandbox.State) {
		var prev time.Time
		for _, e := range st.Logs {
			if !e.Date.Before(since) {
				want = append(want, e.LogID)
				if e.Date.Before(prev) {
					outOfOrder = true
				}
				prev = e.Date
			}
		}
	})
	if !outOfOrder || len(want) < 6 {
		t.Fatalf("the tenant's window holds %d events, out of order=%v: the test tenant is not what it should be", len(want), outOfOrder)
	}
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for _, id := range want {
		if seen[id] != 1 {
			t.Errorf("event %s read %d times, want once", id, seen[id])
		}
	}
	if len(got) != len(want) {
		slices.Sort(got)
		t.Errorf("read %d events, the window holds %d", len(got), len(want))
	}
}
