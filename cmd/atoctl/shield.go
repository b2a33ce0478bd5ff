package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// shieldOptions are the inputs of `shield up|down|status`.
type shieldOptions struct {
	level    string
	allow    []string
	incident string
	yes      bool
}

func newShieldCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shield",
		Short: "Tighten Attack Protection during an attack, and put it back after",
		Long: `shield up raises Bot Detection, lowers the suspicious IP throttling thresholds and
turns breached-password detection and brute-force protection to block, on the
features the tenant's plan has (the others are reported). It shows every field
before → after, asks for confirmation (--yes in scripts; --dry-run prints the
PATCH bodies) and journals the values it replaces in the incident.

shield down puts exactly those values back (not Auth0's defaults). When someone
changed a field since, it refuses and names the field with its three values:
before the shield, ours, and now. incident rollback does the same.`,
		Example: `  atoctl --training shield status
  atoctl --training shield up --level max --dry-run
  atoctl --training shield up --yes --allow 203.0.113.10
  atoctl --training shield down --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newShieldUpCmd(env), newShieldDownCmd(env), newShieldStatusCmd(env))
	return cmd
}

func newShieldUpCmd(env *environment) *cobra.Command {
	o := &shieldOptions{}
	cmd := &cobra.Command{
		Use:     "up",
		Short:   "Tighten the tenant's Attack Protection (journaled, reversible)",
		Example: "  atoctl shield up --level elevated --dry-run\n  atoctl shield up --level max --yes",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runShieldUp(cmd.Context(), env, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.level, "level", responders.ShieldElevated, "elevated or max")
	f.StringSliceVar(&o.allow, "allow", nil, "address or CIDR to add to the suspicious IP throttling allowlist while the shield is up (your office, an app backend); repeatable")
	f.StringVar(&o.incident, "incident", "", "incident to journal in (default: the current one, or a new one)")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required when not interactive)")
	return cmd
}

func newShieldDownCmd(env *environment) *cobra.Command {
	o := &shieldOptions{}
	cmd := &cobra.Command{
		Use:     "down",
		Short:   "Put back the values the incident's shield replaced",
		Example: "  atoctl shield down --dry-run\n  atoctl shield down --incident inc-20261127-0210-ab12 --yes",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runShieldDown(cmd.Context(), env, o) },
	}
	cmd.Flags().StringVar(&o.incident, "incident", "", "incident whose shield to take down (default: the current one)")
	cmd.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required when not interactive)")
	return cmd
}

func newShieldStatusCmd(env *environment) *cobra.Command {
	o := &shieldOptions{}
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show the Attack Protection fields the shield manages, and what the incident's shield changed",
		Example: "  atoctl shield status\n  atoctl shield status --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return runShieldStatus(cmd.Context(), env, o) },
	}
	cmd.Flags().StringVar(&o.incident, "incident", "", "incident whose shield to show (default: the current one)")
	return cmd
}

// checkShieldWrite validates what every shield write needs before anything
// is read or sent.
func checkShieldWrite(env *environment, o *shieldOptions, verb string) error {
	if o.incident != "" {
		if err := responders.ValidIncidentID(o.incident); err != nil {
			return usagef("--incident: %v", err)
		}
	}
	if !env.opts.dryRun && !o.yes && !env.stdinTTY() {
		return usagef("shield %s changes the tenant: pass --yes to confirm when not running interactively (or --dry-run to see the PATCH bodies)", verb)
	}
	return nil
}

func runShieldUp(ctx context.Context, env *environment, o *shieldOptions) error {
	if err := responders.ValidShieldLevel(o.level); err != nil {
		return usagef("--level: %v", err)
	}
	allow, err := parsePrefixes("--allow", o.allow)
	if err != nil {
		return err
	}
	if err := checkShieldWrite(env, o, "up"); err != nil {
		return err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	if err := shieldPreflight(ctx, env, c, responders.StepShield); err != nil {
		return err
	}
	p, err := responders.PlanShieldUp(ctx, c, o.level, allow)
	if err != nil {
		return err
	}
	return applyShieldPlan(ctx, env, c, o, p, nil)
}

func runShieldDown(ctx context.Context, env *environment, o *shieldOptions) error {
	if err := checkShieldWrite(env, o, "down"); err != nil {
		return err
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	id := o.incident
	if id == "" {
		id = env.currentIncident()
	}
	if id == "" {
		return usagef("no current incident: name the one whose shield to take down with --incident (see 'atoctl incident list')")
	}
	j, _, err := env.openIncident(id, c.Tenant())
	if err != nil {
		return err
	}
	defer j.Close()
	if len(responders.ActiveShield(j.Records())) == 0 {
		fmt.Fprintf(env.stderr, "incident %s has no shield up: nothing to put back\n", id)
		return nil
	}
	if err := shieldPreflight(ctx, env, c, responders.StepShieldDown); err != nil {
		return err
	}
	p, err := responders.PlanShieldDown(ctx, c, j.Records())
	if err != nil {
		return err
	}
	return applyShieldPlan(ctx, env, c, o, p, j)
}

// shieldDown takes an incident's shield down (incident rollback).
func shieldDown(ctx context.Context, env *environment, id string, yes bool) error {
	return runShieldDown(ctx, env, &shieldOptions{incident: id, yes: yes})
}

func shieldPreflight(ctx context.Context, env *environment, c *auth0client.Client, step string) error {
	pre, err := responders.Preflight(ctx, c, responders.PreflightNeed{Steps: []string{step}})
	if err != nil {
		return err
	}
	return reportPreflight(env, pre)
}

// applyShieldPlan shows the plan, confirms, journals and sends it. j is
// the incident's journal when already open (down), else it is opened here.
func applyShieldPlan(ctx context.Context, env *environment, c *auth0client.Client, o *shieldOptions, p responders.ShieldPlan, j *responders.Journal) error {
	printShieldPlan(env, p)
	if err := p.Refused(); err != nil {
		if env.opts.json {
			_ = printJSON(env.stdout, p)
		}
		return err
	}
	if len(p.Calls) == 0 {
		if env.opts.json {
			return printJSON(env.stdout, p)
		}
		fmt.Fprintln(env.stderr, "nothing to change: every field is already where it should be")
		return nil
	}
	if !env.opts.dryRun && !o.yes {
		fmt.Fprintf(env.stderr, "\nType %q to confirm (anything else cancels): ", p.Direction)
		line, _ := bufio.NewReader(env.stdin).ReadString('\n')
		if strings.TrimSpace(line) != p.Direction {
			return errors.New("not confirmed: nothing was changed")
		}
	}
	if j == nil {
		var err error
		j, _, err = env.openIncident(o.incident, c.Tenant())
		if err != nil {
			return err
		}
		defer j.Close()
	}
	w, _ := env.writer(c)
	res, err := responders.ApplyShield(ctx, c, w, j, p)
	if env.opts.json {
		if perr := printJSON(env.stdout, struct {
			Incident string                  `json:"incident"`
			Plan     responders.ShieldPlan   `json:"plan"`
			Result   responders.ShieldResult `json:"result"`
		}{j.Incident(), p, res}); perr != nil && err == nil {
			err = perr
		}
	}
	fmt.Fprintf(env.stderr, "shield %s: %s (incident %s, journal head %s)\n", p.Direction, res.Outcome, j.Incident(), shortHash(j.Head()))
	return err
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// printShieldPlan shows every field before → after (stderr: the plan is
// not the result) and the PATCH bodies.
func printShieldPlan(env *environment, p responders.ShieldPlan) {
	title := "shield up (" + p.Level + ")"
	if p.Direction == "down" {
		title = "shield down: put back the values the shield replaced"
	}
	fmt.Fprintln(env.stderr, title)
	for _, u := range p.Unavailable {
		fmt.Fprintf(env.stderr, "  not available: %s: %s\n", u.Feature, u.Reason)
	}
	for _, ch := range p.Changes {
		fmt.Fprintf(env.stderr, "  change  %s\n", ch)
	}
	for _, ch := range p.Kept {
		fmt.Fprintf(env.stderr, "  keep    %s %s: %s\n", ch.Feature, ch.Field, keptText(p.Direction, ch))
	}
	for _, ch := range p.Conflicts {
		fmt.Fprintf(env.stderr, "  CHANGED SINCE %s\n", ch)
	}
	for _, call := range p.Calls {
		fmt.Fprintf(env.stderr, "  %s\n", call)
	}
}

func keptText(direction string, ch responders.FieldChange) string {
	if direction == "down" {
		return "already back to " + auth0client.Clean(string(ch.Before))
	}
	return auth0client.Clean(string(ch.Before)) + " is already at least as tight"
}

func runShieldStatus(ctx context.Context, env *environment, o *shieldOptions) error {
	if o.incident != "" {
		if err := responders.ValidIncidentID(o.incident); err != nil {
			return usagef("--incident: %v", err)
		}
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	id := o.incident
	if id == "" {
		id = env.currentIncident()
	}
	var recs []responders.Record
	if id != "" {
		dir, err := incidentsDir(env.getenv)
		if err != nil {
			return err
		}
		recs, err = responders.LoadJournal(dir, id)
		if err != nil && !errors.Is(err, responders.ErrTornTail) && o.incident != "" {
			return fmt.Errorf("read incident %s: %w", id, err)
		}
	}
	st, err := responders.ReadShieldStatus(ctx, c, recs)
	if err != nil {
		return err
	}
	if env.opts.json {
		return printJSON(env.stdout, st)
	}
	t := &table{header: []string{"FEATURE", "FIELD", "NOW", "SHIELD"}}
	for _, f := range st.Fields {
		mark := ""
		for _, a := range st.Active {
			if a.Feature == f.Feature && a.Field == f.Field {
				mark = "up (was " + string(a.Before) + ")"
			}
		}
		t.add(f.Feature, f.Field, auth0client.Clean(string(f.Now)), auth0client.Clean(mark))
	}
	for _, u := range st.Unavailable {
		t.add(u.Feature, "-", "not available: "+u.Reason, "")
	}
	return t.print(env.stdout, env.stdoutTTY)
}
