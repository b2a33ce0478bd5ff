package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

func newUsersCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Investigate users, and block, revoke or unblock one",
		Long: `Investigate users, and act on one at a time:

  search    search users (Lucene, or a bare email, user id or word)
  show      a user's profile, identities, brute-force blocks and MFA methods
  logs      a user's recent log events, newest first
  sessions  a user's sessions, with ASN changes marked
  tokens    a user's refresh tokens
  block     block a user from signing in (journaled)
  revoke    revoke a user's sessions and refresh tokens (journaled)
  unblock   unblock a user once the owner changed the password (journaled)

search, show, logs, sessions and tokens only read. block, revoke and unblock
change the tenant: each is one step of the contain playbook, journaled in the
incident, and needs --yes when not interactive ('atoctl contain' runs the whole
playbook).

USER is a user id (auth0|…, google-oauth2|…) or an email; an email shared by
several accounts lists them and exits 2.`,
		Example: `  atoctl users search 'email:*@example.com'
  atoctl users show alice@example.com
  atoctl users block alice@example.com --yes`,
	}
	cmd.AddCommand(newUsersSearchCmd(env), newUsersShowCmd(env), newUsersLogsCmd(env),
		newUsersSessionsCmd(env), newUsersTokensCmd(env))
	cmd.AddCommand(newUserWriteCmds(env)...)
	return cmd
}

// userArg validates USER before anything is sent, then builds the client
// and resolves USER to one account.
func (env *environment) userArg(ctx context.Context, arg string) (*auth0client.Client, auth0client.User, error) {
	if err := responders.ValidUserArg(arg); err != nil {
		return nil, auth0client.User{}, err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return nil, auth0client.User{}, err
	}
	u, err := responders.ResolveUser(ctx, c, arg)
	return c, u, err
}

// usersSearchOptions are the inputs of `users search`.
type usersSearchOptions struct {
	query string
	limit int
}

func newUsersSearchCmd(env *environment) *cobra.Command {
	o := &usersSearchOptions{}
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search users (Lucene, or a bare email, user id or word)",
		Long: `Search users with Auth0's user search (v3). QUERY is Lucene
(email:*@example.com AND blocked:true), or a bare value that atoctl turns into a
safe query: an email → email:"…", a user id → user_id:"…", a word → a prefix
match on name, email and nickname. Auth0 search reaches at most 1000 results.`,
		Example: `  atoctl users search alice@example.com
  atoctl users search 'logins_count:[100 TO *] AND blocked:true' --json
  atoctl users search jo --limit 20`,
		Args: exactArgs(1, "QUERY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.query = args[0]
			return runUsersSearch(cmd.Context(), env, o)
		},
	}
	cmd.Flags().IntVar(&o.limit, "limit", 100, "most users to return (at most 1000)")
	return cmd
}

func runUsersSearch(ctx context.Context, env *environment, o *usersSearchOptions) error {
	q, err := responders.UserQuery(o.query)
	if err != nil {
		return err
	}
	if o.limit <= 0 || o.limit > auth0client.SearchCap {
		return usagef("--limit must be between 1 and %d (Auth0 search reaches no further)", auth0client.SearchCap)
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	users, truncated, err := c.SearchAllUsers(ctx, q, o.limit)
	if err != nil {
		return err
	}
	if truncated {
		fmt.Fprintf(env.stderr, "more users match than the %d shown: narrow the query or raise --limit\n", len(users))
	}
	if env.opts.json {
		return printJSON(env.stdout, nonNil(users))
	}
	t := &table{header: []string{"user", "email", "name", "connection", "blocked", "last login", "last ip", "logins"}}
	for _, u := range users {
		t.add(u.ID, u.Email, u.Name, connectionOf(u), yesNo(u.Blocked), fmtTime(u.LastLogin), u.LastIP, strconv.FormatInt(u.LoginsCount, 10))
	}
	return t.print(env.stdout, env.stdoutTTY)
}

func connectionOf(u auth0client.User) string {
	if len(u.Identities) == 0 {
		return ""
	}
	return u.Identities[0].Connection
}

// userReport is `users show` in JSON.
type userReport struct {
	User        auth0client.User         `json:"user"`
	Blocks      []auth0client.UserBlock  `json:"brute_force_blocks"`
	AuthMethods []auth0client.AuthMethod `json:"authentication_methods"`
}

func newUsersShowCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "show USER",
		Short: "Show a user's profile, identities, blocks and MFA methods",
		Example: `  atoctl users show 'auth0|65f0c2a1b3d4e5f6a7b8c9d0'
  atoctl users show alice@example.com --json`,
		Args: exactArgs(1, "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, u, err := env.userArg(ctx, args[0])
			if err != nil {
				return err
			}
			rep := userReport{User: u}
			if rep.Blocks, err = c.UserBlocks(ctx, u.ID); err != nil {
				return err
			}
			if rep.AuthMethods, err = c.AuthMethods(ctx, u.ID); err != nil {
				return err
			}
			if env.opts.json {
				rep.Blocks, rep.AuthMethods = nonNil(rep.Blocks), nonNil(rep.AuthMethods)
				return printJSON(env.stdout, rep)
			}
			return printUserReport(env, rep)
		},
	}
}

