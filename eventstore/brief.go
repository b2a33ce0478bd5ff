package eventstore

import (
	"context"
	"fmt"
	"time"
)

// Brief is the part of a stored event that triage and bulk discovery read:
// who, from where, when, what, with which client and TLS fingerprint. It is read without the
// event's details (the one detail triage weighs, a pla event's
// requiresVerification, is worked out by the query), so a window of tens
// of thousands of events reads in a fraction of what whole events take.
type Brief struct {
	LogID     string
	Date      time.Time
	Type      string
	IP        string
	UserID    string
	UserName  string
	Country   string
	UserAgent string
	// JA3 and JA4 are the client's TLS fingerprints (security_context).
	JA3, JA4 string
	// RequiresVerification is details.requiresVerification of a pla event
	// (a JSON true; false for every other type).
	RequiresVerification bool
}

// briefColumns are a Brief's columns, in Scan order. CASE tries its
// branches in order, so only a pla event with details has them parsed;
// json_type is 'true' only for a JSON true, as the API reader's bool
// assertion accepts.
const briefColumns = `log_id, date, type, ip, user_id, user_name, country, user_agent, ja3, ja4,
	CASE WHEN type <> 'pla' OR details = '' THEN 0
		WHEN json_type(details, '$.requiresVerification') = 'true' THEN 1 ELSE 0 END`

// Briefs calls fn with the brief of each event the query selects, in the
// query's order (as Events). The Brief is reused between calls: fn keeps
// its strings (each is its own), not the pointer. fn's error stops the
// read and is returned.
func (s *Store) Briefs(ctx context.Context, q Query, fn func(*Brief) error) (int, error) {
	clause, args := q.where()
	rows, err := s.db.QueryContext(ctx, `SELECT `+briefColumns+` FROM events`+clause, args...)
	if err != nil {
		return 0, fmt.Errorf("read stored events: %w", err)
	}
	defer rows.Close()
	var b Brief
	var date int64
	dest := []any{&b.LogID, &date, &b.Type, &b.IP, &b.UserID, &b.UserName, &b.Country, &b.UserAgent, &b.JA3, &b.JA4, &b.RequiresVerification}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return n, fmt.Errorf("read stored events: %w", err)
		}
		b.Date = time.UnixMilli(date).UTC()
		n++
		if err := fn(&b); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("read stored events: %w", err)
	}
	return n, nil
}
