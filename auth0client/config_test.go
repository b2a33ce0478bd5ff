package auth0client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDomain(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"acme.eu.auth0.com", "https://acme.eu.auth0.com", true},
		{"https://acme.eu.auth0.com", "https://acme.eu.auth0.com", true},
		{"https://acme.eu.auth0.com/", "https://acme.eu.auth0.com", true},
		{"ACME.eu.auth0.com", "https://acme.eu.auth0.com", true},
		{"http://127.0.0.1:8089", "http://127.0.0.1:8089", true},
		{"http://localhost:8089", "http://localhost:8089", true},
		{"http://[::1]:8089", "http://[::1]:8089", true},
		{"http://acme.eu.auth0.com", "", false}, // plain http off loopback
		{"http://10.0.0.1", "", false},
		{"ftp://acme", "", false},
		{"", "", false},
		{"https://user:pw@acme.auth0.com", "", false},
		{"https://acme.auth0.com/api/v2", "", false},
		{"https://acme.auth0.com?x=1", "", false},
		{"acme .auth0.com", "", false},
		{"https://", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := ParseDomain(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("ParseDomain(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil {
				if !errors.Is(err, ErrConfig) {
					t.Errorf("error %v is not ErrConfig", err)
				}
				return
			}
			if u.String() != tt.want {
				t.Errorf("got %s, want %s", u, tt.want)
			}
		})
	}
}

func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"acme.auth0.com", "http://127.0.0.1:1", "https://x/y", "http://[::1]", "\x00", "http://evil.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseDomain(s)
		if err != nil {
			if strings.Contains(err.Error(), "\x1b") || strings.ContainsRune(err.Error(), 0) {
				t.Fatalf("raw control byte in error for %q", s)
			}
			return
		}
		if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
			t.Fatalf("plain http to %q accepted", u.Host)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("scheme %q accepted", u.Scheme)
		}
		if u.Path != "" || u.User != nil || u.RawQuery != "" {
			t.Fatalf("accepted %q with path/user/query", s)
		}
	})
}

func TestResolvePrecedenceFlagsEnvProfile(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	profile := Settings{Domain: "profile.auth0.com", ClientID: "profile-id", ClientSecretFile: secretFile, ResetClientID: "reset-app"}
	env := Settings{Domain: "env.auth0.com", ClientSecret: NewSecret("env-secret")}
	flags := Settings{ClientID: "flag-id"}

	cfg, _, err := Resolve(flags, env, profile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BaseURL.Host != "env.auth0.com" || cfg.ClientID != "flag-id" || cfg.ClientSecret.Reveal() != "env-secret" || cfg.ResetClientID != "reset-app" {
		t.Fatalf("wrong precedence: %+v secret=%s", cfg, cfg.ClientSecret.Reveal())
	}
	cfg, _, err = Resolve(Settings{}, Settings{}, profile)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientSecret.Reveal() != "file-secret" {
		t.Fatalf("profile secret file not read")
	}
}

// Missing credentials are ErrNoCredentials (exit 4: "no usable
// credentials"); a malformed value is ErrConfig (exit 2: bad input).
func TestResolveTellsMissingCredentialsFromMalformedValues(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := NewSecret("s")
	tests := []struct {
		name          string
		flags, env    Settings
		want, notWant error
	}{
		{"nothing set", Settings{}, Settings{}, ErrNoCredentials, ErrConfig},
		{"no domain", Settings{}, Settings{ClientID: "id", ClientSecret: secret}, ErrNoCredentials, ErrConfig},
		{"blank domain", Settings{Domain: "  "}, Settings{ClientID: "id", ClientSecret: secret}, ErrNoCredentials, ErrConfig},
		{"no client id", Settings{}, Settings{Domain: "x.auth0.com", ClientSecret: secret}, ErrNoCredentials, ErrConfig},
		{"no secret", Settings{}, Settings{Domain: "x.auth0.com", ClientID: "id"}, ErrNoCredentials, ErrConfig},
		{"secret file missing", Settings{ClientSecretFile: filepath.Join(dir, "nope")}, Settings{Domain: "x.auth0.com", ClientID: "id"}, ErrNoCredentials, ErrConfig},
		{"secret file empty", Settings{ClientSecretFile: empty}, Settings{Domain: "x.auth0.com", ClientID: "id"}, ErrNoCredentials, ErrConfig},
		{"plain http off loopback", Settings{Domain: "http://x.auth0.com"}, Settings{ClientID: "id", ClientSecret: secret}, ErrConfig, ErrNoCredentials},
		{"domain with a path", Settings{Domain: "https://x.auth0.com/api"}, Settings{ClientID: "id", ClientSecret: secret}, ErrConfig, ErrNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Resolve(tt.flags, tt.env, Settings{})
			if !errors.Is(err, tt.want) || errors.Is(err, tt.notWant) {
				t.Fatalf("err = %v, want %v and not %v", err, tt.want, tt.notWant)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret("hunter2")
	cfg := Config{ClientSecret: s}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", s, cfg, cfg, s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	b, _ := s.MarshalJSON()
	if strings.Contains(string(b), "hunter2") {
		t.Fatal("secret in JSON")
	}
}

func TestLoadProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(`{"profiles":{"prod":{"domain":"acme.auth0.com","client_id":"abc"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadProfile(path, "prod")
	if err != nil || s.Domain != "acme.auth0.com" || s.ClientID != "abc" {
		t.Fatalf("LoadProfile = %+v, %v", s, err)
	}
	if _, err := LoadProfile(path, "nope"); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing profile: %v", err)
	}
	if s, err := LoadProfile(filepath.Join(t.TempDir(), "none.json"), ""); err != nil || s.Domain != "" {
		t.Fatalf("no file, no profile: %+v %v", s, err)
	}
}

// A secret file others can read is still used (refusing it mid-incident
// would lock the analyst out), but Resolve says so, naming the file and the
// fix; printing is the caller's business.
func TestResolveWarnsAboutASecretFileOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	env := Settings{Domain: "x.auth0.com", ClientID: "id"}
	tests := []struct {
		name    string
		mode    os.FileMode
		profile bool
		warn    bool
	}{
		{"flag file 0600", 0o600, false, false},
		{"flag file 0400", 0o400, false, false},
		{"flag file 0644", 0o644, false, true},
		{"flag file 0640", 0o640, false, true},
		{"flag file 0604", 0o604, false, true},
		{"flag file 0620", 0o620, false, true},
		{"profile file 0644", 0o644, true, true},
		{"profile file 0600", 0o600, true, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("secret-%d", i))
			if err := os.WriteFile(path, []byte("s3cret\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			var flags, profile Settings
			if tt.profile {
				profile.ClientSecretFile = path
			} else {
				flags.ClientSecretFile = path
			}
			cfg, warnings, err := Resolve(flags, env, profile)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.ClientSecret.Reveal() != "s3cret" {
				t.Fatal("the secret file was not used")
			}
			if !tt.warn {
				if len(warnings) != 0 {
					t.Fatalf("warnings for mode %04o: %q", tt.mode, warnings)
				}
				return
			}
			if len(warnings) != 1 {
				t.Fatalf("want one warning for mode %04o, got %q", tt.mode, warnings)
			}
			w := warnings[0]
			if !strings.Contains(w, path) || !strings.Contains(w, "chmod 600 "+path) || strings.Contains(w, "\n") {
				t.Fatalf("warning %q should name the file and the fix on one line", w)
			}
			if strings.Contains(w, "s3cret") {
				t.Fatal("the warning carries the secret")
			}
		})
	}
}
