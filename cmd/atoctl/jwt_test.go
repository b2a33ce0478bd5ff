package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// jwtClientID is the application the tests register a public key for; it
// has no secret, so only the key can authenticate it.
const jwtClientID = "atoctl-jwt-client"

var (
	jwtKeysOnce           sync.Once
	jwtGoodKey, jwtBadKey *rsa.PrivateKey
)

func jwtKeys(t *testing.T) (good, bad *rsa.PrivateKey) {
	t.Helper()
	jwtKeysOnce.Do(func() {
		var err error
		if jwtGoodKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if jwtBadKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return jwtGoodKey, jwtBadKey
}

func keyPEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func writeKey(t *testing.T, k *rsa.PrivateKey, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atoctl-key.pem")
	if err := os.WriteFile(path, keyPEM(k), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// againstSandboxByKey points the CLI at a sandbox where jwtClientID
// authenticates with good's public key, and leaves no secret configured.
func (c *cli) againstSandboxByKey(good *rsa.PrivateKey) *sandbox.Server {
	c.t.Helper()
	srv, _ := c.againstSandbox()
	srv.AddClientKey(jwtClientID, &good.PublicKey)
	delete(c.env, "AUTH0_CLIENT_SECRET")
	c.env["AUTH0_CLIENT_ID"] = jwtClientID
	return srv
}

// noKeyIn fails if any part of k's PEM reached the output.
func noKeyIn(t *testing.T, k *rsa.PrivateKey, outs ...string) {
	t.Helper()
	der := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
	for _, out := range outs {
		if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, der[:32]) {
			t.Fatalf("key material in output: %q", out)
		}
	}
}

// The key alone (no secret anywhere) signs in: from --client-key-file and
// from AUTH0_CLIENT_ASSERTION_PRIVATE_KEY, with either algorithm, and the
// search answers with the tenant's own user.
func TestJWTKeyAuthenticatesUsersSearch(t *testing.T) {
	t.Parallel()
	good, _ := jwtKeys(t)
	for _, tt := range []struct {
		name string
		set  func(c *cli) []string
	}{
		{"flag, RS256", func(c *cli) []string {
			return []string{"--client-key-file", writeKey(t, good, 0o600)}
		}},
		{"flag, PS256", func(c *cli) []string {
			c.env["AUTH0_CLIENT_ASSERTION_SIGNING_ALG"] = "PS256"
			return []string{"--client-key-file", writeKey(t, good, 0o600)}
		}},
		{"environment", func(c *cli) []string {
			c.env["AUTH0_CLIENT_ASSERTION_PRIVATE_KEY"] = string(keyPEM(good))
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			srv := c.againstSandboxByKey(good)
			var id, email string
			srv.View(func(st *sandbox.State) { id, email = st.Users[0].UserID, st.Users[0].Email })
			res := c.run(append(tt.set(c), "users", "search", email, "--json")...)
			if res.code != exitOK {
				t.Fatalf("exit %d; stderr %q", res.code, res.stderr)
			}
			if !strings.Contains(res.stdout, id) {
				t.Fatalf("search for %s did not return %s: %s", email, id, res.stdout)
			}
			if strings.Contains(res.stderr, "warning") {
				t.Fatalf("unexpected warning: %q", res.stderr)
			}
			noKeyIn(t, good, res.stdout, res.stderr)
		})
	}
}

// A key the tenant does not know for the application gets no token: exit 4
// (no usable credentials), one line, no key material.
func TestJWTWrongKeyExitsNoCredentials(t *testing.T) {
	t.Parallel()
	good, bad := jwtKeys(t)
	c := newCLI(t)
	c.againstSandboxByKey(good)
	res := c.run("--client-key-file", writeKey(t, bad, 0o600), "users", "search", "x@y.z")
	if res.code != exitCredentials {
		t.Fatalf("exit %d, want %d; stderr %q", res.code, exitCredentials, res.stderr)
	}
	oneLine(t, res.stderr)
	noKeyIn(t, bad, res.stdout, res.stderr)
}

// Credential mistakes are caught before anything is sent: a secret and a
// key together are bad input naming both; a key with --training too; an
// unusable key file is "no usable credentials".
func TestJWTCredentialMistakes(t *testing.T) {
	t.Parallel()
	good, _ := jwtKeys(t)
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notKey := filepath.Join(dir, "not-a-key.pem")
	if err := os.WriteFile(notKey, []byte("s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := writeKey(t, good, 0o600)
	base := map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc"}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		code  int
		names []string
	}{
		{"secret file and key file", base, []string{"--client-secret-file", secretFile, "--client-key-file", keyFile}, exitUsage,
			[]string{"--client-secret-file", "--client-key-file"}},
		{"secret and key in the environment", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc",
			"AUTH0_CLIENT_SECRET": "s3cr3t", "AUTH0_CLIENT_ASSERTION_PRIVATE_KEY": string(keyPEM(good))}, nil, exitUsage,
			[]string{"AUTH0_CLIENT_SECRET", "AUTH0_CLIENT_ASSERTION_PRIVATE_KEY"}},
		{"training with a key", nil, []string{"--training", "--client-key-file", keyFile}, exitUsage, []string{"--client-key-file"}},
		{"unsupported algorithm", map[string]string{"AUTH0_DOMAIN": "acme.eu.auth0.com", "AUTH0_CLIENT_ID": "abc",
			"AUTH0_CLIENT_ASSERTION_SIGNING_ALG": "HS256"}, []string{"--client-key-file", keyFile}, exitUsage, []string{"HS256"}},
		{"not a key", base, []string{"--client-key-file", notKey}, exitCredentials, []string{notKey}},
		{"missing key file", base, []string{"--client-key-file", filepath.Join(dir, "nope.pem")}, exitCredentials, []string{"nope.pem"}},
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
			for _, n := range tt.names {
				if !strings.Contains(res.stderr, n) {
					t.Fatalf("stderr %q does not name %s", res.stderr, n)
				}
			}
			if strings.Contains(res.stderr, "s3cr3t") {
				t.Fatalf("the secret reached stderr: %q", res.stderr)
			}
			noKeyIn(t, good, res.stdout, res.stderr)
		})
	}
}

// A key file others can read is used, with a warning naming the fix.
func TestJWTKeyFileOthersCanReadWarns(t *testing.T) {
	t.Parallel()
	good, _ := jwtKeys(t)
	c := newCLI(t)
	c.againstSandboxByKey(good)
	path := writeKey(t, good, 0o644)
	res := c.run("--client-key-file", path, "users", "search", "x@y.z")
	if res.code != exitOK {
		t.Fatalf("exit %d; stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "warning: client key file "+path) || !strings.Contains(res.stderr, "chmod 600") {
		t.Fatalf("no warning about the key file: %q", res.stderr)
	}
	noKeyIn(t, good, res.stdout, res.stderr)
}
