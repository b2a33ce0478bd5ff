package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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

// oneLine fails unless stderr is exactly one non-empty line.
func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if s := strings.TrimSpace(stderr); s == "" || strings.Contains(s, "\n") {
		t.Fatalf("want a one-line error, got %q", stderr)
	}
}

func TestUnknownSubcommandsAndStrayArgumentsExit2(t *testing.T) {
	tests := []struct {
		args []string
		name string // what the error must name
	}{
		{[]string{"users", "bogus"}, "bogus"},
		{[]string{"help", "bogus"}, "bogus"},
		{[]string{"help", "users", "bogus"}, "bogus"},
		{[]string{"logs", "bogus"}, "bogus"},
		{[]string{"ip", "bogus"}, "bogus"},
		{[]string{"incident", "bogus"}, "bogus"},
		{[]string{"training", "bogus"}, "bogus"},
		{[]string{"sandbox", "bogus"}, "bogus"},
		{[]string{"completion", "bogus"}, "bogus"},
		{[]string{"--training", "users", "bogus", "x@y.z"}, "bogus"},
		{[]string{"tui", "extra"}, "extra"},
		{[]string{"training", "list", "extra"}, "extra"},
		{[]string{"training", "score", "extra"}, "extra"},
		{[]string{"logs", "search", "extra"}, "extra"},
		{[]string{"sandbox", "serve", "extra"}, "extra"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c := newCLI(t)
			res := c.run(tt.args...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want 2; stdout %.200q stderr %q", res.code, res.stdout, res.stderr)
			}
			oneLine(t, res.stderr)
			if !strings.Contains(res.stderr, tt.name) || !strings.Contains(res.stderr, "--help") {
				t.Fatalf("error %q does not name %q and point to --help", res.stderr, tt.name)
			}
			if res.stdout != "" {
				t.Fatalf("a usage error printed to stdout: %.200q", res.stdout)
			}
		})
	}
}

func TestParentsAndHelpStillShowHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string // a line of the help shown
	}{
		{[]string{"users"}, "atoctl users [command]"},
		{[]string{"help", "users"}, "atoctl users [command]"},
		{[]string{"help", "users", "logs"}, "atoctl users logs USER"},
		{[]string{"help"}, "atoctl [command]"},
		{[]string{"training", "--help"}, "atoctl training [command]"},
		{[]string{"completion", "bash"}, "bash completion"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := newCLI(t).run(tt.args...)
			if res.code != exitOK || !strings.Contains(res.stdout, tt.want) {
				t.Fatalf("exit %d, stdout %.300q lacks %q; stderr %q", res.code, res.stdout, tt.want, res.stderr)
			}
		})
	}
}

func TestUsersLogsRejectsUnknownEventTypes(t *testing.T) {
	c := newCLI(t)
	srv, key := c.againstSandbox()
	user := key.Compromised[0]
	tests := []struct {
		types string
		code  int
		bad   string // the code the error must name
	}{
		{"bogus", exitUsage, "bogus"},
		{"s,bogus", exitUsage, "bogus"},
		{"S", exitUsage, "S"},
		{"limit_wc,pwd_leakx", exitUsage, "pwd_leakx"},
		{"s", exitOK, ""},
		{"f,fp,fu,limit_wc,pwd_leak", exitOK, ""},
		{"gd_enrollment_complete,gd_send_pn,mfar", exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.types, func(t *testing.T) {
			srv.ResetStats()
			res := c.run("users", "logs", user, "--type", tt.types, "--since", "7d", "--json")
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", res.code, tt.code, res.stderr)
			}
			if tt.code != exitUsage {
				return
			}
			oneLine(t, res.stderr)
			want := `--type: "` + tt.bad + `" is not an Auth0 log event type code (e.g. f, fp, s, limit_wc): see https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes`
			if !strings.Contains(res.stderr, want) {
				t.Fatalf("stderr %q lacks %q", res.stderr, want)
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Fatalf("a bad --type sent %d requests", n)
			}
		})
	}
}

// Every event type the sandbox writes is one Auth0 documents: the list must
// not reject what a tenant really logs.
func TestEveryScenarioEventTypeIsAKnownAuth0Code(t *testing.T) {
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			sc, _ := scenarios.Get(name)
			st, _ := sc.Generate(sc.DefaultSeed, testEpoch)
			seen := map[string]bool{}
			for _, e := range st.Logs {
				if !seen[e.Type] {
					seen[e.Type] = true
					if !auth0client.KnownEventType(e.Type) {
						t.Errorf("the sandbox logs %q, which KnownEventType rejects", e.Type)
					}
				}
			}
			if len(seen) == 0 {
				t.Fatal("the scenario has no log events")
			}
		})
	}
	for _, bad := range []string{"", "bogus", "S", " s", "s ", "limit_wc\n"} {
		if auth0client.KnownEventType(bad) {
			t.Errorf("KnownEventType(%q) = true", bad)
		}
	}
}

