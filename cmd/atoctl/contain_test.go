package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

// containSandbox serves the scenario for contain tests, with the reset
// application configured as a real profile would. It returns the
// compromised users whose email the attacker left alone, and those whose
// email the attacker changed.
func (c *cli) containSandbox(opts ...sandbox.Option) (*sandbox.Server, []string, map[string]string) {
	c.t.Helper()
	srv, key := c.againstSandbox(opts...)
	c.env["AUTH0_RESET_CLIENT_ID"] = resetClientOf(srv)
	c.env["USER"] = "analyst"
	var plain []string
	for _, id := range key.Compromised {
		if _, changed := key.EmailChanged[id]; !changed {
			plain = append(plain, id)
		}
	}
	if len(plain) < 7 {
		c.t.Fatalf("scenario has %d plainly compromised users; the tests need 7", len(plain))
	}
	return srv, plain, key.EmailChanged
}

type containJSON struct {
	Incident     string `json:"incident"`
	JournalHead  string `json:"journal_head"`
	PlannedCalls []struct {
		Method, Path string
	} `json:"planned_calls"`
	Results []struct {
		UserID string `json:"user_id"`
		Error  string `json:"error"`
		Steps  []struct {
			Step, Outcome, Reason, Error, Evidence string
		} `json:"steps"`
	} `json:"results"`
}

func decodeContain(t *testing.T, res result) containJSON {
	t.Helper()
	var out containJSON
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("contain --json output: %v\nstdout %.500s\nstderr %.500s", err, res.stdout, res.stderr)
	}
	return out
}

func (cj containJSON) outcome(user, step string) (string, string) {
	for _, r := range cj.Results {
		if r.UserID != user {
			continue
		}
		for _, s := range r.Steps {
			if s.Step == step {
				return s.Outcome, s.Reason + s.Error
			}
		}
	}
	return "", ""
}

// contained reads the user's end state back from the sandbox.
func contained(t *testing.T, srv *sandbox.Server, user string) {
	t.Helper()
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == user && !u.Blocked {
				t.Errorf("%s is not blocked", user)
			}
		}
		for _, s := range st.Sessions {
			if s.UserID == user {
				t.Errorf("%s still has session %s", user, s.ID)
			}
		}
		for _, r := range st.RefreshTokens {
			if r.UserID == user {
				t.Errorf("%s still has refresh token %s", user, r.ID)
			}
		}
	})
	if n := srv.ResetRequests(user); n != 1 {
		t.Errorf("%s got %d reset emails (scpr), want exactly 1", user, n)
	}
}

func writes(st sandbox.Stats) int64 {
	var n int64
	for route, count := range st.ByRoute {
		if !strings.HasPrefix(route, "GET ") && route != "POST /oauth/token" {
			n += count
		}
	}
	return n
}

func TestContainLeavesTheUserContainedAndASecondRunOnlyReads(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	user := compromised[0]
	res := c.run("contain", user, "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("contain: exit %d\n%s", res.code, res.stderr)
	}
	out := decodeContain(t, res)
	contained(t, srv, user)
	for step, want := range map[string]string{responders.StepBlock: "blocked=true", responders.StepRevoke: "no sessions", responders.StepReset: "scpr event", responders.StepSnapshot: "saved"} {
		for _, s := range out.Results[0].Steps {
			if s.Step == step && !strings.Contains(s.Evidence, want) {
				t.Errorf("%s evidence %q lacks %q", step, s.Evidence, want)
			}
		}
	}
	if o, why := out.outcome(user, responders.StepUnblockCheck); o != string(responders.Done) {
		t.Fatalf("unblock-check %s (%s), want done with the scenario's deployed Action", o, why)
	}

	srv.ResetStats()
	res = c.run("contain", user, "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("second contain: exit %d\n%s", res.code, res.stderr)
	}
	out = decodeContain(t, res)
	for _, s := range out.Results[0].Steps {
		if s.Step != responders.StepUnblockCheck && s.Outcome != string(responders.AlreadyDone) {
			t.Errorf("second run: %s is %s, want already-done", s.Step, s.Outcome)
		}
	}
	if w := writes(srv.Stats()); w != 0 {
		t.Fatalf("second run sent %d writes: %v", w, srv.Stats().ByRoute)
	}
	contained(t, srv, user)
}

