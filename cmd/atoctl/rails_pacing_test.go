package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// --max-rate takes a positive, finite number of requests per second, no
// smaller than the minimum: anything else is bad input (exit 2, one line,
// nothing sent). A tiny rate would pace one request per decades: refused,
// not a hang.
func TestMaxRateMustBeAPositiveFiniteRateAboveTheMinimum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value, want string
	}{
		{"NaN", "--max-rate"},
		{"nan", "--max-rate"},
		{"Inf", "--max-rate"},
		{"+Inf", "--max-rate"},
		{"-Inf", "--max-rate"},
		{"0", "--max-rate"},
		{"-0", "--max-rate"},
		{"-1", "--max-rate"},
		{"1e-9", "0.1"},
		{"0.05", "0.1"},
		{"fast", "--max-rate"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			srv, _ := c.againstSandbox()
			// A hang (the bug a tiny rate caused) fails at this deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, args := range [][]string{
				{"--max-rate", tt.value, "users", "search", "king"},
				{"users", "search", "king", "--max-rate=" + tt.value},
			} {
				res := c.runCtx(ctx, false, args...)
				if res.code != exitUsage {
					t.Fatalf("%q: exit %d, want 2; stderr %q", args, res.code, res.stderr)
				}
				if strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, tt.want) {
					t.Fatalf("%q: want a one-line error mentioning %q, got %q", args, tt.want, res.stderr)
				}
				if n := srv.Stats().Requests; n != 0 {
					t.Fatalf("%q: bad --max-rate sent %d requests to the tenant", args, n)
				}
			}
		})
	}
}

func TestMaxRateAtTheMinimumAndUnsetAreAccepted(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	for _, args := range [][]string{
		{"users", "search", "king"},
		{"--max-rate", "0.1", "users", "search", "king"},
		{"--max-rate", "20", "users", "search", "king"},
	} {
		srv.ResetStats()
		res := c.run(args...)
		if res.code != exitOK || res.stdout == "" {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q", args, res.code, res.stdout, res.stderr)
		}
		if srv.Stats().ManagementRequests == 0 {
			t.Fatalf("%q: nothing reached the tenant", args)
		}
	}
}

// A secret file others can read still works, with a one-line warning on
// stderr naming the file and the fix; a 0600 file gets none.
func TestLooseSecretFileWarnsOnStderr(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	delete(c.env, "AUTH0_CLIENT_SECRET")
	for _, mode := range []os.FileMode{0o644, 0o600} {
		path := filepath.Join(t.TempDir(), "secret")
		if err := os.WriteFile(path, []byte(sandbox.ClientSecret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		srv.ResetStats()
		res := c.run("--client-secret-file", path, "users", "search", "king")
		if res.code != exitOK || res.stdout == "" {
			t.Fatalf("mode %04o: exit %d, stderr %q", mode, res.code, res.stderr)
		}
		if srv.Stats().ManagementRequests == 0 {
			t.Fatalf("mode %04o: the secret was not used", mode)
		}
		var warnings []string
		for _, line := range strings.Split(strings.TrimSpace(res.stderr), "\n") {
			if strings.Contains(line, "warning") {
				warnings = append(warnings, line)
			}
		}
		if mode == 0o600 {
			if len(warnings) != 0 {
				t.Fatalf("mode 0600 warned: %q", warnings)
			}
			continue
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], path) || !strings.Contains(warnings[0], "chmod 600 "+path) {
			t.Fatalf("mode %04o: want one warning naming %s and 'chmod 600', got stderr %q", mode, path, res.stderr)
		}
		if strings.Contains(res.stderr, sandbox.ClientSecret) || strings.Contains(res.stdout, sandbox.ClientSecret) {
			t.Fatal("the secret was printed")
		}
	}
}

// terminalQueries are what lipgloss/termenv send to learn the terminal's
// colours and cursor: OSC 10/11 (foreground, background) and DSR (cursor
// position). A terminal that does not answer (script, some CI ptys, serial
// consoles) makes the sender wait 5 s for each.
var terminalQueries = []string{"\x1b]11;?", "\x1b]10;?", "\x1b[6n"}

// A command run on a terminal must not query it: only the console may. The
// real binary runs on a pseudo-terminal made by util-linux script(1), which
// answers no query, and everything it writes to the terminal is checked.
func TestCommandsOnATerminalSendNoTerminalQueries(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Fatal("script(1) is not installed (Debian bsdutils; .ci/run installs it): the terminal-query check needs it")
	}
	if out, err := exec.Command(script, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "util-linux") {
		t.Fatal("script(1) is not util-linux's: the terminal-query check needs it")
	}
	bin := atoctlBinary(t)
	for _, args := range []string{
		"--training users search king",
		"--training users search king --json",
		"--help",
	} {
		t.Run(args, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, script, "-qefc", bin+" "+args, "/dev/null")
			cmd.Env = append(os.Environ(), "TERM=xterm-256color", "XDG_STATE_HOME="+t.TempDir(),
				"XDG_CONFIG_HOME="+t.TempDir(), "HOME="+t.TempDir())
			cmd.Env = slicesWithout(cmd.Env, "CI=", "NO_COLOR=")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("atoctl %s under script: %v\n%q", args, err, out.String())
			}
			for _, q := range terminalQueries {
				if strings.Contains(out.String(), q) {
					t.Fatalf("atoctl %s wrote the terminal query %q to the terminal:\n%q", args, q, out.String()[:min(out.Len(), 300)])
				}
			}
			if !strings.Contains(out.String(), "king") && !strings.Contains(out.String(), "Usage") {
				t.Fatalf("atoctl %s printed nothing useful: %q", args, out.String())
			}
		})
	}
}

// slicesWithout drops the variables with any of the given prefixes.
func slicesWithout(env []string, prefixes ...string) []string {
	var out []string
	for _, kv := range env {
		keep := true
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}
