package responders

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/auth0client"
)

// The -update flag may be declared by another test file of this package;
// declare it only if nobody has (package vars initialise before init).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func reportUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func reportGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if reportUpdateGolden() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// reportHostileName is what an attacker can put in a profile name: an escape
// sequence, a table-cell break, a Markdown link, HTML, a heading, a bidi
// override and an HTML entity for one.
const reportHostileName = "\x1b[31mMallory | <img src=x onerror=alert(1)> [x](http://evil.example) \u202egnp.exe # *bold* &#x202E; www.evil.example"

// reportEvidence is a snapshot as the snapshot step writes it.
func reportEvidence(t *testing.T, name, email string, sessions, tokens, methods, logs int) json.RawMessage {
	t.Helper()
	ev := Evidence{
		TakenAt:       journalT0,
		User:          auth0client.User{ID: "x", Email: email, Name: name},
		Sessions:      make([]auth0client.Session, sessions),
		RefreshTokens: make([]auth0client.RefreshToken, tokens),
		AuthMethods:   make([]auth0client.AuthMethod, methods),
		Logs:          make([]auth0client.LogEvent, logs),
	}
	for i := range ev.Logs {
		ev.Logs[i] = auth0client.LogEvent{Type: "s", UserName: name}
	}
	if tokens == 0 {
		ev.Notes = []string{"refresh tokens: the plan lacks the endpoint"}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reportJournal is an incident with three users and a network block:
// one awaiting unblock, one social (reset skipped), one whose failed check
// was followed by an unblock and whose reset was interrupted.
func reportJournal(t *testing.T) *Journal {
	t.Helper()
	j := openTestJournal(t, t.TempDir(), "inc-20261127-1220-7f3a")
	u1, u2, u3 := "auth0|65f0c2a1b3d4e5f6a7b8c9d0", "google-oauth2|1047", "auth0|65f0c2a1b3d4e5f6a7b8c9d3"
	patch := func(id string) []Call {
		return []Call{{Method: "PATCH", Path: "/api/v2/users/" + id, Body: map[string]any{"blocked": true}}}
	}
	for _, r := range []Record{
		{Kind: KindOutcome, UserID: u1, Step: "snapshot", Outcome: "done", Evidence: reportEvidence(t, reportHostileName, "mallory@example.com", 2, 1, 3, 25)},
		{Kind: KindIntent, UserID: u1, Step: "block", Calls: patch(u1)},
		{Kind: KindOutcome, UserID: u1, Step: "block", Outcome: "done"},
		{Kind: KindIntent, UserID: u1, Step: "revoke", Calls: []Call{{Method: "DELETE", Path: "/api/v2/users/" + u1 + "/sessions"}}},
		{Kind: KindOutcome, UserID: u1, Step: "revoke", Outcome: "done", Reason: "sessions NOT revoked: plan lacks the feature; grants deleted instead"},
		{Kind: KindIntent, UserID: u1, Step: "reset", Calls: []Call{{Method: "POST", Path: "/dbconnections/change_password", Body: map[string]any{"client_id": "app1", "email": "mallory@example.com", "connection": "Username-Password-Authentication"}}}},
		{Kind: KindOutcome, UserID: u1, Step: "reset", Outcome: "done", Reason: "reset email sent (scpr seen)"},
		{Kind: KindOutcome, UserID: u1, Step: "unblock-check", Outcome: "awaiting-unblock", Reason: "no deployed post-change-password Action unblocks the user"},

		{Kind: KindOutcome, UserID: u2, Step: "snapshot", Outcome: "done", Evidence: reportEvidence(t, "Bob", "bob@example.com", 1, 0, 1, 1)},
		{Kind: KindOutcome, UserID: u2, Step: "block", Outcome: "already-done"},
		{Kind: KindOutcome, UserID: u2, Step: "reset", Outcome: "skipped", Reason: "no database identity: a google-oauth2 user has no password here"},

		{Kind: KindOutcome, UserID: u3, Step: "block", Outcome: "done", Mode: ModeDryRun},
		{Kind: KindOutcome, UserID: u3, Step: "unblock-check", Outcome: "failed", Error: "read bindings: 403 insufficient scope (read:actions)"},
		{Kind: KindOutcome, UserID: u3, Step: "unblock", Outcome: "done", Operator: "bob@soc-desk"},
		{Kind: KindIntent, UserID: u3, Step: "reset", Calls: []Call{{Method: "POST", Path: "/api/v2/tickets/password-change", Body: map[string]any{"user_id": u3}}}},

		{Kind: KindIntent, Step: "acl", Calls: []Call{{Method: "POST", Path: "/api/v2/network-acls"}}},
		{Kind: KindOutcome, Step: "acl", Outcome: "done", Reason: "blocked 203.0.113.0/24"},
		{Kind: KindNote, Reason: "handed over to | bob"},
	} {
		journalAppend(t, j, r)
	}
	return j
}

func TestReportGolden(t *testing.T) {
	j := reportJournal(t)
	rep := BuildReport(j.Records())
	reportGolden(t, "report.md", rep.Markdown())
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	reportGolden(t, "report.json", string(b)+"\n")
}

func TestReportSaysWhoAwaitsUnblockAndWhatWasSkipped(t *testing.T) {
	rep := BuildReport(reportJournal(t).Records())
	if len(rep.AwaitingUnblock) != 1 || rep.AwaitingUnblock[0] != "auth0|65f0c2a1b3d4e5f6a7b8c9d0" {
		t.Fatalf("awaiting unblock: %v", rep.AwaitingUnblock)
	}
	if len(rep.Users) != 3 || len(rep.Users[1].Skipped) != 1 || rep.Users[1].Skipped[0].Step != "reset" {
		t.Fatalf("users: %+v", rep.Users)
	}
	last := rep.Users[2].Steps[len(rep.Users[2].Steps)-1]
	if last.Step != "reset" || last.Outcome != unfinishedOutcome {
		t.Fatalf("an intent without outcome reads as %+v", last)
	}
	if rep.Mode != "live, dry-run" || len(rep.Operators) != 2 || !rep.Verified {
		t.Fatalf("header: mode %q operators %v verified %v", rep.Mode, rep.Operators, rep.Verified)
	}
	dry := BuildReport([]Record{{Seq: 1, Kind: KindOutcome, Mode: ModeDryRun, UserID: "auth0|d", Step: StepUnblockCheck, Outcome: AwaitingUnblock}})
	if len(dry.AwaitingUnblock) != 0 {
		t.Fatalf("a dry run leaves %v awaiting unblock", dry.AwaitingUnblock)
	}
	e := rep.Users[0].Evidence
	if e == nil || e.Sessions != 2 || e.RefreshTokens != 1 || e.AuthMethods != 3 || e.Logs != 25 || e.Email != "mallory@example.com" {
		t.Fatalf("evidence summary: %+v", e)
	}
}

func TestReportMarkdownKeepsHostileTextInert(t *testing.T) {
	md := BuildReport(reportJournal(t).Records()).Markdown()
	for _, bad := range []string{"\x1b", "\u202e", "http://evil", "www.evil"} {
		if strings.Contains(md, bad) {
			t.Errorf("report contains %q", bad)
		}
	}
	// Metacharacters of the hostile name appear only backslash-escaped.
	for _, bad := range []string{"](", "[x", "<img", "&#x", "# *", "*bold"} {
		if regexp.MustCompile(`(^|[^\\])` + regexp.QuoteMeta(bad)).MatchString(md) {
			t.Errorf("report contains an unescaped %q", bad)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		// Every table row has exactly its columns: no injected cell.
		if strings.HasPrefix(line, "| ") {
			cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
			if cells != 3 && cells != 5 {
				t.Errorf("table row with %d separators: %s", cells, line)
			}
		}
	}
	want := "Verify later with: `atoctl incident verify inc-20261127-1220-7f3a --head "
	if !strings.Contains(md, want) {
		t.Errorf("report lacks %q", want)
	}
}

func TestReportOfATamperedJournalSaysSo(t *testing.T) {
	recs := reportJournal(t).Records()
	recs[2].Outcome = "skipped"
	rep := BuildReport(recs)
	if rep.Verified || !strings.Contains(rep.Integrity, "record 3") {
		t.Fatalf("verified %v, integrity %q", rep.Verified, rep.Integrity)
	}
	if !strings.Contains(rep.Markdown(), "WARNING: this journal does not verify") {
		t.Fatal("the Markdown of a tampered journal carries no warning")
	}
	if empty := BuildReport(nil); empty.Records != 0 || !strings.Contains(empty.Markdown(), "empty") {
		t.Fatalf("empty report: %+v", empty)
	}
}
