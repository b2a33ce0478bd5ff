package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// containOptions are the inputs of `contain` and of the single-step user
// commands (block, revoke, unblock), which run the same engine.
type containOptions struct {
	users         []string
	fromFile      string
	steps         []string
	resetMethod   string
	ticketOut     string
	incident      string
	since         string
	yes           bool
	resend        bool
	force         bool
	concurrency   int
	verifyTimeout time.Duration
	// finding runs a detect finding's response instead of USER arguments.
	finding string
}

func newContainCmd(env *environment) *cobra.Command {
	o := &containOptions{}
	cmd := &cobra.Command{
		Use:   "contain USER...",
		Short: "Run the ATO playbook on accounts: snapshot, block, revoke, reset, unblock check",
		Long: `Contain taken-over accounts with the ATO playbook, in this order:

  snapshot       save profile, sessions, tokens, MFA methods and recent logs into the incident
  block          PATCH blocked=true, so the attacker cannot sign in again during the revoke
  revoke         delete sessions and refresh tokens (or grants, on plans without them)
  reset          password reset email (or --reset-method ticket, delivered out of band)
  unblock-check  is a deployed post-change-password Action going to unblock the owner?

Every step is idempotent: a second run reports "already-done" and sends only reads.
--steps picks steps; they always run in the playbook's order (the optional "mfa"
between revoke and reset), each once. An account named twice (by email and by id)
is contained once. Before the reset, atoctl reports persistence found in the attack
window (--since): an email or phone changed, MFA enrolled, identities linked; it
refuses to send a reset to an address changed in the window unless --force. The
optional step "mfa" removes factors enrolled in the window and invalidates
remembered browsers. While an attacker's factor or address stays, the run exits 3.

Every action is journaled in the incident (--incident, default: the current one).
Interactive runs show the plan and ask you to type the user id (or the count of
users); scripts must pass --yes. --dry-run shows every call and sends no write.
Ticket URLs are credentials: they go to the terminal or --ticket-out FILE only.`,
		Example: `  atoctl contain 'auth0|65f0c2a1b3d4e5f6a7b8c9d0'
  atoctl contain alice@example.com bob@example.com --dry-run
  atoctl contain --from-file compromised.txt --yes --json
  atoctl contain USER --reset-method ticket --ticket-out tickets.txt --yes
  atoctl contain USER --steps snapshot,block,revoke,mfa --incident inc-20261127-0210-ab12`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.users = args
			return runContain(cmd.Context(), env, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.fromFile, "from-file", "", "read users (ids or emails, one per line) from a file, or - for stdin")
	f.StringSliceVar(&o.steps, "steps", responders.DefaultSteps, "steps to run, always in the playbook's order: snapshot,block,revoke,mfa,reset,unblock-check")
	f.StringVar(&o.resetMethod, "reset-method", "email", "email (Auth0 mails the owner) or ticket (a URL you deliver)")
	f.StringVar(&o.ticketOut, "ticket-out", "", "write password-change ticket URLs to this file (mode 0600) instead of the terminal")
	bindCommonContainFlags(cmd, o, "72h")
	f.BoolVar(&o.resend, "resend", false, "send a reset again when an interrupted run left one unconfirmed")
	f.BoolVar(&o.force, "force", false, "send a reset even to an email the logs show was changed (it may be the attacker's)")
	f.IntVar(&o.concurrency, "concurrency", 8, "users worked on at once (they share the rate budget)")
	f.StringVar(&o.finding, "finding", "", "run the response of a finding of the last 'atoctl detect' (its accounts' steps and its networks' block)")
	return cmd
}

// defaultVerifyTimeout is how long a run waits for Auth0 to show a change
// (a revocation, the reset's scpr event) before it reports it unconfirmed.
const defaultVerifyTimeout = 20 * time.Second

func bindCommonContainFlags(cmd *cobra.Command, o *containOptions, since string) {
	f := cmd.Flags()
	f.DurationVar(&o.verifyTimeout, "verify-timeout", defaultVerifyTimeout, "how long to wait for Auth0 to show a change (it logs resets late) before reporting it unconfirmed")
	f.StringVar(&o.incident, "incident", "", "incident to journal into (default: the current incident, or a new one)")
	f.StringVar(&o.since, "since", since, "start of the attack window: a duration back (72h, 7d) or an RFC 3339 time")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required when not interactive)")
}

// containRun is a validated contain invocation.
type containRun struct {
	targets []string
	steps   []responders.Step
	opts    responders.Options
	action  string // what is asked for confirmation: "contain", "block", …
}

func (env *environment) stdinTTY() bool {
	f, ok := env.stdin.(*os.File)
	return ok && isTTY(f)
}

