package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

func decodeTriage(t *testing.T, res result) triageOutput {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var out triageOutput
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("decode: %v\n%s", err, res.stdout)
	}
	return out
}

func verdictsOf(r responders.TriageResult) map[responders.Verdict][]string {
	out := map[responders.Verdict][]string{}
	for _, a := range r.Accounts {
		out[a.Verdict] = append(out[a.Verdict], a.UserID)
	}
	for _, l := range out {
		slices.Sort(l)
	}
	return out
}

// checkTriageKey compares a triage with the scenario's answer key: the
// attacker addresses rank first, shared infrastructure is labelled, and
// the verdicts are the key's (targeted only when every name was resolved).
func checkTriageKey(t *testing.T, r responders.TriageResult, key *scenarios.AnswerKey, exactTargeted bool) {
	t.Helper()
	got := verdictsOf(r)
	if !slices.Equal(got[responders.VerdictCompromised], key.Compromised) {
		t.Errorf("compromised %v, want %v", got[responders.VerdictCompromised], key.Compromised)
	}
	if !slices.Equal(got[responders.VerdictStoppedByMFA], key.StoppedByMFA) {
		t.Errorf("stopped by MFA %v, want %v", got[responders.VerdictStoppedByMFA], key.StoppedByMFA)
	}
	targeted := got[responders.VerdictTargeted]
	if exactTargeted && !slices.Equal(targeted, key.Targeted) || len(targeted) < len(key.Targeted)*9/10 {
		t.Errorf("targeted: %d accounts, key %d", len(targeted), len(key.Targeted))
	}
	for _, id := range targeted {
		if !slices.Contains(key.Targeted, id) {
			t.Errorf("targeted %s is not in the key", id)
		}
	}
	other := ""
	for _, ip := range r.IPs {
		switch {
		case key.IsAttackerIP(ip.IP) && other != "":
			t.Fatalf("attacker %s ranks %d, after %s", ip.IP, ip.Rank, other)
		case !key.IsAttackerIP(ip.IP) && other == "":
			other = ip.IP
		}
		if slices.Contains(key.SharedIPs, ip.IP) && (ip.Label != responders.LabelShared || ip.Flagged) {
			t.Errorf("shared %s: label %q flagged %v", ip.IP, ip.Label, ip.Flagged)
		}
	}
	for _, a := range r.Accounts {
		if len(a.Evidence) == 0 {
			t.Errorf("%s %s without evidence", a.Verdict, a.UserID)
		}
	}
}

func TestIPTriageAgainstTheTenantMatchesTheAnswerKey(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	// The whole 48 h scenario: the attack started 26 to 29 hours before the
	// scenario's now, and account-level evidence (a victim's own earlier
	// activity) can be older than that.
	out := decodeTriage(t, c.run("ip", "triage", "--since", "72h", "--json"))
	if out.Source != "tenant" || out.Limited || out.Events < 30_000 {
		t.Fatalf("source %s limited %v events %d", out.Source, out.Limited, out.Events)
	}
	checkTriageKey(t, out.TriageResult, key, true)
	// Reads only, and the window was streamed with checkpoints, not
	// re-searched.
	for route, n := range srv.Stats().ByRoute {
		if !strings.HasPrefix(route, "GET ") && !strings.HasPrefix(route, "POST /oauth/token") {
			t.Errorf("sent %d %s", n, route)
		}
	}
}

func TestIPTriageLimitCapsTheEventsRead(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.againstSandbox()
	out := decodeTriage(t, c.run("ip", "triage", "--since", "72h", "--limit", "500", "--json"))
	if out.Events != 500 || !out.Limited {
		t.Fatalf("events %d limited %v", out.Events, out.Limited)
	}
	out = decodeTriage(t, c.run("ip", "triage", "--since", "72h", "--limit", "2500", "--json"))
	if out.Events != 2500 || !out.Limited {
		t.Fatalf("checkpoint paging: events %d limited %v", out.Events, out.Limited)
	}
}

