// Package auth0client is atoctl's only door to Auth0: the one importer of
// go-auth0. It speaks in atoctl's words (SearchUsers, Sessions, SetBlocked),
// returns project types with attacker-controlled text cleaned on the way in,
// paces every call with one budget per API shared by all goroutines, retries
// by DESIGN.md's rules, and maps errors to kinds the CLI and console act on.
package auth0client

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/auth0/go-auth0/management"
	"golang.org/x/oauth2"
)

// Version is atoctl's version, sent in the User-Agent so its calls are
// traceable in the tenant's sapi logs.
const Version = "0.1.0"

// Client talks to one tenant. It is safe for concurrent use.
type Client struct {
	m     *management.Management
	hc    *http.Client // for the one Authentication API call atoctl makes itself
	cfg   Config
	stats *Stats
	mgmt  *budget
	auth  *budget
}

// New builds a client for cfg. It sends nothing: the token is fetched on
// the first call, through the same paced transport.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == nil {
		return nil, errors.Join(ErrConfig, errors.New("no tenant domain"))
	}
	if !cfg.ClientSecret.IsZero() && !cfg.ClientAssertionKey.IsZero() {
		return nil, errors.Join(ErrConfig, errors.New("both a client secret and a client assertion key are set: give one"))
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "atoctl/" + Version
	}
	c := &Client{cfg: cfg, stats: &Stats{}, mgmt: newBudget(cfg.MaxRate), auth: newBudget(0)}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	base.ResponseHeaderTimeout = 60 * time.Second
	base.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr := &transport{base: base, mgmt: c.mgmt, auth: c.auth, userAgent: ua, stats: c.stats, sleep: sleepCtx, observer: cfg.Observer}
	hc := &http.Client{
		Transport: tr,
		// A redirect could carry the bearer token to another host: Auth0's
		// APIs do not redirect, so any redirect is refused.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// go-auth0's client-credentials fetch ignores WithClient and uses the
	// *http.Client stored in its context under oauth2.HTTPClient; give it ours
	// so token fetches are paced, retried and mapped like everything else.
	tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{
		Transport: tr, Timeout: 60 * time.Second, CheckRedirect: hc.CheckRedirect,
	})
	var opts []management.Option
	if cfg.BaseURL.Scheme == "http" {
		// WithInsecure must come before WithClientCredentials: it installs a
		// static "insecure" token that would replace the credentials.
		opts = append(opts, management.WithInsecure())
	}
	// Private key JWT goes through the same context: go-auth0's assertion
	// token source posts with clientcredentials.Config.Token(ctx), which
	// takes the *http.Client from oauth2.HTTPClient like the secret path.
	// It signs a fresh assertion (new jti) for every token it fetches.
	if !cfg.ClientAssertionKey.IsZero() {
		alg, err := parseSigningAlg(cfg.ClientAssertionAlg)
		if err != nil {
			return nil, err
		}
		// Checked again (Resolve did) for configs built in code: a bad key
		// fails here, not at the first call with go-auth0's error text.
		key, err := parseSigningKey([]byte(cfg.ClientAssertionKey.Reveal()), "client assertion key")
		if err != nil {
			return nil, err
		}
		opts = append(opts, management.WithClientCredentialsPrivateKeyJwt(tokenCtx, cfg.ClientID, key.Reveal(), alg))
	} else {
		opts = append(opts, management.WithClientCredentials(tokenCtx, cfg.ClientID, cfg.ClientSecret.Reveal()))
	}
	opts = append(opts,
		management.WithClient(hc),
		// go-auth0's retries cap 429 waits at 10 s and repeat POSTs after a
		// dropped connection: the transport owns retrying instead.
		management.WithNoRetries(),
		management.WithUserAgent(ua),
		management.WithNoAuth0ClientInfo(),
	)
	m, err := management.New(cfg.BaseURL.Host, opts...)
	if err != nil {
		return nil, errors.Join(ErrConfig, err)
	}
	c.m = m
	c.hc = hc
	return c, nil
}

// Stats returns the client's wire counters.
func (c *Client) Stats() *Stats { return c.stats }

// Tenant names the tenant the client talks to (its host).
func (c *Client) Tenant() string { return c.cfg.BaseURL.Host }

// ResetClientID is the application used for password-reset emails.
func (c *Client) ResetClientID() string { return c.cfg.ResetClientID }

// ManagementRate is the current Management API pacing rate (requests/s;
// 0 = not paced yet).
func (c *Client) ManagementRate() float64 { return c.mgmt.Rate() }
