package responders

import (
	"context"
	"errors"

	"github.com/atoctl/atoctl/auth0client"
)

// User is the tenant's user as the steps see it.
type User = auth0client.User

type blockStep struct{}

func (blockStep) Name() string { return StepBlock }

func (blockStep) Plan(_ context.Context, _ *Context, t *Target) (Plan, error) {
	if t.User.Blocked {
		return Plan{AlreadyDone: true, Reason: "the user is already blocked"}, nil
	}
	return Plan{Calls: []auth0client.Call{auth0client.CallSetBlocked(t.User.WriteID(), true)}, Reason: "block sign-in, so the attacker cannot log in again while tokens are revoked"}, nil
}

func (blockStep) Apply(ctx context.Context, rc *Context, t *Target, _ Plan) error {
	u, err := rc.Writer.SetBlocked(ctx, t.User.WriteID(), true)
	if err == nil && string(u.Key.ID) == t.User.WriteID() {
		t.answered = &u
	}
	return err
}

// Verify trusts Auth0's answer to the PATCH (the user as stored after the
// write) and reads the user only when there was no answer to read.
func (blockStep) Verify(ctx context.Context, rc *Context, t *Target) error {
	u, how := User{}, "read back"
	if t.answered != nil {
		u, how = *t.answered, "Auth0's answer to the PATCH"
		t.answered = nil
	} else {
		var err error
		if u, err = rc.Client.User(ctx, t.User.WriteID()); err != nil {
			return err
		}
	}
	if !u.Blocked {
		return errors.New(how + ": the user is not blocked")
	}
	t.User, t.userFresh, t.verified = u, true, how+": blocked=true"
	return nil
}

// unblockStep lets the owner back in after a successful password change.
type unblockStep struct{}

func (unblockStep) Name() string { return StepUnblock }

func (unblockStep) Plan(_ context.Context, rc *Context, t *Target) (Plan, error) {
	if !t.User.Blocked {
		return Plan{AlreadyDone: true, Reason: "the user is not blocked"}, nil
	}
	p := Plan{Calls: []auth0client.Call{auth0client.CallSetBlocked(t.User.WriteID(), false)}}
	if scp, ok := passwordChangedSince(t, blockedSince(rc, t)); ok {
		p.Reason = "the password was changed at " + scp.Date.Format("2006-01-02 15:04Z") + " (scp) after the block"
		return p, nil
	}
	if rc.Opts.Force {
		p.Reason = "no password change (scp) since the block; unblocking anyway (--force)"
		return p, nil
	}
	p.Refuse = "no successful password change (scp) since the block: unblocking now hands the account back to whoever knows the old password; wait for the owner's reset, or use --force"
	return p, nil
}

func (unblockStep) Apply(ctx context.Context, rc *Context, t *Target, _ Plan) error {
	_, err := rc.Writer.SetBlocked(ctx, t.User.WriteID(), false)
	return err
}

func (unblockStep) Verify(ctx context.Context, rc *Context, t *Target) error {
	u, err := rc.Client.User(ctx, t.User.WriteID())
	if err != nil {
		return err
	}
	if u.Blocked {
		return errors.New("read back: the user is still blocked")
	}
	t.User, t.verified = u, "read back: blocked=false"
	return nil
}
