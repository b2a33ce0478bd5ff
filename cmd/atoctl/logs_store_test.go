package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

func logRequests(srv *sandbox.Server) int64 {
	s := srv.Stats()
	return s.ByRoute["GET /api/v2/logs"] + s.ByRoute["GET /api/v2/users/{id}/logs"] + s.ByRoute["GET /api/v2/logs/{id}"]
}

func TestLogsSyncResumesAndViewsReadTheStore(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()

	// ctrl+c during the first sync: exit 130, what was read is kept.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for srv.Stats().ByRoute["GET /api/v2/logs"] < 30 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	r := c.runCtx(ctx, false, "logs", "sync", "--since", "48h")
	if r.code != exitInterrupted || !strings.Contains(r.stderr, "run it again") {
		t.Fatalf("interrupted sync: exit %d, stderr %q", r.code, r.stderr)
	}
	r = c.run("logs", "sync", "--since", "48h", "--json")
	if r.code != 0 {
		t.Fatalf("second sync: exit %d: %s", r.code, r.stderr)
	}
	var out syncOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Added != out.Fetched || out.Events < 10_000 || out.Fetched >= int(out.Events) {
		t.Errorf("resumed sync fetched %d, added %d, store holds %d: want only the missing events fetched, each once", out.Fetched, out.Added, out.Events)
	}
	// The sync looked up the user names events give without an account id,
	// so no view after it has to (the first triage used to pay ~112 user
	// searches for them).
	if out.Names == 0 || out.NamesLookedUp != out.Names {
		t.Errorf("sync looked up %d of %d user names, want all of them (and some to look up)", out.NamesLookedUp, out.Names)
	}
	info, err := os.Stat(out.Store)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("store %s: %v, mode %v, want 0600", out.Store, err, info.Mode().Perm())
	}
	if dir, err := os.Stat(filepath.Dir(out.Store)); err != nil || dir.Mode().Perm() != 0o700 {
		t.Errorf("store directory mode %v, want 0700", dir.Mode().Perm())
	}

	srv.ResetStats()
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"ip", "triage", "--since", "48h", "--json"}, 0},
		{[]string{"detect", "--since", "48h", "--json"}, 0},
	} {
		args := tc.args
		began := time.Now()
		r := c.run(args...)
		if r.code != tc.code {
			t.Fatalf("%v: exit %d, want %d: %s", args, r.code, tc.code, r.stderr)
		}
		t.Logf("%v after a sync: %v", args, time.Since(began))
		if !strings.Contains(r.stderr, "local store") {
			t.Errorf("%v does not say it read the local store: %q", args, r.stderr)
		}
	}
	if n := logRequests(srv); n != 0 {
		t.Errorf("views after a sync sent %d log requests (%v), want none", n, srv.Stats().ByRoute)
	}
	if n := srv.Stats().ByRoute["GET /api/v2/users"]; n != 0 {
		t.Errorf("views after a sync sent %d user searches, want none (the sync looked the names up)", n)
	}

	// Bulk discovery reads the store; the plan after it reads each
	// compromised account (its own recent logs among them: the persistence
	// check before a reset), never the tenant's log search. The plan refuses
	// the reset of an account whose email the attacker changed: exit 3.
	srv.ResetStats()
	began := time.Now()
	r = c.run("ip", "contain", key.AttackerCIDRs[0], "--since", "48h", "--dry-run", "--yes")
	t.Logf("ip contain %s --dry-run after a sync: %v", key.AttackerCIDRs[0], time.Since(began))
	if r.code != exitPartial || !strings.Contains(r.stderr, "local store") || !strings.Contains(r.stderr, "compromised") {
		t.Fatalf("ip contain --dry-run: exit %d, want %d, from the local store: %s", r.code, exitPartial, r.stderr)
	}
	byRoute := srv.Stats().ByRoute
	if n, accounts := byRoute["GET /api/v2/logs"], byRoute["GET /api/v2/users/{id}"]; n != 0 || accounts == 0 || byRoute["GET /api/v2/users/{id}/logs"] > accounts {
		t.Errorf("ip contain --dry-run sent %d tenant log searches (want none: discovery reads the store) and %d account log reads for %d accounts: %v",
			n, byRoute["GET /api/v2/users/{id}/logs"], accounts, byRoute)
	}

	// --no-store reads the tenant again.
	r = c.run("--no-store", "ip", "triage", "--since", "48h", "--json")
	if r.code != 0 || logRequests(srv) == 0 {
		t.Errorf("--no-store: exit %d, %d log requests; want the tenant read", r.code, logRequests(srv))
	}
}

