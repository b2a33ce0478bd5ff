package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

// cli runs one atoctl invocation in-process, as a script would (no TTY).
type cli struct {
	t   *testing.T
	env map[string]string
	// sandboxOpts are added to the training sandbox of every trun (a
	// simulated clock).
	sandboxOpts []sandbox.Option
}

type result struct {
	stdout, stderr string
	code           int
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: map[string]string{"XDG_STATE_HOME": t.TempDir(), "HOME": t.TempDir(), "XDG_CONFIG_HOME": t.TempDir()}}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	// A guard against a hang, not a speed check: six of these tests share
	// two cores, and a sync of the whole scenario took over two minutes
	// of wall time there (35 s alone).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return c.runCtx(ctx, false, args...)
}

// runCtx runs with a caller's context; tty renders the terminal form.
func (c *cli) runCtx(ctx context.Context, tty bool, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	env := &environment{stdin: strings.NewReader(""), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return c.env[k] }, stdoutTTY: tty}
	code := runEnv(ctx, env, args)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// testEpoch dates every sandbox of this test run alike: the scenario is
// generated from (seed, epoch), so sandboxes compared with each other (an
// interrupted run and a reference run) must share both.
var testEpoch = time.Now().UTC().Truncate(time.Second)

// againstSandbox points the CLI at a sandbox served by the test (the
// `--domain` path a real tenant takes), and returns the server.
func (c *cli) againstSandbox(opts ...sandbox.Option) (*sandbox.Server, *scenarios.AnswerKey) {
	c.t.Helper()
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, key := sc.Generate(sc.DefaultSeed, testEpoch)
	srv := sandbox.New(st, append([]sandbox.Option{sandbox.WithRateLimit(0, 0), sandbox.WithRevokeDelay(0)}, opts...)...)
	url, err := srv.Start()
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = srv.Close() })
	c.env["AUTH0_DOMAIN"] = url
	c.env["AUTH0_CLIENT_ID"] = sandbox.ClientID
	c.env["AUTH0_CLIENT_SECRET"] = sandbox.ClientSecret
	return srv, key
}
