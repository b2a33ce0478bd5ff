package responders

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// tenantApp is the customer's own application calling the Management API
// at a steady rate during the incident, with no pacing of its own: what
// atoctl's headroom is for.
type tenantApp struct {
	calls, limited atomic.Int64
}

func (a *tenantApp) run(ctx context.Context, t *testing.T, base, userID string, every time.Duration) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret}, "audience": {base + "/api/v2/"}}
	res, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Error(err)
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tok)
	res.Body.Close()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/users/"+url.PathEscape(userID), nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			continue // the test ended mid-call
		}
		res.Body.Close()
		a.calls.Add(1)
		if res.StatusCode == http.StatusTooManyRequests {
			a.limited.Add(1)
		}
	}
}

// Two analysts contain two sets of accounts at once on one Enterprise-sized
// tenant (16 requests/s, bursts to 50) while the customer's own app calls
// the Management API at 2.5 requests/s, inside the 20% of the limit atoctl
// leaves free. Both runs follow x-ratelimit-remaining: together they draw at
// most 1% 429s, and the app is never refused.
func TestTwoConcurrentBulkRunsStayWithinTheBudget(t *testing.T) {
	const perRun = 15
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, _ := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	targets := bulkTargets(st, 2*perRun)
	if len(targets) < 2*perRun {
		t.Fatalf("the scenario has %d database users with sessions, want %d", len(targets), 2*perRun)
	}
	var bystander string
	for _, u := range st.Users {
		if !contains(targets, u.UserID) {
			bystander = u.UserID
			break
		}
	}
	srv := sandbox.New(st, sandbox.WithRateLimit(16, 50), sandbox.WithRevokeDelay(0))
	if _, err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	u, _ := auth0client.ParseDomain(srv.URL())
	var reset string
	srv.View(func(st *sandbox.State) {
		for _, c := range st.Connections {
			if c.Strategy == "auth0" {
				reset = c.EnabledClients[0]
			}
		}
	})
	opts := Options{WindowStart: time.Now().Add(-72 * time.Hour), ResetMethod: "email", VerifyTimeout: 60 * time.Second}
	runs := make([]*Bulk, 2)
	clients := make([]*auth0client.Client, 2)
	for i := range runs {
		c, err := auth0client.New(auth0client.Config{BaseURL: u, ClientID: sandbox.ClientID, ClientSecret: auth0client.NewSecret(sandbox.ClientSecret), ResetClientID: reset})
		if err != nil {
			t.Fatal(err)
		}
		j, err := OpenJournal(t.TempDir(), "inc-shared", JournalMeta{Operator: "analyst@host", Tenant: c.Tenant(), Mode: ModeTraining})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = j.Close() })
		mine := targets[i*perRun : (i+1)*perRun]
		clients[i] = c
		runs[i] = &Bulk{Client: c, Writer: c, Journal: j, Opts: opts, Workers: DefaultBulkWorkers,
			Plan: BulkPlan{Since: opts.WindowStart, Compromised: mine}}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	appCtx, stopApp := context.WithCancel(ctx)
	var app tenantApp
	var appDone sync.WaitGroup
	appDone.Add(1)
	go func() { defer appDone.Done(); app.run(appCtx, t, srv.URL(), bystander, 400*time.Millisecond) }()

	srv.ResetStats()
	start := time.Now()
	var wg sync.WaitGroup
	results := make([]BulkResult, 2)
	errs := make([]error, 2)
	for i, b := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.Run(ctx, nil)
			results[i], errs[i] = res, err
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopApp()
	appDone.Wait()
	stats := srv.Stats()

	for i := range runs {
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		for _, r := range results[i].Results {
			if r.Failed() {
				t.Errorf("run %d: %s not contained: %+v", i, r.UserID, r.Steps)
			}
		}
	}
	var atoctl, atoctl429 int64
	for _, c := range clients {
		atoctl += c.Stats().Requests.Load()
		atoctl429 += c.Stats().RateLimited.Load()
	}
	rate := float64(stats.ManagementRequests) / elapsed.Seconds()
	// Past the initial burst of 50 the bucket refills at 16/s.
	sustained := float64(stats.ManagementRequests-50) / elapsed.Seconds()
	t.Logf("two bulk runs of %d accounts each: %s; the tenant saw %d Management API requests (%.1f/s overall, %.1f/s past the burst of 50; limit 16/s), %d 429s in all; atoctl sent %d requests (token fetches included), drew %d 429s; the app made %d calls, %d refused",
		perRun, elapsed.Round(time.Millisecond), stats.ManagementRequests, rate, sustained, stats.RateLimited, atoctl, atoctl429, app.calls.Load(), app.limited.Load())
	if atoctl429*100 > atoctl {
		t.Errorf("atoctl drew %d 429s in %d requests (over 1%%)", atoctl429, atoctl)
	}
	if app.calls.Load() < 10 {
		t.Fatalf("the app made %d calls: the run was too short to tell", app.calls.Load())
	}
	if n := app.limited.Load(); n > 0 {
		t.Errorf("the customer's app was refused %d of %d calls: atoctl took the tenant's reserved share", n, app.calls.Load())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
