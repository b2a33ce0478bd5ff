package responders

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// MaxSearchLimit bounds one log search: past Auth0's 1000-result cap the
// search is split into time windows, which works, but a million events is
// a job for a log stream export, not the search API.
const MaxSearchLimit = 100_000

// LogFilter is what a log search or a follow keeps: events from a network,
// of some types, of one user. The server narrows what Lucene can; Matches
// re-checks everything (a CIDR only the client can match).
type LogFilter struct {
	Network *netip.Prefix
	Types   []string
	UserID  string // a resolved user id
}

// Matches reports whether e passes the filter.
func (f LogFilter) Matches(e auth0client.LogEvent) bool {
	if f.Network != nil {
		a, err := netip.ParseAddr(e.IP)
		if err != nil || !f.Network.Contains(a.Unmap()) {
			return false
		}
	}
	if f.UserID != "" && e.UserID != f.UserID {
		return false
	}
	return len(f.Types) == 0 || slices.Contains(f.Types, e.Type)
}

// ServerQuery is the Lucene for what Auth0 can filter itself, ANDed with
// extra (the analyst's own Lucene, if any).
func (f LogFilter) ServerQuery(extra string) string {
	var parts []string
	if len(f.Types) > 0 {
		ts := make([]string, len(f.Types))
		for i, t := range f.Types {
			ts[i] = "type:" + t
		}
		parts = append(parts, "("+strings.Join(ts, " OR ")+")")
	}
	if f.Network != nil {
		if q := networkQuery(*f.Network); q != "" {
			parts = append(parts, q)
		}
	}
	if f.UserID != "" {
		parts = append(parts, "user_id:"+LuceneQuote(f.UserID))
	}
	if strings.TrimSpace(extra) != "" {
		parts = append(parts, "("+extra+")")
	}
	return strings.Join(parts, " AND ")
}

// networkQuery narrows a search as far as Lucene can: an exact address, or
// an octet-aligned IPv4 prefix as a trailing wildcard.
func networkQuery(p netip.Prefix) string {
	if p.IsSingleIP() {
		return "ip:" + LuceneQuote(p.Addr().String())
	}
	if p.Addr().Is4() && p.Bits()%8 == 0 && p.Bits() > 0 {
		octets := strings.Split(p.Addr().String(), ".")[:p.Bits()/8]
		return "ip:" + strings.Join(octets, ".") + ".*"
	}
	return ""
}

// LogSearch is one search of the tenant's logs.
type LogSearch struct {
	Filter LogFilter
	// Query is extra Lucene, ANDed with the filter.
	Query string
	Since time.Time
	Limit int
}

// SearchLogs returns the newest events matching s, newest first, past
// Auth0's 1000-result cap: when a window hits the cap it closes the window
// at the oldest event seen (inclusive) and searches again, merging by
// log_id. Events sharing the boundary instant are fetched twice, kept once.
func SearchLogs(ctx context.Context, c *auth0client.Client, s LogSearch) ([]auth0client.LogEvent, error) {
	if err := CheckLogQuery(s.Query); err != nil {
		return nil, err
	}
	limit := s.Limit
	if limit <= 0 || limit > MaxSearchLimit {
		limit = MaxSearchLimit
	}
	base := s.Filter.ServerQuery(s.Query)
	var out []auth0client.LogEvent
	seen := make(map[string]bool)
	until := "*"
	for {
		q := "date:[" + s.Since.UTC().Format(time.RFC3339Nano) + " TO " + until + "]"
		if base != "" {
			q = base + " AND " + q
		}
		var oldest time.Time
		fetched := 0
		for page := 0; (page+1)*auth0client.MaxPerPage <= auth0client.SearchCap; page++ {
			batch, err := c.SearchLogs(ctx, auth0client.LogQuery{Q: q, Page: page, PerPage: auth0client.MaxPerPage})
			if err != nil {
				return nil, err
			}
			fetched += len(batch)
			for _, e := range batch {
				oldest = e.Date
				if seen[e.ID] || !s.Filter.Matches(e) {
					continue
				}
				seen[e.ID] = true
				out = append(out, e)
				if len(out) == limit {
					return out, nil
				}
			}
			if len(batch) < auth0client.MaxPerPage {
				return out, nil // the window is exhausted
			}
		}
		next := oldest.UTC().Format(time.RFC3339Nano)
		if next == until {
			return out, fmt.Errorf("search logs: more than %d events share the instant %s; narrow the query", fetched, next)
		}
		until = next
	}
}

