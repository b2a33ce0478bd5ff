package main

import (
	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/responders"
)

// newUserStepCmd builds `users block|revoke|unblock USER`: one playbook step
// on one user, journaled and confirmed like contain.
func newUserStepCmd(env *environment, step, short, long, example string) *cobra.Command {
	o := &containOptions{}
	cmd := &cobra.Command{
		Use:     step + " USER",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    exactArgs(1, "USER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.users = args
			o.steps = []string{step}
			o.resetMethod = "email"
			o.concurrency = 1
			run, err := prepareContain(env, o, step)
			if err != nil {
				return err
			}
			return executeContain(cmd.Context(), env, o, run)
		},
	}
	bindCommonContainFlags(cmd, o, "72h")
	if step == responders.StepUnblock {
		cmd.Flags().BoolVar(&o.force, "force", false, "unblock even without a password change (scp) since the block")
	}
	return cmd
}

func newUserWriteCmds(env *environment) []*cobra.Command {
	return []*cobra.Command{
		newUserStepCmd(env, responders.StepBlock, "Block a user from signing in (journaled)",
			"Block sets blocked=true on the user (PATCH /api/v2/users/{id}), journaled in the incident.\nA blocked user cannot sign in until unblocked.",
			"  atoctl users block alice@example.com --yes"),
		newUserStepCmd(env, responders.StepRevoke, "Revoke a user's sessions and refresh tokens (journaled)",
			"Revoke deletes all sessions and refresh tokens of the user (on plans without those\nendpoints it deletes the user's grants instead and says sessions were NOT revoked).",
			"  atoctl users revoke 'auth0|65f0c2a1b3d4e5f6a7b8c9d0' --yes"),
		newUserStepCmd(env, responders.StepUnblock, "Unblock a user after the owner changed the password",
			"Unblock sets blocked=false. It refuses unless the logs show a successful password change\n(scp) after the block: unblocking earlier hands the account back to the attacker.\n--force overrides.",
			"  atoctl users unblock alice@example.com\n  atoctl users unblock alice@example.com --force --yes"),
	}
}
