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
