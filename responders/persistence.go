package responders

import (
	"fmt"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Finding is a sign that the attacker set up a way back in: an email or
// phone changed, an MFA factor enrolled, an identity linked, in the window.
type Finding struct {
	Kind   string    `json:"kind"` // email-changed, phone-changed, mfa-enrolled, identity-linked
	Detail string    `json:"detail"`
	At     time.Time `json:"at,omitzero"`
	LogID  string    `json:"log_id,omitempty"`
}

// Finding kinds.
const (
	FindingEmailChanged   = "email-changed"
	FindingPhoneChanged   = "phone-changed"
	FindingMFAEnrolled    = "mfa-enrolled"
	FindingIdentityLinked = "identity-linked"
)

// findPersistence reads the user's logs and their profile. An email change
// counts however long ago it was (logs are the tenant's whole retention):
// it decides where a reset goes, and a --since that starts after the
// attacker's change must not hide it. The rest counts in the window.
func findPersistence(u auth0client.User, logs []auth0client.LogEvent, methods []auth0client.AuthMethod, windowStart time.Time) []Finding {
	var out []Finding
	for _, e := range logs {
		if e.Date.Before(windowStart) && e.Type != "sce" {
			continue
		}
		switch e.Type {
		case "sce":
			out = append(out, Finding{Kind: FindingEmailChanged, At: e.Date, LogID: e.ID,
				Detail: fmt.Sprintf("email changed from %s (now %s)", detailString(e, "previous_email", "old_email"), u.Email)})
		case "scpn":
			out = append(out, Finding{Kind: FindingPhoneChanged, At: e.Date, LogID: e.ID, Detail: "phone number changed"})
		case "gd_enrollment_complete":
			out = append(out, Finding{Kind: FindingMFAEnrolled, At: e.Date, LogID: e.ID, Detail: "MFA enrollment completed: " + e.Description})
		}
	}
	for _, m := range methods {
		enrolled := m.EnrolledAt
		if enrolled.IsZero() {
			enrolled = m.CreatedAt
		}
		if m.Type != "password" && !enrolled.Before(windowStart) {
			out = append(out, Finding{Kind: FindingMFAEnrolled, At: enrolled,
				Detail: fmt.Sprintf("%s factor %s enrolled in the attack window", m.Type, m.ID)})
		}
	}
	if len(u.Identities) > 1 {
		out = append(out, Finding{Kind: FindingIdentityLinked, Detail: fmt.Sprintf("%d identities linked", len(u.Identities))})
	}
	return out
}

func detailString(e auth0client.LogEvent, keys ...string) string {
	for _, k := range keys {
		if v, ok := e.Details[k].(string); ok && v != "" {
			return v
		}
	}
	return "an earlier address"
}

// emailChangedInWindow returns the finding that makes a reset email unsafe.
func emailChangedInWindow(t *Target) (Finding, bool) {
	for _, f := range t.Findings {
		if f.Kind == FindingEmailChanged {
			return f, true
		}
	}
	return Finding{}, false
}

// passwordChangedSince finds an scp (successful password change) after since.
func passwordChangedSince(t *Target, since time.Time) (auth0client.LogEvent, bool) {
	for _, e := range t.history {
		if e.Type == "scp" && e.Date.After(since) {
			return e, true
		}
	}
	return auth0client.LogEvent{}, false
}

// blockedSince is when this incident blocked the user, or the window start.
func blockedSince(rc *Context, t *Target) time.Time {
	if r, ok := rc.priorOutcome(t.User.ID, StepBlock); ok {
		return r.Time
	}
	return rc.Opts.WindowStart
}