func TestMissingCredentialsExit4(t *testing.T) {
	dir := t.TempDir()
	emptySecret := filepath.Join(dir, "empty-secret")
	if err := os.WriteFile(emptySecret, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		code  int
	}{
		{"nothing configured", nil, nil, exitCredentials},
		{"domain only", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com"}, nil, exitCredentials},
		{"no client id", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_SECRET": "s3cr3t"}, nil, exitCredentials},
		{"no secret", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc"}, nil, exitCredentials},
		{"secret file missing", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc"},
			[]string{"--client-secret-file", filepath.Join(dir, "nope")}, exitCredentials},
		{"secret file empty", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc"},
			[]string{"--client-secret-file", emptySecret}, exitCredentials},
		{"plain http off loopback", map[string]string{"AUTH0_CLIENT_ID": "abc", "AUTH0_CLIENT_SECRET": "s3cr3t"},
			[]string{"--domain", "http://acme.eu.auth0.com"}, exitUsage},
		{"domain with a path", map[string]string{"AUTH0_CLIENT_ID": "abc", "AUTH0_CLIENT_SECRET": "s3cr3t"},
			[]string{"--domain", "https://acme.eu.auth0.com/api/v2"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			for k, v := range tt.env {
				c.env[k] = v
			}
			res := c.run(append(tt.flags, "users", "search", "x@y.z")...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr %q", res.code, tt.code, res.stderr)
			}
			oneLine(t, res.stderr)
			if strings.Contains(res.stderr, "s3cr3t") {
				t.Fatalf("the secret reached stderr: %q", res.stderr)
			}
		})
	}
}

// trainingCurrentIncident is the current incident a training command on the
// scenario journals into.
func trainingCurrentIncident(c *cli, scenario string) string {
	env := &environment{getenv: func(k string) string { return c.env[k] }}
	env.opts.training, env.opts.scenario = true, scenario
	return env.currentIncident()
}

func TestTrainingCurrentIncidentIsPerScenario(t *testing.T) {
	c := newCLI(t)
	c.env["USER"] = "trainee"
	for _, name := range []string{"credential-stuffing", "mfa-fatigue"} {
		if res := c.trun("training", "start", "--scenario", name); res.code != 0 {
			t.Fatalf("training start %s: exit %d: %s", name, res.code, res.stderr)
		}
	}
	before := score(t, c, "credential-stuffing")
	key := exerciseKey(t, c, "mfa-fatigue")
	res := c.trun("--training", "--scenario", "mfa-fatigue", "contain", key.Compromised[0], "--steps", "snapshot,block,revoke,mfa,reset,unblock-check", "--yes")
	if res.code != 0 {
		t.Fatalf("contain on mfa-fatigue: exit %d: %s", res.code, res.stderr)
	}
	after := score(t, c, "credential-stuffing")
	if after.Percent != before.Percent {
		t.Errorf("credential-stuffing score moved from %.1f%% to %.1f%% after a contain on mfa-fatigue", before.Percent, after.Percent)
	}
	if mfa := score(t, c, "mfa-fatigue"); mfa.Percent <= 0 {
		t.Errorf("the contain did not count on its own scenario: %.1f%%", mfa.Percent)
	}

	cs, mf := trainingCurrentIncident(c, "credential-stuffing"), trainingCurrentIncident(c, "mfa-fatigue")
	for _, tt := range []struct{ scenario, id string }{{"credential-stuffing", cs}, {"mfa-fatigue", mf}} {
		if tt.id == "" {
			t.Fatalf("%s has no current training incident", tt.scenario)
		}
		res := c.trun("training", "score", "--scenario", tt.scenario)
		if !strings.Contains(res.stderr, "incident "+tt.id) {
			t.Errorf("training score --scenario %s does not score its own incident %s: %q", tt.scenario, tt.id, res.stderr)
		}
	}
	if cs == mf {
		t.Fatalf("both scenarios journal into incident %s", cs)
	}
	// Resetting one scenario forgets only its own incident.
	if res := c.trun("training", "reset", "--scenario", "mfa-fatigue"); res.code != 0 {
		t.Fatalf("training reset: exit %d: %s", res.code, res.stderr)
	}
	if got := trainingCurrentIncident(c, "credential-stuffing"); got != cs {
		t.Errorf("resetting mfa-fatigue changed credential-stuffing's incident from %s to %q", cs, got)
	}
	if got := trainingCurrentIncident(c, "mfa-fatigue"); got != "" {
		t.Errorf("mfa-fatigue still has current incident %s after its reset", got)
	}
}

// persistenceRows returns the TSV rows of contain's table that report
// persistence for the user.
func persistenceRows(stdout, user string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(stdout, "\n") {
		cells := strings.Split(line, "\t")
		if len(cells) == 4 && cells[0] == user && cells[1] == "persistence" {
			rows = append(rows, cells)
		}
	}
	return rows
}

// attackerFactorsLeft reads the training tenant: which of the attacker's
// factors are still enrolled.
func attackerFactorsLeft(t *testing.T, c *cli, scenario, user string, factors []string) []string {
	t.Helper()
	ts, err := loadTrainingSandbox(scenario, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	var left []string
	ts.srv.View(func(st *sandbox.State) {
		for _, m := range st.AuthenticationMethods {
			if m.UserID == user && slices.Contains(factors, m.ID) {
				left = append(left, m.ID)
			}
		}
	})
	return left
}

func TestContainReportsPersistenceAndExits3WhileItStays(t *testing.T) {
	c := newCLI(t)
	c.env["USER"] = "analyst"
	for _, name := range []string{"mfa-fatigue", "credential-stuffing"} {
		if res := c.trun("training", "start", "--scenario", name); res.code != 0 {
			t.Fatalf("training start %s: exit %d: %s", name, res.code, res.stderr)
		}
	}
	mfaKey := exerciseKey(t, c, "mfa-fatigue")
	var mfaVictim string
	for id := range mfaKey.AttackerFactors {
		mfaVictim = id
	}
	csKey := exerciseKey(t, c, "credential-stuffing")
	var emailVictim string
	for id := range csKey.EmailChanged {
		emailVictim = id
	}
	if mfaVictim == "" || emailVictim == "" {
		t.Fatalf("the answer keys name no attacker factor (%v) or changed email (%v)", mfaKey.AttackerFactors, csKey.EmailChanged)
	}
	factors := mfaKey.AttackerFactors[mfaVictim]
	if len(attackerFactorsLeft(t, c, "mfa-fatigue", mfaVictim, factors)) == 0 {
		t.Fatalf("the attacker's factor %v is not on %s at the start", factors, mfaVictim)
	}

	// The steps run in order on the same training tenant.
	tests := []struct {
		name, scenario, user string
		command, flags       []string // command defaults to contain
		code                 int
		kind, hint           string // the persistence row
		warn                 bool   // a stderr warning names the user
		factorsLeft          bool
	}{
		{"a single step warns but exits on its outcome", "mfa-fatigue", mfaVictim, []string{"users", "block"}, nil, exitOK,
			responders.FindingMFAEnrolled, "remove it: --steps snapshot,block,revoke,reset,unblock-check,mfa", true, true},
		{"playbook without mfa leaves the factor", "mfa-fatigue", mfaVictim, nil, nil, exitPartial,
			responders.FindingMFAEnrolled, "remove it: --steps snapshot,block,revoke,reset,unblock-check,mfa", true, true},
		{"dry-run with mfa plans the removal", "mfa-fatigue", mfaVictim, nil, []string{"--dry-run", "--steps", "snapshot,block,revoke,reset,unblock-check,mfa"}, exitOK,
			responders.FindingMFAEnrolled, "", false, true},
		{"playbook with mfa removes it", "mfa-fatigue", mfaVictim, nil, []string{"--steps", "snapshot,block,revoke,reset,unblock-check,mfa"}, exitOK,
			responders.FindingMFAEnrolled, "", false, false},
		{"refused reset to the attacker's email", "credential-stuffing", emailVictim, nil, nil, exitPartial,
			responders.FindingEmailChanged, "the reset email would go to the attacker: --reset-method ticket, or restore the owner's address first", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			command := tt.command
			if command == nil {
				command = []string{"contain"}
			}
			args := slices.Concat([]string{"--training", "--scenario", tt.scenario}, command, []string{tt.user, "--since", "72h", "--yes"}, tt.flags)
			res := c.trun(args...)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", res.code, tt.code, res.stdout, res.stderr)
			}
			var found bool
			for _, row := range persistenceRows(res.stdout, tt.user) {
				if row[2] != "FOUND" {
					t.Errorf("persistence row outcome %q, want FOUND", row[2])
				}
				if tt.hint == "" || strings.Contains(row[3], tt.hint) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no persistence row (FOUND, %q) for %s in\n%s", tt.hint, tt.user, res.stdout)
			}
			warned := slices.ContainsFunc(strings.Split(res.stderr, "\n"), func(l string) bool {
				return strings.HasPrefix(l, "WARNING: ") && strings.Contains(l, tt.user) && strings.Contains(l, tt.kind)
			})
			if warned != tt.warn {
				t.Fatalf("stderr warning about %s %s: %v, want %v\n%s", tt.user, tt.kind, warned, tt.warn, res.stderr)
			}
			if tt.scenario == "mfa-fatigue" {
				if left := attackerFactorsLeft(t, c, tt.scenario, tt.user, factors); (len(left) > 0) != tt.factorsLeft {
					t.Fatalf("attacker factors left on the tenant: %v, want some: %v", left, tt.factorsLeft)
				}
			}
		})
	}

	// JSON keeps its shape (findings inside each result) and the exit code.
	res := c.trun("--training", "--scenario", "credential-stuffing", "contain", emailVictim, "--since", "72h", "--yes", "--json")
	if res.code != exitPartial {
		t.Fatalf("--json: exit %d, want 3: %s", res.code, res.stderr)
	}
	var out struct {
		Results []struct {
			UserID   string               `json:"user_id"`
			Findings []responders.Finding `json:"findings"`
			Steps    []json.RawMessage    `json:"steps"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%.500s", err, res.stdout)
	}
	if len(out.Results) != 1 || out.Results[0].UserID != emailVictim || len(out.Results[0].Steps) == 0 ||
		!slices.ContainsFunc(out.Results[0].Findings, func(f responders.Finding) bool { return f.Kind == responders.FindingEmailChanged }) {
		t.Fatalf("--json shape changed: %.800s", res.stdout)
	}
	if strings.Contains(res.stdout, "FOUND") {
		t.Fatalf("--json carries table rows: %.500s", res.stdout)
	}
}

// The terminal table shows persistence too, and a dry-run exits as the
// run would.
func TestContainTableShowsPersistenceOnATerminal(t *testing.T) {
	c := newCLI(t)
	c.env["USER"] = "analyst"
	if res := c.trun("training", "start", "--scenario", "mfa-fatigue"); res.code != 0 {
		t.Fatalf("training start: exit %d: %s", res.code, res.stderr)
	}
	key := exerciseKey(t, c, "mfa-fatigue")
	var victim string
	for id := range key.AttackerFactors {
		victim = id
	}
	for _, tt := range []struct {
		steps string
		code  int
	}{
		{"snapshot,block,revoke,reset,unblock-check", exitPartial},
		{"snapshot,block,revoke,reset,unblock-check,mfa", exitOK},
	} {
		t.Run(tt.steps, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			ctx = withTrainingOptions(ctx, sandbox.WithRateLimit(0, 0), sandbox.WithRevokeDelay(0))
			res := c.runCtx(ctx, true, "--training", "--scenario", "mfa-fatigue", "contain", victim, "--since", "72h", "--steps", tt.steps, "--dry-run")
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d: %s", res.code, tt.code, res.stderr)
			}
			if !strings.Contains(res.stdout, "persistence") || !strings.Contains(res.stdout, "FOUND") {
				t.Fatalf("the table has no persistence row:\n%s", res.stdout)
			}
		})
	}
}

func TestBuildOutputsAreNotTracked(t *testing.T) {
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("not a git checkout (%v): this test reads what git tracks", err)
	}
	root := strings.TrimSpace(string(top))
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
		return string(out), err
	}
	if out, _ := git("ls-files", "--cached", "--", "cmd/atoctl/atoctl"); strings.TrimSpace(out) != "" {
		t.Errorf("the binary cmd/atoctl/atoctl is tracked")
	}
	tests := []struct {
		path    string
		ignored bool
	}{
		{"atoctl", true},
		{"cmd/atoctl/atoctl", true},
		{"bin/atoctl", true},
		{"cmd/atoctl/atoctl.test", true},
		{"responders/responders.test", true},
		{"cover.out", true},
		{"responders/cpu.prof", true},
		{"cmd/atoctl", false},
		{"cmd/atoctl/main.go", false},
		{"cmd/atoctl/new_file.go", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			// --no-index: judge the patterns, not whether the path is tracked.
			_, err := git("check-ignore", "-q", "--no-index", tt.path)
			if ignored := err == nil; ignored != tt.ignored {
				t.Fatalf("git check-ignore %s: ignored %v, want %v", tt.path, ignored, tt.ignored)
			}
		})
	}
}

func TestUsersHelpListsEverySubcommand(t *testing.T) {
	env := &environment{getenv: func(string) string { return "" }}
	users := newUsersCmd(env)
	res := newCLI(t).run("users", "--help")
	if res.code != 0 {
		t.Fatalf("users --help: exit %d: %s", res.code, res.stderr)
	}
	for _, sub := range users.Commands() {
		t.Run(sub.Name(), func(t *testing.T) {
			if !strings.Contains(users.Long, "\n  "+sub.Name()+" ") {
				t.Errorf("users --help does not describe %q:\n%s", sub.Name(), users.Long)
			}
		})
	}
	// The help says what users holds: writes are there, so it is not
	// read-only.
	if strings.Contains(strings.ToLower(users.Long), "read-only investigation") {
		t.Errorf("users --help calls itself read-only but holds block, revoke and unblock:\n%s", users.Long)
	}
}