// ReadLogsSince hands every tenant event since since to add, up to limit:
// within the search cap by one windowed search (newest first), past it by
// checkpoint paging (no cap, no query) in log_id order, which is the order
// Auth0 ingested them, not their dates; each event once. limited reports
// that it stopped at the limit.
func ReadLogsSince(ctx context.Context, c *auth0client.Client, since time.Time, limit int, add func(auth0client.LogEvent)) (n int, limited bool, err error) {
	if limit <= auth0client.SearchCap {
		events, err := SearchLogs(ctx, c, LogSearch{Since: since, Limit: limit})
		if err != nil {
			return 0, false, err
		}
		for _, e := range events {
			add(e)
		}
		return len(events), len(events) == limit, nil
	}
	// Checkpoints follow log ids, which follow ingestion, not dates: an
	// event dated after since can hold a smaller id than one dated before
	// it. Start from a fence, the newest event dated IngestionMargin
	// before since: anything ingested after it is read, and only an event
	// ingested more than the margin late could hide before it.
	fenceAt := since.Add(-IngestionMargin).UTC().Format(time.RFC3339Nano)
	fence, err := c.SearchLogs(ctx, auth0client.LogQuery{Q: "date:[* TO " + fenceAt + "}", PerPage: 1})
	if err != nil {
		return 0, false, err
	}
	from := ""
	if len(fence) > 0 {
		from = fence[0].ID
	}
	// Without a fence the tenant's log begins inside the window: the first
	// page comes from a search, and the checkpoint after it may repeat
	// some of it.
	var firstPage map[string]bool
	for {
		page, err := c.LogsAfterPage(ctx, from, auth0client.MaxPerPage)
		if err != nil {
			return n, false, err
		}
		if len(page.Events) == 0 {
			break // Auth0: the end of the log is an empty page, not a short one
		}
		for _, e := range page.Events {
			if firstPage[e.ID] || e.Date.Before(since) {
				continue
			}
			add(e)
			if n++; n == limit {
				return n, true, nil
			}
		}
		next := page.Next
		if from == "" {
			firstPage = map[string]bool{}
			for _, e := range page.Events {
				firstPage[e.ID] = true
			}
			next = maxLogID(page.Events)
		}
		if next == "" || next == from {
			next = page.Events[len(page.Events)-1].ID
		}
		if next == from {
			break
		}
		from = next
	}
	return n, false, nil
}

// IngestionMargin is how late an event may reach Auth0's logs and still be
// read by ReadLogsSince past the search cap (Auth0 ingests logs seconds to
// minutes after they happen).
const IngestionMargin = 2 * time.Minute

func maxLogID(events []auth0client.LogEvent) string {
	m := ""
	for _, e := range events {
		m = max(m, e.ID)
	}
	return m
}

// RetentionNote says so when since reaches past the oldest event the tenant
// still keeps (log retention depends on the plan), so a short answer does
// not pass for a complete one; "" when it does not, or cannot tell.
func RetentionNote(ctx context.Context, c *auth0client.Client, since time.Time) string {
	oldest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1, Ascending: true})
	if err != nil || len(oldest) == 0 {
		return ""
	}
	if first := oldest[0].Date; first.After(since.Add(time.Hour)) {
		return fmt.Sprintf("the window reaches %s but the tenant's oldest event is from %s: nothing before it can be searched (log retention is plan-dependent)",
			since.UTC().Format("2006-01-02 15:04Z"), first.UTC().Format("2006-01-02 15:04Z"))
	}
	return ""
}

// logSearchFields are the fields Auth0's log search searches (Auth0 docs,
// "Log Search Query Syntax"). Any other field in q is a 400 from Auth0.
var logSearchFields = map[string]bool{
	"client_id": true, "client_name": true, "connection": true, "connection_id": true,
	"description": true, "date": true, "hostname": true, "ip": true, "log_id": true,
	"organization_id": true, "user_id": true, "user_name": true, "user_agent": true,
	"strategy": true, "strategy_type": true, "type": true,
}

// ErrUnsearchableLogField is a log query naming a field Auth0's log search
// does not search (details.*, location_info.*, isMobile, audience, scope,
// …): Auth0 refuses it, so atoctl does not send it.
var ErrUnsearchableLogField = errors.New("not a field Auth0's log search searches")

// CheckLogQuery refuses, before anything is sent, a Lucene log query that
// names a field Auth0 does not search, saying which and what to do.
func CheckLogQuery(q string) error {
	bad := unsearchableLogFields(q)
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s (Auth0 searches only %s; search on those and filter the rest from --json output)",
		ErrUnsearchableLogField, auth0client.Clean(strings.Join(bad, ", ")), strings.Join(slices.Sorted(maps.Keys(logSearchFields)), ", "))
}

// unsearchableLogFields lists the fields of q (field:value outside quotes,
// ranges and groups) that Auth0's log search does not search.
func unsearchableLogFields(q string) []string {
	var bad []string
	isField := func(c byte) bool {
		return c == '_' || c == '.' || c == '-' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '"':
			i = skipQuoted(q, i)
			continue
		case !isField(c) || c == '-' && (i+1 >= len(q) || !isField(q[i+1])):
			i++
			continue
		}
		start := i
		if c == '-' {
			start++ // NOT written as -field:value
		}
		for i < len(q) && (isField(q[i]) || q[i] == '\\') {
			if q[i] == '\\' {
				i++
			}
			i++
		}
		if i >= len(q) || q[i] != ':' {
			continue // a bare term
		}
		field := q[start:i]
		i++ // ':'
		valueStart := i
		i = skipValue(q, i)
		if field == "_exists_" {
			field = q[valueStart:i]
		}
		if !logSearchFields[field] && !slices.Contains(bad, field) {
			bad = append(bad, field)
		}
	}
	return bad
}

// skipQuoted returns the position after the quoted string at q[i].
func skipQuoted(q string, i int) int {
	for i++; i < len(q); i++ {
		switch q[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(q)
}

// skipValue returns the position after the value at q[i]: a quoted string,
// a range [a TO b] / {a TO b}, a group (a OR b), or a word.
func skipValue(q string, i int) int {
	if i >= len(q) {
		return i
	}
	switch q[i] {
	case '"':
		return skipQuoted(q, i)
	case '[', '{', '(':
		depth := 0
		for ; i < len(q); i++ {
			switch q[i] {
			case '"':
				i = skipQuoted(q, i) - 1
			case '[', '{', '(':
				depth++
			case ']', '}', ')':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(q)
	}
	for i < len(q) && q[i] != ' ' && q[i] != '\t' && q[i] != ')' {
		if q[i] == '\\' {
			i++
		}
		i++
	}
	return min(i, len(q))
}