// scenarioExport writes the sandbox's logs as a log-stream export, half of
// the lines in the envelope, and a malformed last line.
func scenarioExport(t *testing.T, srv *sandbox.Server) (path string, events int) {
	t.Helper()
	var b bytes.Buffer
	var logs []*sandbox.LogEvent
	srv.View(func(st *sandbox.State) { logs = st.Logs })
	for i, e := range logs {
		var line []byte
		if i%2 == 0 {
			line, _ = json.Marshal(map[string]any{"log_id": e.LogID, "data": e})
		} else {
			line, _ = json.Marshal(e)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteString("{not json\n")
	path = filepath.Join(t.TempDir(), "export.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, len(logs)
}

func TestIPTriageFromAFileSendsNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox() // configured, and must stay untouched
	path, events := scenarioExport(t, srv)
	srv.ResetStats()
	out := decodeTriage(t, c.run("ip", "triage", "--logs-file", path, "--json"))
	if n := srv.Stats().Requests; n != 0 {
		t.Errorf("a file triage sent %d requests", n)
	}
	if out.Source != "file" || out.Read == nil || out.Read.Events != int64(events) || out.Read.Malformed != 1 {
		t.Fatalf("read %+v", out.Read)
	}
	// Without the tenant, accounts named only by captcha failures stay
	// names: everything else is the key's.
	checkTriageKey(t, out.TriageResult, key, false)
	if out.UnresolvedNames == 0 {
		t.Error("unresolved names not reported")
	}
	// Ordinary addresses are counted, and listed with --all-ips.
	for _, ip := range out.IPs {
		if ip.Label == responders.LabelNone {
			t.Errorf("ordinary address %s listed without --all-ips", ip.IP)
		}
	}
	all := decodeTriage(t, c.run("ip", "triage", "--logs-file", path, "--json", "--all-ips"))
	if out.OrdinaryIPs == 0 || all.OrdinaryIPs != 0 || len(all.IPs) != len(out.IPs)+out.OrdinaryIPs {
		t.Errorf("--all-ips lists %d addresses; without it %d and %d ordinary counted", len(all.IPs), len(out.IPs), out.OrdinaryIPs)
	}
	// And from stdin.
	data, _ := os.ReadFile(path)
	var o, e bytes.Buffer
	env := &environment{stdin: bytes.NewReader(data), stdout: &o, stderr: &e, getenv: func(k string) string { return c.env[k] }}
	if code := runEnv(context.Background(), env, []string{"ip", "triage", "--logs-file", "-", "--json"}); code != 0 {
		t.Fatalf("stdin: exit %d: %s", code, e.String())
	}
	var fromStdin triageOutput
	if err := json.Unmarshal(o.Bytes(), &fromStdin); err != nil || fromStdin.Source != "stdin" ||
		!slices.Equal(verdictsOf(fromStdin.TriageResult)[responders.VerdictCompromised], key.Compromised) {
		t.Fatalf("stdin: %v %s", err, fromStdin.Source)
	}
	if !strings.Contains(e.String(), "1 malformed lines skipped (lines "+fmt.Sprint(events+1)+")") {
		t.Errorf("malformed line not reported: %s", e.String())
	}
}

func TestIPTriageBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	for _, args := range [][]string{
		{"--since", "yesterday"},
		{"--limit", "-1"},
		{"--allow", "10.0.0.0/33"},
		{"--allow", "10.0.0.1,nope"},
		{"--logs-file", filepath.Join(dir, "missing.ndjson")},
		{"--logs-file", dir},
		{"extra-arg"},
	} {
		res := c.run(append([]string{"ip", "triage"}, args...)...)
		if res.code != exitUsage || srv.Stats().Requests != 0 {
			t.Errorf("%v: exit %d, %d requests: %s", args, res.code, srv.Stats().Requests, res.stderr)
		}
	}
}

func TestIPTriageEscapesAttackerTextInEveryForm(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	line := func(typ, ip, id, name string) {
		at = at.Add(time.Minute)
		l, _ := json.Marshal(map[string]any{"log_id": fmt.Sprint(at.Unix()), "data": map[string]any{
			"type": typ, "ip": ip, "user_id": id, "user_name": name, "date": at.Format(time.RFC3339Nano)}})
		b.Write(l)
		b.WriteByte('\n')
	}
	for i := range 8 {
		line("fp", "203.0.113.5", fmt.Sprintf("auth0|v%d", i), fmt.Sprintf("v%d@example.com", i))
	}
	hostile := "\x1b]52;c;ZWNobyBwd25lZA==\x07boss\u202e@example.com\r"
	line("s", "203.0.113.5", "auth0|boss\x1b[2J", hostile)
	path := filepath.Join(t.TempDir(), "hostile.ndjson")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t)
	for _, tty := range []bool{false, true} {
		for _, args := range [][]string{{"ip", "triage", "--logs-file", path}, {"--json", "ip", "triage", "--logs-file", path}} {
			res := c.runCtx(context.Background(), tty, args...)
			if res.code != 0 || !strings.Contains(res.stdout, "compromised") {
				t.Fatalf("%v: exit %d %s", args, res.code, res.stderr)
			}
			for _, bad := range []string{"\x1b", "\u202e", "\r", "\x07"} {
				if strings.Contains(res.stdout+res.stderr, bad) {
					t.Errorf("tty %v %v: raw %q in output", tty, args, bad)
				}
			}
		}
	}
}

func TestIPHelpHasExamples(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, args := range [][]string{{"ip", "--help"}, {"ip", "triage", "--help"}} {
		res := c.run(args...)
		if res.code != 0 || !strings.Contains(res.stdout, "Examples:") {
			t.Errorf("%v: exit %d, no example:\n%s", args, res.code, res.stdout)
		}
	}
}
