package eventstore

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// segment is the alternative the store was measured against: a purpose-
// built append-only segment file (one JSON record a line: the cleaned
// columns and Auth0's JSON), fsynced per page, with its indexes (log_id for
// dedup, date order, address, account, type) in memory, rebuilt by reading
// the file when opened.
type segment struct {
	f      *os.File
	w      *bufio.Writer
	off    int64
	byID   map[string]int64
	dates  []segDate
	byIP   map[string][]int64
	byUser map[string][]int64
	byType map[string][]int64
}

type segDate struct {
	at  int64
	off int64
}

type segRecord struct {
	Event auth0client.LogEvent `json:"e"`
	Raw   json.RawMessage      `json:"r"`
}

func openSegment(path string) (*segment, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return &segment{f: f, w: bufio.NewWriterSize(f, 1<<20), byID: map[string]int64{}, byIP: map[string][]int64{}, byUser: map[string][]int64{}, byType: map[string][]int64{}}, nil
}

// reopenSegment opens a segment file and rebuilds its indexes by reading
// every record (the format keeps no index on disk).
func reopenSegment(path string) (*segment, error) {
	s, err := openSegment(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(s.f, 1<<20)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		var rec struct {
			Event struct {
				ID     string    `json:"log_id"`
				Date   time.Time `json:"date"`
				Type   string    `json:"type"`
				IP     string    `json:"ip"`
				UserID string    `json:"user_id"`
			} `json:"e"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, err
		}
		e := rec.Event
		s.index(e.ID, e.Date, e.IP, e.UserID, e.Type)
		s.off += int64(len(line))
	}
}

func (s *segment) index(id string, date time.Time, ip, userID, typ string) {
	s.byID[id] = s.off
	s.dates = append(s.dates, segDate{date.UnixMilli(), s.off})
	s.byIP[ip] = append(s.byIP[ip], s.off)
	s.byUser[userID] = append(s.byUser[userID], s.off)
	s.byType[typ] = append(s.byType[typ], s.off)
}

func (s *segment) append(batch []auth0client.RawLog) error {
	for _, r := range batch {
		if _, ok := s.byID[r.Event.ID]; ok {
			continue
		}
		b, err := json.Marshal(segRecord{Event: r.Event, Raw: r.Raw})
		if err != nil {
			return err
		}
		b = append(b, '\n')
		if _, err := s.w.Write(b); err != nil {
			return err
		}
		e := r.Event
		s.index(e.ID, e.Date, e.IP, e.UserID, e.Type)
		s.off += int64(len(b))
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Sync()
}

// window reads every record dated since since (the index is in arrival
// order, as the store's Stored query).
func (s *segment) window(since time.Time, fn func(auth0client.LogEvent)) (int, error) {
	n := 0
	at := since.UnixMilli()
	r := io.NewSectionReader(s.f, 0, s.off)
	br := bufio.NewReaderSize(r, 1<<20)
	var pos int64
	for _, d := range s.dates {
		if d.at < at {
			continue
		}
		if d.off != pos {
			if _, err := r.Seek(d.off, io.SeekStart); err != nil {
				return n, err
			}
			br.Reset(r)
			pos = d.off
		}
		line, err := br.ReadBytes('\n')
		if err != nil {
			return n, err
		}
		pos += int64(len(line))
		var rec segRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return n, err
		}
		fn(rec.Event)
		n++
	}
	return n, nil
}

func (s *segment) lookup(offs []int64, fn func(auth0client.LogEvent)) (int, error) {
	offs = slices.Clone(offs)
	buf := make([]byte, 8192)
	for _, off := range offs {
		n, err := s.f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return 0, err
		}
		line := buf[:n]
		if i := slices.Index(line, '\n'); i >= 0 {
			line = line[:i]
		}
		var rec segRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return 0, err
		}
		fn(rec.Event)
	}
	return len(offs), nil
}

// BenchmarkSegment is BenchmarkStore's workload on the segment format.
// Run: go test ./eventstore -run '^$' -bench 'Store|Segment' -benchtime 1x
func BenchmarkSegment(b *testing.B) {
	sizes := []int{59_000}
	if os.Getenv("ATOCTL_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
	}
	for _, n := range sizes {
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		path := b.TempDir() + "/seg.ndjson"
		var seg *segment
		b.Run(fmt.Sprintf("insert/%d", n), func(b *testing.B) {
			for b.Loop() {
				if seg != nil {
					_ = seg.f.Close()
				}
				_ = os.Remove(path)
				s, err := openSegment(path)
				if err != nil {
					b.Fatal(err)
				}
				batches(n, start, func(batch []auth0client.RawLog) {
					if err := s.append(batch); err != nil {
						b.Fatal(err)
					}
				})
				seg = s
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(seg.off)/float64(n), "B/event")
		})
		b.Run(fmt.Sprintf("reopen/%d", n), func(b *testing.B) {
			for b.Loop() {
				_ = seg.f.Close()
				var err error
				if seg, err = reopenSegment(path); err != nil {
					b.Fatal(err)
				}
			}
			if len(seg.byID) != n {
				b.Fatalf("reopened segment indexes %d events, want %d", len(seg.byID), n)
			}
		})
		b.Cleanup(func() { _ = seg.f.Close() })
		end := syntheticEvent(n-1, start).Event.Date
		for _, q := range []struct {
			name string
			run  func() (int, error)
		}{
			{"window48h-stored", func() (int, error) { return seg.window(end.Add(-48*time.Hour), func(auth0client.LogEvent) {}) }},
			{"ip", func() (int, error) { return seg.lookup(seg.byIP["198.51.100.3"], func(auth0client.LogEvent) {}) }},
			{"account", func() (int, error) {
				return seg.lookup(seg.byUser[syntheticEvent(7, start).Event.UserID], func(auth0client.LogEvent) {})
			}},
			{"type", func() (int, error) { return seg.lookup(seg.byType["limit_wc"], func(auth0client.LogEvent) {}) }},
		} {
			b.Run(fmt.Sprintf("query/%d/%s", n, q.name), func(b *testing.B) {
				rows := 0
				for b.Loop() {
					var err error
					if rows, err = q.run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
