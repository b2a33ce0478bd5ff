package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// rollbackPlan is what an incident's journal says can and cannot be undone.
type rollbackPlan struct {
	unblock  []string       // users this incident blocked and nobody unblocked since
	release  []netip.Prefix // networks this incident added to the managed ACL
	cannot   []string       // human lines: what stays done
	incident string
}

// planRollback reads the journal: only what atoctl itself did (outcome
// "done", live or training) is undone; "already-done" was not atoctl's doing.
func planRollback(recs []responders.Record) rollbackPlan {
	var p rollbackPlan
	blocked := map[string]bool{}
	var order []string
	var planned []string // the newest bulk plan's networks, until its ACL write is done
	for _, r := range recs {
		if r.Kind == responders.KindNote && r.Step == stepBulkPlan {
			var bp bulkPlan
			if json.Unmarshal(r.Evidence, &bp) == nil && bp.ACL {
				planned = bp.Block
			}
			continue
		}
		if r.Kind == "outcome" && r.Mode != "dry-run" && r.Step == responders.StepACL && r.Outcome == string(responders.Done) {
			for _, b := range planned {
				if pr, err := netip.ParsePrefix(b); err == nil {
					p.release = append(p.release, pr)
				}
			}
			planned = nil
		}
		if r.Kind != "outcome" || r.Mode == "dry-run" || r.Outcome != string(responders.Done) {
			continue
		}
		switch r.Step {
		case responders.StepBlock:
			if !blocked[r.UserID] {
				order = append(order, r.UserID)
			}
			blocked[r.UserID] = true
		case responders.StepUnblock:
			blocked[r.UserID] = false
		case responders.StepRevoke:
			p.cannot = append(p.cannot, fmt.Sprintf("%s: sessions and refresh tokens revoked (the owner signs in again)", r.UserID))
		case responders.StepReset:
			p.cannot = append(p.cannot, fmt.Sprintf("%s: password reset sent (the link stays valid until used or expired)", r.UserID))
		case responders.StepMFA:
			p.cannot = append(p.cannot, fmt.Sprintf("%s: MFA factors removed / remembered browsers invalidated (the owner re-enrolls)", r.UserID))
		}
	}
	for _, id := range order {
		if blocked[id] {
			p.unblock = append(p.unblock, id)
		}
	}
	return p
}

func newIncidentRollbackCmd(env *environment) *cobra.Command {
	o := &containOptions{}
	cmd := &cobra.Command{
		Use:   "rollback ID",
		Short: "Undo what can be undone of an incident (unblock users atoctl blocked)",
		Long: `Rollback reads the incident's journal and undoes what atoctl did that can be undone:
users it blocked are unblocked (journaled in the same incident). It says what
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
	if err := responders.VerifyJournal(recs, ""); err != nil {
		return fmt.Errorf("incident %s does not verify, refusing to act on it: %w", id, err)
	}
	p := planRollback(recs)
	for _, line := range p.cannot {
		fmt.Fprintln(env.stderr, "cannot be undone: "+line)
	}
	if len(p.unblock) == 0 && len(p.release) == 0 {
		fmt.Fprintln(env.stderr, "nothing to undo: this incident blocked no user or network that is still blocked by it")
		return nil
	}
	if len(p.release) > 0 {
		if err := rollbackACL(ctx, env, id, p.release, o.yes); err != nil {
			return err
		}
	}
	if len(p.unblock) == 0 {
		return nil
	}
	o.users, o.steps, o.incident, o.force = p.unblock, []string{responders.StepUnblock}, id, true
	o.resetMethod, o.concurrency, o.since = "email", 4, "72h"
	run, err := prepareContain(env, o, "rollback")
	if err != nil {
		return err
	}
	return executeContain(ctx, env, o, run)
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
	var w auth0client.Writer = c
	if env.opts.dryRun {
		w = &auth0client.Recorder{}
	}
	sr, err := responders.ReleaseACL(ctx, c, w, j, env.opts.dryRun, release)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "network ACL: %s %s %s\n", sr.Outcome, auth0client.Clean(sr.Reason), auth0client.Clean(sr.Error))
	if sr.Outcome == responders.Failed {
		return errors.New("rollback of the network ACL failed")
	}
	return nil
}
