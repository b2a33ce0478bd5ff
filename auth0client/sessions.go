package auth0client

import (
	"context"
	"fmt"

	"github.com/auth0/go-auth0/management"
)

// maxCheckpointPages bounds checkpoint loops against a server that keeps
// answering with a "next" (a user has tens of sessions, not thousands).
const maxCheckpointPages = 1000

// Sessions lists a user's sessions (GET /api/v2/users/{id}/sessions,
// checkpoint-paged). On plans without the feature the error is
// ErrPlanLacksFeature.
func (c *Client) Sessions(ctx context.Context, userID string) ([]Session, error) {
	var out []Session
	from := ""
	for range maxCheckpointPages {
		opts := []management.RequestOption{management.Take(MaxPerPage)}
		if from != "" {
			opts = append(opts, management.From(from))
		}
		l, err := c.m.User.ListUserSessions(ctx, userID, opts...)
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("list sessions of %s", Clean(userID)), err)
		}
		for _, s := range l.Sessions {
			if s != nil {
				out = append(out, sessionFrom(s))
			}
		}
		// A short page is the last: Auth0 sends a "next" even then, and
		// following it costs a request that comes back empty.
		if l.Next == "" || l.Next == from || len(l.Sessions) < MaxPerPage {
			break
		}
		from = l.Next
	}
	return out, nil
}

// RevokeSessions deletes all of a user's sessions. Auth0 accepts the
// request (202) and deletes asynchronously: verify by listing.
func (c *Client) RevokeSessions(ctx context.Context, userID string) error {
	return wrapErr(fmt.Sprintf("revoke sessions of %s", Clean(userID)), c.m.User.DeleteUserSessions(ctx, userID))
}

// RefreshTokens lists a user's refresh tokens (checkpoint-paged).
func (c *Client) RefreshTokens(ctx context.Context, userID string) ([]RefreshToken, error) {
	var out []RefreshToken
	from := ""
	for range maxCheckpointPages {
		opts := []management.RequestOption{management.Take(MaxPerPage)}
		if from != "" {
			opts = append(opts, management.From(from))
		}
		l, err := c.m.User.ListRefreshTokens(ctx, userID, opts...)
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("list refresh tokens of %s", Clean(userID)), err)
		}
		for _, t := range l.Tokens {
			if t != nil {
				out = append(out, tokenFrom(t))
			}
		}
		if l.Next == "" || l.Next == from || len(l.Tokens) < MaxPerPage {
			break
		}
		from = l.Next
	}
	return out, nil
}

// RevokeRefreshTokens deletes all of a user's refresh tokens (asynchronous
// on Auth0's side, like sessions).
func (c *Client) RevokeRefreshTokens(ctx context.Context, userID string) error {
	return wrapErr(fmt.Sprintf("revoke refresh tokens of %s", Clean(userID)), c.m.User.DeleteRefreshTokens(ctx, userID))
}

// AuthMethods lists a user's enrolled authentication methods.
func (c *Client) AuthMethods(ctx context.Context, userID string) ([]AuthMethod, error) {
	var out []AuthMethod
	for page := 0; page < maxCheckpointPages; page++ {
		l, err := c.m.User.ListAuthenticationMethods(ctx, userID, management.Page(page), management.PerPage(MaxPerPage))
		if err != nil {
			return nil, wrapErr(fmt.Sprintf("list authentication methods of %s", Clean(userID)), err)
		}
		for _, a := range l.Authenticators {
			if a != nil {
				out = append(out, authMethodFrom(a))
			}
		}
		if len(l.Authenticators) < MaxPerPage || !l.HasNext() {
			break
		}
	}
	return out, nil
}
