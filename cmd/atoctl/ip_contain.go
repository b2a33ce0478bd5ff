package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// stepBulkPlan names the journal note that records a bulk run's targets,
// so --resume finishes exactly the same work after a crash.
const stepBulkPlan = responders.NoteBulkPlan

// ipContainOptions are the inputs of `ip contain`.
type ipContainOptions struct {
	containOptions
	acl             bool
	resetTargeted   bool
	resetMFAStopped bool
	resume          bool
	guard           guardFlags
	allowWide       string
	fingerprints    []string
}

// parseAllowWide reads --allow-wide: a prefix length, "/12" or "12".
func parseAllowWide(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(s), "/"))
	if err != nil || n < 1 || n > 128 {
		return 0, usagef("--allow-wide %q is not a prefix length like /12 (never /0)", auth0client.Clean(s))
	}
	return n, nil
}

// bulkPlan is what discovery decided, journaled before anything is written.
type bulkPlan = responders.BulkPlan

// newIPContainCmds returns `ip contain` and `ip release` (bulk containment).
func newIPContainCmds(env *environment) []*cobra.Command {
	return []*cobra.Command{newIPContainCmd(env), newIPReleaseCmd(env)}
}

func newIPContainCmd(env *environment) *cobra.Command {
	o := &ipContainOptions{}
	cmd := &cobra.Command{
		Use:   "contain IP|CIDR...",
		Short: "Contain every account an attacking IP or network got into; optionally block it",
		Long: `Find every account the addresses touched in the window (--since), split them into
compromised, stopped by MFA and targeted (as 'ip triage' does), show the impact, then
contain the compromised accounts at the rate budget, locking the attacker out first:

  1. network ACL   with --acl, the networks are blocked before anything else
  2. block         every compromised account, one write each
  3. snapshot, revoke   evidence saved, then sessions and refresh tokens revoked
  4. reset         password resets (also --reset-mfa-stopped / --reset-targeted
                   accounts), confirmed together by one log search
  5. unblock check the post-change-password Action, read once for the run

--acl blocks the networks in one atoctl-managed Network ACL rule (block, scope
authentication, a priority after the tenant's allow rules), merged into CIDRs within
Auth0's limit of 20 entries; what does not fit is reported, never dropped silently.
Shared infrastructure is never blocked: your own addresses (--operator-ip), --allow
networks (both default to ATOCTL_OPERATOR_IP and ATOCTL_ALLOW, which the console
reads too), and addresses many accounts use successfully (a backend, a carrier NAT).

Interactive runs ask you to type the number of accounts the run writes to; scripts pass
--yes. Progress goes to stderr. Everything is journaled: after a crash or ctrl+c,
--resume (same --incident) finishes what is not verified done, with the same targets.
The console's X runs the same code with the same defaults.`,
		Example: `  atoctl ip contain 193.42.33.0/24 --since 24h --dry-run
  atoctl ip contain 193.42.33.0/24 167.99.171.12 --acl --reset-mfa-stopped --yes --json
  atoctl ip contain --resume --incident inc-20261127-0210-ab12 --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIPContain(cmd.Context(), env, args, o)
		},
	}
	f := cmd.Flags()
	bindCommonContainFlags(cmd, &o.containOptions, "24h")
	f.BoolVar(&o.acl, "acl", false, "also block the networks in the atoctl-managed Network ACL")
	f.StringSliceVar(&o.fingerprints, "fingerprint", nil, "with --acl, also block this JA3 or JA4 TLS fingerprint of the attack's tooling (see 'ip triage'), after the accounts; refused when ordinary customers' logins use it; repeatable")
	f.BoolVar(&o.resetTargeted, "reset-targeted", false, "also send password resets to accounts that were only targeted")
	f.BoolVar(&o.resetMFAStopped, "reset-mfa-stopped", false, "also send password resets to accounts stopped by MFA (their password is known)")
	f.BoolVar(&o.resume, "resume", false, "finish an interrupted run of the incident with its journaled targets")
	f.BoolVar(&o.resend, "resend", false, "send a reset again when an interrupted run left one unconfirmed")
	o.guard.bind(cmd)
	f.StringVar(&o.allowWide, "allow-wide", "", "contain and block networks as wide as this prefix length on purpose (e.g. /12); without it nothing wider than an IPv4 /16 or IPv6 /32, and never /0")
	f.IntVar(&o.concurrency, "concurrency", responders.DefaultBulkWorkers, "accounts worked on at once (they share the rate budget)")
	return cmd
}

func runIPContain(ctx context.Context, env *environment, args []string, o *ipContainOptions) error {
	targets, err := parsePrefixes("IP|CIDR", args)
	if err != nil {
		return err
	}
	allowWide, err := parseAllowWide(o.allowWide)
	if err != nil {
		return err
	}
	// The blast radius, before anything is sent (the token fetch included).
	if err := responders.CheckBlastRadius(targets, allowWide); err != nil {
		return flagInput("IP|CIDR", err)
	}
	guard, err := o.guard.guard(env)
	if err != nil {
		return err
	}
	switch {
	case o.resume && len(args) > 0:
		return usagef("--resume takes its targets from the journal: give --incident, not addresses")
	case !o.resume && len(args) == 0:
		return usagef("give the attacking IPs or CIDRs (e.g. 203.0.113.0/24), or --resume")
	case o.incident != "":
		if err := responders.ValidIncidentID(o.incident); err != nil {
			return usagef("--incident: %v", err)
		}
	}
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return err
	}
	if o.concurrency < 1 || o.concurrency > 64 {
		return usagef("--concurrency must be between 1 and 64")
	}
	if err := checkFingerprintFlags(o.fingerprints, o.acl); err != nil {
		return err
	}
	if !env.opts.dryRun && !o.yes && !env.stdinTTY() {
		return usagef("ip contain changes the tenant: pass --yes to confirm when not running interactively (or --dry-run to see the plan)")
	}
	if o.resume && o.incident == "" {
		if o.incident = env.currentIncident(); o.incident == "" {
			return usagef("--resume needs --incident ID (there is no current incident)")
		}
	}

	var plan bulkPlan
	if !o.resume {
		// Discovery before the tenant: a training tenant then starts
		// beside the store read.
		if plan, err = discover(ctx, env, targets, since, guard, allowWide); err != nil {
			return err
		}
		responders.BulkSettings{ACL: o.acl, ResetTargeted: o.resetTargeted, ResetMFAStopped: o.resetMFAStopped}.Apply(&plan)
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	j, incident, err := env.openIncident(o.incident, c.Tenant())
	if err != nil {
		return err
	}
	defer j.Close()
	if o.resume {
		if plan, err = journaledBulkPlan(j.Records()); err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "resuming incident %s: %d compromised, %d stopped by MFA, %d targeted\n", incident, len(plan.Compromised), len(plan.StoppedByMFA), len(plan.Targeted))
	}

	err = runBulkPlan(ctx, env, c, j, plan, bulkRun{yes: o.yes, resume: o.resume, resend: o.resend, workers: o.concurrency, verifyTimeout: o.verifyTimeout})
	return blockFingerprints(ctx, env, c, j, o.fingerprints, targets, since, err)
}

// bulkRun is how a bulk plan is run: confirmation, resume, pacing.
type bulkRun struct {
	yes, resume, resend bool
	workers             int
	verifyTimeout       time.Duration
	// tickets delivers password-change tickets (the plan's ticket resets).
	tickets func(userID string, t auth0client.Secret) error
}

// runBulkPlan shows a plan's impact, asks for the typed count, runs it with
// the bulk engine (the console's X runs the same) and reports.
func runBulkPlan(ctx context.Context, env *environment, c *auth0client.Client, j *responders.Journal, plan bulkPlan, o bulkRun) error {
	incident := j.Incident()
	writer, rec := env.writer(c)
	var aclPlan *responders.ACLPlan
	var err error
	if plan.ACL {
		if aclPlan, err = responders.PlanBulkACL(ctx, c, incident, plan); err != nil {
			return err
		}
	}
	ids, steps := plan.AccountSteps()
	need := responders.PreflightNeed{ResetMethod: "email", Tickets: len(plan.TicketResets) > 0, ACL: plan.ACL}
	for _, id := range ids {
		for _, s := range steps[id] {
			if !slices.Contains(need.Steps, s) {
				need.Steps = append(need.Steps, s)
			}
		}
	}
	if len(ids) > 0 {
		need.User = ids[0]
	}
	pre, err := responders.Preflight(ctx, c, need)
	if err != nil {
		return err
	}
	if err := reportPreflight(env, pre); err != nil {
		return err
	}
	printImpact(env, plan, aclPlan)
	if !env.opts.dryRun && !o.yes && !o.resume {
		if err := confirmCount(env, plan.Accounts()); err != nil {
			return err
		}
	}
	opts := responders.Options{WindowStart: plan.Since, ResetMethod: "email", Resend: o.resend, VerifyTimeout: cmp.Or(o.verifyTimeout, defaultVerifyTimeout), TicketSink: o.tickets, ResetClients: pre.ResetClients}
	bulk := &responders.Bulk{Client: c, Writer: writer, Journal: j, Plan: plan, ACL: aclPlan, Opts: opts, Workers: o.workers, Resume: o.resume}
	prog := newProgress(env, c, plan.StepsFor())
	events := make(chan responders.Event, 256)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); prog.consume(events) }()
	res, err := bulk.Run(ctx, events)
	close(events)
	wg.Wait()
	prog.finish()
	if err != nil {
		return err
	}
	return reportBulk(ctx, env, j, incident, plan, aclPlan, res.ACL, res.Results, rec)
}

// discover reads the addresses' events in the window and triages them,
// never blocking the allowlisted networks or the operator's own.
func discover(ctx context.Context, env *environment, targets []netip.Prefix, since time.Time, guard responders.Guard, allowWide int) (bulkPlan, error) {
	src, err := env.events(ctx, true)
	if err != nil {
		return bulkPlan{}, err
	}
	if src.Store != nil {
		fmt.Fprintf(env.stderr, "note: events from the local store (%s)\n", src.Store.Path())
	}
	return responders.DiscoverBulk(ctx, responders.BulkDiscovery{Targets: targets, Since: since, Guard: guard, AllowWide: allowWide,
		Read: src.BulkRead(since), Resolve: src.BulkResolve(),
		Searched: func(t netip.Prefix, n int) {
			fmt.Fprintf(env.stderr, "%s: %d events since %s\n", t, n, fmtTime(since))
		}})
}

// journaledBulkPlan finds the newest bulk plan of the incident.
func journaledBulkPlan(recs []responders.Record) (bulkPlan, error) {
	p, _, err := responders.JournaledBulkPlan(recs)
	if errors.Is(err, responders.ErrNoBulkPlan) {
		return p, usagef("the incident has no bulk run to resume (run 'ip contain IP…' first)")
	}
	return p, err
}

func printImpact(env *environment, p bulkPlan, acl *responders.ACLPlan) {
	w := env.stderr
	for _, t := range p.Targets {
		if pr, err := netip.ParsePrefix(t); err == nil {
			fmt.Fprintf(w, "network %s: %s addresses\n", t, responders.AddressCount(pr))
		}
	}
	fmt.Fprintf(w, "impact: %d compromised (will be contained), %d stopped by MFA%s, %d targeted%s\n",
		len(p.Compromised), len(p.StoppedByMFA), onOff(p.ResetMFAStopped, " (reset)"), len(p.Targeted), onOff(p.ResetTargeted, " (reset)"))
	for _, r := range p.Refused {
		fmt.Fprintf(w, "not blocking %s: %s\n", r.CIDR, auth0client.Clean(r.Reason))
	}
	if acl == nil {
		return
	}
	switch {
	case acl.Call == nil && acl.Fits():
		fmt.Fprintln(w, "acl: every network is already blocked")
	default:
		fmt.Fprintf(w, "acl: add %s to the atoctl-managed Network ACL", strings.Join(acl.Added, ", "))
		if acl.Existing == nil {
			fmt.Fprintf(w, " (new ACL, priority %d)", acl.Want.Priority)
		}
		fmt.Fprintln(w)
		if !acl.Fits() {
			fmt.Fprintf(w, "acl: %d entries DO NOT FIT (Auth0 allows %d per list): %s\n", len(acl.DoesNotFit), auth0client.MaxACLEntries, strings.Join(acl.DoesNotFit, ", "))
		}
	}
}

func onOff(b bool, s string) string {
	if b {
		return s
	}
	return ""
}

// confirmCount asks for the number of accounts typed back.
func confirmCount(env *environment, n int) error {
	fmt.Fprintf(env.stderr, "Type the number of accounts the run writes to (%d) to confirm (anything else cancels): ", n)
	var line string
	_, _ = fmt.Fscanln(env.stdin, &line)
	if strings.TrimSpace(line) != fmt.Sprint(n) {
		return errors.New("not confirmed: nothing was changed")
	}
	return nil
}

// bulkReport is the JSON form of an ip contain run.
type bulkReport struct {
	Incident     string                  `json:"incident"`
	Mode         responders.Mode         `json:"mode"`
	Plan         bulkPlan                `json:"plan"`
	ACLPlan      *responders.ACLPlan     `json:"acl_plan,omitempty"`
	ACL          *responders.StepResult  `json:"acl,omitempty"`
	Results      []responders.UserResult `json:"results"`
	PlannedCalls []auth0client.Call      `json:"planned_calls,omitempty"`
	JournalHead  string                  `json:"journal_head"`
}

func reportBulk(ctx context.Context, env *environment, j *responders.Journal, incident string, plan bulkPlan, aclPlan *responders.ACLPlan, acl *responders.StepResult, results []responders.UserResult, rec *auth0client.Recorder) error {
	rep := bulkReport{Incident: incident, Mode: env.mode(), Plan: plan, ACLPlan: aclPlan, ACL: acl, Results: results, JournalHead: j.Head()}
	if rec != nil {
		rep.PlannedCalls = rec.Calls()
	}
	failed, ok, unconfirmed := 0, 0, 0
	var failures []string
	// An interrupted run leaves most accounts untouched: they are one
	// summary line, not a failure each.
	interrupted := ctx.Err() != nil
	notStarted := 0
	started := results[:0:0]
	for _, r := range results {
		if interrupted && len(r.Steps) == 0 && strings.HasPrefix(r.Error, "not started") {
			notStarted++
			continue
		}
		started = append(started, r)
	}
	if !env.opts.json {
		results = started
	}
	for _, r := range started {
		ok += r.Succeeded()
		if r.Failed() {
			failed++
			failures = append(failures, r.UserID+": "+firstFailure(r))
		}
		if _, waiting := r.Unconfirmed(); waiting {
			unconfirmed++
		}
	}
	if acl != nil {
		if acl.Outcome == responders.Failed {
			failed++
			failures = append(failures, "network ACL: "+acl.Error)
		} else {
			ok++
		}
	}
	if env.opts.json {
		if err := printJSON(env.stdout, rep); err != nil {
			return err
		}
	} else {
		t := &table{header: []string{"user", "result", "detail"}}
		for _, r := range results {
			res, detail := "contained", ""
			if env.opts.dryRun {
				res = "planned"
			}
			if s, waiting := r.Unconfirmed(); waiting {
				res, detail = "unconfirmed", s.Step+": "+s.Reason
			}
			if r.Failed() {
				res, detail = "FAILED", firstFailure(r)
			}
			t.add(r.UserID, res, detail)
		}
		if acl != nil {
			t.add("(network ACL)", string(acl.Outcome), acl.Reason+" "+acl.Error)
		}
		if err := t.print(env.stdout, env.stdoutTTY); err != nil {
			return err
		}
	}
	for _, f := range failures {
		fmt.Fprintln(env.stderr, "failed: "+auth0client.Clean(f))
	}
	fmt.Fprintf(env.stderr, "journal %s head %s (resume: atoctl ip contain --resume --incident %s)\n", j.Path(), j.Head(), incident)
	if interrupted {
		return interruptedError{done: len(started) - failed, failed: failed, notStarted: notStarted, incident: incident}
	}
	if failed > 0 {
		return partialError{done: ok, failed: failed}
	}
	if unconfirmed > 0 {
		return unconfirmedError{sends: unconfirmed}
	}
	return nil
}

func firstFailure(r responders.UserResult) string {
	if r.Error != "" {
		return r.Error
	}
	for _, s := range r.Steps {
		if s.Outcome == responders.Failed {
			return s.Step + ": " + s.Error
		}
	}
	return ""
}

func newIPReleaseCmd(env *environment) *cobra.Command {
	o := &containOptions{}
	var fps []string
	cmd := &cobra.Command{
		Use:   "release IP|CIDR...",
		Short: "Remove networks (or --fingerprint) from atoctl's Network ACLs (journaled)",
		Example: `  atoctl ip release 193.42.33.0/24 --incident inc-20261127-0210-ab12 --yes
  atoctl ip release 167.99.171.12 --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			prefixes, err := parsePrefixes("IP|CIDR", args)
			if err != nil {
				return err
			}
			if len(prefixes) == 0 && len(fps) == 0 {
				return usagef("give the IPs or CIDRs to unblock (or --fingerprint)")
			}
			if err := checkFingerprintFlags(fps, true); err != nil {
				return err
			}
			if o.incident != "" {
				if err := responders.ValidIncidentID(o.incident); err != nil {
					return usagef("--incident: %v", err)
				}
			}
			if !env.opts.dryRun && !o.yes && !env.stdinTTY() {
				return usagef("ip release changes the tenant: pass --yes to confirm when not running interactively")
			}
			c, err := env.tenant(ctx)
			if err != nil {
				return err
			}
			j, incident, err := env.openIncident(o.incident, c.Tenant())
			if err != nil {
				return err
			}
			defer j.Close()
			if len(fps) > 0 {
				fsr, err := releaseFingerprints(ctx, env, c, j, fps)
				if err != nil {
					return err
				}
				if len(prefixes) == 0 {
					if env.opts.json {
						return printJSON(env.stdout, map[string]any{"incident": incident, "release": fsr})
					}
					fmt.Fprintf(env.stdout, "%s\t%s\t%s\n", fsr.Outcome, auth0client.Clean(fsr.Reason), auth0client.Clean(fsr.Error))
					return nil
				}
				fmt.Fprintf(env.stderr, "fingerprints: %s %s\n", fsr.Outcome, auth0client.Clean(fsr.Reason))
			}
			w, _ := env.writer(c)
			sr, err := responders.ReleaseACL(ctx, c, w, j, prefixes)
			if err != nil {
				return err
			}
			if env.opts.json {
				if err := printJSON(env.stdout, map[string]any{"incident": incident, "release": sr}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(env.stdout, "%s\t%s\t%s\n", sr.Outcome, auth0client.Clean(sr.Reason), auth0client.Clean(sr.Error))
			}
			if sr.Outcome == responders.Failed {
				return errors.New("release failed: " + sr.Error)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.incident, "incident", "", "incident to journal into (default: the current incident)")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required when not interactive)")
	f.StringSliceVar(&fps, "fingerprint", nil, "also remove this JA3 or JA4 fingerprint from atoctl's fingerprint ACL; repeatable")
	return cmd
}

// interruptedError is a bulk run stopped by ctrl+c (or a signal): what it
// did, in one line per state, and how to finish it. It is a cancellation
// (exit 130).
type interruptedError struct {
	done, failed, notStarted int
	incident                 string
}

func (e interruptedError) Error() string {
	return fmt.Sprintf("interrupted: %s done, %d failed, %d not started; the journal keeps what was done, and 'atoctl ip contain --resume --incident %s' finishes the run",
		nouns(e.done, "account", "accounts"), e.failed, e.notStarted, e.incident)
}

func (e interruptedError) Unwrap() error { return context.Canceled }

// nouns says "1 account", "2 accounts": a count with its noun agreeing.
func nouns(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
