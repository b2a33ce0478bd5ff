package main

import (
	"context"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/responders"
	"github.com/atoctl/atoctl/tui"
)

func newTUICmd(env *environment) *cobra.Command {
	g := &guardFlags{}
	var allowWide string
	cmd := &cobra.Command{
		Use:   "tui",
		Short: "Open the full-screen console (what atoctl does on a terminal)",
		Long: `The console: search users, read their logs, sessions and refresh tokens,
explore the tenant's logs, and contain an account with the playbook (C on a
user; you type the user id to confirm). :triage ranks the attacking addresses
of a window, :ip shows what triage knows about one (i on a log or session
row), and X bulk-contains an address or network (you type the number of
accounts; :bulk resumes an interrupted run). The bulk run is the one 'ip
contain' runs, with the same defaults and the same guard: --allow networks and
your own addresses (--operator-ip, or ATOCTL_ALLOW / ATOCTL_OPERATOR_IP) are
never blocked. Every API call shows in the command log (ctrl+l); --dry-run
shows the writes it did not send. ? lists the keys.`,
		Example: `  atoctl --training tui
  atoctl tui --dry-run --operator-ip 198.51.100.7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !env.stdinTTY() || !isTTY(env.stdout) {
				return usagef("the console needs a terminal on stdin and stdout; from scripts use the commands (atoctl --help)")
			}
			guard, err := g.guard(env)
			if err != nil {
				return err
			}
			wide, err := parseAllowWide(allowWide)
			if err != nil {
				return err
			}
			return runTUI(cmd.Context(), env, guard, wide)
		},
	}
	g.bind(cmd)
	cmd.Flags().StringVar(&allowWide, "allow-wide", "", "let X contain and block networks as wide as this prefix length on purpose (e.g. /12)")
	return cmd
}

// guardFlags are --allow and --operator-ip: what a bulk run never blocks.
// The environment gives the defaults, so the console opened by a bare
// 'atoctl' knows them too.
type guardFlags struct {
	allow, operators []string
}

func (g *guardFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&g.allow, "allow", nil, "networks never to block (your egress, partners), comma-separated CIDRs; env ATOCTL_ALLOW")
	f.StringSliceVar(&g.operators, "operator-ip", nil, "your own addresses: never blocked, never evidence; env ATOCTL_OPERATOR_IP")
}

// guard reads the flags, or the environment where a flag is not given.
func (g *guardFlags) guard(env *environment) (responders.Guard, error) {
	allow, ops := g.allow, g.operators
	if len(allow) == 0 {
		allow = strings.Split(env.getenv("ATOCTL_ALLOW"), ",")
	}
	if len(ops) == 0 {
		ops = strings.Split(env.getenv("ATOCTL_OPERATOR_IP"), ",")
	}
	var out responders.Guard
	var err error
	if out.Allow, err = parsePrefixes("--allow", allow); err != nil {
		return out, err
	}
	out.Operators, err = parsePrefixes("--operator-ip", ops)
	return out, err
}

// runTUI opens the console against the configured tenant.
func runTUI(ctx context.Context, env *environment, guard responders.Guard, allowWide int) error {
	opts, err := env.consoleOptions(ctx, guard)
	opts.Bulk.AllowWide = allowWide
	if err != nil {
		return err
	}
	return tui.Run(opts)
}

// consoleOptions builds what the console needs: the client (with its
// requests fed to the command log), the write seam (a Recorder in
// dry-run), the guard and bulk defaults, and the incident journal. The
// console calls the shared layer (responders) for everything else.
func (env *environment) consoleOptions(ctx context.Context, guard responders.Guard) (tui.Options, error) {
	feed := tui.NewCallFeed()
	env.observer = feed.Observe
	c, err := env.tenant(ctx)
	if err != nil {
		return tui.Options{}, err
	}
	writer, _ := env.writer(c)
	incidents, err := env.incidents(c.Tenant())
	if err != nil {
		return tui.Options{}, err
	}
	// The console keeps the store filled in the background; its views read
	// it once it covers their window (the API before).
	events := responders.APIEvents(c)
	if !env.opts.noStore {
		st, err := env.eventStore(ctx)
		if err != nil {
			return tui.Options{}, err
		}
		events = responders.EventSource{Client: c, Store: st}
	}
	opts := tui.Options{
		Ctx:       ctx,
		Client:    c,
		Events:    events,
		Writer:    writer,
		Training:  env.opts.training,
		Scenario:  trainingScenario(env),
		Calls:     feed,
		Guard:     guard,
		Bulk:      responders.BulkSettings{Workers: responders.DefaultBulkWorkers},
		Incidents: &incidents,
		Since:     72 * time.Hour,
		Renderer:  lipgloss.NewRenderer(env.stdout),
		Clipboard: env.stdout,
	}
	if env.opts.training {
		// The exercise starts where an on-call analyst should: what is
		// happening (the scenarios span two days).
		opts.StartWithFindings = 48 * time.Hour
	}
	return opts, nil
}

// trainingScenario is the scenario the console's header names in training.
func trainingScenario(env *environment) string {
	if !env.opts.training {
		return ""
	}
	return env.opts.scenario
}
