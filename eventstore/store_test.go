package eventstore

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

func TestStoreKeepsEachEventOnceAndAnswersByIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "atoctl", "events", "t.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("store file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	if info, err := os.Stat(filepath.Dir(path)); err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("store directory mode %v (%v), want 0700", info.Mode().Perm(), err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []auth0client.RawLog
	batches(900, start, func(b []auth0client.RawLog) { all = append(all, b...) })
	added, err := s.Append(ctx, Feed{Name: FeedAPI, Checkpoint: all[499].Event.ID}, all[:500])
	if err != nil || added != 500 {
		t.Fatalf("first append: %d added, %v", added, err)
	}
	// Overlapping delivery: only the new half is added.
	added, err = s.Append(ctx, Feed{Name: FeedStream}, all[250:])
	if err != nil || added != 400 {
		t.Fatalf("overlapping append: %d added, want 400 (%v)", added, err)
	}
	if n, _ := s.Count(ctx); n != 900 {
		t.Fatalf("store holds %d events, want 900", n)
	}
	if f, _ := s.Feed(ctx, FeedStream); f.Received != 650 {
		t.Errorf("stream feed received %d, want 650", f.Received)
	}

	want := func(keep func(e auth0client.LogEvent) bool) []string {
		var ids []string
		for _, r := range all {
			if keep(r.Event) {
				ids = append(ids, r.Event.ID)
			}
		}
		return ids
	}
	net := netip.MustParsePrefix("198.51.101.0/24")
	since := start.Add(10 * time.Minute)
	for _, tc := range []struct {
		name string
		q    Query
		keep func(e auth0client.LogEvent) bool
	}{
		{"window", Query{Since: since}, func(e auth0client.LogEvent) bool { return !e.Date.Before(since) }},
		{"window in arrival order", Query{Since: since, Stored: true}, func(e auth0client.LogEvent) bool { return !e.Date.Before(since) }},
		{"cidr", Query{Since: start, Network: &net}, func(e auth0client.LogEvent) bool { return net.Contains(netip.MustParseAddr(e.IP)) }},
		{"address", Query{Since: start, Network: ptr(netip.MustParsePrefix("198.51.100.3/32"))}, func(e auth0client.LogEvent) bool { return e.IP == "198.51.100.3" }},
		{"account", Query{Since: start, UserID: all[7].Event.UserID}, func(e auth0client.LogEvent) bool { return e.UserID == all[7].Event.UserID }},
		{"types", Query{Since: since, Types: []string{"pla", "s"}}, func(e auth0client.LogEvent) bool {
			return !e.Date.Before(since) && (e.Type == "pla" || e.Type == "s")
		}},
	} {
		var got []string
		if _, err := s.Events(ctx, tc.q, func(e auth0client.LogEvent) error {
			got = append(got, e.ID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		w := want(tc.keep)
		if len(w) == 0 || !slices.Equal(got, w) {
			t.Errorf("%s: got %d events, want %d", tc.name, len(got), len(w))
		}
	}
	// Details survive the round trip (pla's requiresVerification).
	var pla auth0client.LogEvent
	_, _ = s.Events(ctx, Query{Since: start, Types: []string{"pla"}, Limit: 1}, func(e auth0client.LogEvent) error { pla = e; return nil })
	if v, _ := pla.Details["requiresVerification"].(bool); !v {
		t.Errorf("pla details lost: %v", pla.Details)
	}
	raw, ok, err := s.Raw(ctx, all[3].Event.ID)
	if err != nil || !ok || string(raw) != string(all[3].Raw) {
		t.Errorf("raw JSON of %s: %q %v %v", all[3].Event.ID, raw, ok, err)
	}
}

// briefOf is what Briefs must answer for an event read whole.
func briefOf(e auth0client.LogEvent) Brief {
	b := Brief{LogID: e.ID, Date: e.Date, Type: e.Type, IP: e.IP, UserID: e.UserID, UserName: e.UserName, Country: e.Country, UserAgent: e.UserAgent,
		JA3: e.JA3, JA4: e.JA4}
	if e.Type == "pla" {
		b.RequiresVerification, _ = e.Details["requiresVerification"].(bool)
	}
	return b
}

func TestBriefsAgreeWithEvents(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := fill(t, 900, start)
	// requiresVerification counts only on a pla event, and only as JSON true.
	odd := []auth0client.RawLog{
		{Event: auth0client.LogEvent{ID: "odd1", Date: start, Type: "pla", IP: "192.0.2.1", Details: map[string]any{"requiresVerification": "true"}}, Raw: []byte(`{}`)},
		{Event: auth0client.LogEvent{ID: "odd2", Date: start, Type: "f", IP: "192.0.2.1", Details: map[string]any{"requiresVerification": true}}, Raw: []byte(`{}`)},
		{Event: auth0client.LogEvent{ID: "odd3", Date: start, Type: "pla", IP: "192.0.2.1", Details: map[string]any{"requiresVerification": false}}, Raw: []byte(`{}`)},
		{Event: auth0client.LogEvent{ID: "odd4", Date: start, Type: "pla", IP: "192.0.2.1"}, Raw: []byte(`{}`)},
		{Event: auth0client.LogEvent{ID: "odd5", Date: start, Type: "f", IP: "192.0.2.1", JA3: "e4fa67bec02ab3b4ae8d343bd16bbb99", JA4: "t13d1516h2_504448b02249_8f49551f0e84"}, Raw: []byte(`{}`)},
	}
	if _, err := s.Append(ctx, Feed{Name: FeedStream}, odd); err != nil {
		t.Fatal(err)
	}
	net := netip.MustParsePrefix("198.51.101.0/24")
	verified := 0
	for _, q := range []Query{
		{Since: start.Add(10 * time.Minute)},
		{Since: start, Stored: true},
		{Since: start, Network: &net, NewestFirst: true, Limit: 50},
		{Since: start, Network: ptr(netip.MustParsePrefix("192.0.2.1/32"))},
		{Since: start, Types: []string{"pla"}},
	} {
		var whole, briefs []Brief
		if _, err := s.Events(ctx, q, func(e auth0client.LogEvent) error { whole = append(whole, briefOf(e)); return nil }); err != nil {
			t.Fatal(err)
		}
		n, err := s.Briefs(ctx, q, func(b *Brief) error { briefs = append(briefs, *b); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if len(whole) == 0 || n != len(briefs) || !slices.Equal(briefs, whole) {
			t.Errorf("query %+v: %d briefs (n=%d) differ from %d events read whole", q, len(briefs), n, len(whole))
		}
		for _, b := range briefs {
			if b.RequiresVerification {
				verified++
			}
		}
	}
	if verified == 0 {
		t.Error("no brief carried requiresVerification: the pla events' details were lost")
	}
	var fp Brief
	_, _ = s.Briefs(ctx, Query{Since: start, Network: ptr(netip.MustParsePrefix("192.0.2.1/32"))}, func(b *Brief) error {
		if b.LogID == "odd5" {
			fp = *b
		}
		return nil
	})
	if fp.JA3 != odd[4].Event.JA3 || fp.JA4 != odd[4].Event.JA4 {
		t.Errorf("TLS fingerprints lost: %q %q", fp.JA3, fp.JA4)
	}
}

func TestVersion1StoreIsMigratedWithItsFingerprints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	raw := `{"log_id":"900","date":"2026-11-29T20:41:36.455Z","type":"f","ip":"198.51.100.7",` +
		`"security_context":{"ja3":"e4fa67bec02ab3b4ae8d343bd16bbb99","ja4":"t13d1516h2_504448b02249_8f49551f0e84"}}`
	e, err := auth0client.ParseLog([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain := auth0client.LogEvent{ID: "901", Date: e.Date, Type: "s", IP: "198.51.100.8"}
	if _, err := s.Append(ctx, Feed{Name: FeedAPI}, []auth0client.RawLog{{Event: e, Raw: []byte(raw)}, {Event: plain, Raw: []byte(`{"log_id":"901"}`)}}); err != nil {
		t.Fatal(err)
	}
	// Make it what version 1 wrote: no fingerprint columns.
	for _, stmt := range []string{`ALTER TABLE events DROP COLUMN ja3`, `ALTER TABLE events DROP COLUMN ja4`, `PRAGMA user_version = 1`} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()

	s, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("open a version 1 store: %v", err)
	}
	defer s.Close()
	got := map[string][2]string{}
	if _, err := s.Events(ctx, Query{Since: e.Date.Add(-time.Hour)}, func(e auth0client.LogEvent) error {
		got[e.ID] = [2]string{e.JA3, e.JA4}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := map[string][2]string{"900": {e.JA3, e.JA4}, "901": {}}; !maps.Equal(got, want) || e.JA3 == "" {
		t.Errorf("after migration: %v, want %v", got, want)
	}
}

func TestKnownNamesAnswersFreshLookUpsOnly(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	fresh, stale := map[string]string{}, map[string]string{}
	var asked []string
	for i := range 1200 { // more than one query's batch
		n := fmt.Sprintf("user%d@example.com", i)
		asked = append(asked, n)
		switch {
		case i%3 == 0:
			stale[n] = fmt.Sprintf("auth0|%d", i)
		case i%3 == 1:
			fresh[n] = fmt.Sprintf("auth0|%d", i)
		default:
			fresh[n] = "" // looked up: no account holds it
		}
	}
	if err := s.SaveNames(ctx, stale, now.Add(-NameMaxAge-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveNames(ctx, fresh, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.KnownNames(ctx, append(asked, "never@example.com"), now)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, fresh) {
		t.Errorf("known names: %d answers, want the %d fresh look-ups (stale and never-asked names left out)", len(got), len(fresh))
	}
}
