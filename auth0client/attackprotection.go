package auth0client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// Attack Protection: the tenant's brute-force protection, suspicious IP
// throttling, breached-password detection and Bot Detection settings, and
// the rest of the configuration a posture check reads. Settings are kept
// as the JSON documents Auth0 sends (Document), not go-auth0's structs:
// those drop properties they do not know (suspicious IP throttling's
// stage.pre-custom-token-exchange), and what atoctl reads it must be able
// to write back exactly.

// The Attack Protection features, as their API paths name them.
const (
	FeatureBruteForce       = "brute-force-protection"
	FeatureSuspiciousIP     = "suspicious-ip-throttling"
	FeatureBreachedPassword = "breached-password-detection"
	FeatureBotDetection     = "bot-detection"
)

// AttackProtectionFeatures lists the features in the order atoctl shows them.
func AttackProtectionFeatures() []string {
	return []string{FeatureBotDetection, FeatureSuspiciousIP, FeatureBreachedPassword, FeatureBruteForce}
}

// Document is a JSON object as Auth0 sent it. Numbers are json.Number, so
// a value read and written back is the same bytes. Its text is the
// tenant's, not cleaned: clean it (Clean) before it reaches a terminal.
type Document map[string]any

// decodeDocument reads a JSON value keeping numbers exact.
func decodeDocument(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// getJSON sends a GET through go-auth0's request path (paced, retried,
// errors mapped like every call) and decodes the body into v.
func (c *Client) getJSON(ctx context.Context, op, uri string, v any) error {
	var raw json.RawMessage
	if err := c.m.Request(ctx, "GET", uri, &raw); err != nil {
		return wrapErr(op, err)
	}
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	if err := decodeDocument(raw, v); err != nil {
		return fmt.Errorf("%s: decode: %w", op, err)
	}
	return nil
}

func checkFeature(feature string) error {
	for _, f := range AttackProtectionFeatures() {
		if f == feature {
			return nil
		}
	}
	return fmt.Errorf("%w: unknown Attack Protection feature %q", ErrConfig, Clean(feature))
}

// AttackProtection reads one Attack Protection feature's settings
// (GET /api/v2/attack-protection/{feature}; read:attack_protection). A
// feature the plan lacks is ErrPlanLacksFeature.
func (c *Client) AttackProtection(ctx context.Context, feature string) (Document, error) {
	if err := checkFeature(feature); err != nil {
		return nil, err
	}
	var d Document
	err := c.getJSON(ctx, "read "+feature+" settings", c.m.URI("attack-protection", feature), &d)
	return d, err
}

// CallUpdateAttackProtection is PATCH /api/v2/attack-protection/{feature}
// with patch as the body.
func CallUpdateAttackProtection(feature string, patch Document) Call {
	return Call{Method: "PATCH", Path: "/api/v2/attack-protection/" + url.PathEscape(feature), Body: map[string]any(patch)}
}

// UpdateAttackProtection PATCHes a feature's settings: Auth0 merges objects
// (stage) and replaces the rest (lists too). A PATCH to a value is
// idempotent, so it is retried like a read.
func (c *Client) UpdateAttackProtection(ctx context.Context, feature string, patch Document) error {
	if err := checkFeature(feature); err != nil {
		return err
	}
	// go-auth0 decodes the answer into a copy of the body's interface
	// value, never into patch itself.
	return wrapErr("update "+feature+" settings", c.m.Request(ctx, "PATCH", c.m.URI("attack-protection", feature), map[string]any(patch)))
}

// UpdateAttackProtection records the PATCH.
func (r *Recorder) UpdateAttackProtection(_ context.Context, feature string, patch Document) error {
	return r.record(CallUpdateAttackProtection(feature, patch))
}

// TenantSettings reads GET /api/v2/tenants/settings (read:tenant_settings):
// session_lifetime and idle_session_lifetime are hours.
func (c *Client) TenantSettings(ctx context.Context) (Document, error) {
	var d Document
	err := c.getJSON(ctx, "read tenant settings", c.m.URI("tenants", "settings"), &d)
	return d, err
}

// GuardianFactor is one of the tenant's MFA factors.
type GuardianFactor struct {
	Name         string `json:"name"`
	Enabled      bool   `json:"enabled"`
	TrialExpired bool   `json:"trial_expired"`
}

// GuardianFactors reads GET /api/v2/guardian/factors (read:guardian_factors).
func (c *Client) GuardianFactors(ctx context.Context) ([]GuardianFactor, error) {
	var out []GuardianFactor
	err := c.getJSON(ctx, "read MFA factors", c.m.URI("guardian", "factors"), &out)
	for i := range out {
		out[i].Name = Clean(out[i].Name)
	}
	return out, err
}

// MFAPolicies reads GET /api/v2/guardian/policies (read:mfa_policies): []
// (MFA only where an Action asks for it), "all-applications" or
// "confidence-score".
func (c *Client) MFAPolicies(ctx context.Context) ([]string, error) {
	var out []string
	err := c.getJSON(ctx, "read MFA policy", c.m.URI("guardian", "policies"), &out)
	return cleanAll(out), err
}

// Prompts reads GET /api/v2/prompts (read:prompts).
func (c *Client) Prompts(ctx context.Context) (Document, error) {
	var d Document
	err := c.getJSON(ctx, "read prompts settings", c.m.URI("prompts"), &d)
	return d, err
}

// ApplicationDocuments lists the tenant's applications with every property
// Auth0 sends (GET /api/v2/clients, paged; read:clients): grant types,
// token endpoint authentication, refresh-token settings.
func (c *Client) ApplicationDocuments(ctx context.Context) ([]Document, error) {
	var out []Document
	for page := 0; page < maxCheckpointPages; page++ {
		var l []Document
		uri := c.m.URI("clients") + "?per_page=" + strconv.Itoa(MaxPerPage) + "&page=" + strconv.Itoa(page)
		if err := c.getJSON(ctx, "list applications", uri, &l); err != nil {
			return nil, err
		}
		out = append(out, l...)
		if len(l) < MaxPerPage {
			break
		}
	}
	return out, nil
}

// DatabaseConnectionDocuments lists the database connections with their
// options (password policy, brute-force protection; read:connections).
func (c *Client) DatabaseConnectionDocuments(ctx context.Context) ([]Document, error) {
	var out []Document
	uri := c.m.URI("connections") + "?strategy=auth0&per_page=" + strconv.Itoa(MaxPerPage)
	err := c.getJSON(ctx, "list database connections", uri, &out)
	return out, err
}

// ClientID is the application atoctl authenticates as.
func (c *Client) ClientID() string { return c.cfg.ClientID }
