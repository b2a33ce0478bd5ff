package auth0client

import (
	"context"
	"fmt"

	"github.com/auth0/go-auth0/management"
)

// CreatePasswordChangeTicket asks Auth0 for a password-change ticket URL
// for the user (POST /api/v2/tickets/password-change), to deliver out of
// band. The URL is a credential: it comes back as a Secret. The POST is not
// idempotent (each call mints a ticket), so it is retried only when the
// request never reached the server.
func (c *Client) CreatePasswordChangeTicket(ctx context.Context, userID string, ttl int) (Secret, error) {
	t := &management.Ticket{UserID: &userID}
	if ttl > 0 {
		t.TTLSec = &ttl
	}
	if err := c.m.Ticket.ChangePassword(ctx, t); err != nil {
		return Secret{}, wrapErr(fmt.Sprintf("create password-change ticket for %s", Clean(userID)), err)
	}
	return NewSecret(t.GetTicket()), nil
}
