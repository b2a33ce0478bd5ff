package responders

import (
	"context"
	"fmt"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// mfaStep removes MFA factors enrolled in the attack window (an attacker's
// way to pass MFA later) and makes MFA ask again on remembered browsers.
type mfaStep struct{}

func (mfaStep) Name() string { return StepMFA }

func (mfaStep) Plan(ctx context.Context, rc *Context, t *Target) (Plan, error) {
	methods, err := rc.Client.AuthMethods(ctx, t.User.WriteID())
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	var names []string
	for _, m := range methods {
		enrolled := m.EnrolledAt
		if enrolled.IsZero() {
			enrolled = m.CreatedAt
		}
		if m.Type != "password" && !enrolled.Before(rc.Opts.WindowStart) {
			p.Calls = append(p.Calls, auth0client.CallDeleteAuthMethod(t.User.WriteID(), m.ID))
			p.items = append(p.items, m.ID)
			names = append(names, m.Type+" "+m.ID)
		}
	}
	if _, done := rc.priorOutcome(t.User.ID, StepMFA); done && len(p.Calls) == 0 {
		return Plan{AlreadyDone: true, Reason: "no factor enrolled in the window; remembered browsers already invalidated"}, nil
	}
	p.Calls = append(p.Calls, auth0client.CallInvalidateRememberBrowser(t.User.WriteID()))
	p.Reason = "invalidate remembered browsers"
	if len(names) > 0 {
		p.Reason = fmt.Sprintf("remove factors enrolled in the window (%s) and invalidate remembered browsers", strings.Join(names, ", "))
	}
	return p, nil
}

func (mfaStep) Apply(ctx context.Context, rc *Context, t *Target, p Plan) error {
	for _, id := range p.items {
		if err := rc.Writer.DeleteAuthMethod(ctx, t.User.WriteID(), id); err != nil {
			return err
		}
	}
	return rc.Writer.InvalidateRememberBrowser(ctx, t.User.WriteID())
}

func (mfaStep) Verify(ctx context.Context, rc *Context, t *Target) error {
	methods, err := rc.Client.AuthMethods(ctx, t.User.WriteID())
	if err != nil {
		return err
	}
	for _, m := range methods {
		enrolled := m.EnrolledAt
		if enrolled.IsZero() {
			enrolled = m.CreatedAt
		}
		if m.Type != "password" && !enrolled.Before(rc.Opts.WindowStart) {
			return fmt.Errorf("read back: factor %s is still enrolled", m.ID)
		}
	}
	return nil
}
