package auth0client

import (
	"context"
	"encoding/json"
	"net/url"
	"sync"
)

// Call is one Management or Authentication API write as atoctl plans and
// journals it: method, path and body, with secrets elided.
type Call struct {
	Method string         `json:"method"`
	Path   string         `json:"path"`
	Body   map[string]any `json:"body,omitempty"`
}

// Writer is the one seam every write to a tenant goes through. The Client
// sends; a Recorder (dry-run) only records. Steps never branch on dry-run.
type Writer interface {
	// DryRun reports whether this Writer only records (the one place that
	// knows: callers ask it rather than carrying a flag beside it).
	DryRun() bool
	// SetBlocked returns the user as the tenant holds it after the write
	// (Auth0 answers a PATCH with the user), or a zero User in a dry-run.
	SetBlocked(ctx context.Context, userID string, blocked bool) (User, error)
	RevokeSessions(ctx context.Context, userID string) error
	RevokeRefreshTokens(ctx context.Context, userID string) error
	DeleteGrants(ctx context.Context, userID string) error
	SendPasswordResetEmail(ctx context.Context, clientID, email, connection string) error
	CreatePasswordChangeTicket(ctx context.Context, userID string, ttl int) (Secret, error)
	InvalidateRememberBrowser(ctx context.Context, userID string) error
	DeleteAuthMethod(ctx context.Context, userID, methodID string) error
	DeleteUserBlocks(ctx context.Context, userID string) error
	CreateNetworkACL(ctx context.Context, a NetworkACL) (NetworkACL, error)
	UpdateNetworkACL(ctx context.Context, a NetworkACL) error
	DeleteNetworkACL(ctx context.Context, id string) error
	UnblockIPThrottling(ctx context.Context, ip string) error
	UpdateAttackProtection(ctx context.Context, feature string, patch Document) error
}

var _ Writer = (*Client)(nil)

func userPath(userID string, rest ...string) string {
	p := "/api/v2/users/" + url.PathEscape(userID)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// The calls each write makes, shared by the Client's plans and the Recorder.

// CallSetBlocked is PATCH /api/v2/users/{id} {"blocked": v}.
func CallSetBlocked(userID string, blocked bool) Call {
	return Call{Method: "PATCH", Path: userPath(userID), Body: map[string]any{"blocked": blocked}}
}

// CallRevokeSessions is DELETE /api/v2/users/{id}/sessions.
func CallRevokeSessions(userID string) Call {
	return Call{Method: "DELETE", Path: userPath(userID, "sessions")}
}

// CallRevokeRefreshTokens is DELETE /api/v2/users/{id}/refresh-tokens.
func CallRevokeRefreshTokens(userID string) Call {
	return Call{Method: "DELETE", Path: userPath(userID, "refresh-tokens")}
}

// CallDeleteGrants is DELETE /api/v2/grants?user_id={id}.
func CallDeleteGrants(userID string) Call {
	return Call{Method: "DELETE", Path: "/api/v2/grants?user_id=" + url.QueryEscape(userID)}
}

// CallPasswordResetEmail is POST /dbconnections/change_password.
func CallPasswordResetEmail(clientID, email, connection string) Call {
	return Call{Method: "POST", Path: "/dbconnections/change_password",
		Body: map[string]any{"client_id": clientID, "email": email, "connection": connection}}
}

// CallPasswordChangeTicket is POST /api/v2/tickets/password-change.
func CallPasswordChangeTicket(userID string) Call {
	return Call{Method: "POST", Path: "/api/v2/tickets/password-change", Body: map[string]any{"user_id": userID}}
}

// CallInvalidateRememberBrowser is POST …/multifactor/actions/invalidate-remember-browser.
func CallInvalidateRememberBrowser(userID string) Call {
	return Call{Method: "POST", Path: userPath(userID, "multifactor", "actions", "invalidate-remember-browser")}
}

// CallDeleteAuthMethod is DELETE /api/v2/users/{id}/authentication-methods/{method}.
func CallDeleteAuthMethod(userID, methodID string) Call {
	return Call{Method: "DELETE", Path: userPath(userID, "authentication-methods", url.PathEscape(methodID))}
}

// CallDeleteUserBlocks is DELETE /api/v2/user-blocks/{id}.
func CallDeleteUserBlocks(userID string) Call {
	return Call{Method: "DELETE", Path: "/api/v2/user-blocks/" + url.PathEscape(userID)}
}

// Recorder is the dry-run Writer: it records each call it would have made
// and sends nothing. Reads stay real (they go through the Client).
type Recorder struct {
	// ResetClientID fills the planned reset-email body, as the Client would.
	ResetClientID string

	mu    sync.Mutex
	calls []Call
}

// Calls returns the recorded calls in order.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

func (r *Recorder) record(c Call) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	return nil
}

