// Package eventstore keeps a tenant's log events on the local machine, read
// once from Auth0 (checkpoint sync or a log stream) and queried by every view:
// triage, detections, an IP's page, bulk discovery.
//
// It is SQLite through a pure-Go driver (modernc.org/sqlite): embedded,
// nothing to install, and an analyst can open the file with sqlite3. Each
// event is kept as Auth0 sent it (raw, every field) beside columns cleaned
// for display and indexed for the views' questions: a window, an address or
// network, an account, a type. log_id is the primary key, so an event
// received twice (a re-run sync, a stream retry) is kept once.
//
// The store holds personal data (emails, addresses): its directory is 0700
// and its file 0600.
package eventstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/atoctl/atoctl/auth0client"
)

// Store is one tenant's event store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
	// syncing serialises the syncs of one process (the console's background
	// sync and a view's catch-up), so neither pages what the other stores.
	syncing sync.Mutex
}

// LockSync holds the store's sync lock until the returned func is called.
func (s *Store) LockSync() (unlock func()) {
	s.syncing.Lock()
	return s.syncing.Unlock
}

// schemaVersion is bumped when the schema changes; a file of version 1 is
// migrated (migrate), anything else unknown is refused with advice rather
// than misread (it is a cache: delete it and sync).
//
// Version 2 added ja3 and ja4 (the TLS fingerprints of security_context).
const schemaVersion = 2

// The events table holds the columns the views read (small rows, so a
// window scan stays in a few pages per hundred events); Auth0's JSON sits
// in raw, beside it, read only when asked for.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	id          INTEGER PRIMARY KEY,
	log_id      TEXT NOT NULL UNIQUE,
	date        INTEGER NOT NULL, -- unix milliseconds
	type        TEXT NOT NULL,
	ip          TEXT NOT NULL DEFAULT '',
	ipkey       BLOB,             -- 16-byte address (IPv4 mapped), for CIDR ranges
	user_id     TEXT NOT NULL DEFAULT '',
	user_name   TEXT NOT NULL DEFAULT '',
	client_id   TEXT NOT NULL DEFAULT '',
	client_name TEXT NOT NULL DEFAULT '',
	connection  TEXT NOT NULL DEFAULT '',
	user_agent  TEXT NOT NULL DEFAULT '',
	hostname    TEXT NOT NULL DEFAULT '',
	description TEXT NOT NULL DEFAULT '',
	country     TEXT NOT NULL DEFAULT '',
	city        TEXT NOT NULL DEFAULT '',
	is_mobile   INTEGER NOT NULL DEFAULT 0,
	details     TEXT NOT NULL DEFAULT '', -- cleaned details, JSON
	feed        TEXT NOT NULL,            -- which feed brought it first
	ja3         TEXT NOT NULL DEFAULT '', -- security_context.ja3, cleaned
	ja4         TEXT NOT NULL DEFAULT ''  -- security_context.ja4, cleaned
);
CREATE INDEX IF NOT EXISTS events_date ON events(date);
CREATE INDEX IF NOT EXISTS events_ip   ON events(ipkey, date);
CREATE INDEX IF NOT EXISTS events_user ON events(user_id, date);
CREATE INDEX IF NOT EXISTS events_type ON events(type, date);
CREATE TABLE IF NOT EXISTS raw (
	id   INTEGER PRIMARY KEY REFERENCES events(id), -- the event's id
	json BLOB NOT NULL                              -- Auth0's JSON, as received
);
CREATE TABLE IF NOT EXISTS feeds (
	name          TEXT PRIMARY KEY,
	start_id      TEXT NOT NULL DEFAULT '', -- first log id of the contiguous run held
	checkpoint    TEXT NOT NULL DEFAULT '', -- last log id held (the next sync's from)
	covers_from   INTEGER NOT NULL DEFAULT 0, -- unix ms: events since then are held
	caught_up_at  INTEGER NOT NULL DEFAULT 0, -- unix ms of the last sync that reached the end
	last_at       INTEGER NOT NULL DEFAULT 0, -- unix ms of the last page or delivery
	tenant_oldest INTEGER NOT NULL DEFAULT 0, -- unix ms of the tenant's oldest retained event
	received      INTEGER NOT NULL DEFAULT 0  -- events this feed brought
);
CREATE TABLE IF NOT EXISTS names (
	name        TEXT PRIMARY KEY, -- a user name (email) events name without an id
	user_id     TEXT NOT NULL,    -- the account holding it; '' for none
	resolved_at INTEGER NOT NULL  -- unix ms of the look-up
);
`

// Open opens (creating if needed) the store at path: its directory is made
// 0700 and the file 0600 (it holds personal data).
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	_ = f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	// WAL: readers (the console's views) never wait for the writer (a
	// background sync); synchronous=FULL: a committed page survives a
	// crash, so a checkpoint never points past what is on disk.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	// The WAL and shared-memory files hold events too.
	for _, side := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + side); err == nil {
			_ = os.Chmod(path+side, 0o600)
		}
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	switch v {
	case schemaVersion:
		return nil // made already: opening a store writes nothing (no commit, no fsync)
	case 1:
		return s.migrate1(ctx)
	case 0:
	default:
		return fmt.Errorf("the store has schema version %d, this atoctl reads %d: delete the file and sync again", v, schemaVersion)
	}
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion))
	return err
}

// migrate1 brings a version 1 store to version 2: the fingerprint
// columns, filled from each event's raw JSON (cleaned as auth0client
// cleans them), in one transaction.
func (s *Store) migrate1(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, stmt := range []string{
		`ALTER TABLE events ADD COLUMN ja3 TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN ja4 TEXT NOT NULL DEFAULT ''`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, json FROM raw WHERE instr(CAST(json AS TEXT), '"security_context"') > 0`)
	if err != nil {
		return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
	}
	type fp struct {
		id       int64
		ja3, ja4 string
	}
	var fps []fp
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			rows.Close()
			return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
		}
		if e, err := auth0client.ParseLog(raw); err == nil && (e.JA3 != "" || e.JA4 != "") {
			fps = append(fps, fp{id, e.JA3, e.JA4})
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
	}
	for _, f := range fps {
		if _, err := tx.ExecContext(ctx, `UPDATE events SET ja3 = ?, ja4 = ? WHERE id = ?`, f.ja3, f.ja4, f.id); err != nil {
			return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate the store to version %d: %w", schemaVersion, err)
	}
	return nil
}

