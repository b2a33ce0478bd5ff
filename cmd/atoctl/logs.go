package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
)

// maxSearchLimit bounds `logs search --limit`: past 1000 results the search
// is split into time windows, which works, but a million events is a job for
// a log stream export, not the search API.
const maxSearchLimit = 100_000

func newLogsCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Search and follow the tenant's logs",
	}
	cmd.AddCommand(newLogsSearchCmd(env), newLogsTailCmd(env))
	return cmd
}

// logFilter is what both `logs search` and `logs tail` filter on.
type logFilter struct {
	ip    *ipFilter
	types []string
	user  string // resolved user id
}

func (f logFilter) matches(e auth0client.LogEvent) bool {
	if f.ip != nil && !f.ip.matches(e.IP) {
		return false
	}
	if f.user != "" && e.UserID != f.user {
		return false
	}
	if len(f.types) > 0 {
		for _, t := range f.types {
			if e.Type == t {
				return true
			}
		}
		return false
	}
	return true
}

// logFilterFlags are the raw flags, validated before anything is sent.
type logFilterFlags struct {
	ip, user string
	types    []string
}

func (ff logFilterFlags) parse() (logFilter, error) {
	var f logFilter
	if ff.ip != "" {
		ip, err := parseIPFilter(ff.ip)
		if err != nil {
			return f, err
		}
		f.ip = &ip
	}
	types, err := parseTypes(ff.types)
	if err != nil {
		return f, err
	}
	f.types = types
	if ff.user != "" {
		if err := validUserArg(ff.user); err != nil {
			return f, usagef("--user: %v", err)
		}
	}
	return f, nil
}

func (ff *logFilterFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&ff.ip, "ip", "", "only events from this IP address or CIDR (a CIDR is matched by atoctl, not by Auth0)")
	cmd.Flags().StringVar(&ff.user, "user", "", "only events of this user (user id or email)")
	cmd.Flags().StringSliceVar(&ff.types, "type", nil, "only these event types (comma-separated: f,fp,s,limit_wc)")
}

// logsSearchOptions are the inputs of `logs search`.
type logsSearchOptions struct {
	filter logFilterFlags
	since  string
	q      string
	limit  int
}

