package auth0client

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error kinds the CLI and the console branch on with errors.Is.
var (
	// ErrNotFound: the user, log or resource does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInsufficientScope: the application's token lacks a scope; the
	// *APIError names it.
	ErrInsufficientScope = errors.New("insufficient scope")
	// ErrPlanLacksFeature: the tenant's plan does not offer the endpoint
	// (sessions and refresh tokens need Enterprise).
	ErrPlanLacksFeature = errors.New("tenant plan lacks this feature")
	// ErrRateLimited: the rate limit was still hit after waiting and retrying.
	ErrRateLimited = errors.New("rate limited")
	// ErrBadCredentials: no token could be obtained, or the token was refused.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrBadRequest: Auth0 refused the request as malformed (a bad query, say).
	ErrBadRequest = errors.New("bad request")
	// ErrServer: Auth0 answered 5xx after every retry.
	ErrServer = errors.New("auth0 server error")
	// ErrConfig: a configuration value is malformed (a domain that is not a
	// host, plain http off loopback, a profile file that is not JSON).
	ErrConfig = errors.New("bad configuration")
	// ErrNoCredentials: no credentials could be put together to ask for a
	// token (no domain, client id or secret set, or a secret file that
	// cannot be read): nothing was sent.
	ErrNoCredentials = errors.New("no usable credentials")
)

// APIError is an error answer from Auth0, decoded from its body
// ({"statusCode","error","message","errorCode"}), which go-auth0's own
// error type drops part of. Message is cleaned: it can echo tenant text.
type APIError struct {
	Method, Path string
	Status       int
	Code         string // Auth0's errorCode, or the OAuth "error" for the token endpoint
	Message      string
	// Scopes lists the scopes Auth0 expected, for insufficient_scope.
	Scopes []string
	// RetryAfter is, for a 429 not waited out, how long until Auth0
	// accepts the call again (from x-ratelimit-reset); 0 when unknown.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s %s: %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	return s + ": " + msg
}

// Is maps the answer to the error kinds above.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrInsufficientScope:
		return e.Status == http.StatusForbidden && e.Code == "insufficient_scope"
	case ErrPlanLacksFeature:
		return e.Status == http.StatusForbidden && (e.Code == "operation_not_supported" || e.Code == "feature_not_enabled" || e.Code == "not_supported")
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrBadCredentials:
		return e.Status == http.StatusUnauthorized ||
			(e.Status == http.StatusForbidden && (e.Code == "access_denied" || e.Code == "unauthorized_client"))
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrServer:
		return e.Status >= 500
	}
	return false
}

// MayHaveApplied reports whether a failed write may still have taken effect:
// the request reached Auth0 and the answer was lost, or Auth0 failed (5xx)
// while handling it. Such a write is not repeated without asking.
func MayHaveApplied(err error) bool {
	var te *TransportError
	return (errors.As(err, &te) && te.MayBeApplied) || errors.Is(err, ErrServer)
}
