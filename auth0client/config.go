package auth0client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Secret holds a credential. It prints as "[redacted]" in every format verb
// and in JSON, so a secret cannot leak through a log line or an error by
// accident; Reveal is the one explicit way to read it.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(s string) Secret { return Secret{v: s} }

// Reveal returns the credential. Call it only where it is sent to Auth0.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no secret is set.
func (s Secret) IsZero() bool { return s.v == "" }

// String redacts.
func (s Secret) String() string { return "[redacted]" }

// GoString redacts, for %#v.
func (s Secret) GoString() string { return "[redacted]" }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Config is what the client needs to reach one tenant.
type Config struct {
	// BaseURL is the tenant's origin, e.g. https://acme.eu.auth0.com
	// (http only for loopback hosts).
	BaseURL      *url.URL
	ClientID     string
	ClientSecret Secret
	// ClientAssertionKey, if set instead of ClientSecret, is the RSA
	// private key (PKCS #8 PEM) that signs private_key_jwt client
	// assertions; ClientAssertionAlg is their algorithm (RS256 if empty).
	ClientAssertionKey Secret
	ClientAssertionAlg string
	// MaxRate caps Management API requests per second; 0 means use at most
	// 80% of the limit observed from the tenant's rate-limit headers. 429s
	// slow the client below the cap for a while either way (see budget).
	MaxRate float64
	// UserAgent identifies atoctl in the tenant's sapi logs.
	UserAgent string
	// ResetClientID is the application used for password-reset emails (it
	// must be enabled on the database connection).
	ResetClientID string
	// Observer, if set, is told about every request sent (the console's
	// command log). It must not block.
	Observer func(CallInfo)
}

// ParseDomain accepts a host ("acme.eu.auth0.com", https implied) or a URL
// and returns the tenant's origin. Plain http is allowed only for loopback
// hosts (the sandbox, tests): anything else would send credentials in clear.
func ParseDomain(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, fmt.Errorf("%w: empty domain: set --domain or AUTH0_DOMAIN (e.g. acme.eu.auth0.com)", ErrConfig)
	}
	if strings.ContainsAny(s, " \t\r\n\x00") {
		return nil, fmt.Errorf("%w: domain %q contains whitespace or control characters", ErrConfig, Clean(s))
	}
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: domain %q is not a host or URL: %v", ErrConfig, Clean(s), err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%w: domain %q: scheme %q is not supported; use https", ErrConfig, Clean(s), Clean(u.Scheme))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: domain %q has no host", ErrConfig, Clean(s))
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: domain must not carry credentials; use --client-id and --client-secret-file", ErrConfig)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: domain %q must be a bare host or origin, without a path or query", ErrConfig, Clean(s))
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil || strings.HasPrefix(p, "0") && p != "0" {
			return nil, fmt.Errorf("%w: domain %q has a bad port", ErrConfig, Clean(s))
		}
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("%w: plain http is allowed only for loopback hosts (the sandbox); use https://%s", ErrConfig, Clean(u.Host))
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

// IsLoopbackHost reports whether host is localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Settings are the raw, unresolved inputs from one source (flags, the
// environment or a profile); empty fields mean "not set here".
type Settings struct {
	Domain           string `json:"domain,omitempty"`
	ClientID         string `json:"client_id,omitempty"`
	ClientSecret     Secret `json:"-"`
	ClientSecretFile string `json:"client_secret_file,omitempty"`
	// ClientKey is a private key's PEM text (the environment's form);
	// ClientKeyFile names a PEM file holding it (the flag's and the
	// profile's form). Either replaces the client secret: private key JWT.
	ClientKey          Secret `json:"-"`
	ClientKeyFile      string `json:"client_key_file,omitempty"`
	ClientAssertionAlg string `json:"client_assertion_signing_alg,omitempty"`
	ResetClientID      string `json:"reset_client_id,omitempty"`
}

// hasSecret and hasKey report which kind of client credential one source
// sets.
func (s Settings) hasSecret() bool { return s.ClientSecretFile != "" || !s.ClientSecret.IsZero() }
func (s Settings) hasKey() bool    { return s.ClientKeyFile != "" || !s.ClientKey.IsZero() }

// profileFile is the config file: named profiles of Settings. Secrets are
// not stored in it; a profile points at a secret file instead.
type profileFile struct {
	Profiles map[string]Settings `json:"profiles"`
}