func newLogsSearchCmd(env *environment) *cobra.Command {
	o := &logsSearchOptions{}
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Search tenant logs, newest first, past Auth0's 1000-result cap",
		Long: `Search the tenant's log events, newest first. Auth0's log search reaches only
1000 results; past that atoctl splits the time window and merges by log_id, so
--limit 5000 returns the 5000 newest matching events with no gaps or duplicates.

--ip takes an address or a CIDR. Auth0 cannot search an IP range: atoctl narrows
the search where it can (a /24 becomes ip:203.0.113.*) and matches the CIDR
itself. --since reaching past the tenant's log retention is reported.`,
		Example: `  atoctl logs search --type f,fp --since 48h --limit 5000 --json
  atoctl logs search --ip 203.0.113.0/24 --since 24h
  atoctl logs search --user alice@example.com --type s
  atoctl logs search --q 'type:limit_wc AND connection:"Username-Password-Authentication"'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLogsSearch(cmd.Context(), env, o) },
	}
	o.filter.bind(cmd)
	cmd.Flags().StringVar(&o.since, "since", "24h", "how far back: a duration (24h, 7d) or an RFC 3339 time")
	cmd.Flags().StringVar(&o.q, "q", "", "extra Lucene query, ANDed with the other filters")
	cmd.Flags().IntVar(&o.limit, "limit", 100, fmt.Sprintf("most events to return (at most %d)", maxSearchLimit))
	return cmd
}

func runLogsSearch(ctx context.Context, env *environment, o *logsSearchOptions) error {
	now := time.Now()
	since, err := parseSince(o.since, now)
	if err != nil {
		return err
	}
	f, err := o.filter.parse()
	if err != nil {
		return err
	}
	if o.limit <= 0 || o.limit > maxSearchLimit {
		return usagef("--limit must be between 1 and %d", maxSearchLimit)
	}
	if strings.ContainsAny(o.q, "\x00\r\n") {
		return usagef("--q contains control characters")
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	if o.filter.user != "" {
		u, err := resolveUser(ctx, c, o.filter.user)
		if err != nil {
			return err
		}
		f.user = u.ID
	}
	base := serverQuery(f, o.q)
	events, err := searchWindows(ctx, c, base, since, f, o.limit)
	if err != nil {
		return err
	}
	if len(events) < o.limit {
		warnRetention(ctx, env, c, since)
	}
	return printLogEvents(env, events)
}

// serverQuery is the Lucene for what Auth0 can filter itself; the client
// filter re-checks everything (a CIDR only the client can match).
func serverQuery(f logFilter, extra string) string {
	var parts []string
	if len(f.types) > 0 {
		ts := make([]string, len(f.types))
		for i, t := range f.types {
			ts[i] = "type:" + t
		}
		parts = append(parts, "("+strings.Join(ts, " OR ")+")")
	}
	if f.ip != nil {
		if q := f.ip.serverQuery(); q != "" {
			parts = append(parts, q)
		}
	}
	if f.user != "" {
		parts = append(parts, "user_id:"+quote(f.user))
	}
	if strings.TrimSpace(extra) != "" {
		parts = append(parts, "("+extra+")")
	}
	return strings.Join(parts, " AND ")
}

// searchWindows pages a newest-first search inside [since, until]; when a
// window hits Auth0's 1000-result cap it closes the window at the oldest
// event seen (inclusive) and searches again, merging by log_id. Events that
// share the boundary instant are fetched twice and kept once.
func searchWindows(ctx context.Context, c *auth0client.Client, base string, since time.Time, f logFilter, limit int) ([]auth0client.LogEvent, error) {
	var out []auth0client.LogEvent
	seen := make(map[string]bool)
	until := "*"
	for {
		q := "date:[" + since.UTC().Format(time.RFC3339Nano) + " TO " + until + "]"
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
				if seen[e.ID] || !f.matches(e) {
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

// warnRetention says so when --since reaches past the oldest event the
// tenant still keeps (log retention depends on the plan), rather than
// letting a short answer pass for a complete one.
func warnRetention(ctx context.Context, env *environment, c *auth0client.Client, since time.Time) {
	oldest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1, Ascending: true})
	if err != nil || len(oldest) == 0 {
		return
	}
	if first := oldest[0].Date; first.After(since.Add(time.Hour)) {
		fmt.Fprintf(env.stderr, "note: --since reaches %s but the tenant's oldest event is from %s: nothing before it can be searched (log retention is plan-dependent)\n",
			fmtTime(since), fmtTime(first))
	}
}

// logsTailOptions are the inputs of `logs tail`.
type logsTailOptions struct {
	filter   logFilterFlags
	q        string
	interval time.Duration
}

func newLogsTailCmd(env *environment) *cobra.Command {
	o := &logsTailOptions{}
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Follow new log events as they happen (ctrl+c stops)",
		Long: `Follow the tenant's new log events with checkpoint paging (from/take), which
has no result cap but ignores Auth0's query parameters: --ip, --user and --type
are applied by atoctl, and --q is refused. ctrl+c stops cleanly (exit 0).`,
		Example: `  atoctl logs tail --type f,fp,limit_wc
  atoctl logs tail --ip 203.0.113.0/24 --json | jq .user_name`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLogsTail(cmd.Context(), env, o) },
	}
	o.filter.bind(cmd)
	cmd.Flags().StringVar(&o.q, "q", "", "not supported: checkpoint paging ignores queries (use --ip/--user/--type)")
	cmd.Flags().DurationVar(&o.interval, "interval", 2*time.Second, "how often to poll when caught up")
	return cmd
}

func runLogsTail(ctx context.Context, env *environment, o *logsTailOptions) error {
	if o.q != "" {
		return usagef("--q is not supported by logs tail: Auth0's checkpoint paging ignores queries; use --ip, --user and --type")
	}
	if o.interval < 100*time.Millisecond {
		return usagef("--interval must be at least 100ms")
	}
	f, err := o.filter.parse()
	if err != nil {
		return err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	if o.filter.user != "" {
		u, err := resolveUser(ctx, c, o.filter.user)
		if err != nil {
			return err
		}
		f.user = u.ID
	}
	newest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1})
	if err != nil {
		return err
	}
	from := ""
	if len(newest) > 0 {
		from = newest[0].ID
	}
	tty := env.stdoutTTY
	fmt.Fprintln(env.stderr, "following new events (ctrl+c stops)")
	for {
		batch, err := c.LogsAfter(ctx, from, auth0client.MaxPerPage)
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range batch {
			from = e.ID
			if !f.matches(e) {
				continue
			}
			if err := printTailEvent(env, e, tty); err != nil {
				return err
			}
		}
		if len(batch) < auth0client.MaxPerPage {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.interval):
			}
		}
	}
}

func printTailEvent(env *environment, e auth0client.LogEvent, tty bool) error {
	if env.opts.json {
		return printNDJSON(env.stdout, e)
	}
	user := e.UserName
	if user == "" {
		user = e.UserID
	}
	cells := []string{fmtTime(e.Date), e.Type, e.IP, user, e.Description}
	for i, c := range cells {
		c = auth0client.Clean(c)
		if tty {
			c = runewidth.Truncate(c, maxCellWidth, "…")
		}
		cells[i] = c
	}
	_, err := fmt.Fprintln(env.stdout, strings.Join(cells, "\t"))
	return err
}
