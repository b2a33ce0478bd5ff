package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/eventstore"
	"github.com/atoctl/atoctl/responders"
)

// logsSyncOptions are the inputs of `logs sync`.
type logsSyncOptions struct {
	since string
}

func newLogsSyncCmd(env *environment) *cobra.Command {
	o := &logsSyncOptions{}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Fill the local event store from the tenant's logs (resumable)",
		Long: `Sync reads the tenant's log events into the local event store
($XDG_CACHE_HOME/atoctl/events/<tenant>.db, mode 0600), by checkpoint paging
(100 events a request, no 1000-result cap), from where the last sync stopped.
Each page is committed with its checkpoint: ctrl+c keeps what was read, and
running sync again fetches only what is missing. Events are kept once.

Triage, detect, the IP page and bulk discovery then read the store instead of
the tenant (they sync what is missing first; --no-store reads the API).`,
		Example: `  atoctl logs sync --since 48h
  atoctl --training logs sync --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLogsSync(cmd.Context(), env, o) },
	}
	cmd.Flags().StringVar(&o.since, "since", "48h", "the window to hold: a duration (48h, 7d) or an RFC 3339 time")
	return cmd
}

// syncOutput is the JSON form of a sync.
type syncOutput struct {
	Store      string    `json:"store"`
	Pages      int       `json:"pages"`
	Fetched    int       `json:"fetched"`
	Added      int       `json:"added"`
	Events     int64     `json:"events"`
	Checkpoint string    `json:"checkpoint"`
	CoversFrom time.Time `json:"covers_from,omitzero"`
	CaughtUpAt time.Time `json:"caught_up_at,omitzero"`
	// Names counts the user names the window's events give without an
	// account id; NamesLookedUp those this sync looked up (the rest were
	// known within the hour).
	Names         int `json:"names"`
	NamesLookedUp int `json:"names_looked_up"`
}

func runLogsSync(ctx context.Context, env *environment, o *logsSyncOptions) error {
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	st, err := env.eventStore(ctx)
	if err != nil {
		return err
	}
	tty := isTTY(env.stderr)
	began := time.Now()
	res, err := responders.SyncEvents(ctx, c, st, since, func(p responders.SyncProgress) {
		if tty {
			fmt.Fprintf(env.stderr, "\r\x1b[Ksync: %d pages, %d events (%d new), up to %s", p.Pages, p.Fetched, p.Added, fmtTime(p.Newest))
		}
	})
	if tty {
		fmt.Fprintln(env.stderr)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(env.stderr, "sync interrupted after %d events (%d new), all stored: run it again to fetch the rest\n", res.Fetched, res.Added)
		}
		return err
	}
	took := time.Since(began)
	// The names events give without an account id are looked up now, once,
	// not by the first view after the sync.
	names, err := responders.PrepareNames(ctx, responders.EventSource{Client: c, Store: st}, since)
	if err != nil {
		return err
	}
	if names.Note != "" {
		fmt.Fprintln(env.stderr, "note: "+names.Note)
	}
	n, err := st.Count(ctx)
	if err != nil {
		return err
	}
	out := syncOutput{Store: st.Path(), Pages: res.Pages, Fetched: res.Fetched, Added: res.Added, Events: n,
		Checkpoint: res.Feed.Checkpoint, CoversFrom: res.Feed.CoversFrom, CaughtUpAt: res.Feed.CaughtUpAt,
		Names: names.Asked, NamesLookedUp: names.Asked - names.Known}
	if env.opts.json {
		return printJSON(env.stdout, out)
	}
	fmt.Fprintf(env.stdout, "synced %d events (%d new) in %d requests and %s; the store holds %d events since %s (%s)\n",
		out.Fetched, out.Added, out.Pages, took.Round(time.Millisecond), n, fmtTime(out.CoversFrom), out.Store)
	if out.NamesLookedUp > 0 {
		fmt.Fprintf(env.stdout, "looked up %d user names the events give without an account id, in %s (%d no account holds)\n",
			out.NamesLookedUp, (time.Since(began) - took).Round(time.Millisecond), names.Unresolved)
	}
	return nil
}

// logsReceiveOptions are the inputs of `logs receive`.
type logsReceiveOptions struct {
	listen, tokenFile, tlsCert, tlsKey string
	maxBody                            int64
}

func newLogsReceiveCmd(env *environment) *cobra.Command {
	o := &logsReceiveOptions{}
	cmd := &cobra.Command{
		Use:   "receive",
		Short: "Receive Auth0's custom webhook log stream into the local event store",
		Long: `Receive listens for an Auth0 custom webhook log stream (Dashboard > Monitoring >
Streams > Custom Webhook; content format JSON Lines, JSON Array or JSON Object)
and appends the events to the tenant's local event store, answering 2xx only
once they are stored (Auth0 sends a batch again otherwise; a batch received
twice is kept once).

--token-file holds the stream's Authorization Token setting: the exact
Authorization header value every delivery must carry (compared in constant
time). Plain HTTP is accepted only on a loopback address; anything else needs
--tls-cert and --tls-key (Auth0 delivers only to https). ctrl+c stops it,
finishing the deliveries in flight.`,
		Example: `  atoctl logs receive --listen 127.0.0.1:8514 --token-file ~/.atoctl-stream-token
  atoctl logs receive --listen :8443 --token-file token --tls-cert cert.pem --tls-key key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runLogsReceive(cmd.Context(), env, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "address to listen on (host:port)")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the Authorization header value the stream sends")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate (PEM) to serve https")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key (PEM) of --tls-cert")
	f.Int64Var(&o.maxBody, "max-body", responders.DefaultMaxStreamBody, "largest delivery accepted, in bytes")
	return cmd
}