func TestContainDryRunPlansEveryCallAndWritesNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	user := compromised[1]
	srv.ResetStats()
	res := c.run("--dry-run", "contain", user, "--json")
	if res.code != 0 {
		t.Fatalf("dry-run: exit %d\n%s\n%s", res.code, res.stderr, res.stdout)
	}
	if w := writes(srv.Stats()); w != 0 {
		t.Fatalf("dry-run sent %d writes: %v", w, srv.Stats().ByRoute)
	}
	out := decodeContain(t, res)
	var got []string
	for _, call := range out.PlannedCalls {
		got = append(got, call.Method+" "+call.Path)
	}
	for _, want := range []string{"PATCH /api/v2/users/", "DELETE /api/v2/users/", "POST /dbconnections/change_password"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("planned calls %v lack %s…", got, want)
		}
	}
	for _, s := range out.Results[0].Steps {
		if s.Step != responders.StepSnapshot && s.Step != responders.StepUnblockCheck && s.Outcome != string(responders.Planned) {
			t.Errorf("dry-run step %s: %s, want planned", s.Step, s.Outcome)
		}
	}
	// The table form prints the calls too.
	res = c.run("--dry-run", "contain", user)
	if !strings.Contains(res.stdout, "planned: PATCH /api/v2/users/") || !strings.Contains(res.stderr, "DRY-RUN") {
		t.Fatalf("dry-run table output lacks the plan:\n%s\n%s", res.stdout, res.stderr)
	}
	if w := writes(srv.Stats()); w != 0 {
		t.Fatalf("dry-run sent %d writes", w)
	}
}

func TestUnblockCheckVerdictFollowsTheDeployedAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variant sandbox.UnblockActionVariant
		want    responders.Outcome
	}{
		{sandbox.UnblockDeployed, responders.Done},
		{sandbox.UnblockAbsent, responders.AwaitingUnblock},
		{sandbox.UnblockDeployedDoesNot, responders.AwaitingUnblock},
		{sandbox.UnblockDraftOnly, responders.AwaitingUnblock},
	}
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	for _, tt := range tests {
		t.Run(tt.variant.String(), func(t *testing.T) {
			srv.Update(func(st *sandbox.State) { sandbox.SetUnblockAction(st, tt.variant) })
			res := c.run("contain", compromised[2], "--steps", "unblock-check", "--yes", "--json")
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			got, why := decodeContain(t, res).outcome(compromised[2], responders.StepUnblockCheck)
			if got != string(tt.want) {
				t.Fatalf("verdict %s (%s), want %s", got, why, tt.want)
			}
			if tt.want == responders.AwaitingUnblock && !strings.Contains(res.stderr, "WARNING") {
				t.Fatalf("no loud warning on stderr: %s", res.stderr)
			}
			if tt.variant == sandbox.UnblockDraftOnly && !strings.Contains(why, "draft") {
				t.Fatalf("draft-only verdict does not mention the draft: %s", why)
			}
		})
	}
}

func TestResetIsSkippedForSocialUsersAndRefusedForAnAttackerEmail(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _, emailChanged := c.containSandbox()
	var social string
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if len(u.Identities) == 1 && u.Identities[0].IsSocial {
				social = u.UserID
				return
			}
		}
	})
	res := c.run("contain", social, "--yes", "--json")
	if got, why := decodeContain(t, res).outcome(social, responders.StepReset); got != string(responders.Skipped) || !strings.Contains(why, "database") {
		t.Fatalf("social user reset: %s (%s), want skipped for no database identity", got, why)
	}

	var victim string
	for id := range emailChanged {
		victim = id
	}
	res = c.run("contain", victim, "--yes", "--json")
	if res.code != exitPartial {
		t.Fatalf("attacker-changed email: exit %d, want 3 (reset refused, other steps done)\n%s", res.code, res.stderr)
	}
	out := decodeContain(t, res)
	if got, why := out.outcome(victim, responders.StepReset); got != string(responders.Failed) || !strings.Contains(why, "email was changed") {
		t.Fatalf("reset: %s (%s), want refused for the changed email", got, why)
	}
	if got, _ := out.outcome(victim, responders.StepBlock); got != string(responders.Done) {
		t.Fatalf("block: %s, want done despite the refused reset", got)
	}
	if n := srv.ResetRequests(victim); n != 0 {
		t.Fatalf("%d reset emails sent to the attacker's address", n)
	}
	res = c.run("contain", victim, "--steps", "reset", "--force", "--yes", "--json")
	if got, _ := decodeContain(t, res).outcome(victim, responders.StepReset); got != string(responders.Done) || srv.ResetRequests(victim) != 1 {
		t.Fatalf("reset with --force: %s, %d emails", got, srv.ResetRequests(victim))
	}
}

