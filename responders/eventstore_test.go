package responders

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/eventstore"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// storeTenant is the credential-stuffing tenant served over loopback, a
// client on it and an empty event store.
type storeTenant struct {
	srv   *sandbox.Server
	c     *auth0client.Client
	store *eventstore.Store
	since time.Time
	key   *scenarios.AnswerKey
}

func newStoreTenant(t *testing.T, opts ...sandbox.Option) *storeTenant {
	t.Helper()
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, key := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	since := st.Epoch.Add(-48 * time.Hour)
	srv := sandbox.New(st, append([]sandbox.Option{sandbox.WithRateLimit(0, 0)}, opts...)...)
	if _, err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	u, _ := auth0client.ParseDomain(srv.URL())
	c, err := auth0client.New(auth0client.Config{BaseURL: u, ClientID: sandbox.ClientID, ClientSecret: auth0client.NewSecret(sandbox.ClientSecret), MaxRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	store, err := eventstore.Open(context.Background(), t.TempDir()+"/events/tenant.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return &storeTenant{srv: srv, c: c, store: store, since: since, key: key}
}

// idsFrom is the tenant's retained log ids from the first one dated in the
// window (less the ingestion margin): what a sync of the window must hold.
func (st *storeTenant) idsFrom(since time.Time) []string {
	var ids []string
	started := false
	st.srv.View(func(s *sandbox.State) {
		for _, e := range s.Logs {
			if !started && !e.Date.Before(since.Add(-SyncMargin)) {
				started = true
			}
			if started {
				ids = append(ids, e.LogID)
			}
		}
	})
	return ids
}

func (st *storeTenant) logRequests() int64 {
	s := st.srv.Stats()
	return s.ByRoute["GET /api/v2/logs"] + s.ByRoute["GET /api/v2/users/{id}/logs"] + s.ByRoute["GET /api/v2/logs/{id}"]
}

func TestSyncInterruptedResumesWithoutRefetchingOrDuplicating(t *testing.T) {
	st := newStoreTenant(t)
	want := st.idsFrom(st.since)
	if len(want) < 5000 {
		t.Fatalf("the scenario has %d events in the window, too few to interrupt a sync", len(want))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// ctrl+c after the 20th stored page.
	first, err := SyncEvents(ctx, st.c, st.store, st.since, func(p SyncProgress) {
		if p.Pages == 20 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sync: err %v, want context.Canceled", err)
	}
	held, _ := st.store.Count(context.Background())
	if held != int64(first.Fetched) || held < 1000 || held >= int64(len(want)) {
		t.Fatalf("after the interruption the store holds %d events (fetched %d of %d)", held, first.Fetched, len(want))
	}
	feed, _ := st.store.Feed(context.Background(), eventstore.FeedAPI)
	if !feed.CaughtUpAt.IsZero() || feed.Covers(st.since) {
		t.Fatalf("an interrupted sync must not claim to cover the window: %+v", feed)
	}

	st.srv.ResetStats()
	second, err := SyncEvents(context.Background(), st.c, st.store, st.since, nil)
	if err != nil {
		t.Fatal(err)
	}
	missing := len(want) - int(held)
	if second.Fetched != missing || second.Added != missing {
		t.Errorf("second sync fetched %d, added %d events; %d were missing", second.Fetched, second.Added, missing)
	}
	pages := int64(missing/auth0client.MaxPerPage + 1)
	if n := st.srv.Stats().ByRoute["GET /api/v2/logs"]; n != pages {
		t.Errorf("second sync sent %d log requests, want %d (checkpoint pages of what was missing)", n, pages)
	}
	held, _ = st.store.Count(context.Background())
	if held != int64(len(want)) {
		t.Errorf("store holds %d events, the tenant %d in the window", held, len(want))
	}
	var got []string
	if _, err := st.store.Events(context.Background(), eventstore.Query{Since: time.Time{}}, func(e auth0client.LogEvent) error {
		got = append(got, e.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("event %s stored twice", id)
		}
		seen[id] = true
	}
	for _, id := range want {
		if !seen[id] {
			t.Fatalf("event %s of the window is missing from the store", id)
		}
	}

	// A third sync finds nothing new: one page, nothing added.
	st.srv.ResetStats()
	third, err := SyncEvents(context.Background(), st.c, st.store, st.since, nil)
	if err != nil || third.Added != 0 || st.srv.Stats().ByRoute["GET /api/v2/logs"] != 1 {
		t.Errorf("a sync of a synced store: %+v, %d requests, err %v; want one request, nothing added", third, st.srv.Stats().ByRoute["GET /api/v2/logs"], err)
	}
	if f := third.Feed; !f.Covers(st.since) {
		t.Errorf("after a complete sync the feed does not cover the window: %+v", f)
	}
}

func TestViewsReadTheStoreWithoutLogRequests(t *testing.T) {
	st := newStoreTenant(t)
	ctx := context.Background()
	fromAPI, err := TriageTenant(ctx, st.c, TriageConfig{Since: st.since}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SyncEvents(ctx, st.c, st.store, st.since, nil); err != nil {
		t.Fatal(err)
	}
	src := EventSource{Client: st.c, Store: st.store}
	st.srv.ResetStats()

	began := time.Now()
	fromStore, err := TriageTenantFrom(ctx, src, TriageConfig{Since: st.since}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("48 h triage from the store: %v, %d events", time.Since(began), fromStore.Read)
	if !reflect.DeepEqual(fromStore.TriageResult, fromAPI.TriageResult) || fromStore.Read != fromAPI.Read {
		t.Errorf("triage from the store differs from triage from the API: read %d vs %d, verdicts %v vs %v",
			fromStore.Read, fromAPI.Read, verdicts(fromStore.TriageResult), verdicts(fromAPI.TriageResult))
	}
	checkAgainstKey(t, fromStore.TriageResult, st.key)
	// The TLS fingerprint groups too (the store keeps security_context).
	if len(fromAPI.Fingerprints) == 0 || !reflect.DeepEqual(fromStore.Fingerprints, fromAPI.Fingerprints) {
		t.Errorf("fingerprints from the store %+v, from the API %+v", fromStore.Fingerprints, fromAPI.Fingerprints)
	}

	// Again: the names the first triage looked up are kept, so the second
	// sends no user search either.
	searches := st.srv.Stats().ByRoute["GET /api/v2/users"]
	began = time.Now()
	again, err := TriageTenantFrom(ctx, src, TriageConfig{Since: st.since}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second 48 h triage from the store: %v", time.Since(began))
	if n := st.srv.Stats().ByRoute["GET /api/v2/users"] - searches; n != 0 || searches == 0 {
		t.Errorf("second triage sent %d user searches (first: %d), want none", n, searches)
	}
	if !reflect.DeepEqual(again.TriageResult, fromStore.TriageResult) || again.UnresolvedNames != fromStore.UnresolvedNames {
		t.Errorf("second triage differs: unresolved %d vs %d, verdicts %v", again.UnresolvedNames, fromStore.UnresolvedNames, verdicts(again.TriageResult))
	}

	attacker := ""
	for _, ip := range fromStore.IPs {
		if st.key.IsAttackerIP(ip.IP) {
			attacker = ip.IP
			break
		}
	}
	began = time.Now()
	page, err := FindLogsFrom(ctx, src, LogRequest{Network: attacker, Since: st.since, Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IP page of %s from the store: %v, %d events", attacker, time.Since(began), len(page.Events))
	if len(page.Events) == 0 {
		t.Fatalf("no events for attacker address %s", attacker)
	}
	for i, e := range page.Events {
		if e.IP != attacker || e.Date.Before(st.since) || i > 0 && e.Date.After(page.Events[i-1].Date) {
			t.Fatalf("IP page event %d: %s at %s, want %s's events since %s, newest first", i, e.IP, e.Date, attacker, st.since)
		}
	}

	net24 := netip.MustParsePrefix(attacker + "/24").Masked()
	began = time.Now()
	plan, err := DiscoverBulk(ctx, BulkDiscovery{Targets: []netip.Prefix{net24}, Since: st.since, Read: src.BulkRead(st.since)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bulk discovery of %s from the store: %v, %d compromised", net24, time.Since(began), len(plan.Compromised))
	if len(plan.Compromised) == 0 {
		t.Errorf("bulk discovery of %s found no compromised account", net24)
	}
	if n := st.logRequests(); n != 0 {
		t.Errorf("views after a sync sent %d log requests (%v), want none", n, st.srv.Stats().ByRoute)
	}

	// With the names the events give without an id tied to their accounts
	// (as the window's triage and the console's IP page do), the accounts
	// tried only that way count too: the same plan, and more targeted, each
	// an account the window's triage knows.
	resolved, err := DiscoverBulk(ctx, BulkDiscovery{Targets: []netip.Prefix{net24}, Since: st.since, Read: src.BulkRead(st.since),
		Resolve: src.BulkResolve()})
	if err != nil {
		t.Fatal(err)
	}
	inWindow := map[string]bool{}
	for _, a := range fromStore.Accounts {
		inWindow[a.UserID] = true
	}
	extra := 0
	for _, id := range resolved.Targeted {
		if !slices.Contains(plan.Targeted, id) {
			extra++
			if !inWindow[id] {
				t.Errorf("bulk discovery with names resolved targets %s, which the window's triage does not know", id)
			}
		}
	}
	if extra == 0 || !reflect.DeepEqual(resolved.Compromised, plan.Compromised) || len(resolved.Targeted) != len(plan.Targeted)+extra {
		t.Errorf("with names resolved: %d compromised (want %d), %d targeted of which %d new (want some new, none lost)",
			len(resolved.Compromised), len(plan.Compromised), len(resolved.Targeted), extra)
	}

	// The same discovery from the API finds the same plan.
	apiPlan, err := DiscoverBulk(ctx, BulkDiscovery{Targets: []netip.Prefix{net24}, Since: st.since, Client: st.c})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(apiPlan, plan) {
		t.Errorf("bulk plan from the store %+v, from the API %+v", plan, apiPlan)
	}
}

func TestStaleStoreSyncsOnlyWhatIsNew(t *testing.T) {
	st := newStoreTenant(t)
	ctx := context.Background()
	if _, err := SyncEvents(ctx, st.c, st.store, st.since, nil); err != nil {
		t.Fatal(err)
	}
	st.srv.AppendLog(sandbox.LogEvent{Type: "f", IP: "203.0.113.77", UserName: "late@example.com", Date: time.Now().UTC()})
	later := time.Now().Add(2 * DefaultStoreMaxAge)
	src := EventSource{Client: st.c, Store: st.store, Now: func() time.Time { return later }}
	st.srv.ResetStats()
	found, err := FindLogsFrom(ctx, src, LogRequest{Network: "203.0.113.77", Since: st.since})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Events) != 1 || found.Events[0].UserName != "late@example.com" {
		t.Errorf("a stale store must sync before it answers: got %d events", len(found.Events))
	}
	if n := st.srv.Stats().ByRoute["GET /api/v2/logs"]; n != 1 {
		t.Errorf("the catch-up sent %d log requests, want 1 (one checkpoint page)", n)
	}
	if !strings.Contains(found.Note, "local store") {
		t.Errorf("note %q does not say the events came from the store", found.Note)
	}
}

func TestLogStreamDeliveryTriagesLikeTheAPI(t *testing.T) {
	st := newStoreTenant(t)
	ctx := context.Background()
	const token = "Bearer stream-secret-1"
	lr := &LogReceiver{Store: st.store, Authorization: []byte(token)}
	recv := httptest.NewServer(lr)
	defer recv.Close()

	// A wrong header is refused and nothing is stored.
	if _, err := st.srv.DeliverLogs(ctx, sandbox.LogStream{URL: recv.URL, Authorization: "Bearer wrong", Retries: 1, RetryWait: time.Millisecond}, st.since); err == nil {
		t.Fatal("delivery with a wrong Authorization header was accepted")
	}
	if n, _ := st.store.Count(ctx); n != 0 {
		t.Fatalf("a refused delivery stored %d events", n)
	}

	for _, format := range []string{sandbox.StreamJSONLines, sandbox.StreamJSONArray, sandbox.StreamJSONObject} {
		sent, err := st.srv.DeliverLogs(ctx, sandbox.LogStream{URL: recv.URL, Authorization: token, Format: format}, st.since)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		n, _ := st.store.Count(ctx)
		if n != int64(sent) {
			t.Fatalf("%s: delivered %d events, the store holds %d (a redelivery must not duplicate)", format, sent, n)
		}
	}

	tr := NewTriage(TriageConfig{Since: st.since})
	if _, err := st.store.Events(ctx, eventstore.Query{Since: st.since}, func(e auth0client.LogEvent) error {
		tr.Add(TriageEventFrom(e))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := resolveTriageNames(ctx, st.c, tr); err != nil {
		t.Fatal(err)
	}
	fromAPI, err := TriageTenant(ctx, st.c, TriageConfig{Since: st.since}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Result(); !reflect.DeepEqual(got, fromAPI.TriageResult) {
		t.Errorf("triage from the log stream differs from the API's: %v vs %v", verdicts(got), verdicts(fromAPI.TriageResult))
	}
	// Auth0's JSON is kept whole: the stored event is the wire event.
	var some string
	st.srv.View(func(s *sandbox.State) { some = s.Logs[len(s.Logs)-1].LogID })
	raw, ok, err := st.store.Raw(ctx, some)
	if err != nil || !ok || !strings.Contains(string(raw), `"log_id":"`+some+`"`) {
		t.Errorf("raw event %s: %q, %v, %v", some, raw, ok, err)
	}
}

func TestLogReceiverRefusesBadDeliveries(t *testing.T) {
	st := newStoreTenant(t)
	lr := &LogReceiver{Store: st.store, Authorization: []byte("tok"), MaxBody: 1024}
	recv := httptest.NewServer(lr)
	defer recv.Close()
	event := `{"log_id":"90020250101","data":{"log_id":"90020250101","type":"f","date":"2025-01-01T00:00:00.000Z","ip":"192.0.2.1"}}`
	for _, tc := range []struct {
		name, method, auth, body string
		want                     int
	}{
		{"no header", "POST", "", event, http.StatusUnauthorized},
		{"prefix of the token", "POST", "to", event, http.StatusUnauthorized},
		{"GET", "GET", "tok", "", http.StatusMethodNotAllowed},
		{"not JSON", "POST", "tok", "{nope", http.StatusBadRequest},
		{"no type", "POST", "tok", `{"log_id":"1","data":{"log_id":"1"}}`, http.StatusBadRequest},
		{"too large", "POST", "tok", "[" + strings.Repeat(event+",", 20) + event + "]", http.StatusRequestEntityTooLarge},
		{"one event", "POST", "tok", event, http.StatusOK},
	} {
		req, _ := http.NewRequest(tc.method, recv.URL, strings.NewReader(tc.body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if n, _ := st.store.Count(context.Background()); n != 1 {
		t.Errorf("the store holds %d events, want only the accepted one", n)
	}
}