// readTargets gathers users from arguments and --from-file.
func readTargets(env *environment, args []string, fromFile string) ([]string, error) {
	targets := append([]string(nil), args...)
	if fromFile != "" {
		var r io.Reader
		if fromFile == "-" {
			r = env.stdin
		} else {
			f, err := os.Open(fromFile)
			if err != nil {
				return nil, usagef("--from-file: %v", err)
			}
			defer f.Close()
			r = f
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 64<<10)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if err := responders.ValidUserArg(line); err != nil {
				return nil, usagef("--from-file line %d: %v", n, err)
			}
			targets = append(targets, line)
		}
		if err := sc.Err(); err != nil {
			return nil, usagef("--from-file: %v", err)
		}
	}
	var out []string
	for _, t := range targets {
		if err := responders.ValidUserArg(t); err != nil {
			return nil, flagInput("USER", err)
		}
		out = append(out, strings.TrimSpace(t))
	}
	out = responders.Unique(out)
	if len(out) == 0 {
		return nil, usagef("no users given: pass user ids or emails, or --from-file FILE (- for stdin)")
	}
	return out, nil
}

func runContain(ctx context.Context, env *environment, o *containOptions) error {
	if o.finding != "" {
		return runContainFinding(ctx, env, o)
	}
	run, err := prepareContain(env, o, "contain")
	if err != nil {
		return err
	}
	return executeContain(ctx, env, o, run)
}

// prepareContain validates everything before anything is sent.
func prepareContain(env *environment, o *containOptions, action string) (*containRun, error) {
	targets, err := readTargets(env, o.users, o.fromFile)
	if err != nil {
		return nil, err
	}
	run := &containRun{targets: targets, action: action}
	if action == "contain" {
		// The playbook's order, whatever order --steps was given in.
		if run.steps, err = responders.ParseSteps(o.steps); err != nil {
			return nil, flagInput("--steps", err)
		}
	} else {
		for _, name := range o.steps { // the single-step commands' own step
			s, err := responders.StepByName(name)
			if err != nil {
				return nil, err
			}
			run.steps = append(run.steps, s)
		}
	}
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return nil, err
	}
	if o.verifyTimeout < 0 || o.verifyTimeout > time.Hour {
		return nil, usagef("--verify-timeout must be between 0s and 1h")
	}
	run.opts = responders.Options{WindowStart: since, ResetMethod: o.resetMethod, Force: o.force, Resend: o.resend, VerifyTimeout: cmp.Or(o.verifyTimeout, defaultVerifyTimeout)}
	switch o.resetMethod {
	case "email":
		if o.ticketOut != "" {
			return nil, usagef("--ticket-out is for --reset-method ticket")
		}
	case "ticket":
		sink, err := ticketSink(env, o.ticketOut)
		if err != nil {
			return nil, err
		}
		run.opts.TicketSink = sink
	default:
		return nil, usagef("--reset-method %q: use email or ticket", auth0client.Clean(o.resetMethod))
	}
	if o.incident != "" {
		if err := responders.ValidIncidentID(o.incident); err != nil {
			return nil, usagef("--incident: %v", err)
		}
	}
	if o.concurrency < 1 || o.concurrency > 64 {
		return nil, usagef("--concurrency must be between 1 and 64")
	}
	if !env.opts.dryRun && !o.yes && !env.stdinTTY() {
		return nil, usagef("%s changes the tenant: pass --yes to confirm when not running interactively (or --dry-run to see the plan)", action)
	}
	return run, nil
}

// ticketSink delivers password-change ticket URLs: to a 0600 file, or to
// the controlling terminal. Never to stdout, JSON or the journal.
func ticketSink(env *environment, path string) (func(string, auth0client.Secret) error, error) {
	if path != "" {
		if dir := filepath.Dir(path); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return nil, usagef("--ticket-out: %v", err)
			}
		}
		return responders.TicketsToFile(path), nil
	}
	if env.opts.dryRun {
		return nil, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return nil, usagef("--reset-method ticket needs a terminal to show the ticket on, or --ticket-out FILE")
	}
	_ = tty.Close()
	return func(userID string, t auth0client.Secret) error {
		tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("show ticket: %w", err)
		}
		defer tty.Close()
		_, err = fmt.Fprintf(tty, "password-change ticket for %s (deliver it to the owner; it is a credential):\n  %s\n", auth0client.Clean(userID), t.Reveal())
		return err
	}, nil
}

// containReport is the JSON form of a contain run.
type containReport struct {
	Incident     string                  `json:"incident"`
	Mode         responders.Mode         `json:"mode"`
	Results      []responders.UserResult `json:"results"`
	PlannedCalls []auth0client.Call      `json:"planned_calls,omitempty"`
	JournalHead  string                  `json:"journal_head"`
}

