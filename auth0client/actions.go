package auth0client

import (
	"context"
	"fmt"

	"github.com/auth0/go-auth0/management"
)

// BoundAction is an Action bound to a trigger, with the code that actually
// runs: the deployed version's, not the draft's.
type BoundAction struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	DeployedCode  string `json:"-"` // code is not tenant prose, but stays out of output
	HasDeployed   bool   `json:"deployed"`
	DeployedNum   int    `json:"deployed_version,omitempty"`
	DraftDiffers  bool   `json:"draft_differs"`
	draftUnblocks bool
}

// TriggerActions lists the Actions bound to a trigger (e.g.
// "post-change-password") with their deployed code. go-auth0's
// ActionBindingList.HasNext is wrong, so paging counts results.
func (c *Client) TriggerActions(ctx context.Context, trigger string) ([]BoundAction, error) {
	var out []BoundAction
	for page := 0; page < maxCheckpointPages; page++ {
		bl, err := c.m.Action.Bindings(ctx, trigger, management.Page(page), management.PerPage(50))
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("list %s bindings", Clean(trigger)), err)
		}
		for _, b := range bl.Bindings {
			if b == nil || b.Action == nil || b.Action.ID == nil {
				continue
			}
			a, err := c.m.Action.Read(ctx, *b.Action.ID)
			if err != nil {
				return nil, wrapErr(fmt.Sprintf("read action %s", Clean(*b.Action.ID)), err)
			}
			ba := BoundAction{ID: str(a.ID), Name: str(a.Name), DraftDiffers: !a.AllChangesDeployed}
			if v := a.DeployedVersion; v != nil && v.Code != nil {
				ba.HasDeployed, ba.DeployedCode, ba.DeployedNum = true, *v.Code, v.Number
			}
			if a.Code != nil {
				ba.draftUnblocks = UnblocksUser(*a.Code)
			}
			out = append(out, ba)
		}
		if len(bl.Bindings) < 50 {
			break
		}
	}
	return out, nil
}

// DraftUnblocks reports whether the undeployed draft would unblock: worth
// telling the analyst ("deploy it"), never worth trusting.
func (a BoundAction) DraftUnblocks() bool { return a.draftUnblocks }
