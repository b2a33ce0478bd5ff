package responders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// revokeStep kills what the attacker holds: sessions (the login cookie) and
// refresh tokens (long-lived API access). Without the Enterprise endpoints it
// deletes the user's grants instead, which revokes refresh tokens only.
type revokeStep struct{}

const planFallbackReason = "sessions NOT revoked: the tenant's plan lacks the sessions and refresh-token endpoints; the user's grants are deleted instead, which revokes refresh tokens only — live login sessions survive until they expire"

func (revokeStep) Name() string { return StepRevoke }

func (revokeStep) Plan(ctx context.Context, rc *Context, t *Target) (Plan, error) {
	if t.held {
		return revokePlan(t.User.WriteID(), t.sessions, t.tokens), nil
	}
	c := rc.Client
	sessions, err := c.Sessions(ctx, t.User.WriteID())
	if errors.Is(err, auth0client.ErrPlanLacksFeature) {
		grants, err := c.Grants(ctx, t.User.WriteID())
		if err != nil {
			return Plan{}, err
		}
		if len(grants) == 0 {
			return Plan{AlreadyDone: true, Reason: planFallbackReason + " (no grants left)"}, nil
		}
		return Plan{Calls: []auth0client.Call{auth0client.CallDeleteGrants(t.User.WriteID())}, Reason: planFallbackReason, items: []string{"grants"}}, nil
	}
	if err != nil {
		return Plan{}, err
	}
	tokens, err := c.RefreshTokens(ctx, t.User.WriteID())
	if err != nil {
		return Plan{}, err
	}
	return revokePlan(t.User.WriteID(), sessions, tokens), nil
}

// revokePlan deletes what the user holds.
func revokePlan(userID string, sessions []auth0client.Session, tokens []auth0client.RefreshToken) Plan {
	var p Plan
	if len(sessions) > 0 {
		p.Calls = append(p.Calls, auth0client.CallRevokeSessions(userID))
		p.items = append(p.items, "sessions")
	}
	if len(tokens) > 0 {
		p.Calls = append(p.Calls, auth0client.CallRevokeRefreshTokens(userID))
		p.items = append(p.items, "refresh-tokens")
	}
	if len(p.Calls) == 0 {
		return Plan{AlreadyDone: true, Reason: "no sessions or refresh tokens left"}
	}
	p.Reason = fmt.Sprintf("revoke %s and %s", plural(len(sessions), "session"), plural(len(tokens), "refresh token"))
	return p
}

func (revokeStep) Apply(ctx context.Context, rc *Context, t *Target, p Plan) error {
	t.held = false // what was held is being deleted: read it again from now on
	for _, what := range p.items {
		var err error
		switch what {
		case "sessions":
			err = rc.Writer.RevokeSessions(ctx, t.User.WriteID())
		case "refresh-tokens":
			err = rc.Writer.RevokeRefreshTokens(ctx, t.User.WriteID())
		case "grants":
			err = rc.Writer.DeleteGrants(ctx, t.User.WriteID())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// revokeSettle is how long Auth0 is given to apply a revocation before the
// first read-back: it deletes asynchronously (202), and every read sent
// before it is done costs two requests of the shared budget.
const revokeSettle = 500 * time.Millisecond

// Verify polls: Auth0 deletes sessions and tokens asynchronously (202).
func (revokeStep) Verify(ctx context.Context, rc *Context, t *Target) error {
	c := rc.Client
	return pollAfter(ctx, revokeSettle, rc.Opts.VerifyTimeout, func() (bool, error) {
		sessions, err := c.Sessions(ctx, t.User.WriteID())
		if errors.Is(err, auth0client.ErrPlanLacksFeature) {
			grants, err := c.Grants(ctx, t.User.WriteID())
			t.verified = "read back: no grants left (sessions not readable on this plan)"
			return len(grants) == 0, err
		}
		if err != nil {
			return false, err
		}
		tokens, err := c.RefreshTokens(ctx, t.User.WriteID())
		t.verified = "read back: no sessions, no refresh tokens"
		return len(sessions) == 0 && len(tokens) == 0, err
	})
}