func TestRevokeFallsBackToGrantsWhenThePlanLacksSessions(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox(sandbox.WithPlan(sandbox.PlanNoSessions))
	user := compromised[0]
	res := c.run("contain", user, "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	got, why := decodeContain(t, res).outcome(user, responders.StepRevoke)
	if got != string(responders.Done) || !strings.Contains(why, "sessions NOT revoked") {
		t.Fatalf("revoke: %s (%s), want done via grants saying sessions NOT revoked", got, why)
	}
	srv.View(func(st *sandbox.State) {
		for _, g := range st.Grants {
			if g.UserID == user {
				t.Errorf("grant %s survived", g.ID)
			}
		}
	})
}

// A step's missing scope is found by the preflight, before the block: the
// owner is never left blocked with the revoke failing behind it.
func TestAStepMissingItsScopeIsRefusedBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	scopes := []string{"read:users", "update:users", "read:logs", "read:logs_users", "read:sessions",
		"read:refresh_tokens", "delete:refresh_tokens", "read:authentication_methods", "read:grants", "read:actions"}
	srv.AddClient("no-delete-sessions", "secret-2", scopes) // lacks delete:sessions
	c.env["AUTH0_CLIENT_ID"], c.env["AUTH0_CLIENT_SECRET"] = "no-delete-sessions", "secret-2"
	user := compromised[3]
	before := logsLen(srv)
	res := c.run("contain", user, "--yes", "--json")
	if res.code != exitCredentials || !strings.Contains(res.stderr, "delete:sessions") {
		t.Fatalf("exit %d, want 4 naming delete:sessions\n%s", res.code, res.stderr)
	}
	if n := userWritesOf(srv, before); n != 0 || sandboxUserBlocked(srv, user) {
		t.Fatalf("%d writes (blocked=%v) before the preflight refused", n, sandboxUserBlocked(srv, user))
	}
}

func TestContainSurvivesFaultsWithoutDuplicateResets(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	users := compromised[:4]
	srv.SetFaults(sandbox.Faults{Share429: 0.10, Share5xx: 0.05, ShareDropBefore: 0.02, ShareDropAfterWrite: 0.2, Seed: 11})
	var res result
	for attempt := 1; attempt <= 4; attempt++ {
		res = c.run(append([]string{"contain", "--yes", "--json"}, users...)...)
		if res.code == 0 {
			break
		}
	}
	if res.code != 0 {
		t.Fatalf("not contained after 4 runs under faults: exit %d\n%s\n%s", res.code, res.stderr, res.stdout)
	}
	srv.SetFaults(sandbox.Faults{})
	for _, u := range users {
		contained(t, srv, u)
	}
	if res := c.run("incident", "verify", decodeContain(t, res).Incident); res.code != 0 {
		t.Fatalf("journal does not verify: %s", res.stderr)
	}
}

func TestNoSecretReachesOutputOrJournal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	user := compromised[4]
	tickets := filepath.Join(t.TempDir(), "tickets.txt")
	var all strings.Builder
	for _, args := range [][]string{
		{"contain", user, "--reset-method", "ticket", "--ticket-out", tickets, "--yes", "--json"},
		{"contain", compromised[3], "--reset-method", "ticket", "--ticket-out", tickets, "--yes"},
		{"users", "show", user, "--json"},
	} {
		res := c.run(args...)
		if res.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, res.code, res.stderr)
		}
		all.WriteString(res.stdout + res.stderr)
	}
	dir, _ := incidentsDir(func(k string) string { return c.env[k] })
	journals, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if len(journals) == 0 {
		t.Fatal("no journal written")
	}
	for _, j := range journals {
		b, _ := os.ReadFile(j)
		all.Write(b)
	}
	ticketData, err := os.ReadFile(tickets)
	if err != nil || strings.Count(string(ticketData), "ticket=") != 2 {
		t.Fatalf("ticket file: %v %q", err, ticketData)
	}
	if fi, _ := os.Stat(tickets); fi.Mode().Perm() != 0o600 {
		t.Fatalf("ticket file mode %v, want 0600", fi.Mode().Perm())
	}
	for _, secret := range []string{"ticket=", sandbox.ClientSecret, "Bearer", "access_token"} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("%q appears in output or journal", secret)
		}
	}
	_ = srv
}

func TestContainOffATTYWithoutYesSendsNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	srv.ResetStats()
	for _, args := range [][]string{
		{"contain", compromised[0]},
		{"users", "block", compromised[0]},
		{"contain", compromised[0], "--steps", "nope", "--yes"},
		{"contain", compromised[0], "--reset-method", "sms", "--yes"},
		{"contain", "--yes"},
		{"contain", compromised[0], "--incident", "../etc", "--yes"},
	} {
		res := c.run(args...)
		if res.code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, res.code, res.stderr)
		}
	}
	if n := srv.Stats().Requests; n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestUnblockWaitsForThePasswordChangeAndRollbackUndoesBlocks(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, compromised, _ := c.containSandbox()
	srv.Update(func(st *sandbox.State) { sandbox.SetUnblockAction(st, sandbox.UnblockAbsent) })
	user := compromised[6]
	if res := c.run("contain", user, "--yes"); res.code != 0 {
		t.Fatalf("contain: %d %s", res.code, res.stderr)
	}
	res := c.run("users", "unblock", user, "--yes", "--json")
	if res.code == 0 || !sandboxUserBlocked(srv, user) {
		t.Fatalf("unblock before any password change: exit %d, blocked=%v", res.code, sandboxUserBlocked(srv, user))
	}
	if err := srv.CompletePasswordReset(user); err != nil {
		t.Fatal(err)
	}
	if !sandboxUserBlocked(srv, user) {
		t.Fatal("no Action is bound, yet the reset unblocked the user")
	}
	if res := c.run("users", "unblock", user, "--yes"); res.code != 0 || sandboxUserBlocked(srv, user) {
		t.Fatalf("unblock after scp: exit %d %s", res.code, res.stderr)
	}

	// Rollback unblocks what this incident blocked, and says what stays.
	other := compromised[5]
	res = c.run("contain", other, "--yes", "--json")
	incident := decodeContain(t, res).Incident
	res = c.run("incident", "rollback", incident, "--yes")
	if res.code != 0 || sandboxUserBlocked(srv, other) {
		t.Fatalf("rollback: exit %d, blocked=%v\n%s", res.code, sandboxUserBlocked(srv, other), res.stderr)
	}
	if !strings.Contains(res.stderr, "cannot be undone") || !strings.Contains(res.stderr, "revoked") {
		t.Fatalf("rollback does not say what cannot be undone:\n%s", res.stderr)
	}
	if res := c.run("incident", "verify", incident); res.code != 0 {
		t.Fatalf("journal after rollback: %s", res.stderr)
	}
}

func sandboxUserBlocked(srv *sandbox.Server, id string) bool {
	blocked := false
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == id {
				blocked = u.Blocked
			}
		}
	})
	return blocked
}

func TestContainNamedByEmailAndByIDContainsTheAccountOnce(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, plain, _ := c.containSandbox()
	id := plain[0]
	var email string
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == id {
				email = u.Email
			}
		}
	})
	res := c.run("contain", email, id, "--yes", "--json")
	if res.code != 0 && res.code != 3 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if n := len(decodeContain(t, res).Results); n != 1 {
		t.Errorf("%d results for one account named twice, want 1", n)
	}
	if n := srv.ResetRequests(id); n != 1 {
		t.Errorf("%d reset emails to the owner, want 1", n)
	}
	if n := srv.Stats().ByRoute["PATCH /api/v2/users/{id}"]; n != 1 {
		t.Errorf("%d blocks sent, want 1", n)
	}
}

func TestContainRunsStepsInPlaybookOrderWhateverTheFlagSays(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, plain, _ := c.containSandbox()
	id := plain[1]
	res := c.run("contain", id, "--steps", "reset,block", "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	// The sandbox's own logs: the block (sapi) before the reset (scpr).
	block, reset := -1, -1
	srv.View(func(st *sandbox.State) {
		for i, e := range st.Logs {
			switch {
			case e.Type == "sapi" && e.Description == "Update a User" && block < 0:
				block = i
			case e.Type == "scpr" && e.UserID == id && reset < 0:
				reset = i
			}
		}
	})
	if block < 0 || reset < 0 || block > reset {
		t.Fatalf("block at log %d, reset at log %d: the reset went out before the block", block, reset)
	}
	steps := decodeContain(t, res).Results[0].Steps
	if len(steps) != 2 || steps[0].Step != responders.StepBlock || steps[1].Step != responders.StepReset {
		t.Fatalf("steps ran as %+v, want block then reset", steps)
	}
}