// DefaultConfigPath is $XDG_CONFIG_HOME/atoctl/config.json (or ~/.config/…).
func DefaultConfigPath(getenv func(string) string) string {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home := getenv("HOME"); home != "" {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "atoctl", "config.json")
}

// EnvSettings reads AUTH0_DOMAIN, AUTH0_CLIENT_ID, AUTH0_CLIENT_SECRET,
// AUTH0_CLIENT_ASSERTION_PRIVATE_KEY (PEM text, like the secret a value and
// not a file) and AUTH0_CLIENT_ASSERTION_SIGNING_ALG (the names and meanings
// the Auth0 Terraform provider uses, so one environment serves both), and
// atoctl's own AUTH0_RESET_CLIENT_ID (the application used for reset emails).
func EnvSettings(getenv func(string) string) Settings {
	return Settings{
		Domain:             getenv("AUTH0_DOMAIN"),
		ClientID:           getenv("AUTH0_CLIENT_ID"),
		ClientSecret:       NewSecret(getenv("AUTH0_CLIENT_SECRET")),
		ClientKey:          NewSecret(getenv("AUTH0_CLIENT_ASSERTION_PRIVATE_KEY")),
		ClientAssertionAlg: getenv("AUTH0_CLIENT_ASSERTION_SIGNING_ALG"),
		ResetClientID:      getenv("AUTH0_RESET_CLIENT_ID"),
	}
}

// LoadProfile reads one named profile from the config file at path. An
// empty name with no file is not an error (there is simply no profile).
func LoadProfile(path, name string) (Settings, error) {
	if path == "" {
		if name != "" {
			return Settings{}, fmt.Errorf("%w: profile %q requested but no config path (set XDG_CONFIG_HOME or HOME)", ErrConfig, name)
		}
		return Settings{}, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && name == "" {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("%w: read config %s: %v", ErrConfig, path, err)
	}
	var pf profileFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return Settings{}, fmt.Errorf("%w: config %s is not valid JSON: %v", ErrConfig, path, err)
	}
	if name == "" {
		name = "default"
		if _, ok := pf.Profiles[name]; !ok {
			return Settings{}, nil
		}
	}
	s, ok := pf.Profiles[name]
	if !ok {
		return Settings{}, fmt.Errorf("%w: no profile %q in %s", ErrConfig, name, path)
	}
	return s, nil
}

// Resolve merges sources by precedence (flags > environment > profile),
// reads a secret or key file if one is named, and validates the result. The
// client credential is a secret or a private key (private_key_jwt), taken
// whole from the first source that sets either; one source setting both is
// ErrConfig. A missing domain, client id or credential (or an unreadable
// secret or key file) is ErrNoCredentials; a malformed value is ErrConfig.
// Warnings are one-line notes for the operator (a secret or key file others
// can read) about a configuration that is used anyway; the caller prints
// them.
func Resolve(flags, env, profile Settings) (cfg Config, warnings []string, err error) {
	pick := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	domain := pick(flags.Domain, env.Domain, profile.Domain)
	if strings.TrimSpace(domain) == "" {
		return Config{}, nil, fmt.Errorf("%w: no tenant domain: set --domain, AUTH0_DOMAIN or a profile (e.g. acme.eu.auth0.com)", ErrNoCredentials)
	}
	u, err := ParseDomain(domain)
	if err != nil {
		return Config{}, nil, err
	}
	cfg.BaseURL = u
	cfg.ClientID = pick(flags.ClientID, env.ClientID, profile.ClientID)
	if cfg.ClientID == "" {
		return Config{}, nil, fmt.Errorf("%w: no client id: set --client-id, AUTH0_CLIENT_ID or a profile", ErrNoCredentials)
	}
	cfg.ResetClientID = pick(flags.ResetClientID, env.ResetClientID, profile.ResetClientID)

	// One source giving a secret and a key is a mistake to point out, not
	// a choice to make silently: which one the tenant expects is unknown.
	for _, c := range []struct {
		src         Settings
		secret, key string
	}{
		{flags, "--client-secret-file", "--client-key-file"},
		{env, "AUTH0_CLIENT_SECRET", "AUTH0_CLIENT_ASSERTION_PRIVATE_KEY"},
		{profile, "the profile's client_secret_file", "its client_key_file"},
	} {
		if c.src.hasSecret() && c.src.hasKey() {
			return Config{}, nil, fmt.Errorf("%w: both %s and %s are set: give a client secret or a private key, not both", ErrConfig, c.secret, c.key)
		}
	}

	// Across sources, the first that sets a credential of either kind
	// decides: a key file named on the command line beats an environment
	// secret, an environment secret beats a profile's key file.
	var warning string
	switch {
	case flags.ClientSecretFile != "":
		cfg.ClientSecret, warning, err = readSecretFile(flags.ClientSecretFile)
	case !flags.ClientSecret.IsZero():
		cfg.ClientSecret = flags.ClientSecret
	case flags.hasKey():
		cfg.ClientAssertionKey, warning, err = resolveKey(flags)
	case !env.ClientSecret.IsZero():
		cfg.ClientSecret = env.ClientSecret
	case env.hasKey():
		cfg.ClientAssertionKey, warning, err = resolveKey(env)
	case profile.ClientSecretFile != "":
		cfg.ClientSecret, warning, err = readSecretFile(profile.ClientSecretFile)
	case profile.hasKey():
		cfg.ClientAssertionKey, warning, err = resolveKey(profile)
	}
	if err != nil {
		return Config{}, nil, err
	}
	if warning != "" {
		warnings = append(warnings, warning)
	}
	if cfg.ClientSecret.IsZero() && cfg.ClientAssertionKey.IsZero() {
		return Config{}, nil, fmt.Errorf("%w: no client secret or private key: set --client-secret-file or --client-key-file, AUTH0_CLIENT_SECRET or AUTH0_CLIENT_ASSERTION_PRIVATE_KEY, or a profile's client_secret_file or client_key_file", ErrNoCredentials)
	}
	if !cfg.ClientAssertionKey.IsZero() {
		cfg.ClientAssertionAlg, err = parseSigningAlg(pick(flags.ClientAssertionAlg, env.ClientAssertionAlg, profile.ClientAssertionAlg))
		if err != nil {
			return Config{}, nil, err
		}
	}
	return cfg, warnings, nil
}

