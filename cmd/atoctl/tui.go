package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
	"github.com/atoctl/atoctl/tui"
)

func newTUICmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "Open the full-screen console (what atoctl does on a terminal)",
		Long: `The console: search users, read their logs, sessions and refresh tokens,
explore the tenant's logs, and contain an account with the playbook (C on a
user; you type the user id to confirm). :triage ranks the attacking addresses
of a window, :ip shows what triage knows about one (i on a log or session
row), and X bulk-contains an address or network (you type the number of
accounts; :bulk resumes an interrupted run). Every API call shows in the
command log (ctrl+l); --dry-run shows the writes it did not send. ? lists
the keys.`,
		Example: `  atoctl --training tui
  atoctl tui --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !env.stdinTTY() || !isTTY(env.stdout) {
				return usagef("the console needs a terminal on stdin and stdout; from scripts use the commands (atoctl --help)")
			}
			return runTUI(cmd.Context(), env)
		},
	}
}

// runTUI opens the console against the configured tenant.
func runTUI(ctx context.Context, env *environment) error {
	opts, err := env.consoleOptions(ctx)
	if err != nil {
		return err
	}
	return tui.Run(opts)
}

// consoleOptions builds what the console needs: the client (with its
// requests fed to the command log), the write seam (a Recorder in
// dry-run), the CLI's query rules and log search, and the incident journal.
func (env *environment) consoleOptions(ctx context.Context) (tui.Options, error) {
	feed := tui.NewCallFeed()
	env.observer = feed.Observe
	c, err := env.tenant(ctx)
	if err != nil {
		return tui.Options{}, err
	}
	opts := tui.Options{
		Ctx:      ctx,
		Client:   c,
		Writer:   c,
		Training: env.opts.training,
		DryRun:   env.opts.dryRun,
		Incident: env.currentIncident(),
		Calls:    feed,
		UserQuery: func(in string) (string, error) {
			return userQuery(in)
		},
		SearchLogs: func(ctx context.Context, s tui.LogSearch) (tui.LogResult, error) {
			return consoleLogSearch(ctx, c, s)
		},
		Triage: func(ctx context.Context, since time.Time, progress func(int)) (tui.TriageRead, error) {
			return consoleTriage(ctx, c, since, progress)
		},
		OpenIncident: func() (tui.IncidentJournal, error) {
			j, id, err := env.openIncident("", c.Tenant())
			if err != nil {
				return tui.IncidentJournal{}, err
			}
			return tui.IncidentJournal{Journal: j, ID: id, Close: j.Close}, nil
		},
		ExportReport: func(id, markdown string) (string, error) {
			return exportReport(env, id, markdown)
		},
		LoadIncident: func(id string) ([]responders.Record, error) {
			dir, err := incidentsDir(env.getenv)
			if err != nil {
				return nil, err
			}
			return responders.LoadJournal(dir, id)
		},
		Since:    72 * time.Hour,
		Renderer: lipgloss.NewRenderer(env.stdout),
	}
	if env.opts.dryRun {
		rec := &auth0client.Recorder{ResetClientID: c.ResetClientID()}
		opts.Writer, opts.Recorder = rec, rec
	}
	return opts, nil
}

// consoleLogSearch is `logs search` for the console: the same filters,
// window splitting past Auth0's cap, and the filter as a predicate for
// following new events.
func consoleLogSearch(ctx context.Context, c *auth0client.Client, s tui.LogSearch) (tui.LogResult, error) {
	f := logFilter{types: s.Types}
	if s.IP != "" {
		ip, err := parseIPFilter(s.IP)
		if err != nil {
			return tui.LogResult{}, err
		}
		f.ip = &ip
	}
	if s.User != "" {
		u, err := resolveUser(ctx, c, s.User)
		if err != nil {
			return tui.LogResult{}, err
		}
		f.user = u.ID
	}
	events, err := searchWindows(ctx, c, serverQuery(f, ""), s.Since, f, s.Limit)
	if err != nil {
		return tui.LogResult{}, err
	}
	return tui.LogResult{Events: events, Matches: f.matches}, nil
}

// consoleTriage is `ip triage` for the console: the tenant's events since
// since (at most the CLI's default limit), triaged as they stream in, with
// progress for the console's counter. User names are not looked up (the
// CLI does that), so accounts tried only by name may be missing from the
// targeted count; bulk discovery does the same.
func consoleTriage(ctx context.Context, c *auth0client.Client, since time.Time, progress func(int)) (tui.TriageRead, error) {
	tr := responders.NewTriage(responders.TriageConfig{Since: since})
	n := 0
	_, limited, err := readTenantLogs(ctx, c, since, defaultTriageLimit, func(e auth0client.LogEvent) {
		tr.Add(responders.TriageEventFrom(e))
		if n++; n%500 == 0 {
			progress(n)
		}
	})
	if err != nil {
		return tui.TriageRead{}, err
	}
	var note string
	if limited {
		note = fmt.Sprintf("stopped at %d events; later events were not read", defaultTriageLimit)
	} else if oldest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1, Ascending: true}); err == nil && len(oldest) > 0 && oldest[0].Date.After(since.Add(time.Hour)) {
		note = "the window reaches past the tenant's oldest event (" + fmtTime(oldest[0].Date) + "): log retention is plan-dependent"
	}
	return tui.TriageRead{Result: tr.Result(), Note: note}, nil
}

// exportReport saves an incident's Markdown report beside its journal
// (mode 0600: it names users and addresses).
func exportReport(env *environment, id, markdown string) (string, error) {
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, id+".report.md")
	if err := os.WriteFile(path, []byte(markdown), 0o600); err != nil {
		return "", err
	}
	return path, nil
}
