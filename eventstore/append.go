package eventstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Feeds: how events reach the store.
const (
	// FeedAPI is checkpoint sync from the Management API (logs sync).
	FeedAPI = "api"
	// FeedStream is Auth0's custom webhook log stream (logs receive).
	FeedStream = "stream"
)

// Feed is how far one feed got.
type Feed struct {
	Name string
	// StartID and Checkpoint bound the contiguous run of log ids the store
	// holds from this feed (log ids follow ingestion order): every event
	// Auth0 ingested between them is stored. Checkpoint is the next sync's
	// from.
	StartID, Checkpoint string
	// CoversFrom: the run holds every event since then (the window start
	// the first sync was asked for, or the tenant's oldest event).
	CoversFrom time.Time
	// CaughtUpAt is when a sync last reached the newest event (zero: never;
	// an interrupted sync resumes from Checkpoint).
	CaughtUpAt time.Time
	// LastAt is the time of the last page or delivery.
	LastAt time.Time
	// TenantOldest is the tenant's oldest retained event when last looked
	// up (zero: not known).
	TenantOldest time.Time
	// Received counts the events the feed brought (duplicates included).
	Received int64
}

// Covers reports whether the feed holds every event of the window that
// starts at since (up to its last catch-up).
func (f Feed) Covers(since time.Time) bool {
	return f.Checkpoint != "" && !f.CaughtUpAt.IsZero() && !f.CoversFrom.IsZero() && !since.Before(f.CoversFrom)
}

// Append stores events (those already held are skipped: log_id is the key)
// and records the feed's new state, in one transaction: a crash keeps both
// or neither, so a checkpoint never points past what is stored. It returns
// how many events were new.
func (s *Store) Append(ctx context.Context, feed Feed, events []auth0client.RawLog) (added int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store events: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if len(events) > 0 {
		stmt, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO events
			(log_id, date, type, ip, ipkey, user_id, user_name, client_id, client_name, connection,
			 user_agent, hostname, description, country, city, is_mobile, details, feed, ja3, ja4)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return 0, fmt.Errorf("store events: %w", err)
		}
		defer stmt.Close()
		rawStmt, err := tx.PrepareContext(ctx, `INSERT INTO raw (id, json) VALUES (?, ?)`)
		if err != nil {
			return 0, fmt.Errorf("store events: %w", err)
		}
		defer rawStmt.Close()
		for _, r := range events {
			e := r.Event
			if e.ID == "" {
				return 0, errors.New("store events: an event without log_id")
			}
			details := ""
			if len(e.Details) > 0 {
				b, err := json.Marshal(e.Details)
				if err != nil {
					return 0, fmt.Errorf("store event %s: %w", e.ID, err)
				}
				details = string(b)
			}
			res, err := stmt.ExecContext(ctx, e.ID, e.Date.UnixMilli(), e.Type, e.IP, ipKey(e.IP), e.UserID, e.UserName,
				e.ClientID, e.ClientName, e.Connection, e.UserAgent, e.Hostname, e.Description, e.Country, e.City,
				e.IsMobile, details, feed.Name, e.JA3, e.JA4)
			if err != nil {
				return 0, fmt.Errorf("store event %s: %w", e.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // held already
			}
			id, err := res.LastInsertId()
			if err != nil {
				return 0, fmt.Errorf("store event %s: %w", e.ID, err)
			}
			if _, err := rawStmt.ExecContext(ctx, id, []byte(r.Raw)); err != nil {
				return 0, fmt.Errorf("store event %s: %w", e.ID, err)
			}
			added++
		}
	}
	feed.Received += int64(len(events))
	if _, err := tx.ExecContext(ctx, `INSERT INTO feeds (name, start_id, checkpoint, covers_from, caught_up_at, last_at, tenant_oldest, received)
		VALUES (?,?,?,?,?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET start_id=excluded.start_id, checkpoint=excluded.checkpoint,
			covers_from=excluded.covers_from, caught_up_at=excluded.caught_up_at, last_at=excluded.last_at,
			tenant_oldest=excluded.tenant_oldest, received=excluded.received`,
		feed.Name, feed.StartID, feed.Checkpoint, ms(feed.CoversFrom), ms(feed.CaughtUpAt), ms(feed.LastAt), ms(feed.TenantOldest), feed.Received); err != nil {
		return 0, fmt.Errorf("record feed %s: %w", feed.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store events: %w", err)
	}
	return added, nil
}

// Feed returns how far a feed got (the zero Feed, named, if it never ran).
func (s *Store) Feed(ctx context.Context, name string) (Feed, error) {
	f := Feed{Name: name}
	var from, caught, last, oldest int64
	err := s.db.QueryRowContext(ctx, `SELECT start_id, checkpoint, covers_from, caught_up_at, last_at, tenant_oldest, received FROM feeds WHERE name = ?`, name).
		Scan(&f.StartID, &f.Checkpoint, &from, &caught, &last, &oldest, &f.Received)
	if errors.Is(err, sql.ErrNoRows) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("read feed %s: %w", name, err)
	}
	f.CoversFrom, f.CaughtUpAt, f.LastAt, f.TenantOldest = fromMS(from), fromMS(caught), fromMS(last), fromMS(oldest)
	return f, nil
}

// Count is how many events the store holds.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stored events: %w", err)
	}
	return n, nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// ipKey is the address as 16 bytes (IPv4 as ::ffff:a.b.c.d), so a network
// is one contiguous key range; nil for no or no valid address.
func ipKey(ip string) []byte {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return nil
	}
	b := a.Unmap().As16()
	if a.Unmap().Is4() {
		b = netip.AddrFrom4(a.Unmap().As4()).As16()
	}
	return b[:]
}

// prefixRange is the first and last key of a network.
func prefixRange(p netip.Prefix) (lo, hi []byte) {
	p = p.Masked()
	a := p.Addr().Unmap()
	bits := p.Bits()
	if a.Is4() {
		if p.Addr().Is4In6() {
			bits -= 96
		}
		bits += 96
	}
	first := netip.AddrFrom4([4]byte{}).As16()
	if a.Is4() {
		first = netip.AddrFrom4(a.As4()).As16()
	} else {
		first = a.As16()
	}
	last := first
	for i := bits; i < 128; i++ {
		last[i/8] |= 1 << (7 - i%8)
	}
	return first[:], last[:]
}
