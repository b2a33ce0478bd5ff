package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// reportPreflight shows what the preflight found (warnings to stderr) and
// returns its first failure: nothing is sent after a failed preflight.
func reportPreflight(env *environment, pre responders.PreflightResult) error {
	for _, c := range pre.Checks {
		switch c.Status {
		case responders.CheckWarn:
			fmt.Fprintf(env.stderr, "warning: %s: %s\n", c.Name, auth0client.Clean(c.Detail))
		case responders.CheckOK:
			if c.Name == "reset route" && len(pre.ResetClients) > 0 {
				fmt.Fprintf(env.stderr, "%s: %s\n", c.Name, auth0client.Clean(c.Detail))
			}
		}
	}
	return pre.Err()
}

func newDoctorCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check the credentials, scopes, plan and reset route before an incident needs them",
		Long: `Doctor runs the checks every run makes before its first write, for the whole
playbook (snapshot, block, revoke, mfa, reset, unblock check) and the Network ACL:
the token's scopes, the plan's sessions endpoints, the application reset emails
come from (the configured reset_client_id, or the one the tenant enables on each
database connection), and the post-change-password Action that unblocks users.
Each check prints its fix. Exit 0 when nothing fails, 4 for missing scopes or
credentials, 2 for configuration to set. It sends reads only.`,
		Example: `  atoctl --training doctor
  atoctl --profile acme doctor --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDoctor(cmd.Context(), env) },
	}
}

func runDoctor(ctx context.Context, env *environment) error {
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	need := responders.PreflightNeed{Steps: responders.PlaybookOrder, ResetMethod: "email", ACL: true}
	if page, err := c.SearchUsers(ctx, "", 0, 1); err == nil && len(page.Users) > 0 {
		need.User = page.Users[0].ID
	}
	pre, err := responders.Preflight(ctx, c, need)
	if err != nil {
		return err
	}
	if env.opts.json {
		if err := printJSON(env.stdout, pre); err != nil {
			return err
		}
	} else {
		t := &table{header: []string{"check", "status", "detail", "fix"}}
		for _, ch := range pre.Checks {
			t.add(ch.Name, string(ch.Status), ch.Detail, ch.Fix)
		}
		if err := t.print(env.stdout, env.stdoutTTY); err != nil {
			return err
		}
	}
	return pre.Err()
}