func executeContain(ctx context.Context, env *environment, o *containOptions, run *containRun) error {
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	// Resolved, then deduplicated: an account named by email and by id is
	// contained once.
	ids, err := responders.ResolveTargets(ctx, c, run.targets)
	if err != nil {
		return flagInput("USER", err)
	}
	j, incident, err := env.openIncident(o.incident, c.Tenant())
	if err != nil {
		return err
	}
	defer j.Close()

	// Preflight: what would fail mid-playbook fails now, before any write.
	var names []string
	for _, s := range run.steps {
		names = append(names, s.Name())
	}
	pre, err := responders.Preflight(ctx, c, responders.PreflightNeed{Steps: names, ResetMethod: run.opts.ResetMethod, User: ids[0]})
	if err != nil {
		return err
	}
	if err := reportPreflight(env, pre); err != nil {
		return err
	}
	run.opts.ResetClients = pre.ResetClients
	writer, rec := env.writer(c)
	runner := &responders.Runner{Client: c, Writer: writer, Journal: j, Steps: run.steps, Opts: run.opts, Workers: o.concurrency}

	if !env.opts.dryRun && !o.yes {
		if err := confirmContain(ctx, env, runner, run, ids); err != nil {
			return err
		}
	}

	events := make(chan responders.Event, 64)
	runner.Events = events
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range events {
			printProgress(env, ev)
		}
	}()
	fmt.Fprintf(env.stderr, "incident %s: %s %d user(s)%s\n", incident, run.action, len(ids), modeNote(env))
	results, err := runner.Run(ctx, ids)
	close(events)
	<-done
	if err != nil {
		return err
	}

	rep := containReport{Incident: incident, Mode: env.mode(), Results: results, JournalHead: j.Head()}
	if rec != nil {
		rep.PlannedCalls = rec.Calls()
	}
	if env.opts.json {
		if err := printJSON(env.stdout, rep); err != nil {
			return err
		}
	} else if err := printContainResults(env, rep); err != nil {
		return err
	}
	failedSteps, okSteps, uncontained, unconfirmed := 0, 0, 0, 0
	for _, r := range results {
		ok := r.Succeeded()
		okSteps += ok
		failedSteps += len(r.Steps) - ok
		if r.Error != "" {
			failedSteps++
		}
		for _, s := range r.Steps {
			if s.Outcome == responders.AwaitingUnblock {
				fmt.Fprintf(env.stderr, "WARNING: %s stays blocked after the reset: %s\n", auth0client.Clean(r.UserID), s.Reason)
			}
			if s.Outcome == responders.AwaitingConfirmation {
				unconfirmed++
				fmt.Fprintf(env.stderr, "WARNING: %s: %s %s\n", auth0client.Clean(r.UserID), s.Step, auth0client.Clean(s.Reason))
			}
		}
		// Persistence the run left in place: the account is not contained,
		// whatever the steps reported.
		if left := persistenceLeft(r, env.opts.dryRun); len(left) > 0 {
			uncontained++
			fmt.Fprintf(env.stderr, "WARNING: %s is not fully contained: %s\n", auth0client.Clean(r.UserID), persistenceWarning(left))
		}
	}
	fmt.Fprintf(env.stderr, "journal %s head %s (verify: atoctl incident verify %s --head %s)\n", j.Path(), j.Head(), incident, j.Head())
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Exit 0 when nothing failed, 3 when some steps failed and others
	// worked (or contain left an attacker's way back in), 1 when nothing
	// worked. A single step (users block, …) was not asked to contain the
	// account: it warns, and exits on its own outcome.
	if failedSteps > 0 {
		return partialError{done: okSteps, failed: failedSteps}
	}
	if uncontained > 0 && run.action == "contain" {
		return notContainedError{users: uncontained}
	}
	if unconfirmed > 0 {
		return unconfirmedError{sends: unconfirmed}
	}
	return nil
}

func modeNote(env *environment) string {
	switch {
	case env.opts.dryRun:
		return " (DRY-RUN: no write is sent)"
	case env.opts.training:
		return " (TRAINING)"
	}
	return ""
}

// mode is the journal's mode for this invocation.
func (env *environment) mode() responders.Mode {
	switch {
	case env.opts.dryRun:
		return responders.ModeDryRun
	case env.opts.training:
		return responders.ModeTraining
	}
	return responders.ModeLive
}

