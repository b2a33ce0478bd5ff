package auth0client

// End-to-end tests: the real go-auth0 client, through this package, against
// the sandbox tenant over loopback HTTP. Assertions compare with the
// sandbox's own state, never with the client's report of itself.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// startScenario serves the default training scenario, dated now.
func startScenario(t testing.TB, opts ...sandbox.Option) (*sandbox.Server, *scenarios.AnswerKey) {
	t.Helper()
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, key := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	return startServer(t, st, opts...), key
}

func startServer(t testing.TB, st *sandbox.State, opts ...sandbox.Option) *sandbox.Server {
	t.Helper()
	srv := sandbox.New(st, append([]sandbox.Option{sandbox.WithRevokeDelay(0)}, opts...)...)
	if _, err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// clientFor builds a client with the sandbox's public credentials.
func clientFor(t testing.TB, srv *sandbox.Server, maxRate float64) *Client {
	t.Helper()
	return clientWith(t, srv, sandbox.ClientID, sandbox.ClientSecret, maxRate)
}

func clientWith(t testing.TB, srv *sandbox.Server, id, secret string, maxRate float64) *Client {
	t.Helper()
	u, err := ParseDomain(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{BaseURL: u, ClientID: id, ClientSecret: NewSecret(secret), MaxRate: maxRate})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSearchUsersWithRangeReturnsExactlyTheMatchingUsers(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientFor(t, srv, 0)
	tests := []struct {
		query string
		match func(u *sandbox.User) bool
	}{
		{"logins_count:[20 TO 40]", func(u *sandbox.User) bool { return u.LoginsCount >= 20 && u.LoginsCount <= 40 }},
		{"created_at:[2024-01-01 TO 2024-06-30]", func(u *sandbox.User) bool {
			return !u.CreatedAt.Before(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) && u.CreatedAt.Before(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))
		}},
		{"logins_count:[* TO 3] AND identities.connection:google-oauth2", func(u *sandbox.User) bool {
			return u.LoginsCount <= 3 && len(u.Identities) > 0 && u.Identities[0].Connection == "google-oauth2"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var want []string
			srv.View(func(st *sandbox.State) {
				for _, u := range st.Users {
					if tt.match(u) {
						want = append(want, u.UserID)
					}
				}
			})
			if len(want) == 0 || len(want) >= SearchCap {
				t.Fatalf("bad fixture: %d users match; the test needs 1..999", len(want))
			}
			users, truncated, err := c.SearchAllUsers(ctxT(t), tt.query, SearchCap)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]string, len(users))
			for i, u := range users {
				got[i] = u.ID
			}
			slices.Sort(got)
			slices.Sort(want)
			if truncated || !slices.Equal(got, want) {
				t.Fatalf("got %d users (truncated=%v), want %d; first diff around %v", len(got), truncated, len(want), firstDiff(got, want))
			}
		})
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + " vs " + b[i]
		}
	}
	return "the tail"
}

func TestSearchUsersPagesToTheCapAndNoFurther(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientFor(t, srv, 0)
	var total int
	srv.View(func(st *sandbox.State) { total = len(st.Users) })
	if total <= SearchCap {
		t.Fatalf("bad fixture: %d users, need more than %d", total, SearchCap)
	}
	users, truncated, err := c.SearchAllUsers(ctxT(t), "", SearchCap)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, u := range users {
		ids[u.ID] = true
	}
	if len(users) != SearchCap || len(ids) != SearchCap || !truncated {
		t.Fatalf("got %d users (%d distinct, truncated=%v), want %d distinct and truncated", len(users), len(ids), truncated, SearchCap)
	}
	_, err = c.SearchUsers(ctxT(t), "", SearchCap/MaxPerPage, MaxPerPage)
	if !errors.Is(err, ErrBadRequest) {
		t.Fatalf("page past the cap: err = %v, want ErrBadRequest", err)
	}
}

func TestLogsAfterReturnsEveryEventExactlyOnceInOrder(t *testing.T) {
	// Rate limiting off: 580 pages at 16/s would only make the test slow;
	// pacing has its own tests and benchmark.
	srv, _ := startScenario(t, sandbox.WithRateLimit(0, 0))
	c := clientFor(t, srv, 0)
	var want []string
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			want = append(want, e.LogID)
		}
	})
	var got []string
	from := ""
	for {
		batch, err := c.LogsAfter(ctxT(t), from, MaxPerPage)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			got = append(got, e.ID)
		}
		from = batch[len(batch)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("checkpoint paging returned %d events, the tenant has %d (first diff %s)", len(got), len(want), firstDiff(got, want))
	}
}

