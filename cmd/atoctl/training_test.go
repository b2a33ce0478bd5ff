package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
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
	t.Parallel()
	c := newCLI(t)
	getenv := func(k string) string { return c.env[k] }
	ctx := context.Background()

	first, err := startTrainingSandbox(scenarios.DefaultScenario, getenv)
	if err != nil {
		t.Fatal(err)
	}
	victim := firstUser(t, first.srv)
	client := trainingClient(t, first)
	if _, err := client.SetBlocked(ctx, victim, true); err != nil {
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
	t.Parallel()
	c := newCLI(t)
	res := c.run("--training", "--domain", "acme.eu.auth0.com", "users", "search", "x@y.z")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--training cannot be combined") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestUnknownScenarioIsUsageError(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	res := c.run("--training", "--scenario", "nope", "users", "search", "x@y.z")
	if res.code != exitUsage || !strings.Contains(res.stderr, "credential-stuffing") {
		t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestTrainingContainPersistsTheContainedState(t *testing.T) {
	t.Parallel()
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

// trun runs a command with the training sandbox's rate limit lifted (a
// test-only context option) so that whole exercises play in seconds.
func (c *cli) trun(args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx = withTrainingOptions(ctx, append([]sandbox.Option{sandbox.WithRateLimit(0, 0), sandbox.WithRevokeDelay(0)}, c.sandboxOpts...)...)
	return c.runCtx(ctx, false, args...)
}

// exerciseKey reads the answer key of the exercise under way.
func exerciseKey(t *testing.T, c *cli, scenario string) *scenarios.AnswerKey {
	t.Helper()
	ts, err := loadTrainingSandbox(scenario, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	return ts.key
}

// tamper changes the training tenant directly, as a trainee's console
// session could have, and persists it.
func tamper(t *testing.T, c *cli, scenario string, fn func(st *sandbox.State)) {
	t.Helper()
	ts, err := loadTrainingSandbox(scenario, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	ts.srv.Update(fn)
}

func score(t *testing.T, c *cli, scenario string) responders.Scorecard {
	t.Helper()
	// --reveal: these tests read the whole scorecard (the redacted one of
	// an exercise under way is tested in training_live_test.go).
	res := c.trun("training", "score", "--scenario", scenario, "--json", "--reveal")
	if res.code != 0 || !strings.Contains(res.stderr, "TRAINING") {
		t.Fatalf("training score: exit %d: %s", res.code, res.stderr)
	}
	var sc responders.Scorecard
	if err := json.Unmarshal([]byte(res.stdout), &sc); err != nil {
		t.Fatalf("score --json: %v\n%s", err, res.stdout)
	}
	return sc
}

func subjects(sc responders.Scorecard, verdict string) []string {
	var out []string
	for _, it := range sc.Items {
		if it.Verdict == verdict {
			out = append(out, it.Subject)
		}
	}
	return out
}

// playIdeal plays the ideal response through the real commands: the
// playbook on the compromised accounts (a ticket where the attacker changed
// the email, the mfa step where they enrolled a factor), resets for the
// accounts stopped by MFA, the attacker networks in the Network ACL.
func playIdeal(t *testing.T, c *cli, scenario string, key *scenarios.AnswerKey) {
	t.Helper()
	base := []string{"--training", "--scenario", scenario}
	var plain, mfa []string
	for _, id := range key.Compromised {
		switch {
		case key.EmailChanged[id] != "":
			res := c.trun(append(base, "contain", id, "--since", "72h", "--reset-method", "ticket", "--force", "--ticket-out", filepath.Join(t.TempDir(), "tickets"), "--yes")...)
			if res.code != 0 {
				t.Fatalf("contain %s with a ticket: exit %d: %s", id, res.code, res.stderr)
			}
		case len(key.AttackerFactors[id]) > 0:
			mfa = append(mfa, id)
		default:
			plain = append(plain, id)
		}
	}
	for _, set := range []struct {
		users []string
		steps string
	}{{plain, "snapshot,block,revoke,reset,unblock-check"}, {mfa, "snapshot,block,revoke,mfa,reset,unblock-check"}, {key.StoppedByMFA, "reset"}} {
		if len(set.users) == 0 {
			continue
		}
		args := append(append(base, "contain", "--since", "72h", "--steps", set.steps, "--yes"), set.users...)
		if res := c.trun(args...); res.code != 0 {
			t.Fatalf("contain --steps %s: exit %d: %s", set.steps, res.code, res.stderr)
		}
	}
	// An ACL list holds 20 entries: the whole botnet network first, then the
	// busiest single addresses.
	ts, err := loadTrainingSandbox(scenario, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ips := slices.Clone(key.AttackerIPs)
	slices.SortStableFunc(ips, func(a, b string) int { return ts.base.events[b] - ts.base.events[a] })
	ts.close()
	nets := append(slices.Clone(key.AttackerCIDRs), ips...)
	nets = nets[:min(len(nets), auth0client.MaxACLEntries)]
	res := c.trun(append(append(base, "ip", "contain", "--since", "72h", "--acl", "--yes"), nets...)...)
	if res.code != 0 && res.code != exitPartial {
		t.Fatalf("ip contain --acl: exit %d: %s", res.code, res.stderr)
	}
}

// TestTrainingExercisesScoreHonestly plays each scenario on a fresh
// training state: doing nothing, the ideal response, one miss plus one
// false positive, then containing every account of the attack logs and a
// few innocents besides.
func TestTrainingExercisesScoreHonestly(t *testing.T) {
	t.Parallel()
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			c := newCLI(t)
			res := c.trun("training", "start", "--scenario", name)
			sc, _ := scenarios.Get(name)
			if res.code != 0 || !strings.Contains(res.stdout, strings.SplitN(sc.Brief, "\n", 2)[0]) || !strings.Contains(res.stderr, "TRAINING") {
				t.Fatalf("training start: exit %d\nstdout %.300s\nstderr %s", res.code, res.stdout, res.stderr)
			}
			key := exerciseKey(t, c, name)

			if got := score(t, c, name); got.Percent > 10 {
				t.Errorf("doing nothing scores %.1f%%", got.Percent)
			}

			playIdeal(t, c, name, key)
			ideal := score(t, c, name)
			if ideal.Percent != 100 {
				t.Fatalf("the ideal response scores %.1f%%: missed %v, wrong %v", ideal.Percent, subjects(ideal, responders.ScoreMissed), subjects(ideal, responders.ScoreWrong))
			}
			res = c.trun("training", "debrief", "--scenario", name, "--format", "md")
			if res.code != 0 || !strings.Contains(res.stdout, "| attack |") || !strings.Contains(res.stdout, "| you |") || !strings.Contains(res.stdout, "100.0%") {
				t.Errorf("training debrief: exit %d\n%.1500s\n%s", res.code, res.stdout, res.stderr)
			}

			// One miss and one false positive.
			missed, innocent := key.Compromised[0], ""
			ts, _ := loadTrainingSandbox(name, func(k string) string { return c.env[k] })
			for _, id := range key.Innocent {
				if ts.base.sessions[id] > 0 {
					innocent = id
					break
				}
			}
			ts.close()
			tamper(t, c, name, func(st *sandbox.State) {
				for _, u := range st.Users {
					switch u.UserID {
					case missed:
						u.Blocked = false
					case innocent:
						u.Blocked = true
					}
				}
			})
			got := score(t, c, name)
			if !slices.Contains(subjects(got, responders.ScoreMissed), missed) || !slices.Contains(subjects(got, responders.ScoreWrong), innocent) || got.Percent >= 100 {
				t.Errorf("one miss and one false positive: %.1f%%, missed %v, wrong %v", got.Percent, subjects(got, responders.ScoreMissed), subjects(got, responders.ScoreWrong))
			}
			res = c.trun("training", "score", "--scenario", name)
			if !strings.Contains(res.stdout, "Missed:") || !strings.Contains(res.stdout, "Wrong:") || !strings.Contains(res.stdout, key.Evidence[missed][0].LogID) {
				t.Errorf("score text does not name the miss with its evidence:\n%s", res.stdout)
			}

			// Everyone in the attack logs, and innocents besides.
			everyone := map[string]bool{innocent: true}
			for _, id := range slices.Concat(key.Compromised, key.StoppedByMFA, key.Targeted, key.Innocent[:3]) {
				everyone[id] = true
			}
			tamper(t, c, name, func(st *sandbox.State) {
				for _, u := range st.Users {
					if everyone[u.UserID] {
						u.Blocked = true
					}
				}
				st.Sessions = slices.DeleteFunc(st.Sessions, func(s *sandbox.Session) bool { return everyone[s.UserID] })
			})
			all := score(t, c, name)
			wrong := subjects(all, responders.ScoreWrong)
			if all.Percent >= ideal.Percent || !slices.Contains(wrong, innocent) || !slices.Contains(wrong, key.Innocent[0]) {
				t.Errorf("containing everyone: %.1f%% (ideal %.1f%%), wrong %v", all.Percent, ideal.Percent, wrong)
			}
			for _, id := range key.Targeted {
				if !slices.Contains(wrong, id) {
					t.Errorf("targeted %s blocked but not named a false positive", id)
				}
			}
			t.Logf("%s: exercise played and scored in %v", name, time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestTrainingCommandsWorkOnAFreshCheckout(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	res := c.run("training", "list")
	for _, name := range scenarios.Names() {
		if !strings.Contains(res.stdout, name+"\t") {
			t.Errorf("training list lacks %s:\n%s", name, res.stdout)
		}
	}
	if !strings.Contains(res.stderr, "TRAINING") {
		t.Errorf("training list: stderr %q", res.stderr)
	}
	// Score and debrief before any exercise: a clear usage error.
	for _, cmd := range []string{"score", "debrief", "end"} {
		if res := c.run("training", cmd, "--scenario", "mfa-fatigue"); res.code != exitUsage || !strings.Contains(res.stderr, "training start") {
			t.Errorf("training %s before start: exit %d, %s", cmd, res.code, res.stderr)
		}
	}
	if res := c.run("training", "start", "--scenario", "mfa-fatigue"); res.code != 0 || !strings.Contains(res.stdout, "How to begin") {
		t.Fatalf("training start: exit %d: %s", res.code, res.stderr)
	}
	res = c.run("training", "start", "--scenario", "mfa-fatigue")
	if res.code != 0 || !strings.Contains(res.stderr, "still under way") {
		t.Errorf("second training start: exit %d: %s", res.code, res.stderr)
	}
	res = c.run("training", "score", "--scenario", "mfa-fatigue")
	if res.code != 0 || !strings.Contains(res.stdout, "Score: 0.0%") || !strings.Contains(res.stdout, "Missed:") {
		t.Errorf("training score: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(c.run("training", "score", "--help").stdout, "Scoring rubric") {
		t.Error("training score --help does not publish the rubric")
	}
	res = c.run("training", "debrief", "--scenario", "mfa-fatigue")
	if res.code != 0 || !strings.Contains(res.stdout, "attack") || !strings.Contains(res.stderr, "TRAINING") {
		t.Errorf("training debrief: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if res := c.run("training", "reset", "--scenario", "mfa-fatigue"); res.code != 0 || !strings.Contains(res.stderr, "TRAINING") {
		t.Errorf("training reset: exit %d: %s", res.code, res.stderr)
	}
	if res := c.run("training", "score", "--scenario", "mfa-fatigue"); res.code != exitUsage {
		t.Errorf("score after reset: exit %d", res.code)
	}
}

func TestTrainingCommandsRefuseARealTenant(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, args := range [][]string{
		{"training", "score", "--domain", "acme.eu.auth0.com"},
		{"training", "start", "--client-id", "abc"},
		{"training", "debrief", "--profile", "prod"},
	} {
		if res := c.run(args...); res.code != exitUsage || !strings.Contains(res.stderr, "never reaches a real tenant") {
			t.Errorf("%v: exit %d, %s", args, res.code, res.stderr)
		}
	}
}
