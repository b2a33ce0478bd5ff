package responders

import (
	"context"
	"fmt"

	"github.com/atoctl/atoctl/auth0client"
)

// unblockCheckStep confirms the owner gets back in: atoctl blocks the user,
// and only a post-change-password Action can unblock them when the reset
// completes. It trusts the deployed version's code, never the draft.
type unblockCheckStep struct{}

// PostChangePasswordTrigger is the Actions trigger that runs after a reset.
const PostChangePasswordTrigger = "post-change-password"

func (unblockCheckStep) Name() string { return StepUnblockCheck }

func (unblockCheckStep) Plan(ctx context.Context, rc *Context, t *Target) (Plan, error) {
	actions, err := rc.unblockActions(ctx)
	if err != nil {
		return Plan{}, err
	}
	return unblockVerdict(actions), nil
}

// unblockVerdict reads the bound Actions: pass only when a deployed version
// unblocks the user.
func unblockVerdict(actions []auth0client.BoundAction) Plan {
	for _, a := range actions {
		if a.HasDeployed && auth0client.UnblocksUser(a.DeployedCode) {
			return Plan{Confirmed: true, Reason: fmt.Sprintf("the post-change-password Action %q (deployed version %d) unblocks the user after the reset", a.Name, a.DeployedNum)}
		}
	}
	const stays = "the user STAYS BLOCKED after the reset: run 'atoctl users unblock USER' once the logs show a successful password change (scp)"
	if len(actions) == 0 {
		return Plan{Awaiting: true, Reason: "no Action is bound to post-change-password: " + stays}
	}
	for _, a := range actions {
		if a.DraftUnblocks() {
			return Plan{Awaiting: true, Reason: fmt.Sprintf("the Action %q unblocks only in its undeployed draft (deploy it): %s", a.Name, stays)}
		}
	}
	return Plan{Awaiting: true, Reason: fmt.Sprintf("%d post-change-password Action(s) bound, none whose deployed code unblocks: %s", len(actions), stays)}
}

func (unblockCheckStep) Apply(context.Context, *Context, *Target, Plan) error { return nil }
func (unblockCheckStep) Verify(context.Context, *Context, *Target) error      { return nil }