// confirmContain shows the plan on stderr and asks for the user id (one
// user) or the count (several) typed back. Anything else cancels.
func confirmContain(ctx context.Context, env *environment, runner *responders.Runner, run *containRun, ids []string) error {
	fmt.Fprintf(env.stderr, "The plan (%s):\n", run.action)
	for _, id := range ids {
		t, err := runner.Load(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "\n  %s <%s>\n", auth0client.Clean(id), auth0client.Clean(t.User.Email))
		for _, f := range t.Findings {
			fmt.Fprintf(env.stderr, "    ! persistence: %s: %s\n", f.Kind, auth0client.Clean(f.Detail))
		}
		for _, ps := range runner.PlanUser(ctx, t) {
			fmt.Fprintf(env.stderr, "    %-14s %s\n", ps.Step, ps.Summary())
			for _, c := range ps.Plan.Calls {
				fmt.Fprintf(env.stderr, "                   %s\n", c)
			}
		}
	}
	want := ids[0]
	prompt := "\nType the user id to confirm (anything else cancels): "
	if len(ids) > 1 {
		want = strconv.Itoa(len(ids))
		prompt = fmt.Sprintf("\nType the number of users (%d) to confirm (anything else cancels): ", len(ids))
	}
	fmt.Fprint(env.stderr, prompt)
	line, _ := bufio.NewReader(env.stdin).ReadString('\n')
	if strings.TrimSpace(line) != want {
		return errors.New("not confirmed: nothing was changed")
	}
	return nil
}

func printProgress(env *environment, ev responders.Event) {
	if env.opts.json && !isTTY(env.stderr) {
		return
	}
	msg := fmt.Sprintf("%-12s %-14s %s", ev.Outcome, ev.Step, ev.UserID)
	if ev.Reason != "" && ev.Outcome != responders.Running {
		msg += " " + ev.Reason
	}
	if ev.Error != "" {
		msg += " — " + ev.Error
	}
	fmt.Fprintln(env.stderr, auth0client.Clean(msg))
}

func printContainResults(env *environment, rep containReport) error {
	t := &table{header: []string{"user", "step", "outcome", "detail"}}
	for _, r := range rep.Results {
		if r.Error != "" {
			t.add(r.UserID, "", string(responders.Failed), r.Error)
		}
		// Persistence first: it was found before the steps ran, and it says
		// what the steps could not undo.
		for _, f := range r.Findings {
			t.add(r.UserID, "persistence", "FOUND", persistenceDetail(r, f, env.opts.dryRun))
		}
		for _, s := range r.Steps {
			detail := s.Reason
			if s.Error != "" {
				detail = s.Error
			}
			t.add(r.UserID, s.Step, string(s.Outcome), detail)
		}
	}
	if err := t.print(env.stdout, env.stdoutTTY); err != nil {
		return err
	}
	for _, c := range rep.PlannedCalls {
		fmt.Fprintf(env.stdout, "planned: %s\n", c)
	}
	return nil
}

// runContainFinding runs a detect finding's response with the bulk engine:
// its networks blocked first, then each account's own steps (a ticket
// where the attacker changed the email).
func runContainFinding(ctx context.Context, env *environment, o *containOptions) error {
	switch {
	case len(o.users) > 0 || o.fromFile != "":
		return usagef("--finding takes its accounts from the finding: give no USER or --from-file")
	case o.concurrency < 1 || o.concurrency > 64:
		return usagef("--concurrency must be between 1 and 64")
	case !env.opts.dryRun && !o.yes && !env.stdinTTY():
		return usagef("contain changes the tenant: pass --yes to confirm when not running interactively (or --dry-run to see the plan)")
	}
	if o.incident != "" {
		if err := responders.ValidIncidentID(o.incident); err != nil {
			return usagef("--incident: %v", err)
		}
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	path, err := env.findingsPath(c.Tenant())
	if err != nil {
		return err
	}
	f, saved, err := responders.LoadFinding(path, strings.TrimSpace(o.finding))
	if err != nil {
		return flagInput("--finding", err)
	}
	guard, err := (&guardFlags{}).guard(env)
	if err != nil {
		return err
	}
	plan, err := responders.PlanFinding(f, saved.Since, guard, 0)
	if err != nil {
		return flagInput("--finding", err)
	}
	var tickets func(string, auth0client.Secret) error
	if len(plan.TicketResets) > 0 {
		if tickets, err = ticketSink(env, o.ticketOut); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.stderr, "finding %s (detected %s): %s\n", f.ID, fmtTime(saved.At), auth0client.Clean(f.Title))
	j, _, err := env.openIncident(o.incident, c.Tenant())
	if err != nil {
		return err
	}
	defer j.Close()
	return runBulkPlan(ctx, env, c, j, plan, bulkRun{yes: o.yes, resend: o.resend, workers: o.concurrency, verifyTimeout: o.verifyTimeout, tickets: tickets})
}
