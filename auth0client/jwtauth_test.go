package auth0client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// jwtTestKey and jwtOtherKey are generated once: RSA generation dominates
// these tests otherwise.
var (
	jwtKeysOnce             sync.Once
	jwtTestKey, jwtOtherKey *rsa.PrivateKey
)

func jwtKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	jwtKeysOnce.Do(func() {
		var err error
		if jwtTestKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if jwtOtherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return jwtTestKey, jwtOtherKey
}

// pkcs1PEM and pkcs8PEM are the two forms `openssl genrsa` and
// `openssl genpkey` write.
func pkcs1PEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

func pkcs8PEM(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func writeKeyFile(t testing.TB, data []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "client-key.pem")
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyClient resolves a config for srv with the key file only (no secret
// anywhere) and builds a client that records the calls it sends.
func keyClient(t *testing.T, srv *sandbox.Server, clientID, keyFile, alg string, calls *[]CallInfo) *Client {
	t.Helper()
	var mu sync.Mutex
	cfg, warnings, err := Resolve(
		Settings{ClientKeyFile: keyFile},
		Settings{Domain: srv.URL(), ClientID: clientID, ClientAssertionAlg: alg},
		Settings{})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Resolve: %v %v", err, warnings)
	}
	if !cfg.ClientSecret.IsZero() {
		t.Fatal("a secret was configured")
	}
	cfg.Observer = func(ci CallInfo) {
		mu.Lock()
		defer mu.Unlock()
		*calls = append(*calls, ci)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The token is fetched with a signed assertion through atoctl's own paced
// transport (the observer sees POST /oauth/token), and the call it allows
// returns the tenant's user.
func TestPrivateKeyJWTReadsUsersWithTheKeyOnly(t *testing.T) {
	key, _ := jwtKeys(t)
	for _, tt := range []struct {
		name, alg string
		pem       []byte
	}{
		{"RS256 PKCS#1", "", pkcs1PEM(key)},
		{"PS256 PKCS#8", "ps256", pkcs8PEM(t, key)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := startScenario(t)
			srv.AddClientKey("jwt-app", &key.PublicKey)
			var calls []CallInfo
			c := keyClient(t, srv, "jwt-app", writeKeyFile(t, tt.pem, 0o600), tt.alg, &calls)
			id := userAt(srv, 3)
			u, err := c.User(ctxT(t), id)
			if err != nil {
				t.Fatal(err)
			}
			if want := sandboxUser(srv, id); u.ID != want.UserID || u.Email != want.Email {
				t.Fatalf("user = %s %s, want %s %s", u.ID, u.Email, want.UserID, want.Email)
			}
			var token bool
			for _, ci := range calls {
				token = token || (ci.Method == "POST" && ci.Path == "/oauth/token" && ci.Status == 200)
			}
			if !token {
				t.Fatalf("the token fetch did not go through atoctl's transport: %+v", calls)
			}
		})
	}
}

// A key the tenant does not know for the application is refused at the
// token endpoint: bad credentials (exit 4), with no key material in the
// error.
func TestPrivateKeyJWTWithAWrongKeyIsBadCredentials(t *testing.T) {
	key, other := jwtKeys(t)
	srv, _ := startScenario(t)
	srv.AddClientKey("jwt-app", &key.PublicKey)
	var calls []CallInfo
	data := pkcs8PEM(t, other)
	c := keyClient(t, srv, "jwt-app", writeKeyFile(t, data, 0o600), "", &calls)
	_, err := c.User(ctxT(t), userAt(srv, 0))
	if !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("err = %v, want ErrBadCredentials", err)
	}
	assertNoKeyMaterial(t, err.Error(), data)
}

func assertNoKeyMaterial(t *testing.T, out string, data []byte) {
	t.Helper()
	if strings.Contains(out, "PRIVATE KEY") {
		t.Fatalf("key material in %q", out)
	}
	if block, _ := pem.Decode(data); block != nil && len(block.Bytes) > 24 {
		if strings.Contains(out, base64.StdEncoding.EncodeToString(block.Bytes)[:32]) {
			t.Fatalf("key material in %q", out)
		}
	} else if text := strings.TrimSpace(string(data)); text != "" && strings.Contains(out, text) {
		t.Fatalf("file content in %q", out)
	}
}

// Bad key files are "no usable credentials" (exit 4), named by path,
// without their content.
func TestResolveRefusesUnusableKeyFiles(t *testing.T) {
	key, _ := jwtKeys(t)
	short, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	corrupt := pkcs8PEM(t, key)
	corrupt = []byte(strings.Replace(string(corrupt), "\n", "\nAAAA", 3))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not PEM", []byte("this is a secret, not a key\n"), "no PEM private key"},
		{"public key only", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), "no PEM private key"},
		{"EC key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), "RSA keys only"},
		{"EC key in PKCS#8", pkcs8PEM(t, ec), "RSA keys only"},
		{"encrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "encrypted"},
		{"encrypted PKCS#1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: []byte{1}}), "encrypted"},
		{"short key", pkcs1PEM(short), "too short"},
		{"corrupt key", corrupt, "not a valid"},
		{"empty", []byte("\n"), "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeyFile(t, tt.data, 0o600)
			_, _, err := Resolve(Settings{ClientKeyFile: path}, Settings{Domain: "x.auth0.com", ClientID: "id"}, Settings{})
			if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want ErrNoCredentials saying %q and naming the file", err, tt.want)
			}
			assertNoKeyMaterial(t, err.Error(), tt.data)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "nope.pem")
		_, _, err := Resolve(Settings{ClientKeyFile: path}, Settings{Domain: "x.auth0.com", ClientID: "id"}, Settings{})
		if !errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestResolveKeyPrecedenceAndAlgorithm(t *testing.T) {
	key, other := jwtKeys(t)
	flagFile := writeKeyFile(t, pkcs1PEM(key), 0o600)
	profileFile := writeKeyFile(t, pkcs8PEM(t, other), 0o600)
	base := Settings{Domain: "x.auth0.com", ClientID: "id"}
	withEnv := func(s Settings) Settings { s.Domain, s.ClientID = base.Domain, base.ClientID; return s }
	keyOf := func(cfg Config) *rsa.PublicKey {
		block, _ := pem.Decode([]byte(cfg.ClientAssertionKey.Reveal()))
		if block == nil {
			t.Fatal("no key in the config")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return &k.(*rsa.PrivateKey).PublicKey
	}
	tests := []struct {
		name                string
		flags, env, profile Settings
		wantKey             *rsa.PublicKey // nil: the secret is used
		wantAlg             string
	}{
		{"flag key file beats an env secret", Settings{ClientKeyFile: flagFile}, withEnv(Settings{ClientSecret: NewSecret("s")}), Settings{}, &key.PublicKey, "RS256"},
		{"env key text, env alg", Settings{}, withEnv(Settings{ClientKey: NewSecret(string(pkcs1PEM(other))), ClientAssertionAlg: "PS256"}), Settings{}, &other.PublicKey, "PS256"},
		{"env secret beats a profile key file", Settings{}, withEnv(Settings{ClientSecret: NewSecret("s")}), Settings{ClientKeyFile: profileFile}, nil, ""},
		{"profile key file and alg", Settings{}, base, Settings{ClientKeyFile: profileFile, ClientAssertionAlg: "rs512"}, &other.PublicKey, "RS512"},
		{"flag key beats a profile key", Settings{ClientKeyFile: flagFile}, base, Settings{ClientKeyFile: profileFile}, &key.PublicKey, "RS256"},
		{"env alg beats profile alg", Settings{ClientKeyFile: flagFile}, withEnv(Settings{ClientAssertionAlg: "PS384"}), Settings{ClientAssertionAlg: "RS384"}, &key.PublicKey, "PS384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := Resolve(tt.flags, tt.env, tt.profile)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantKey == nil {
				if cfg.ClientSecret.IsZero() || !cfg.ClientAssertionKey.IsZero() {
					t.Fatalf("want the secret only: %+v", cfg)
				}
				return
			}
			if !cfg.ClientSecret.IsZero() {
				t.Fatal("secret set beside the key")
			}
			if !keyOf(cfg).Equal(tt.wantKey) || cfg.ClientAssertionAlg != tt.wantAlg {
				t.Fatalf("key or alg wrong: alg %s, want %s", cfg.ClientAssertionAlg, tt.wantAlg)
			}
		})
	}
	t.Run("unsupported alg is bad input", func(t *testing.T) {
		_, _, err := Resolve(Settings{ClientKeyFile: flagFile}, withEnv(Settings{ClientAssertionAlg: "HS256"}), Settings{})
		if !errors.Is(err, ErrConfig) || errors.Is(err, ErrNoCredentials) || !strings.Contains(err.Error(), "HS256") {
			t.Fatalf("err = %v", err)
		}
	})
}

// A secret and a key from the same source are bad input (exit 2), in one
// line naming both.
func TestResolveRefusesASecretAndAKeyTogether(t *testing.T) {
	key, _ := jwtKeys(t)
	keyFile := writeKeyFile(t, pkcs1PEM(key), 0o600)
	secretFile := writeKeyFile(t, []byte("s3cret\n"), 0o600)
	base := Settings{Domain: "x.auth0.com", ClientID: "id"}
	tests := []struct {
		name                string
		flags, env, profile Settings
		names               []string
	}{
		{"flags", Settings{ClientSecretFile: secretFile, ClientKeyFile: keyFile}, base, Settings{}, []string{"--client-secret-file", "--client-key-file"}},
		{"environment", Settings{}, Settings{Domain: base.Domain, ClientID: "id", ClientSecret: NewSecret("s"), ClientKey: NewSecret(string(pkcs1PEM(key)))}, Settings{}, []string{"AUTH0_CLIENT_SECRET", "AUTH0_CLIENT_ASSERTION_PRIVATE_KEY"}},
		{"profile", Settings{}, base, Settings{ClientSecretFile: secretFile, ClientKeyFile: keyFile}, []string{"client_secret_file", "client_key_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Resolve(tt.flags, tt.env, tt.profile)
			if !errors.Is(err, ErrConfig) || errors.Is(err, ErrNoCredentials) {
				t.Fatalf("err = %v, want ErrConfig", err)
			}
			msg := err.Error()
			for _, n := range tt.names {
				if !strings.Contains(msg, n) {
					t.Fatalf("%q does not name %s", msg, n)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "s3cret") {
				t.Fatalf("not one clean line: %q", msg)
			}
		})
	}
}

func TestResolveWarnsAboutAKeyFileOthersCanRead(t *testing.T) {
	key, _ := jwtKeys(t)
	for _, tt := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o644, true}, {0o640, true}} {
		t.Run(fmt.Sprintf("%04o", tt.mode), func(t *testing.T) {
			path := writeKeyFile(t, pkcs1PEM(key), tt.mode)
			cfg, warnings, err := Resolve(Settings{}, Settings{Domain: "x.auth0.com", ClientID: "id"}, Settings{ClientKeyFile: path})
			if err != nil || cfg.ClientAssertionKey.IsZero() {
				t.Fatalf("key not used: %v", err)
			}
			if got := len(warnings) == 1 && strings.Contains(warnings[0], path) && strings.Contains(warnings[0], "chmod 600"); got != tt.warn {
				t.Fatalf("warnings = %q, want a warning: %v", warnings, tt.warn)
			}
		})
	}
}

func TestJWTClientKeyNeverPrints(t *testing.T) {
	key, _ := jwtKeys(t)
	data := pkcs1PEM(key)
	cfg, _, err := Resolve(Settings{ClientKeyFile: writeKeyFile(t, data, 0o600)}, Settings{Domain: "x.auth0.com", ClientID: "id"}, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)
	assertNoKeyMaterial(t, out, data)
	assertNoKeyMaterial(t, out, []byte(cfg.ClientAssertionKey.Reveal()))
}

func TestLoadProfileReadsJWTKeySettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"profiles":{"prod":{"domain":"acme.auth0.com","client_id":"abc","client_key_file":"/keys/atoctl.pem","client_assertion_signing_alg":"PS256"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadProfile(path, "prod")
	if err != nil || s.ClientKeyFile != "/keys/atoctl.pem" || s.ClientAssertionAlg != "PS256" {
		t.Fatalf("LoadProfile = %+v, %v", s, err)
	}
}

func TestEnvSettingsReadsTheTerraformJWTKeyNames(t *testing.T) {
	env := map[string]string{
		"AUTH0_CLIENT_ASSERTION_PRIVATE_KEY": "pem text",
		"AUTH0_CLIENT_ASSERTION_SIGNING_ALG": "PS256",
	}
	s := EnvSettings(func(k string) string { return env[k] })
	if s.ClientKey.Reveal() != "pem text" || s.ClientAssertionAlg != "PS256" {
		t.Fatalf("EnvSettings = %+v", s)
	}
}
