package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

func newIncidentRollbackCmd(env *environment) *cobra.Command {
	o := &containOptions{}
	cmd := &cobra.Command{
		Use:   "rollback ID",
		Short: "Undo what can be undone of an incident (unblock users atoctl blocked)",
		Long: `Rollback reads the incident's journal and undoes what atoctl did that can be undone:
users it blocked are unblocked, networks it blocked are released and the
Attack Protection values its shield replaced are put back, refusing a field
someone changed since (journaled in the same incident). It says what
cannot be undone: revoked sessions and tokens, sent resets, removed MFA factors.
Users that were already blocked before atoctl touched them are left alone.`,
		Example: "  atoctl incident rollback inc-20261127-0210-ab12 --dry-run\n  atoctl incident rollback inc-20261127-0210-ab12 --yes",
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRollback(cmd.Context(), env, args[0], o)
		},
	}
	cmd.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation (required when not interactive)")
	return cmd
}

func runRollback(ctx context.Context, env *environment, id string, o *containOptions) error {
	if err := responders.ValidIncidentID(id); err != nil {
		return usagef("%v", err)
	}
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return err
	}
	recs, err := responders.LoadJournal(dir, id)
	if errors.Is(err, responders.ErrTornTail) {
		err = nil // a crash cut the last line; the intact records stand
	}
	if err != nil {
		return fmt.Errorf("read incident %s: %w", id, err)
	}
	if err := responders.VerifyIncident(id, recs, ""); err != nil {
		return fmt.Errorf("incident %s does not verify, refusing to act on it: %w", id, err)
	}
	p := responders.PlanRollback(recs)
	for _, line := range p.Cannot {
		fmt.Fprintln(env.stderr, "cannot be undone: "+line)
	}
	if len(p.Unblock) == 0 && len(p.Release) == 0 && len(p.Shield) == 0 && len(p.Fingerprints) == 0 {
		fmt.Fprintln(env.stderr, "nothing to undo: this incident blocked no user or network that is still blocked by it, and has no shield up")
		return nil
	}
	if len(p.Release) > 0 {
		if err := rollbackACL(ctx, env, id, p.Release, o.yes); err != nil {
			return err
		}
	}
	if len(p.Fingerprints) > 0 {
		if err := rollbackFingerprints(ctx, env, id, p.Fingerprints, o.yes); err != nil {
			return err
		}
	}
	var shieldErr error
	if len(p.Shield) > 0 {
		// The shield's own down: the values it replaced, refused when a
		// field was changed since (the unblocks still run).
		if err := shieldDown(ctx, env, id, o.yes); err != nil {
			shieldErr = fmt.Errorf("shield: %w", err)
			fmt.Fprintf(env.stderr, "error: %v\n", shieldErr)
		}
	}
	if len(p.Unblock) == 0 {
		return shieldErr
	}
	o.users, o.steps, o.incident, o.force = p.Unblock, []string{responders.StepUnblock}, id, true
	o.resetMethod, o.concurrency, o.since = "email", 4, "72h"
	run, err := prepareContain(env, o, "rollback")
	if err != nil {
		return errors.Join(shieldErr, err)
	}
	return errors.Join(shieldErr, executeContain(ctx, env, o, run))
}

// rollbackACL removes the networks the incident added to the managed ACL.
func rollbackACL(ctx context.Context, env *environment, id string, release []netip.Prefix, yes bool) error {
	if !env.opts.dryRun && !yes && !env.stdinTTY() {
		return usagef("rollback changes the tenant: pass --yes to confirm when not running interactively")
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	j, _, err := env.openIncident(id, c.Tenant())
	if err != nil {
		return err
	}
	defer j.Close()
	w, _ := env.writer(c)
	sr, err := responders.ReleaseACL(ctx, c, w, j, release)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "network ACL: %s %s %s\n", sr.Outcome, auth0client.Clean(sr.Reason), auth0client.Clean(sr.Error))
	if sr.Outcome == responders.Failed {
		return errors.New("rollback of the network ACL failed")
	}
	return nil
}

// rollbackFingerprints removes the fingerprints the incident blocked.
func rollbackFingerprints(ctx context.Context, env *environment, id string, fps []string, yes bool) error {
	if !env.opts.dryRun && !yes && !env.stdinTTY() {
		return usagef("rollback changes the tenant: pass --yes to confirm when not running interactively")
	}
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	j, _, err := env.openIncident(id, c.Tenant())
	if err != nil {
		return err
	}
	defer j.Close()
	sr, err := releaseFingerprints(ctx, env, c, j, fps)
	fmt.Fprintf(env.stderr, "fingerprint ACL: %s %s %s\n", sr.Outcome, auth0client.Clean(sr.Reason), auth0client.Clean(sr.Error))
	return err
}
