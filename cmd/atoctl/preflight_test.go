package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// userWritesOf counts the Management API writes the sandbox logged (sapi).
func userWritesOf(srv *sandbox.Server, after int) int {
	n := 0
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs[after:] {
			if e.Type == "sapi" {
				n++
			}
		}
	})
	return n
}

func logsLen(srv *sandbox.Server) (n int) {
	srv.View(func(st *sandbox.State) { n = len(st.Logs) })
	return n
}

func TestContainResetsThroughTheApplicationTheTenantNames(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox() // domain, client id and secret only
	user := key.Compromised[0]
	for _, id := range key.Compromised {
		if _, changed := key.EmailChanged[id]; !changed {
			user = id
			break
		}
	}
	res := c.run("contain", user, "--yes")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.ResetRequests(user); n != 1 {
		t.Fatalf("%d reset emails, want 1 through the application enabled on the connection", n)
	}
	if !strings.Contains(res.stderr, "reset route:") {
		t.Errorf("the plan does not show where the reset comes from:\n%s", res.stderr)
	}
}

func TestContainRefusesBeforeAnyWriteWhenNoApplicationCanSendTheReset(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	srv.Update(func(st *sandbox.State) {
		for _, conn := range st.Connections {
			conn.EnabledClients = nil
		}
	})
	before := logsLen(srv)
	res := c.run("contain", key.Compromised[0], "--yes")
	if res.code != exitUsage || !strings.Contains(res.stderr, "reset-method ticket") {
		t.Fatalf("exit %d, want 2 naming the fix\n%s", res.code, res.stderr)
	}
	if n := userWritesOf(srv, before); n != 0 {
		t.Fatalf("%d writes before the preflight refused", n)
	}
	// A ticket needs no application: the same account is contained.
	if res := c.run("contain", key.Compromised[0], "--reset-method", "ticket", "--ticket-out", t.TempDir()+"/tickets", "--yes"); res.code != 0 && res.code != exitPartial {
		t.Fatalf("with a ticket: exit %d\n%s", res.code, res.stderr)
	}
}

func TestContainWithAMissingScopeSendsNothingAndNamesIt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	scopes := []string{"read:users", "read:logs", "read:logs_users", "read:sessions", "delete:sessions",
		"read:refresh_tokens", "delete:refresh_tokens", "read:authentication_methods", "read:actions", "read:connections", "read:clients", "read:network_acls"}
	srv.AddClient("atoctl-limited", "limited-secret-not-a-credential", scopes)
	c.env["AUTH0_CLIENT_ID"], c.env["AUTH0_CLIENT_SECRET"] = "atoctl-limited", "limited-secret-not-a-credential"
	before := logsLen(srv)
	res := c.run("contain", key.Compromised[0], "--yes")
	if res.code != exitCredentials || !strings.Contains(res.stderr, "update:users") {
		t.Fatalf("exit %d, want 4 naming update:users\n%s", res.code, res.stderr)
	}
	if n := userWritesOf(srv, before); n != 0 {
		t.Fatalf("%d writes despite the missing scope", n)
	}
}

func TestDoctorSaysWhatToFix(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	res := c.run("doctor")
	if res.code != 0 || !strings.Contains(res.stdout, "reset route\tok") {
		t.Fatalf("doctor on a healthy tenant: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	srv.Update(func(st *sandbox.State) {
		for _, conn := range st.Connections {
			conn.EnabledClients = slices.DeleteFunc(conn.EnabledClients, func(string) bool { return true })
		}
	})
	res = c.run("doctor", "--json")
	if res.code != exitUsage || !strings.Contains(res.stdout, `"status":"fail"`) && !strings.Contains(res.stdout, `"status": "fail"`) {
		t.Fatalf("doctor with no reset route: exit %d\n%s", res.code, res.stdout)
	}
}

func TestDoctorNamesEachProblemAndItsFix(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(c *cli, srv *sandbox.Server)
		check string // the failing or warning check
		says  string
		code  int
	}{
		{"a scope removed", func(c *cli, srv *sandbox.Server) {
			srv.AddClient("atoctl-no-acl", "no-acl-secret-not-a-credential", []string{"read:users", "update:users", "read:logs", "read:logs_users",
				"read:sessions", "delete:sessions", "read:refresh_tokens", "delete:refresh_tokens", "read:authentication_methods",
				"delete:authentication_methods", "read:actions", "read:connections", "read:clients", "read:network_acls"})
			c.env["AUTH0_CLIENT_ID"], c.env["AUTH0_CLIENT_SECRET"] = "atoctl-no-acl", "no-acl-secret-not-a-credential"
		}, "scopes", "create:network_acls", exitCredentials},
		{"no sessions on the plan", func(_ *cli, srv *sandbox.Server) { srv.SetPlan(sandbox.PlanNoSessions) }, "plan", "Enterprise", 0},
		{"no unblock Action", func(_ *cli, srv *sandbox.Server) {
			srv.Update(func(st *sandbox.State) { sandbox.SetUnblockAction(st, sandbox.UnblockAbsent) })
		}, "unblock action", "bind and deploy", 0},
		{"no enabled application", func(_ *cli, srv *sandbox.Server) {
			srv.Update(func(st *sandbox.State) {
				for _, conn := range st.Connections {
					conn.EnabledClients = nil
				}
			})
		}, "reset route", "reset_client_id", exitUsage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			srv, _ := c.againstSandbox()
			tc.setup(c, srv)
			res := c.run("doctor")
			if res.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", res.code, tc.code, res.stdout, res.stderr)
			}
			found := false
			for _, line := range strings.Split(res.stdout, "\n") {
				if strings.HasPrefix(line, tc.check+"\t") && !strings.HasPrefix(line, tc.check+"\tok") && strings.Contains(line, tc.says) {
					found = true
				}
			}
			if !found {
				t.Fatalf("doctor does not name the %s problem with %q:\n%s", tc.check, tc.says, res.stdout)
			}
		})
	}
}

func TestUserArgumentsAsAnalystsTypeThem(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	var email string
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if strings.HasSuffix(u.Email, "@gmail.com") {
				email = u.Email
				break
			}
		}
	})
	// The help's first example: a suffix wildcard.
	res := c.run("users", "search", "email:*@gmail.com", "--limit", "5", "--json")
	if res.code != 0 || !strings.Contains(res.stdout, "@gmail.com") {
		t.Fatalf("users search 'email:*@gmail.com': exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// An email typed with capitals resolves (Auth0 stores it lower-case).
	if res := c.run("users", "show", strings.ToUpper(email), "--json"); res.code != 0 || !strings.Contains(res.stdout, email) {
		t.Fatalf("users show %s: exit %d\n%s", strings.ToUpper(email), res.code, res.stderr)
	}
}