// receiveListen checks the options and returns the stream's Authorization
// value; nothing listens yet.
func (o *logsReceiveOptions) check() ([]byte, error) {
	if o.listen == "" {
		return nil, usagef("--listen is required: the address Auth0 delivers to, e.g. --listen 127.0.0.1:8514")
	}
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return nil, usagef("--listen %q: want host:port, e.g. 127.0.0.1:8514", auth0client.Clean(o.listen))
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	if o.tlsCert == "" && !loopbackHost(host) {
		return nil, usagef("--listen %s without TLS: plain HTTP is only for loopback; give --tls-cert and --tls-key (the stream's token would cross the network in clear)", auth0client.Clean(o.listen))
	}
	if o.maxBody < 1024 {
		return nil, usagef("--max-body must be at least 1024 bytes")
	}
	if o.tokenFile == "" {
		return nil, usagef("--token-file is required: a file holding the stream's Authorization header value")
	}
	tok, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return nil, usagef("--token-file: %v", err)
	}
	tok = bytes.TrimRight(tok, "\r\n")
	if len(bytes.TrimSpace(tok)) == 0 || bytes.ContainsAny(tok, "\r\n\x00") {
		return nil, usagef("--token-file %s: want one line holding the Authorization header value", auth0client.Clean(o.tokenFile))
	}
	return tok, nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runLogsReceive(ctx context.Context, env *environment, o *logsReceiveOptions) error {
	token, err := o.check()
	if err != nil {
		return err
	}
	st, err := env.eventStore(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	lr := &responders.LogReceiver{Store: st, Authorization: token, MaxBody: o.maxBody,
		Delivered: func(events, added int) {
			fmt.Fprintf(env.stderr, "%s received %d events (%d new)\n", time.Now().UTC().Format("15:04:05Z"), events, added)
		}}
	srv := &http.Server{Handler: lr, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	scheme := "http"
	if o.tlsCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(env.stderr, "receiving the log stream on %s://%s into %s; ctrl+c stops\n", scheme, ln.Addr(), st.Path())
	done := make(chan error, 1)
	go func() {
		if o.tlsCert != "" {
			done <- srv.ServeTLS(ln, o.tlsCert, o.tlsKey)
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("receive log stream: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		return fmt.Errorf("stop receiving: %w", err)
	}
	f, _ := st.Feed(context.Background(), eventstore.FeedStream)
	n, _ := st.Count(context.Background())
	fmt.Fprintf(env.stderr, "stopped; the stream brought %d events, the store holds %d\n", f.Received, n)
	return nil
}