func TestLogsReceiveRefusesBadInputBeforeListening(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	_ = os.WriteFile(tok, []byte("Bearer s3cret\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	_ = os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"logs", "receive", "--token-file", tok}, "--listen is required"},
		{[]string{"logs", "receive", "--listen", "0.0.0.0:8514", "--token-file", tok}, "plain HTTP is only for loopback"},
		{[]string{"logs", "receive", "--listen", "127.0.0.1:8514"}, "--token-file is required"},
		{[]string{"logs", "receive", "--listen", "127.0.0.1:8514", "--token-file", empty}, "one line"},
		{[]string{"logs", "receive", "--listen", "127.0.0.1:8514", "--token-file", tok, "--tls-cert", "c.pem"}, "go together"},
		{[]string{"logs", "receive", "--listen", "nohost", "--token-file", tok}, "host:port"},
	} {
		r := c.run(tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line saying %q", tc.args, r.code, r.stderr, tc.want)
		}
		if strings.Contains(r.stderr, "s3cret") {
			t.Errorf("%v: the stream token leaked into the error", tc.args)
		}
	}
}

func TestLogsReceiveStoresTheSandboxStream(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	dir := t.TempDir()
	tok := filepath.Join(dir, "token")
	_ = os.WriteFile(tok, []byte("Bearer s3cret\n"), 0o600)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	go func() { done <- c.runCtx(ctx, false, "logs", "receive", "--listen", addr, "--token-file", tok) }()
	var sent int
	for i := 0; ; i++ {
		sent, err = srv.DeliverLogs(context.Background(), sandbox.LogStream{URL: "http://" + addr + "/", Authorization: "Bearer s3cret", Format: sandbox.StreamJSONArray, Retries: 1, RetryWait: 50 * time.Millisecond},
			time.Now().Add(-7*time.Hour))
		if err == nil || i > 100 {
			break
		}
		time.Sleep(100 * time.Millisecond) // not listening yet
	}
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	r := <-done
	if r.code != 0 || !strings.Contains(r.stderr, "the store holds") {
		t.Fatalf("receive: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "s3cret") {
		t.Error("the stream token reached the output")
	}
	// The delivered events are in the store: a search of the window from the
	// store sees them all without asking the tenant for logs.
	srv.ResetStats()
	r = c.run("logs", "sync", "--since", "6h", "--json")
	var out syncOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(r.stderr, err)
	}
	if out.Added != 0 || sent == 0 {
		t.Errorf("after the stream delivered %d events a sync added %d: the stream's events must already be held", sent, out.Added)
	}
}

// TestTrainingViewReadsTheStoreWithoutStartingTheTenant: after a sync, a
// training triage is answered by the store alone, so the fake tenant is
// never generated, and it finds what the tenant's own logs show.
func TestTrainingViewReadsTheStoreWithoutStartingTheTenant(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	run := func(args ...string) (result, *environment) {
		t.Helper()
		// A whole sync of the training tenant: minutes when the suite's
		// tests share the machine's two cores.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		ctx = withTrainingOptions(ctx, sandbox.WithRateLimit(0, 0), sandbox.WithRevokeDelay(0))
		var out, errb strings.Builder
		env := &environment{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return c.env[k] }}
		code := runEnv(ctx, env, args)
		return result{stdout: out.String(), stderr: errb.String(), code: code}, env
	}
	if r, _ := run("--training", "logs", "sync", "--since", "48h"); r.code != 0 {
		t.Fatalf("sync: exit %d: %s", r.code, r.stderr)
	}
	type account struct {
		UserID  string `json:"user_id"`
		Verdict string `json:"verdict"`
	}
	type verdicts struct {
		Compromised int       `json:"compromised"`
		Accounts    []account `json:"accounts"`
	}
	triage := func(args ...string) (verdicts, *environment) {
		t.Helper()
		r, env := run(append([]string{"--training"}, append(args, "ip", "triage", "--since", "48h", "--json")...)...)
		var v verdicts
		if err := json.Unmarshal([]byte(r.stdout), &v); r.code != 0 || err != nil {
			t.Fatalf("%v ip triage: exit %d (%v): %s", args, r.code, err, r.stderr)
		}
		return v, env
	}
	fromStore, env := triage()
	if env.client != nil {
		t.Error("a triage the store answers alone started the training tenant")
	}
	fromTenant, env := triage("--no-store")
	if env.client == nil {
		t.Error("--no-store did not read the training tenant")
	}
	if fromStore.Compromised == 0 || !reflect.DeepEqual(fromStore, fromTenant) {
		t.Errorf("triage from the store: %d compromised, %d accounts; from the tenant: %d, %d",
			fromStore.Compromised, len(fromStore.Accounts), fromTenant.Compromised, len(fromTenant.Accounts))
	}
	// detect reads sessions: it starts the tenant (beside the store read).
	if r, env := run("--training", "detect", "--since", "48h", "--json"); r.code != 0 || env.client == nil || !strings.Contains(r.stderr, "local store") {
		t.Errorf("detect: exit %d, tenant started %v: %s", r.code, env.client != nil, r.stderr)
	}
}
