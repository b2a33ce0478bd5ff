package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// syntheticEvent is event i of an attack-shaped population: 60,000
// accounts, a third of the traffic from 600 attacker addresses in three
// /24s among background traffic, ~1.3 KB of Auth0 JSON each.
func syntheticEvent(i int, start time.Time) auth0client.RawLog {
	types := []string{"f", "fp", "fu", "s", "pla", "limit_wc", "mfar", "sapi"}
	ua := strings.Repeat("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 ", 4)
	ip := fmt.Sprintf("10.%d.%d.%d", i%7, (i/7)%250, i%250)
	if i%3 == 0 {
		ip = fmt.Sprintf("198.51.%d.%d", 100+(i/3)%3, (i/9)%200)
	}
	e := auth0client.LogEvent{
		ID: fmt.Sprintf("900%020d", i), Date: start.Add(time.Duration(i) * 2 * time.Second), Type: types[i%len(types)],
		IP: ip, UserID: fmt.Sprintf("auth0|%024d", i%60000), UserName: fmt.Sprintf("user%d@example.com", i%60000),
		ClientID: "AaiyAPdpYdesoKnqjj8HJqRn4T5titww", ClientName: "Shop", Connection: "Username-Password-Authentication",
		UserAgent: ua, Hostname: "acme.eu.auth0.com", Description: "Wrong email or password.", Country: "DE", City: "Berlin",
	}
	if e.Type == "pla" {
		e.Details = map[string]any{"requiresVerification": true}
	}
	raw, _ := json.Marshal(map[string]any{"log_id": e.ID, "date": e.Date, "type": e.Type, "ip": e.IP, "user_id": e.UserID,
		"user_name": e.UserName, "client_id": e.ClientID, "client_name": e.ClientName, "connection": e.Connection,
		"user_agent": e.UserAgent, "hostname": e.Hostname, "description": e.Description, "details": map[string]any{"error": map[string]any{"message": strings.Repeat("x", 400)}},
		"location_info": map[string]any{"country_code": "DE", "city_name": "Berlin", "latitude": 52.5, "longitude": 13.4, "time_zone": "Europe/Berlin"}})
	return auth0client.RawLog{Event: e, Raw: raw}
}

// batches calls fn with n synthetic events, 100 at a time (a sync's pages),
// generating them as it goes so a million never sit in memory at once.
func batches(n int, start time.Time, fn func([]auth0client.RawLog)) {
	batch := make([]auth0client.RawLog, 0, 100)
	for i := 0; i < n; i++ {
		batch = append(batch, syntheticEvent(i, start))
		if len(batch) == cap(batch) || i == n-1 {
			fn(batch)
			batch = batch[:0]
		}
	}
}

func fill(tb testing.TB, n int, start time.Time) *Store {
	tb.Helper()
	return fillAt(tb, tb.TempDir()+"/bench.db", n, start)
}

// fillAt makes a store at path holding n synthetic events, appended as a
// sync appends them: pages of 100, one transaction (and fsync) each.
func fillAt(tb testing.TB, path string, n int, start time.Time) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	f := Feed{Name: FeedAPI}
	batches(n, start, func(batch []auth0client.RawLog) {
		f.Checkpoint = batch[len(batch)-1].Event.ID
		if _, err := s.Append(context.Background(), f, batch); err != nil {
			tb.Fatal(err)
		}
	})
	return s
}

// filesSize is the bytes on disk of path and its side files (-wal, -shm).
func filesSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// BenchmarkStore measures the SQLite store: inserting n events in pages of
// 100 (one transaction each, as a sync commits), the bytes it takes on
// disk, reopening it, then the views' queries (whole events, and the
// briefs triage and bulk discovery read) on the same store.
// Run: go test ./eventstore -run '^$' -bench Store -benchtime 1x
// (ATOCTL_BENCH_1M=1 adds 1,000,000 events: minutes, mostly fsync waits).
func BenchmarkStore(b *testing.B) {
	sizes := []int{59_000}
	if os.Getenv("ATOCTL_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		path := b.TempDir() + "/bench.db"
		var s *Store
		b.Run(fmt.Sprintf("insert/%d", n), func(b *testing.B) {
			for b.Loop() {
				if s != nil {
					_ = s.Close()
				}
				_ = os.Remove(path)
				_ = os.Remove(path + "-wal")
				var err error
				if s, err = Open(context.Background(), path); err != nil {
					b.Fatal(err)
				}
				f := Feed{Name: FeedAPI}
				batches(n, start, func(batch []auth0client.RawLog) {
					f.Checkpoint = batch[len(batch)-1].Event.ID
					if _, err := s.Append(context.Background(), f, batch); err != nil {
						b.Fatal(err)
					}
				})
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			if err := s.Close(); err != nil { // checkpoints the WAL into the file
				b.Fatal(err)
			}
			b.ReportMetric(float64(filesSize(path))/float64(n), "B/event")
		})
		b.Run(fmt.Sprintf("reopen/%d", n), func(b *testing.B) {
			for b.Loop() {
				st, err := Open(context.Background(), path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.Feed(context.Background(), FeedAPI); err != nil {
					b.Fatal(err)
				}
				_ = st.Close()
			}
		})
		s, err := Open(context.Background(), path)
		if err != nil {
			b.Fatal(err)
		}
		end := syntheticEvent(n-1, start).Event.Date
		net := netip.MustParsePrefix("198.51.101.0/24")
		for _, q := range []struct {
			name string
			q    Query
		}{
			{"window48h", Query{Since: end.Add(-48 * time.Hour)}},
			{"window48h-stored", Query{Since: end.Add(-48 * time.Hour), Stored: true}},
			{"ip", Query{Since: start, Network: ptr(netip.MustParsePrefix("198.51.100.3/32"))}},
			{"cidr24", Query{Since: end.Add(-48 * time.Hour), Network: &net}},
			{"account", Query{Since: start, UserID: syntheticEvent(7, start).Event.UserID}},
			{"type", Query{Since: start, Types: []string{"limit_wc"}}},
		} {
			b.Run(fmt.Sprintf("query/%d/%s", n, q.name), func(b *testing.B) {
				rows := 0
				for b.Loop() {
					rows, _ = s.Events(context.Background(), q.q, func(auth0client.LogEvent) error { return nil })
				}
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
		// The lean read triage and bulk discovery use.
		for _, q := range []struct {
			name string
			q    Query
		}{
			{"window48h-stored", Query{Since: end.Add(-48 * time.Hour), Stored: true}},
			{"cidr24-newest", Query{Since: end.Add(-48 * time.Hour), Network: &net, NewestFirst: true}},
		} {
			b.Run(fmt.Sprintf("briefs/%d/%s", n, q.name), func(b *testing.B) {
				rows := 0
				for b.Loop() {
					rows, _ = s.Briefs(context.Background(), q.q, func(*Brief) error { return nil })
				}
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
		_ = s.Close()
	}
}

func ptr[T any](v T) *T { return &v }
