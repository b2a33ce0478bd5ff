package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// postureFailedError reports a posture with at least one failed check:
// exit 3, so CI can gate on it.
type postureFailedError struct{ failed int }

func (e postureFailedError) Error() string {
	return fmt.Sprintf("%d posture check(s) failed (see above)", e.failed)
}

func newPostureCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "posture",
		Short: "Check the tenant configuration that makes account takeover easy or hard",
		Long: `posture reads the tenant's configuration and judges what matters for account
takeover, each check pass, warn or fail with its evidence and its fix: the
deployed post-change-password unblock Action; brute-force, suspicious-IP and
breached-password protection (on, and in which mode); the Bot Detection level;
refresh-token rotation and lifetimes per application; the session lifetime and
idle timeout; the MFA policy and factors (SMS as the only factor is flagged);
the password policy of each database connection; Resource Owner Password and
implicit grants on any application; client authentication methods; and how far
back the tenant's logs reach. It sends reads only.

Exit 0 when no check fails (warnings included), 3 when any check fails.
--json prints {tenant, checks: [{id, target, status, title, evidence, fix}],
summary: {pass, warn, fail}}; see the README for the check ids.`,
		Example: `  atoctl --training posture
  atoctl --profile acme posture --json | jq '.checks[] | select(.status != "pass")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPosture(cmd.Context(), env) },
	}
}

func runPosture(ctx context.Context, env *environment) error {
	c, err := env.tenant(ctx)
	if err != nil {
		return err
	}
	rep, err := responders.Posture(ctx, c)
	if err != nil {
		return err
	}
	if env.opts.json {
		if err := printJSON(env.stdout, rep); err != nil {
			return err
		}
	} else {
		t := &table{header: []string{"STATUS", "CHECK", "TARGET", "EVIDENCE", "FIX"}}
		for _, ch := range rep.Checks {
			t.add(strings.ToUpper(string(ch.Status)), ch.ID, ch.Target, ch.Evidence, ch.Fix)
		}
		if err := t.print(env.stdout, env.stdoutTTY); err != nil {
			return err
		}
		fmt.Fprintf(env.stderr, "posture of %s: %d pass, %d warn, %d fail\n", auth0client.Clean(rep.Tenant),
			rep.Summary[string(responders.PosturePass)], rep.Summary[string(responders.PostureWarn)], rep.Summary[string(responders.PostureFail)])
	}
	if rep.Failed() {
		return postureFailedError{failed: rep.Summary[string(responders.PostureFail)]}
	}
	return nil
}
