package auth0client

import (
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// sharedRun is what the tenant saw while some clients read users.
type sharedRun struct {
	requests, limited int64
	reads             int
	elapsed           time.Duration
}

// rate is the tenant's view of the run: Management API requests per second.
func (r sharedRun) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// readShared starts a sandbox limited like an Enterprise tenant (16/s,
// bursts to 50) and has `clients` atoctl clients, at the default adaptive
// pacing, each read users from `workers` goroutines at once, `reads` each.
func readShared(t *testing.T, clients, workers, reads int) sharedRun {
	t.Helper()
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, _ := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	srv := startServer(t, st, sandbox.WithRateLimit(16, 50))
	cs := make([]*Client, clients)
	for i := range cs {
		cs[i] = clientFor(t, srv, 0)
	}
	srv.ResetStats()
	ctx := ctxT(t)
	var wg sync.WaitGroup
	start := time.Now()
	for ci, c := range cs {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				from := (ci*workers + w) * reads
				for i := range reads {
					id := userAt(srv, from+i)
					if _, err := c.User(ctx, id); err != nil {
						t.Errorf("client %d worker %d read %d: %v", ci, w, i, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	st2 := srv.Stats()
	return sharedRun{requests: st2.ManagementRequests, limited: st2.RateLimited, reads: clients * workers * reads, elapsed: time.Since(start)}
}

// Two analysts running atoctl on one tenant must not together drain the
// bucket: each follows x-ratelimit-remaining and slows down when the bucket
// falls below the share atoctl leaves to others, so the pair stays near the
// refill rate with (almost) no 429s instead of each taking 80% of it.
func TestTwoClientsShareTheTenantsBudget(t *testing.T) {
	const workers, reads = 4, 40

	one := readShared(t, 1, workers, reads)
	t.Logf("one client: %d reads, %d requests, %d 429s, %.1f requests/s", one.reads, one.requests, one.limited, one.rate())

	two := readShared(t, 2, workers, reads)
	t.Logf("two clients: %d reads, %d requests, %d 429s, %.1f requests/s combined", two.reads, two.requests, two.limited, two.rate())

	if two.requests < int64(two.reads) {
		t.Fatalf("the tenant saw %d requests for %d reads", two.requests, two.reads)
	}
	if two.limited*100 > two.requests {
		t.Fatalf("two clients drew %d 429s in %d requests (over 1%%)", two.limited, two.requests)
	}
}
