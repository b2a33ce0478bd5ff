package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

func TestUsersSessionsAndTokensMatchTheTenant(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	user := key.Compromised[0]
	var wantSessions, wantTokens []string
	srv.View(func(st *sandbox.State) {
		for _, s := range st.Sessions {
			if s.UserID == user {
				wantSessions = append(wantSessions, s.ID)
			}
		}
		for _, r := range st.RefreshTokens {
			if r.UserID == user {
				wantTokens = append(wantTokens, r.ID)
			}
		}
	})
	for _, tc := range []struct {
		cmd  string
		want []string
	}{{"sessions", wantSessions}, {"tokens", wantTokens}} {
		res := c.run("users", tc.cmd, user, "--json")
		if res.code != 0 {
			t.Fatalf("users %s: exit %d: %s", tc.cmd, res.code, res.stderr)
		}
		var items []struct {
			ID     string `json:"id"`
			Device struct {
				LastIP string `json:"last_ip"`
			} `json:"device"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &items); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, it.ID)
		}
		slices.Sort(got)
		slices.Sort(tc.want)
		if len(tc.want) == 0 || !slices.Equal(got, tc.want) {
			t.Fatalf("users %s %s: got %v, want %v", tc.cmd, user, got, tc.want)
		}
	}
}

func TestUsersShowByEmailSharedByTwoAccountsListsThemAndExits2(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	var email, first string
	srv.Update(func(st *sandbox.State) {
		u := st.Users[0]
		email, first = u.Email, u.UserID
		twin := *u
		twin.UserID = "google-oauth2|100000000000000000001"
		twin.Identities = []sandbox.Identity{{Connection: "google-oauth2", UserID: "100000000000000000001", Provider: "google-oauth2", IsSocial: true}}
		st.Users = append(st.Users, &twin)
	})
	res := c.run("users", "show", email)
	if res.code != exitUsage || !strings.Contains(res.stderr, first) || !strings.Contains(res.stderr, "google-oauth2|100000000000000000001") {
		t.Fatalf("exit %d, stderr %q: want 2 listing both accounts", res.code, res.stderr)
	}
}

func TestBadInputExits2AndSendsNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	tests := [][]string{
		{"users", "search", ""},
		{"users", "search"},
		{"users", "search", "x@y.z", "--limit", "0"},
		{"users", "search", "x@y.z", "--limit", "5000"},
		{"users", "show", ""},
		{"users", "show", "not-a-user"},
		{"users", "show", "a\x1b[2J@x.com"},
		{"users", "logs", "x@y.z", "--since", "yesterday"},
		{"users", "logs", "x@y.z", "--since", "-5h"},
		{"users", "logs", "x@y.z", "--type", "F!"},
		{"users", "sessions", "x", "y"},
		{"logs", "search", "--ip", "300.1.1.1"},
		{"logs", "search", "--ip", "10.0.0.0/33"},
		{"logs", "search", "--since", "0d"},
		{"logs", "search", "--limit", "0"},
		{"logs", "search", "--q", "type:f\x00"},
		{"logs", "search", "--no-such-flag"},
		{"logs", "search", "--user", "nobody"},
		{"logs", "tail", "--q", "type:f"},
		{"logs", "tail", "--interval", "1ms"},
		{"--max-rate", "-3", "users", "search", "x@y.z"},
		{"no-such-command"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			srv.ResetStats()
			res := c.run(args...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr %q", res.code, res.stderr)
			}
			if lines := strings.Count(strings.TrimSpace(res.stderr), "\n"); lines != 0 || res.stderr == "" {
				t.Fatalf("want a one-line error, got %q", res.stderr)
			}
			if n := srv.Stats().Requests; n != 0 {
				t.Fatalf("bad input sent %d requests to the tenant", n)
			}
		})
	}
}

func TestEveryCommandHelpHasAnExample(t *testing.T) {
	t.Parallel()
	env := &environment{getenv: func(string) string { return "" }}
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.Runnable() && cmd.Example == "" && cmd.Name() != "help" && cmd.Name() != "completion" {
			t.Errorf("%s --help has no example", cmd.CommandPath())
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(env))
}