func TestRateLimitedCallsWaitForTheResetAndSucceed(t *testing.T) {
	srv, _ := startScenario(t, sandbox.WithRateLimit(20, 5))
	c := clientFor(t, srv, 200) // far above the tenant's limit: 429s will come
	srv.ResetStats()
	start := time.Now()
	for i := range 20 {
		if _, err := c.User(ctxT(t), userAt(srv, i)); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	server := srv.Stats()
	if c.Stats().RateLimited.Load() == 0 || server.RateLimited == 0 {
		t.Fatal("no 429 was seen: the test did not exercise rate limiting")
	}
	if got := c.Stats().RateLimited.Load(); got != server.RateLimited {
		t.Fatalf("client saw %d 429s, server sent %d", got, server.RateLimited)
	}
	// 20 calls with a burst of 5 at 20/s need at least (20-5)/20 s.
	if elapsed < 750*time.Millisecond {
		t.Fatalf("20 calls took %v: the client did not wait for the tenant's resets", elapsed)
	}
	// Waiting until the reset means few 429s, not one per attempt in a loop.
	if server.RateLimited > 8 {
		t.Fatalf("%d 429s for 20 calls: the client kept hammering instead of waiting", server.RateLimited)
	}
}

func TestInjected429sAnd5xxAreRetriedForReads(t *testing.T) {
	srv, _ := startScenario(t)
	srv.SetFaults(sandbox.Faults{Share429: 0.2, Share5xx: 0.2, Seed: 7})
	c := clientFor(t, srv, 0)
	for i := range 15 {
		id := userAt(srv, i)
		u, err := c.User(ctxT(t), id)
		if err != nil || u.ID != id {
			t.Fatalf("call %d: user %q, err %v", i, u.ID, err)
		}
	}
	if c.Stats().RateLimited.Load() == 0 || c.Stats().ServerErrors.Load() == 0 {
		t.Fatalf("faults not exercised: 429s=%d 5xx=%d", c.Stats().RateLimited.Load(), c.Stats().ServerErrors.Load())
	}
}

func TestDroppedConnectionsRetryIdempotentCallsOnly(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)
	// Reads survive connections dropped before the server handles them.
	srv.SetFaults(sandbox.Faults{ShareDropBefore: 0.3, Seed: 3})
	for i := range 10 {
		if _, err := c.User(ctx, userAt(srv, i)); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if c.Stats().TransportErrors.Load() == 0 {
		t.Fatal("no dropped connection was exercised")
	}

	// A PATCH to a value is repeated after the server applied it and
	// dropped the connection: repeating is harmless.
	id := userAt(srv, 20)
	srv.SetFaults(sandbox.Faults{ShareDropAfterWrite: 1, Seed: 3})
	srv.ResetStats()
	_, err := c.SetBlocked(ctx, id, true)
	var te *TransportError
	if !errors.As(err, &te) || te.MayBeApplied {
		t.Fatalf("SetBlocked with every answer dropped: err = %v, want a TransportError not flagged may-be-applied", err)
	}
	if n := srv.Stats().ByRoute["PATCH /api/v2/users/{id}"]; n < 2 {
		t.Fatalf("idempotent PATCH sent %d times, want it retried", n)
	}
	if !sandboxUser(srv, id).Blocked {
		t.Fatal("the block was not applied")
	}

	// A POST that mints a ticket must not be repeated once it was sent.
	target := userAt(srv, 21)
	srv.ResetStats()
	_, err = c.CreatePasswordChangeTicket(ctx, target, 0)
	if !errors.As(err, &te) || !te.MayBeApplied {
		t.Fatalf("ticket with the answer dropped: err = %v, want a may-be-applied TransportError", err)
	}
	if n := srv.TicketsCreated(target); n != 1 {
		t.Fatalf("%d tickets created, want exactly 1 (no duplicate)", n)
	}
	if strings.Contains(err.Error(), "ticket=") {
		t.Fatal("error text carries a ticket URL")
	}

	// With faults off, the ticket comes back as a Secret.
	srv.SetFaults(sandbox.Faults{})
	tk, err := c.CreatePasswordChangeTicket(ctx, target, 0)
	if err != nil || !strings.Contains(tk.Reveal(), "ticket=") || strings.Contains(tk.String(), "ticket=") {
		t.Fatalf("ticket: %v, err %v", tk, err)
	}
}

func TestMissingScopeIsNamedInTheError(t *testing.T) {
	srv, _ := startScenario(t)
	srv.AddClient("read-only-app", "read-only-secret", []string{"read:users"})
	c := clientWith(t, srv, "read-only-app", "read-only-secret", 0)
	id := userAt(srv, 0)
	if _, err := c.User(ctxT(t), id); err != nil {
		t.Fatalf("a call within scope failed: %v", err)
	}
	_, err := c.Sessions(ctxT(t), id)
	var ae *APIError
	if !errors.Is(err, ErrInsufficientScope) || !errors.As(err, &ae) || !slices.Contains(ae.Scopes, "read:sessions") {
		t.Fatalf("err = %v, want ErrInsufficientScope naming read:sessions", err)
	}
	if !strings.Contains(err.Error(), "read:sessions") {
		t.Fatalf("error text %q does not name the scope", err)
	}
}

func TestWrongSecretIsBadCredentials(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientWith(t, srv, sandbox.ClientID, "not-the-secret", 0)
	_, err := c.User(ctxT(t), userAt(srv, 0))
	if !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("err = %v, want ErrBadCredentials", err)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Fatal("the secret appears in the error")
	}
}

