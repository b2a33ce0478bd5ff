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
	"github.com/atoctl/atoctl/responders"
)

func newLogsCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Search and follow the tenant's logs",
	}
	cmd.AddCommand(newLogsSearchCmd(env), newLogsTailCmd(env), newLogsSyncCmd(env), newLogsReceiveCmd(env))
	return cmd
}

// logFilterFlags are the raw flags, validated before anything is sent.
type logFilterFlags struct {
	ip, user string
	types    []string
}

// request is the flags as the shared layer's log request, validated.
func (ff logFilterFlags) request() (responders.LogRequest, error) {
	r := responders.LogRequest{Network: ff.ip, Types: ff.types, User: ff.user}
	if ff.ip != "" {
		if _, err := responders.ParseNetwork(ff.ip); err != nil {
			return r, flagInput("--ip", err)
		}
	}
	if _, err := responders.ParseEventTypes(ff.types); err != nil {
		return r, flagInput("--type", err)
	}
	if ff.user != "" {
		if err := responders.ValidUserArg(ff.user); err != nil {
			return r, flagInput("--user", err)
		}
	}
	return r, nil
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
	cmd.Flags().IntVar(&o.limit, "limit", 100, fmt.Sprintf("most events to return (at most %d)", responders.MaxSearchLimit))
	return cmd
}

func runLogsSearch(ctx context.Context, env *environment, o *logsSearchOptions) error {
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return err
	}
	req, err := o.filter.request()
	if err != nil {
		return err
	}
	if o.limit <= 0 || o.limit > responders.MaxSearchLimit {
		return usagef("--limit must be between 1 and %d", responders.MaxSearchLimit)
	}
	if strings.ContainsAny(o.q, "\x00\r\n") {
		return usagef("--q contains control characters")
	}
	if err := responders.CheckLogQuery(o.q); err != nil {
		return usagef("--q: %v", err)
	}
	req.Query, req.Since, req.Limit = o.q, since, o.limit
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	found, err := responders.FindLogs(ctx, c, req)
	if err != nil {
		return err
	}
	if found.Note != "" {
		fmt.Fprintln(env.stderr, "note: "+found.Note)
	}
	return printLogEvents(env, found.Events)
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
	req, err := o.filter.request()
	if err != nil {
		return err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	search, err := req.Resolve(ctx, c)
	if err != nil {
		return err
	}
	f := search.Filter
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
			if !f.Matches(e) {
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
