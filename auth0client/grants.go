package auth0client

import (
	"context"
	"fmt"

	"github.com/auth0/go-auth0/management"
)

// Grant is a user's consent to an application: deleting it revokes the
// refresh tokens issued under it (the fallback when the plan lacks the
// sessions and refresh-token endpoints).
type Grant struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Audience string `json:"audience"`
}

// Grants lists a user's grants.
func (c *Client) Grants(ctx context.Context, userID string) ([]Grant, error) {
	var out []Grant
	for page := 0; page < maxCheckpointPages; page++ {
		l, err := c.m.Grant.List(ctx, management.Parameter("user_id", userID), management.Page(page), management.PerPage(MaxPerPage))
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("list grants of %s", Clean(userID)), err)
		}
		for _, g := range l.Grants {
			if g != nil {
				out = append(out, Grant{ID: str(g.ID), ClientID: str(g.ClientID), Audience: str(g.Audience)})
			}
		}
		if len(l.Grants) < MaxPerPage {
			break
		}
	}
	return out, nil
}

// DeleteGrants deletes all of a user's grants (DELETE /api/v2/grants?user_id=).
func (c *Client) DeleteGrants(ctx context.Context, userID string) error {
	err := c.m.Request(ctx, "DELETE", c.m.URI("grants"), nil, management.Parameter("user_id", userID))
	return wrapErr(fmt.Sprintf("delete grants of %s", Clean(userID)), err)
}

// InvalidateRememberBrowser makes MFA ask again on every browser the user
// had told to remember (an attacker's included).
func (c *Client) InvalidateRememberBrowser(ctx context.Context, userID string) error {
	return wrapErr(fmt.Sprintf("invalidate remembered browsers of %s", Clean(userID)), c.m.User.InvalidateRememberBrowser(ctx, userID))
}

// DeleteAuthMethod removes one enrolled authentication method (an MFA
// factor the attacker enrolled, say).
func (c *Client) DeleteAuthMethod(ctx context.Context, userID, methodID string) error {
	err := c.m.User.DeleteAuthenticationMethod(ctx, userID, methodID)
	return wrapErr(fmt.Sprintf("delete authentication method %s of %s", Clean(methodID), Clean(userID)), err)
}

// DeleteUserBlocks removes a user's brute-force blocks (not an admin block).
func (c *Client) DeleteUserBlocks(ctx context.Context, userID string) error {
	return wrapErr(fmt.Sprintf("remove brute-force blocks of %s", Clean(userID)), c.m.User.Unblock(ctx, userID))
}
