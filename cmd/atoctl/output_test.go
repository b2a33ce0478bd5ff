package main

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// assertNoRawControl fails on any byte or rune that could drive a terminal:
// C0/C1 controls (but the layout's own \n and \t), DEL, bidi and zero-width
// characters, invalid UTF-8.
func assertNoRawControl(t *testing.T, form, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s: invalid UTF-8 in output", form)
	}
	for i, r := range out {
		bad := (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) ||
			(r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0xfeff
		if bad {
			t.Fatalf("%s: raw %U at byte %d: %q", form, r, i, out[max(0, i-40):min(len(out), i+40)])
		}
	}
}

func TestHostileTenantTextIsEscapedInEveryOutputForm(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	if len(key.Hostile) == 0 || len(key.HostileLogs) == 0 {
		t.Fatal("scenario has no hostile strings")
	}
	hostileLogs := map[string]bool{}
	for _, id := range key.HostileLogs {
		hostileLogs[id] = true
	}
	// The addresses the hostile events came from, so a log search finds them.
	ips := map[string]bool{}
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if hostileLogs[e.LogID] && e.IP != "" {
				ips[e.IP] = true
			}
		}
	})
	var runs [][]string
	for _, id := range key.Hostile {
		runs = append(runs, []string{"users", "show", id})
	}
	for ip := range ips {
		runs = append(runs, []string{"logs", "search", "--ip", ip, "--since", "72h", "--limit", "1000"})
	}
	runs = append(runs, []string{"users", "search", "logins_count:[0 TO *]", "--limit", "1000"})

	var all strings.Builder
	for _, args := range runs {
		for _, form := range []struct {
			name string
			tty  bool
			json bool
		}{{"table", true, false}, {"tsv", false, false}, {"json", false, true}} {
			a := args
			if form.json {
				a = append(append([]string{}, args...), "--json")
			}
			res := c.runCtx(t.Context(), form.tty, a...)
			if res.code != 0 {
				t.Fatalf("%v (%s): exit %d: %s", a, form.name, res.code, res.stderr)
			}
			assertNoRawControl(t, form.name+" stdout of "+strings.Join(a, " "), res.stdout)
			assertNoRawControl(t, form.name+" stderr of "+strings.Join(a, " "), res.stderr)
			if form.name == "table" {
				for _, line := range strings.Split(res.stdout, "\n") {
					if len(line) > 4096 {
						t.Fatalf("table line of %d bytes: cells are not capped", len(line))
					}
				}
			}
			all.WriteString(res.stdout)
		}
	}
	for _, marker := range []string{"^[", "⟨U+202E⟩", "^M", "^@", "⟨U+200B⟩", "^G"} {
		if !strings.Contains(all.String(), marker) {
			t.Errorf("no visible marker %q in any output: hostile text was dropped, not shown", marker)
		}
	}

	// Errors that echo tenant-controlled or typed text are escaped too.
	for _, tc := range []struct {
		args   []string
		echoes bool // the error repeats the input
	}{
		{[]string{"users", "show", "ev\u202eil@example.com"}, true},
		{[]string{"users", "search", `name:"unterminated` + "\u202e"}, false},
		{[]string{"logs", "search", "--q", "type:(\u2066"}, false},
		{[]string{"logs", "search", "--ip", "1.2.3.4\u202e"}, true},
	} {
		res := c.run(tc.args...)
		if res.code == 0 {
			t.Fatalf("%q unexpectedly succeeded", tc.args)
		}
		assertNoRawControl(t, "stderr of "+strings.Join(tc.args, " "), res.stderr)
		if tc.echoes && !strings.Contains(res.stderr, "⟨U+") {
			t.Errorf("stderr of %q does not show the hidden character: %q", tc.args, res.stderr)
		}
	}
}