func printUserReport(env *environment, r userReport) error {
	u := r.User
	t := &table{header: []string{"field", "value"}}
	t.add("user_id", u.ID)
	t.add("email", u.Email+verified(u.EmailVerified))
	t.add("name", u.Name)
	t.add("phone", u.PhoneNumber)
	t.add("blocked", yesNo(u.Blocked))
	t.add("created", fmtTime(u.CreatedAt))
	t.add("last login", fmtTime(u.LastLogin))
	t.add("last ip", u.LastIP)
	t.add("logins", strconv.FormatInt(u.LoginsCount, 10))
	for _, id := range u.Identities {
		kind := "database"
		if id.IsSocial {
			kind = "social"
		}
		t.add("identity", fmt.Sprintf("%s (%s, %s)", id.Connection, id.Provider, kind))
	}
	if len(r.Blocks) == 0 {
		t.add("brute-force blocks", "none")
	}
	for _, b := range r.Blocks {
		t.add("brute-force block", fmt.Sprintf("%s from %s", b.Identifier, b.IP))
	}
	if len(r.AuthMethods) == 0 {
		t.add("auth methods", "none")
	}
	for _, m := range r.AuthMethods {
		desc := m.Type
		if m.Name != "" || m.Phone != "" || m.Email != "" {
			desc += " " + strings.TrimSpace(m.Name+" "+m.Phone+" "+m.Email)
		}
		if !m.Confirmed {
			desc += " (unconfirmed)"
		}
		t.add("auth method", desc+", enrolled "+fmtTime(firstNonZero(m.EnrolledAt, m.CreatedAt)))
	}
	return t.print(env.stdout, env.stdoutTTY)
}

// usersLogsOptions are the inputs of `users logs`.
type usersLogsOptions struct {
	since string
	types []string
	limit int
}

func newUsersLogsCmd(env *environment) *cobra.Command {
	o := &usersLogsOptions{}
	cmd := &cobra.Command{
		Use:   "logs USER",
		Short: "A user's recent log events, newest first",
		Example: `  atoctl users logs alice@example.com --since 48h
  atoctl users logs 'auth0|65f0c2a1b3d4e5f6a7b8c9d0' --type s,f,fp --json`,
		Args: exactArgs(1, "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runUsersLogs(cmd.Context(), env, args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.since, "since", "24h", "how far back: a duration (24h, 7d) or an RFC 3339 time")
	cmd.Flags().StringSliceVar(&o.types, "type", nil, "only these event types (comma-separated: s,f,fp)")
	cmd.Flags().IntVar(&o.limit, "limit", 200, "most events to return (at most 1000)")
	return cmd
}

func runUsersLogs(ctx context.Context, env *environment, arg string, o *usersLogsOptions) error {
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return err
	}
	types, err := responders.ParseEventTypes(o.types)
	if err != nil {
		return flagInput("--type", err)
	}
	if o.limit <= 0 || o.limit > auth0client.SearchCap {
		return usagef("--limit must be between 1 and %d", auth0client.SearchCap)
	}
	c, u, err := env.userArg(ctx, arg)
	if err != nil {
		return err
	}
	want := typeSet(types)
	var events []auth0client.LogEvent
	reachedCap := true
pages:
	for page := 0; page*auth0client.MaxPerPage < auth0client.SearchCap; page++ {
		batch, err := c.UserLogs(ctx, u.ID, page, auth0client.MaxPerPage)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if e.Date.Before(since) {
				reachedCap = false
				break pages
			}
			if want == nil || want[e.Type] {
				events = append(events, e)
				if len(events) == o.limit {
					reachedCap = false
					break pages
				}
			}
		}
		if len(batch) < auth0client.MaxPerPage {
			reachedCap = false
			break
		}
	}
	if reachedCap {
		fmt.Fprintf(env.stderr, "Auth0 serves only the newest %d events of a user; older ones in the window are not shown (use 'logs search --user')\n", auth0client.SearchCap)
	}
	return printLogEvents(env, events)
}

