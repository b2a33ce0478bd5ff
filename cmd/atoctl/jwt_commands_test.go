package main

import (
	"context"
	"crypto/rsa"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// Configured with a private key only (the PEM in the environment, no
// secret anywhere), every command that talks to a tenant runs against the
// sandbox, and no output, error or journal holds any of the key.
// (tui needs a terminal and has its own tests; training and sandbox do not
// take credentials.)
func TestJWTKeyRunsEveryCommand(t *testing.T) {
	t.Parallel()
	good, _ := jwtKeys(t)
	c := newCLI(t)
	srv := c.againstSandboxByKey(good)
	c.env["AUTH0_CLIENT_ASSERTION_PRIVATE_KEY"] = string(keyPEM(good))
	var victim, email, other string
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.Email == "" || len(u.Identities) != 1 || u.Identities[0].Provider != "auth0" {
				continue
			}
			if victim == "" {
				victim, email = u.UserID, u.Email
			} else if other == "" {
				other = u.UserID
				break
			}
		}
	})
	c.env["AUTH0_RESET_CLIENT_ID"] = resetClientOf(srv)
	attacker := attackerCIDR(t, srv)

	steps := []struct {
		args []string
		code int
		// done accepts other exits (a bulk run refusing to reset an
		// address the attacker set ends partial by design).
		done func(*testing.T, result) bool
	}{
		{[]string{"doctor", "--json"}, exitOK, nil},
		{[]string{"users", "search", email, "--json"}, exitOK, nil},
		{[]string{"users", "search", "email:*@" + email[strings.IndexByte(email, '@')+1:], "--json"}, exitOK, nil},
		{[]string{"users", "show", victim, "--json"}, exitOK, nil},
		{[]string{"users", "logs", victim, "--json"}, exitOK, nil},
		{[]string{"users", "sessions", victim, "--json"}, exitOK, nil},
		{[]string{"users", "tokens", victim, "--json"}, exitOK, nil},
		{[]string{"logs", "search", "--type", "f", "--since", "24h", "--json"}, exitOK, nil},
		{[]string{"ip", "triage", "--since", "72h", "--json"}, exitOK, nil},
		{[]string{"detect", "--since", "72h", "--json"}, exitOK, nil},
		{[]string{"contain", victim, "--dry-run", "--json"}, exitOK, nil},
		{[]string{"contain", victim, "--incident", "inc-jwt", "--yes", "--json"}, exitOK, nil},
		{[]string{"users", "block", other, "--incident", "inc-jwt", "--yes"}, exitOK, nil},
		{[]string{"users", "revoke", other, "--incident", "inc-jwt", "--yes"}, exitOK, nil},
		{[]string{"users", "unblock", other, "--force", "--incident", "inc-jwt", "--yes"}, exitOK, nil},
		{[]string{"ip", "contain", attacker, "--since", "72h", "--dry-run", "--json"}, exitOK, nil},
		{[]string{"ip", "contain", attacker, "--since", "72h", "--acl", "--incident", "inc-jwt-ip", "--yes", "--json"}, exitOK, finished},
		{[]string{"ip", "release", attacker, "--incident", "inc-jwt-ip", "--yes"}, exitOK, nil},
		{[]string{"incident", "list", "--json"}, exitOK, nil},
		{[]string{"incident", "show", "inc-jwt", "--json"}, exitOK, nil},
		{[]string{"incident", "verify", "inc-jwt"}, exitOK, nil},
		{[]string{"incident", "report", "inc-jwt"}, exitOK, nil},
		{[]string{"incident", "rollback", "inc-jwt", "--yes"}, exitOK, nil},
	}
	for _, s := range steps {
		res := c.run(s.args...)
		if s.done != nil && s.done(t, res) {
			res.code = s.code
		}
		if res.code != s.code {
			t.Errorf("%s: exit %d, want %d; stderr %q", strings.Join(s.args, " "), res.code, s.code, res.stderr)
		}
		noKeyIn(t, good, res.stdout, res.stderr)
	}
	// logs tail follows until stopped.
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res := c.runCtx(ctx, false, "logs", "tail", "--json")
	if res.code != exitOK {
		t.Errorf("logs tail: exit %d; stderr %q", res.code, res.stderr)
	}
	noKeyIn(t, good, res.stdout, res.stderr)
	// The journals hold none of it either.
	for _, inc := range []string{"inc-jwt", "inc-jwt-ip"} {
		res := c.run("incident", "show", inc, "--json")
		noKeyIn(t, good, res.stdout)
	}
	noKeyInDir(t, good, c.env["XDG_STATE_HOME"])
}

// noKeyInDir fails if any file under dir holds any of k.
func noKeyInDir(t *testing.T, k *rsa.PrivateKey, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		noKeyIn(t, k, string(b))
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("read the state under %s: %d files, %v", dir, n, err)
	}
}

// attackerCIDR is a network of the scenario's botnet.
func attackerCIDR(t *testing.T, srv *sandbox.Server) string {
	t.Helper()
	var ip string
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.Type == "limit_mu" && e.IP != "" {
				ip = e.IP
				break
			}
		}
	})
	a, err := netip.ParseAddr(ip)
	if err != nil {
		t.Fatalf("no limit_mu event to find the attacker by: %v", err)
	}
	p, _ := a.Prefix(24)
	return p.String()
}
