package responders

import (
	"context"
	"fmt"
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

// ReadLogsSince hands every tenant event since since to add, oldest or
// newest first as the method allows, up to limit: within the search cap by
// one windowed search, past it by checkpoint paging (no cap, no query).
// limited reports that it stopped at the limit.
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
	q := "date:[" + since.UTC().Format(time.RFC3339Nano) + " TO *]"
	first, err := c.SearchLogs(ctx, auth0client.LogQuery{Q: q, PerPage: 1, Ascending: true})
	if err != nil || len(first) == 0 {
		return 0, false, err
	}
	add(first[0])
	n, from := 1, first[0].ID
	for n < limit {
		batch, err := c.LogsAfter(ctx, from, auth0client.MaxPerPage)
		if err != nil {
			return n, false, err
		}
		for _, e := range batch {
			from = e.ID
			add(e)
			if n++; n == limit {
				return n, true, nil
			}
		}
		if len(batch) < auth0client.MaxPerPage {
			break // caught up
		}
	}
	return n, false, nil
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