// resolveKey reads the private key one source sets: a file (flag, profile)
// or PEM text (environment).
func resolveKey(s Settings) (Secret, string, error) {
	if s.ClientKeyFile != "" {
		data, warning, err := readCredentialFile(s.ClientKeyFile, "client key")
		if err != nil {
			return Secret{}, "", err
		}
		key, err := parseSigningKey(data, "client key file "+Clean(s.ClientKeyFile))
		return key, warning, err
	}
	key, err := parseSigningKey([]byte(s.ClientKey.Reveal()), "AUTH0_CLIENT_ASSERTION_PRIVATE_KEY")
	return key, "", err
}

// readSecretFile reads a client secret from path. A file that group or
// others may access is still read, with a warning naming the fix: refusing
// it would lock an analyst out in the middle of an incident.
func readSecretFile(path string) (Secret, string, error) {
	data, warning, err := readCredentialFile(path, "client secret")
	if err != nil {
		return Secret{}, "", err
	}
	return NewSecret(strings.TrimSpace(string(data))), warning, nil
}

// maxCredentialFile bounds what is read from a secret or key file: a PEM
// RSA key of 8192 bits is under 7 KB; a larger file is a wrong path.
const maxCredentialFile = 1 << 20

// readCredentialFile reads a secret or key file (what names it: "client
// secret", "client key"), warning, not refusing, when group or others may
// access it. Errors name the file, never its content.
func readCredentialFile(path, what string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: read %s file %s: %v", ErrNoCredentials, what, path, pathCause(err))
	}
	defer f.Close()
	// Stat the file that is read, not the path again: no window to swap it.
	info, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("%w: read %s file %s: %v", ErrNoCredentials, what, path, pathCause(err))
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialFile+1))
	if err != nil {
		return nil, "", fmt.Errorf("%w: read %s file %s: %v", ErrNoCredentials, what, path, pathCause(err))
	}
	if len(data) > maxCredentialFile {
		return nil, "", fmt.Errorf("%w: %s file %s is larger than %d bytes: not a %s", ErrNoCredentials, what, path, maxCredentialFile, what)
	}
	if strings.TrimSpace(string(data)) == "" {
		return nil, "", fmt.Errorf("%w: %s file %s is empty", ErrNoCredentials, what, path)
	}
	var warning string
	// Windows reports no Unix permission bits worth reading.
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		p := Clean(path)
		warning = fmt.Sprintf("%s file %s is accessible to group or others (mode %04o): run 'chmod 600 %s'", what, p, perm, p)
	}
	return data, warning, nil
}

// pathCause is what went wrong with a file, without the path and operation
// an *os.PathError repeats.
func pathCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