// Path is where the store lives.
func (s *Store) Path() string { return s.path }

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// unsafeName is what a tenant's name may not keep in a file name.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// DefaultPath is the store of a tenant (its domain, or a training key):
// $XDG_CACHE_HOME/atoctl/events/<tenant>.db, else ~/.cache/….
func DefaultPath(getenv func(string) string, tenant string) (string, error) {
	dir := getenv("XDG_CACHE_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("cannot place the event store: set XDG_CACHE_HOME or HOME")
		}
		dir = filepath.Join(home, ".cache")
	}
	name := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(tenant), "_"), "._")
	if name == "" {
		return "", fmt.Errorf("cannot place the event store: no usable tenant name in %q", tenant)
	}
	return filepath.Join(dir, "atoctl", "events", name+".db"), nil
}

// NameMaxAge is how long a user name's look-up (which account holds an
// email, or that none does) is trusted: accounts are created and renamed.
const NameMaxAge = time.Hour

// KnownNames returns the names looked up within NameMaxAge of now: the
// user id holding each, "" for a name no account holds.
func (s *Store) KnownNames(ctx context.Context, names []string, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	// A few hundred names a query: one round trip each, under SQLite's
	// limit on parameters.
	const batch = 500
	for i := 0; i < len(names); i += batch {
		part := names[i:min(i+batch, len(names))]
		args := make([]any, 0, len(part)+1)
		args = append(args, now.Add(-NameMaxAge).UnixMilli())
		for _, n := range part {
			args = append(args, n)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT name, user_id FROM names WHERE resolved_at >= ? AND name IN (`+
			strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read known user names: %w", err)
		}
		for rows.Next() {
			var n, id string
			if err := rows.Scan(&n, &id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read known user names: %w", err)
			}
			out[n] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("read known user names: %w", err)
		}
	}
	return out, nil
}

// SaveNames records look-ups: the user id holding each name ("" for none).
func (s *Store) SaveNames(ctx context.Context, ids map[string]string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("keep user names: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for n, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO names (name, user_id, resolved_at) VALUES (?,?,?)
			ON CONFLICT(name) DO UPDATE SET user_id=excluded.user_id, resolved_at=excluded.resolved_at`, n, id, now.UnixMilli()); err != nil {
			return fmt.Errorf("keep user names: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("keep user names: %w", err)
	}
	return nil
}
