package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

// TestTrainingWritePersistsAcrossSandboxesUntilReset blocks a user through
// one in-process training sandbox, reads it blocked through the next (as
// the next command would), then resets and reads it unblocked.
func TestTrainingWritePersistsAcrossSandboxesUntilReset(t *testing.T) {
	c := newCLI(t)
	getenv := func(k string) string { return c.env[k] }
	ctx := context.Background()

	first, err := startTrainingSandbox(scenarios.DefaultScenario, getenv)
	if err != nil {
		t.Fatal(err)
	}
	victim := firstUser(t, first.srv)
	client := trainingClient(t, first)
	if err := client.SetBlocked(ctx, victim, true); err != nil {
		t.Fatal(err)
	}
	first.close()

	// The next command: a new sandbox over the same state file.
	res := c.run("--training", "users", "show", victim, "--json")
	if res.code != 0 {
		t.Fatalf("users show: exit %d: %s", res.code, res.stderr)
	}
	var rep struct {
		User struct {
			ID      string `json:"user_id"`
			Blocked bool   `json:"blocked"`
		} `json:"user"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("users show --json: %v\n%s", err, res.stdout)
	}
	if rep.User.ID != victim || !rep.User.Blocked {
		t.Fatalf("after the block, the next command reads %+v", rep.User)
	}
	if !strings.Contains(res.stderr, "TRAINING") {
		t.Fatalf("training output does not say TRAINING on stderr: %q", res.stderr)
	}

	if res := c.run("training", "reset"); res.code != 0 {
		t.Fatalf("training reset: exit %d: %s", res.code, res.stderr)
	}
	path, _ := trainingStatePath(getenv, scenarios.DefaultScenario)
	if _, ok, _ := sandbox.PersistedEpoch(path); ok {
		t.Fatalf("state file %s survived the reset", filepath.Base(path))
	}
	third, err := startTrainingSandbox(scenarios.DefaultScenario, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer third.close()
	u, err := trainingClient(t, third).User(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	if u.Blocked {
		t.Fatal("training reset did not restore the user")
	}
}

func firstUser(t *testing.T, srv *sandbox.Server) string {
	t.Helper()
	var id string
	srv.View(func(st *sandbox.State) { id = st.Users[0].UserID })
	return id
}

func trainingClient(t *testing.T, ts *trainingSandbox) *auth0client.Client {
	t.Helper()
	cfg, err := ts.config()
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth0client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTrainingRefusesRealTenantFlags(t *testing.T) {
	c := newCLI(t)
	res := c.run("--training", "--domain", "acme.eu.auth0.com", "users", "search", "x@y.z")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--training cannot be combined") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestUnknownScenarioIsUsageError(t *testing.T) {
	c := newCLI(t)
	res := c.run("--training", "--scenario", "nope", "users", "search", "x@y.z")
	if res.code != exitUsage || !strings.Contains(res.stderr, "credential-stuffing") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestTrainingContainPersistsTheContainedState(t *testing.T) {
	c := newCLI(t)
	getenv := func(k string) string { return c.env[k] }
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	_, key := sc.Generate(sc.DefaultSeed, time.Now().UTC())
	var user string
	for _, id := range key.Compromised {
		if _, changed := key.EmailChanged[id]; !changed {
			user = id
			break
		}
	}
	res := c.run("--training", "contain", user, "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got, why := decodeContain(t, res).outcome(user, responders.StepUnblockCheck); got != string(responders.Done) {
		t.Fatalf("unblock-check %s (%s)", got, why)
	}
	// Read it back through the next training sandbox, as the next command would.
	next, err := startTrainingSandbox(scenarios.DefaultScenario, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer next.close()
	contained(t, next.srv, user)
}