func TestPlanWithoutSessionsIsReported(t *testing.T) {
	srv, _ := startScenario(t, sandbox.WithPlan(sandbox.PlanNoSessions))
	c := clientFor(t, srv, 0)
	id := userAt(srv, 0)
	for name, call := range map[string]func() error{
		"list sessions":  func() error { _, err := c.Sessions(ctxT(t), id); return err },
		"list tokens":    func() error { _, err := c.RefreshTokens(ctxT(t), id); return err },
		"revoke session": func() error { return c.RevokeSessions(ctxT(t), id) },
	} {
		if err := call(); !errors.Is(err, ErrPlanLacksFeature) {
			t.Errorf("%s: err = %v, want ErrPlanLacksFeature", name, err)
		}
	}
}

func TestRevokeRemovesSessionsAndTokensInTheTenant(t *testing.T) {
	srv, key := startScenario(t)
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)
	id := key.Compromised[0]
	before, err := c.Sessions(ctx, id)
	if err != nil || len(before) == 0 {
		t.Fatalf("compromised user has %d sessions (err %v); the scenario promises some", len(before), err)
	}
	if err := c.RevokeSessions(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeRefreshTokens(ctx, id); err != nil {
		t.Fatal(err)
	}
	srv.View(func(st *sandbox.State) {
		for _, s := range st.Sessions {
			if s.UserID == id {
				t.Errorf("session %s survived", s.ID)
			}
		}
		for _, r := range st.RefreshTokens {
			if r.UserID == id {
				t.Errorf("refresh token %s survived", r.ID)
			}
		}
	})
}

func TestCallsAreIdentifiedInSapiLogs(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientFor(t, srv, 0)
	id := userAt(srv, 3)
	u, err := c.SetBlocked(ctxT(t), id, true)
	if err != nil {
		t.Fatal(err)
	}
	// The PATCH answer is the user as stored: the block can be verified
	// without another read.
	if u.ID != id || !u.Blocked {
		t.Fatalf("SetBlocked returned %+v, want user %s with blocked=true", u, id)
	}
	var ua string
	srv.View(func(st *sandbox.State) { ua = st.Logs[len(st.Logs)-1].UserAgent })
	if !strings.HasPrefix(ua, "atoctl/") {
		t.Fatalf("sapi user agent %q, want atoctl/<version>", ua)
	}
}

func TestNotFoundIsAKind(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientFor(t, srv, 0)
	if _, err := c.User(ctxT(t), "auth0|does-not-exist"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestTenantTextArrivesClean(t *testing.T) {
	srv, key := startScenario(t)
	c := clientFor(t, srv, 0)
	if len(key.Hostile) == 0 {
		t.Fatal("scenario has no hostile users")
	}
	for _, id := range key.Hostile {
		u, err := c.User(ctxT(t), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{u.Name, u.Nickname, u.Email} {
			if Clean(s) != s || len(s) > MaxTextBytes+64 {
				t.Fatalf("user %s carries uncleaned text %q", id, s[:min(len(s), 80)])
			}
		}
	}
}

func userAt(srv *sandbox.Server, i int) string {
	var id string
	srv.View(func(st *sandbox.State) { id = st.Users[i%len(st.Users)].UserID })
	return id
}

func sandboxUser(srv *sandbox.Server, id string) sandbox.User {
	var u sandbox.User
	srv.View(func(st *sandbox.State) {
		for _, x := range st.Users {
			if x.UserID == id {
				u = *x
			}
		}
	})
	return u
}
