package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/responders"
)

// incidentHostile is attacker text as a reason or profile could carry it:
// a screen clear, a table-cell break, a link and a bidi override.
const incidentHostile = "\x1b[2Jpwned\t| [x](http://evil) \u202eexe"

// writeIncident journals a short containment of one user into the CLI's
// state dir, the way the responders do, and returns the journal (closed).
func writeIncident(t *testing.T, c *cli, id string) *responders.Journal {
	t.Helper()
	dir, err := incidentsDir(func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	j, err := responders.OpenJournal(dir, id, responders.JournalMeta{Operator: "alice@soc", Tenant: "acme.eu.auth0.com", Mode: responders.ModeTraining})
	if err != nil {
		t.Fatal(err)
	}
	user := "auth0|65f0c2a1b3d4e5f6a7b8c9d0"
	for _, r := range []responders.Record{
		{Kind: responders.KindOutcome, UserID: user, Step: responders.StepSnapshot, Outcome: "done",
			Evidence: incidentEvidence(t)},
		{Kind: responders.KindIntent, UserID: user, Step: responders.StepBlock, Calls: []responders.Call{{Method: "PATCH", Path: "/api/v2/users/auth0%7C65f0", Body: map[string]any{"blocked": true}}}},
		{Kind: responders.KindOutcome, UserID: user, Step: responders.StepBlock, Outcome: "done"},
		{Kind: responders.KindOutcome, UserID: user, Step: responders.StepUnblockCheck, Outcome: "awaiting-unblock", Reason: incidentHostile},
	} {
		if _, err := j.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return j
}

func incidentEvidence(t *testing.T) json.RawMessage {
	b, err := json.Marshal(map[string]any{
		"user":     map[string]any{"email": "m@example.com", "name": incidentHostile},
		"sessions": []any{map[string]any{}, map[string]any{}},
		"logs":     []any{map[string]any{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIncidentListShowsEachJournal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	if res := c.run("incident", "list", "--json"); res.code != 0 || strings.TrimSpace(res.stdout) != "[]" {
		t.Fatalf("list with no incidents: exit %d, %q %s", res.code, res.stdout, res.stderr)
	}
	a := writeIncident(t, c, "inc-a")
	writeIncident(t, c, "inc-b")
	res := c.run("incident", "list", "--json")
	var list []responders.IncidentSummary
	if err := json.Unmarshal([]byte(res.stdout), &list); err != nil || res.code != 0 {
		t.Fatalf("list --json: exit %d, %v: %s", res.code, err, res.stdout)
	}
	if len(list) != 2 || list[0].Problem != "" || list[0].Records != 4 || list[0].Users != 1 || list[0].Mode != "training" {
		t.Fatalf("list: %+v", list)
	}
	res = c.run("incident", "list")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "id\t") || !strings.Contains(res.stdout, a.Head()) {
		t.Fatalf("list TSV: exit %d:\n%s", res.code, res.stdout)
	}
}

func TestIncidentShowPrintsTheTimelineSafely(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	res := c.run("incident", "show", "inc-a")
	if res.code != 0 {
		t.Fatalf("show: exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 5 || strings.Count(lines[4], "\t") != 7 {
		t.Fatalf("show TSV is not one line per record with 8 cells:\n%s", res.stdout)
	}
	if !strings.Contains(lines[2], "PATCH /api/v2/users/auth0%7C65f0") || !strings.Contains(lines[4], "awaiting-unblock") {
		t.Fatalf("show TSV misses the calls or the outcome:\n%s", res.stdout)
	}
	tty := c.runCtx(context.Background(), true, "incident", "show", "inc-a")
	js := c.run("incident", "show", "inc-a", "--json")
	var tl incidentTimeline
	if err := json.Unmarshal([]byte(js.stdout), &tl); err != nil || js.code != 0 {
		t.Fatalf("show --json: exit %d, %v", js.code, err)
	}
	if len(tl.Timeline) != 4 || tl.Head != j.Head() || !tl.Verified || tl.Timeline[0].EvidenceBytes == 0 {
		t.Fatalf("show --json: %+v", tl)
	}
	for form, out := range map[string]string{"TSV": res.stdout, "TTY": tty.stdout, "JSON": js.stdout} {
		if strings.ContainsAny(out, "\x1b\u202e") || strings.Contains(out, "pwned\t") {
			t.Errorf("show %s prints hostile text raw:\n%q", form, out)
		}
	}
}

func TestIncidentVerifyChecksTheChainAndTheHead(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	for _, args := range [][]string{{"--head", j.Head()}, {"--head", strings.ToUpper(j.Head())}} {
		res := c.run(append([]string{"incident", "verify", "inc-a"}, args...)...)
		if res.code != 0 || res.stdout != "ok: 4 records, head "+j.Head()+"\n" {
			t.Fatalf("verify %v: exit %d: %q %s", args, res.code, res.stdout, res.stderr)
		}
	}
	// Without --head the chain verifies, but a cut tail cannot be seen.
	if res := c.run("incident", "verify", "inc-a"); res.code != 0 || !strings.HasPrefix(res.stdout, "chain ok: 4 records, head "+j.Head()+"; without --head") {
		t.Fatalf("verify without --head: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	other := strings.Repeat("ab", 32)
	res := c.run("incident", "verify", "inc-a", "--head", other)
	if res.code != 1 || !strings.Contains(res.stderr, "not the expected head") || strings.Count(res.stderr, "\n") != 1 {
		t.Fatalf("verify with another head: exit %d: %s", res.code, res.stderr)
	}

	// Cut the last record: verifies alone, not against the head.
	path := j.Path()
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	if err := os.WriteFile(path, []byte(strings.Join(lines[:3], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := c.run("incident", "verify", "inc-a"); res.code != 0 || !strings.Contains(res.stdout, "cannot tell whether records were removed from the end") {
		t.Fatalf("verify of a cut journal without --head: exit %d: %q %s", res.code, res.stdout, res.stderr)
	}
	res = c.run("incident", "verify", "inc-a", "--head", j.Head(), "--json")
	var vr verifyResult
	if err := json.Unmarshal([]byte(res.stdout), &vr); err != nil || res.code != 1 || vr.OK || !strings.Contains(vr.Problem, "cut from the end") {
		t.Fatalf("verify of a cut journal with --head: exit %d, %+v, %v: %s", res.code, vr, err, res.stderr)
	}

	// Edit a field of record 2.
	edited := strings.Replace(string(data), `"method":"PATCH"`, `"method":"GET"`, 1)
	if err := os.WriteFile(path, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	res = c.run("incident", "verify", "inc-a")
	if res.code != 1 || !strings.Contains(res.stderr, "record 2: hash mismatch") || strings.Count(res.stderr, "\n") != 1 || res.stdout != "" {
		t.Fatalf("verify of an edited journal: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
	if res := c.run("incident", "report", "inc-a"); res.code != 1 || !strings.Contains(res.stdout, "WARNING: this journal does not verify") {
		t.Fatalf("report of an edited journal: exit %d: %s", res.code, res.stderr)
	}
	if res := c.run("incident", "show", "inc-a"); res.code != 1 || !strings.Contains(res.stderr, "does not verify") {
		t.Fatalf("show of an edited journal: exit %d: %s", res.code, res.stderr)
	}
}

func TestIncidentReportEndsWithTheVerifyCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	res := c.run("incident", "report", "inc-a")
	if res.code != 0 || !strings.Contains(res.stdout, "atoctl incident verify inc-a --head "+j.Head()) {
		t.Fatalf("report: exit %d: %s\n%s", res.code, res.stderr, res.stdout)
	}
	if strings.ContainsAny(res.stdout, "\x1b\u202e") || strings.Contains(res.stdout, "](http") && !strings.Contains(res.stdout, `\](http`) {
		t.Fatalf("report carries hostile text raw:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "## Awaiting unblock") || !strings.Contains(res.stdout, "2 sessions") {
		t.Fatalf("report misses the awaiting user or the evidence:\n%s", res.stdout)
	}
	for _, args := range [][]string{{"--format", "json"}, {"--json"}, {"--json", "--format", "json"}} {
		res := c.run(append([]string{"incident", "report", "inc-a"}, args...)...)
		var rep responders.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || res.code != 0 || rep.Head != j.Head() || len(rep.AwaitingUnblock) != 1 {
			t.Fatalf("report %v: exit %d, %v: %s", args, res.code, err, res.stdout)
		}
	}
	for _, args := range [][]string{{"--json", "--format", "md"}, {"--format", "html"}} {
		if res := c.run(append([]string{"incident", "report", "inc-a"}, args...)...); res.code != 2 {
			t.Fatalf("report %v: exit %d, want 2: %s", args, res.code, res.stderr)
		}
	}
	if res := c.run("incident", "report", "inc-missing"); res.code != 1 || !strings.Contains(res.stderr, "not found") || !strings.Contains(res.stderr, "incident list") {
		t.Fatalf("report of a missing incident: exit %d: %s", res.code, res.stderr)
	}
}

func TestIncidentCommandsRefuseBadInputBeforeTouchingAnything(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, args := range [][]string{
		{"incident", "show", "../../etc/passwd"},
		{"incident", "verify", "a/b"},
		{"incident", "report", ".hidden"},
		{"incident", "show", "inc\x1b[31m"},
		{"incident", "verify", "inc-a", "--head", "nothex"},
		{"incident", "show"},
		{"incident", "list", "extra"},
	} {
		res := c.run(args...)
		if res.code != 2 || strings.Contains(res.stderr, "\x1b") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, want 2: %q", args, res.code, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(c.env["XDG_STATE_HOME"], "atoctl")); !os.IsNotExist(err) {
		t.Fatalf("bad input created state: %v", err)
	}
}

func TestIncidentReadsWhileAResponderHoldsTheJournal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	writeIncident(t, c, "inc-a")
	dir, _ := incidentsDir(func(k string) string { return c.env[k] })
	j, err := responders.OpenJournal(dir, "inc-a", responders.JournalMeta{Operator: "bob@soc", Tenant: "acme.eu.auth0.com", Mode: responders.ModeLive})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if _, err := responders.OpenJournal(dir, "inc-a", responders.JournalMeta{Mode: responders.ModeLive}); err == nil || !strings.Contains(err.Error(), "is open in another atoctl process") {
		t.Fatalf("second writer: %v", err)
	}
	for _, cmd := range []string{"show", "verify", "report"} {
		if res := c.run("incident", cmd, "inc-a"); res.code != 0 {
			t.Errorf("incident %s while the journal is held: exit %d: %s", cmd, res.code, res.stderr)
		}
	}
}

func TestIncidentsDirFollowsXDG(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/s", "HOME": "/h"}, "/s/atoctl/incidents"},
		{map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/h"}, "/h/.local/state/atoctl/incidents"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/atoctl/incidents"},
		{map[string]string{}, ""},
	} {
		got, err := incidentsDir(func(k string) string { return tc.env[k] })
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("incidentsDir(%v) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

func TestIncidentVerifyIgnoresATornTailWithANote(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	f, err := os.OpenFile(j.Path(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":5,"time":"20`)
	f.Close()
	res := c.run("incident", "verify", "inc-a", "--head", j.Head())
	if res.code != 0 || !strings.HasPrefix(res.stdout, "ok: 4 records") || !strings.Contains(res.stderr, "line 5 is torn") {
		t.Fatalf("verify with a torn tail: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
}
