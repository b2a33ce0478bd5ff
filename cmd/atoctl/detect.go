package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// detectOptions are the inputs of `detect`.
type detectOptions struct {
	since    string
	logsFile string
	limit    int
	guard    guardFlags
}

func newDetectCmd(env *environment) *cobra.Command {
	o := &detectOptions{}
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Find the account-takeover attacks in the logs and what to do about each",
		Long: `Detect reads the tenant's log events of the window (or a log-stream export) and
the sessions of the accounts that look hijacked, and lists the attacks it finds,
most urgent first: credential stuffing, MFA push/SMS bombing, breached-password
logins, refresh-token theft, session hijacking and signup fraud. Each finding says
what is happening, to which accounts (compromised, stopped by MFA or targeted),
from which networks, the evidence (log ids), how sure it is and why, and the
response: the playbook steps for each account and the networks to block.

'atoctl contain --finding ID' runs a finding's response through the bulk engine
(the impact first, then the typed count). Findings of the tenant are kept under
$XDG_STATE_HOME/atoctl/findings/ (mode 0600) so that contain acts on exactly the
accounts you saw; run detect again to refresh them. 'ip triage' is the network
view of the credential-stuffing finding.`,
		Example: `  atoctl --training detect --since 48h
  atoctl detect --since 24h --json | jq '.findings[] | {id, kind, title}'
  atoctl detect --logs-file export.ndjson
  atoctl contain --finding mfa-bombing-3f9a1c --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDetect(cmd.Context(), env, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.since, "since", "24h", "how far back: a duration (24h, 7d) or an RFC 3339 time")
	f.StringVar(&o.logsFile, "logs-file", "", "read a log-stream export (NDJSON) instead of the tenant; - for stdin")
	f.IntVar(&o.limit, "limit", 0, fmt.Sprintf("most events to read from the tenant (default %d)", responders.DefaultTriageLimit))
	o.guard.bind(cmd)
	return cmd
}

// detectOutput is detect's JSON.
type detectOutput struct {
	Source   string                     `json:"source"`
	Since    time.Time                  `json:"since"`
	Read     int                        `json:"read"`
	Notes    []string                   `json:"notes,omitempty"`
	Findings []responders.AttackFinding `json:"findings"`
}

func runDetect(ctx context.Context, env *environment, o *detectOptions) error {
	since, err := parseSince(o.since, time.Now())
	if err != nil {
		return err
	}
	if o.limit < 0 || o.limit > responders.MaxTriageLimit {
		return usagef("--limit must be between 1 and %d (0: the default)", responders.MaxTriageLimit)
	}
	guard, err := o.guard.guard(env)
	if err != nil {
		return err
	}
	cfg := responders.DetectConfig{Since: since, Guard: guard}
	out := detectOutput{Source: "tenant", Since: since, Findings: []responders.AttackFinding{}}
	var det responders.Detected
	if o.logsFile != "" {
		var r io.Reader = env.stdin
		out.Source = "stdin"
		if o.logsFile != "-" {
			f, err := os.Open(o.logsFile)
			if err != nil {
				return usagef("--logs-file: %v", err)
			}
			defer f.Close()
			r, out.Source = f, "file"
		}
		var malformed int
		if det, malformed, err = responders.DetectStream(ctx, r, cfg); err != nil {
			return err
		}
		if malformed > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf("%d malformed lines skipped", malformed))
		}
	} else {
		// Events first: a training tenant then starts beside the store read.
		src, err := env.events(ctx, true)
		if err != nil {
			return err
		}
		if det, err = responders.DetectTenantFrom(ctx, src, cfg, o.limit, nil); err != nil {
			return err
		}
		c, err := env.tenant(ctx)
		if err != nil {
			return err
		}
		path, err := env.findingsPath(c.Tenant())
		if err != nil {
			return err
		}
		if err := responders.SaveFindings(path, responders.SavedFindings{Tenant: c.Tenant(), Since: since, At: time.Now().UTC(), Findings: det.Findings}); err != nil {
			return fmt.Errorf("keep the findings for contain --finding: %w", err)
		}
	}
	out.Read, out.Notes = det.Read, append(out.Notes, det.Notes...)
	if det.Findings != nil {
		out.Findings = det.Findings
	}
	for _, n := range out.Notes {
		fmt.Fprintln(env.stderr, "note: "+auth0client.Clean(n))
	}
	fmt.Fprintf(env.stderr, "read %d events since %s: %d findings\n", out.Read, fmtTime(since), len(out.Findings))
	if env.opts.json {
		return printJSON(env.stdout, out)
	}
	t := &table{header: []string{"finding", "severity", "confidence", "compromised", "stopped by MFA", "targeted", "networks", "what"}}
	for _, f := range out.Findings {
		t.add(f.ID, strconv.Itoa(f.Severity), string(f.Confidence), strconv.Itoa(f.Count(responders.VerdictCompromised)),
			strconv.Itoa(f.Count(responders.VerdictStoppedByMFA)), strconv.Itoa(f.Count(responders.VerdictTargeted)), strconv.Itoa(len(f.Networks)), f.Title)
	}
	if err := t.print(env.stdout, env.stdoutTTY); err != nil {
		return err
	}
	for _, f := range out.Findings {
		fmt.Fprintf(env.stderr, "%s: %s (atoctl contain --finding %s)\n", f.ID, auth0client.Clean(f.Response), f.ID)
	}
	return nil
}

// findingsPath is where a tenant's last findings are kept: one file per
// tenant (and per training scenario).
func (env *environment) findingsPath(tenant string) (string, error) {
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return "", err
	}
	name := url.PathEscape(strings.ToLower(tenant))
	if env.opts.training {
		name = "training." + env.opts.scenario
	}
	return filepath.Join(filepath.Dir(dir), "findings", name+".json"), nil
}