func typeSet(types []string) map[string]bool {
	if len(types) == 0 {
		return nil
	}
	m := make(map[string]bool, len(types))
	for _, t := range types {
		m[t] = true
	}
	return m
}

func printLogEvents(env *environment, events []auth0client.LogEvent) error {
	if env.opts.json {
		return printJSON(env.stdout, nonNil(events))
	}
	t := &table{header: []string{"date", "type", "user", "ip", "country", "client", "description", "user agent"}}
	for _, e := range events {
		user := e.UserName
		if user == "" {
			user = e.UserID
		}
		t.add(fmtTime(e.Date), e.Type, user, e.IP, e.Country, e.ClientName, e.Description, e.UserAgent)
	}
	return t.print(env.stdout, env.stdoutTTY)
}

func newUsersSessionsCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "sessions USER",
		Short: "A user's sessions: where each began and was last used (ASN changes marked)",
		Long: `Lists the user's live sessions (an Enterprise-plan feature). A session whose
last ASN differs from its initial ASN is marked "!": a cookie replayed from
another network is a classic sign of session hijacking.`,
		Example: "  atoctl users sessions alice@example.com --json",
		Args:    exactArgs(1, "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, u, err := env.userArg(ctx, args[0])
			if err != nil {
				return err
			}
			sessions, err := c.Sessions(ctx, u.ID)
			if err != nil {
				return planHint(err)
			}
			if env.opts.json {
				return printJSON(env.stdout, nonNil(sessions))
			}
			t := &table{header: []string{"session", "created", "last used", "initial ip", "initial asn", "last ip", "last asn", "asn change", "last user agent"}}
			for _, s := range sessions {
				t.add(s.ID, fmtTime(s.CreatedAt), fmtTime(firstNonZero(s.LastInteractedAt, s.UpdatedAt)),
					s.Device.InitialIP, s.Device.InitialASN, s.Device.LastIP, s.Device.LastASN, asnChange(s.Device), s.Device.LastUserAgent)
			}
			return t.print(env.stdout, env.stdoutTTY)
		},
	}
}

func newUsersTokensCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:     "tokens USER",
		Short:   "A user's refresh tokens: device, client and dates",
		Example: "  atoctl users tokens alice@example.com",
		Args:    exactArgs(1, "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, u, err := env.userArg(ctx, args[0])
			if err != nil {
				return err
			}
			tokens, err := c.RefreshTokens(ctx, u.ID)
			if err != nil {
				return planHint(err)
			}
			if env.opts.json {
				return printJSON(env.stdout, nonNil(tokens))
			}
			t := &table{header: []string{"token", "client", "created", "last exchanged", "expires", "last ip", "last asn", "asn change", "device"}}
			for _, tk := range tokens {
				t.add(tk.ID, tk.ClientID, fmtTime(tk.CreatedAt), fmtTime(tk.LastExchangedAt), fmtTime(tk.ExpiresAt),
					tk.Device.LastIP, tk.Device.LastASN, asnChange(tk.Device), tk.Device.LastUserAgent)
			}
			return t.print(env.stdout, env.stdoutTTY)
		},
	}
}

// asnChange marks a session or token that moved networks: "! AS1→AS2".
func asnChange(d auth0client.Device) string {
	if !d.ASNChanged() {
		return ""
	}
	return "! " + d.InitialASN + "→" + d.LastASN
}

// planHint adds what to do when the tenant's plan lacks an endpoint.
func planHint(err error) error {
	if errors.Is(err, auth0client.ErrPlanLacksFeature) {
		return fmt.Errorf("%w (sessions and refresh tokens need an Enterprise plan)", err)
	}
	return err
}

// exactArgs is cobra.ExactArgs with a usage error that names the argument.
func exactArgs(n int, name string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument (%s), got %d; see '%s --help'", cmd.CommandPath(), n, name, len(args), cmd.CommandPath())
		}
		return nil
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func verified(b bool) string {
	if b {
		return ""
	}
	return " (unverified)"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// nonNil makes an empty result print as [] rather than null in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
