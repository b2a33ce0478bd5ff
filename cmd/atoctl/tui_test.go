package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

func TestTUIRefusesToStartWithoutATerminal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	res := c.run("--training", "tui")
	if res.code != 2 || !strings.Contains(res.stderr, "needs a terminal") {
		t.Fatalf("exit %d, stderr %q: want exit 2 and a reason", res.code, res.stderr)
	}
}

func TestRootWithoutATerminalPrintsTheOverview(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	res := c.run("--training")
	if res.code != 0 || !strings.Contains(res.stdout, "opens the full-screen console") {
		t.Fatalf("exit %d, stdout %q", res.code, res.stdout)
	}
}

// consoleEnv is the environment a console invocation builds, against a
// sandbox the test serves.
func consoleEnv(t *testing.T, dryRun bool) (*environment, *sandbox.Server, context.Context) {
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	var out, errb bytes.Buffer
	env := &environment{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] }}
	env.opts.dryRun = dryRun
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return env, srv, ctx
}

func TestConsoleOptionsShareTheCLIWorkflowAndFeedTheCommandLog(t *testing.T) {
	t.Parallel()
	env, srv, ctx := consoleEnv(t, false)
	guard, err := (&guardFlags{operators: []string{"198.51.100.7"}, allow: []string{"10.0.0.0/8"}}).guard(env)
	if err != nil {
		t.Fatal(err)
	}
	opts, err := env.consoleOptions(ctx, guard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Writer.DryRun() || opts.Writer != auth0client.Writer(opts.Client) {
		t.Error("a live console must write through the client")
	}
	if len(opts.Guard.Allow) != 1 || len(opts.Guard.Operators) != 1 || opts.Bulk != (responders.BulkSettings{Workers: responders.DefaultBulkWorkers}) {
		t.Errorf("the console's guard %+v and bulk defaults %+v are not the CLI's", opts.Guard, opts.Bulk)
	}

	// The log search: a CIDR only the client can match, compared with the
	// sandbox's own events.
	var cidr netip.Prefix
	var want int
	since := time.Now().Add(-48 * time.Hour)
	srv.View(func(st *sandbox.State) {
		for i := len(st.Logs) - 1; i >= 0; i-- {
			e := st.Logs[i]
			if e.Type == "f" && e.IP != "" && !cidr.IsValid() {
				a := netip.MustParseAddr(e.IP)
				if a.Is4() {
					cidr = netip.PrefixFrom(a, 22).Masked()
				}
			}
		}
		for _, e := range st.Logs {
			if a, err := netip.ParseAddr(e.IP); err == nil && cidr.IsValid() && cidr.Contains(a) && e.Type == "f" && e.Date.After(since) {
				want++
			}
		}
	})
	if want == 0 {
		t.Fatal("bad fixture: no failed logins to search")
	}
	// The console's log page calls exactly this (tui/logs.go).
	res, err := responders.FindLogs(ctx, opts.Client, responders.LogRequest{Types: []string{"f"}, Network: cidr.String(), Since: since, Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != want {
		t.Errorf("search of %s found %d events, the sandbox holds %d", cidr, len(res.Events), want)
	}
	for _, e := range res.Events {
		if !res.Filter.Matches(e) {
			t.Fatalf("the result's predicate rejects its own event %s", e.ID)
		}
	}
	if opts.Calls.Pending() == 0 {
		t.Error("the client's requests did not reach the command log feed")
	}

	// The playbook's journal is the CLI's current incident.
	j, err := opts.Incidents.Open("")
	if err != nil {
		t.Fatal(err)
	}
	id := j.Incident()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if env.currentIncident() != id {
		t.Errorf("current incident %q, want %q", env.currentIncident(), id)
	}
	dir, _ := incidentsDir(env.getenv)
	if fi, err := os.Stat(filepath.Join(dir, id+".ndjson")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("journal file: %v %v", fi, err)
	}
	if _, err := opts.Incidents.Load(id); err != nil {
		t.Errorf("Load: %v", err)
	}
}

func TestDryRunConsoleWritesThroughARecorder(t *testing.T) {
	t.Parallel()
	env, _, ctx := consoleEnv(t, true)
	opts, err := env.consoleOptions(ctx, responders.Guard{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := opts.Writer.(*auth0client.Recorder); !ok || !opts.Writer.DryRun() {
		t.Fatal("dry-run console does not write through a Recorder")
	}
}