// DryRun is true: a Recorder never sends.
func (r *Recorder) DryRun() bool { return true }

// SetBlocked records the block; there is no user to return.
func (r *Recorder) SetBlocked(_ context.Context, userID string, blocked bool) (User, error) {
	return User{}, r.record(CallSetBlocked(userID, blocked))
}

// RevokeSessions records the revocation.
func (r *Recorder) RevokeSessions(_ context.Context, userID string) error {
	return r.record(CallRevokeSessions(userID))
}

// RevokeRefreshTokens records the revocation.
func (r *Recorder) RevokeRefreshTokens(_ context.Context, userID string) error {
	return r.record(CallRevokeRefreshTokens(userID))
}

// DeleteGrants records the deletion.
func (r *Recorder) DeleteGrants(_ context.Context, userID string) error {
	return r.record(CallDeleteGrants(userID))
}

// SendPasswordResetEmail records the reset email.
func (r *Recorder) SendPasswordResetEmail(_ context.Context, clientID, email, connection string) error {
	return r.record(CallPasswordResetEmail(clientID, email, connection))
}

// CreatePasswordChangeTicket records the ticket request; there is no ticket.
func (r *Recorder) CreatePasswordChangeTicket(_ context.Context, userID string, _ int) (Secret, error) {
	return Secret{}, r.record(CallPasswordChangeTicket(userID))
}

// InvalidateRememberBrowser records the call.
func (r *Recorder) InvalidateRememberBrowser(_ context.Context, userID string) error {
	return r.record(CallInvalidateRememberBrowser(userID))
}

// DeleteAuthMethod records the deletion.
func (r *Recorder) DeleteAuthMethod(_ context.Context, userID, methodID string) error {
	return r.record(CallDeleteAuthMethod(userID, methodID))
}

// DeleteUserBlocks records the unblock.
func (r *Recorder) DeleteUserBlocks(_ context.Context, userID string) error {
	return r.record(CallDeleteUserBlocks(userID))
}

// CallCreateNetworkACL is POST /api/v2/network-acls with a's body.
func CallCreateNetworkACL(a NetworkACL) Call {
	return Call{Method: "POST", Path: "/api/v2/network-acls", Body: aclBody(a)}
}

// CallUpdateNetworkACL is PUT /api/v2/network-acls/{id} with a's body.
func CallUpdateNetworkACL(a NetworkACL) Call {
	return Call{Method: "PUT", Path: "/api/v2/network-acls/" + url.PathEscape(a.ID), Body: aclBody(a)}
}

// CallDeleteNetworkACL is DELETE /api/v2/network-acls/{id}.
func CallDeleteNetworkACL(id string) Call {
	return Call{Method: "DELETE", Path: "/api/v2/network-acls/" + url.PathEscape(id)}
}

// CallUnblockIPThrottling is DELETE /api/v2/anomaly/blocks/ips/{ip}.
func CallUnblockIPThrottling(ip string) Call {
	return Call{Method: "DELETE", Path: "/api/v2/anomaly/blocks/ips/" + url.PathEscape(ip)}
}

// DryRunACLID is the ID the Recorder gives the ACLs it "creates".
const DryRunACLID = "(dry-run)"

// CreateNetworkACL records the creation and returns a with DryRunACLID.
func (r *Recorder) CreateNetworkACL(_ context.Context, a NetworkACL) (NetworkACL, error) {
	a.ID = DryRunACLID
	return a, r.record(CallCreateNetworkACL(a))
}

// UpdateNetworkACL records the replacement.
func (r *Recorder) UpdateNetworkACL(_ context.Context, a NetworkACL) error {
	return r.record(CallUpdateNetworkACL(a))
}

// DeleteNetworkACL records the deletion.
func (r *Recorder) DeleteNetworkACL(_ context.Context, id string) error {
	return r.record(CallDeleteNetworkACL(id))
}

// UnblockIPThrottling records the unblock.
func (r *Recorder) UnblockIPThrottling(_ context.Context, ip string) error {
	return r.record(CallUnblockIPThrottling(ip))
}

// String is the call on one line, as a plan shows it: method, path and
// the compact JSON body, cleaned for the terminal.
func (c Call) String() string {
	s := c.Method + " " + Clean(c.Path)
	if len(c.Body) > 0 {
		if b, err := json.Marshal(c.Body); err == nil {
			s += " " + Clean(string(b))
		}
	}
	return s
}
