package auth0client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Retry bounds. 429s are not counted against maxAttempts: they are waited
// out (until the reset the tenant announces), up to max429 in a row, and
// every wait is bounded by the caller's context.
const (
	maxAttempts = 5
	max429      = 60
	backoffBase = 200 * time.Millisecond
	backoffCap  = 5 * time.Second
)

// Stats counts what the client did on the wire. Benchmarks and the console's
// command log read it.
type Stats struct {
	Requests        atomic.Int64 // every attempt sent, token fetches included
	RateLimited     atomic.Int64 // 429 answers
	Retries         atomic.Int64 // attempts after the first
	TransportErrors atomic.Int64 // connections refused, reset or dropped
	ServerErrors    atomic.Int64 // 5xx answers

	// scopes are the scopes of the newest access token, read from the
	// token answer as it passes: what the preflight checks, for no call.
	scopes atomic.Pointer[[]string]
}

// TransportError is a failure below HTTP: the connection was refused,
// reset or dropped. Applied says whether the request may have reached the
// server (so a non-idempotent write may have happened).
type TransportError struct {
	Method, Path string
	MayBeApplied bool
	Err          error
}

func (e *TransportError) Error() string {
	s := fmt.Sprintf("%s %s: connection failed: %v", e.Method, e.Path, e.Err)
	if e.MayBeApplied {
		s += " (the request was sent; it may have been applied)"
	}
	return s
}

func (e *TransportError) Unwrap() error { return e.Err }

// transport is the one http.RoundTripper every atoctl request to Auth0 goes
// through (go-auth0's management calls and the token fetch alike): it paces
// with the API's budget, retries by the rules of DESIGN.md, and turns error
// answers into *APIError with Auth0's errorCode, which go-auth0 drops.
type transport struct {
	observer  func(CallInfo)
	base      http.RoundTripper
	mgmt      *budget // /api/v2/*
	auth      *budget // /oauth/token, /dbconnections/* (the Authentication API)
	userAgent string
	stats     *Stats
	sleep     func(ctx context.Context, d time.Duration) error
}

func (t *transport) budgetFor(path string) *budget {
	if strings.HasPrefix(path, "/api/v2/") {
		return t.mgmt
	}
	return t.auth
}

// idempotent reports whether repeating the request cannot do more than doing
// it once. atoctl's PATCHes set values ({"blocked":true}) and its DELETEs
// remove everything of a kind, so both are safe to repeat; POSTs (a reset
// email, a ticket, an ACL) are not.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.URL.Scheme != "https" && !IsLoopbackHost(req.URL.Hostname()) {
		return nil, fmt.Errorf("%w: refusing plain http to non-loopback host %s", ErrConfig, req.URL.Host)
	}
	b := t.budgetFor(req.URL.Path)
	safe := idempotent(req.Method)
	path := req.URL.Path
	failures, limited := 0, 0
	for {
		if err := b.wait(ctx); err != nil {
			return nil, err
		}
		attempt, wrote, err := t.prepare(req)
		if err != nil {
			return nil, err
		}
		if failures+limited > 0 {
			t.stats.Retries.Add(1)
		}
		t.stats.Requests.Add(1)
		sent := time.Now()
		resp, err := t.base.RoundTrip(attempt)
		t.observe(req, sent, resp, err, failures+limited+1)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			t.stats.TransportErrors.Add(1)
			reached := wrote.Load()
			failures++
			// A write that was sent may have been applied before the
			// connection dropped: repeat it only if repeating is harmless.
			if (safe || !reached) && failures < maxAttempts {
				if err := t.sleep(ctx, backoff(failures)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, &TransportError{Method: req.Method, Path: path, MayBeApplied: reached && !safe, Err: err}
		}
		if resp.StatusCode == http.StatusTooManyRequests && path == changePasswordPath {
			if wait := untilReset(resp.Header, time.Now()); wait > maxResetWait {
				// change_password's own limit (10 per address from one IP,
				// then 1 a minute): waiting would hold every reset of the
				// run, and its headers are not the API's budget. Say when.
				t.stats.RateLimited.Add(1)
				err := decodeError(req.Method, path, resp)
				err.RetryAfter = wait
				return nil, err
			}
		}
		b.observe(resp.Header, resp.StatusCode)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			t.stats.RateLimited.Add(1)
			limited++
			if limited < max429 {
				drain(resp)
				continue // the budget now holds every request until the reset
			}
			return nil, decodeError(req.Method, path, resp)
		case resp.StatusCode >= 500:
			t.stats.ServerErrors.Add(1)
			failures++
			if safe && failures < maxAttempts {
				drain(resp)
				if err := t.sleep(ctx, backoff(failures)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, decodeError(req.Method, path, resp)
		case resp.StatusCode >= 400:
			return nil, decodeError(req.Method, path, resp)
		}
		if path == "/oauth/token" {
			t.stats.noteToken(resp)
		}
		if sink, ok := ctx.Value(linkSinkKey{}).(*linkSink); ok {
			sink.link = resp.Header.Get("Link")
		}
		return resp, nil
	}
}

// CallInfo describes one request sent to the tenant, for the command log.
// It carries no header, body or query value that could hold a secret.
type CallInfo struct {
	Time     time.Time
	Method   string
	Path     string // escaped path, no query
	Status   int    // 0 when the connection failed
	Duration time.Duration
	Attempt  int
	Err      string
}

func (t *transport) observe(req *http.Request, sent time.Time, resp *http.Response, err error, attempt int) {
	if t.observer == nil {
		return
	}
	ci := CallInfo{Time: sent, Method: req.Method, Path: req.URL.EscapedPath(), Duration: time.Since(sent), Attempt: attempt}
	if resp != nil {
		ci.Status = resp.StatusCode
	}
	if err != nil {
		ci.Err = "connection failed"
	}
	t.observer(ci)
}

// prepare clones req for one attempt with a fresh body, a User-Agent, and a
// trace that records whether the request was written to the connection.
func (t *transport) prepare(req *http.Request) (*http.Request, *atomic.Bool, error) {
	wrote := new(atomic.Bool)
	trace := &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	}
	r := req.Clone(httptrace.WithClientTrace(req.Context(), trace))
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, nil, fmt.Errorf("%s %s: request body cannot be replayed", req.Method, req.URL.Path)
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, nil, err
		}
		r.Body = body
	}
	if t.userAgent != "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	return r, wrote, nil
}

// backoff is capped exponential backoff with full jitter.
func backoff(failures int) time.Duration {
	d := backoffBase << min(failures-1, 10)
	if d > backoffCap {
		d = backoffCap
	}
	return time.Duration(rand.Int64N(int64(d))) + d/2
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// decodeError reads Auth0's error body. Management API errors are
// {"statusCode","error","message","errorCode"}; the token endpoint's are
// OAuth's {"error","error_description"}. Nothing of the request is echoed.
// changePasswordPath is the Authentication API's reset email endpoint.
const changePasswordPath = "/dbconnections/change_password"

// maxResetWait is the longest a reset email waits out a 429: the API-wide
// limit refills within a second or two; a longer reset is the per-address
// limit.
const maxResetWait = 5 * time.Second

// untilReset is how long until the x-ratelimit-reset of h; 0 when absent.
func untilReset(h http.Header, now time.Time) time.Duration {
	reset, err := strconv.ParseInt(h.Get("x-ratelimit-reset"), 10, 64)
	if err != nil || reset <= 0 {
		return 0
	}
	return max(time.Unix(reset, 0).Sub(now), 0)
}

func decodeError(method, path string, resp *http.Response) *APIError {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
		ErrorCode        string `json:"errorCode"`
	}
	_ = json.Unmarshal(bytes.TrimSpace(data), &body)
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode, Code: body.ErrorCode, Message: body.Message}
	if e.Code == "" && body.ErrorDescription != "" {
		e.Code = body.Error
		e.Message = body.ErrorDescription
	}
	if e.Code == "insufficient_scope" {
		e.Scopes = parseExpectedScopes(e.Message)
	}
	e.Code = Clean(e.Code)
	e.Message = Clean(e.Message)
	return e
}

// parseExpectedScopes reads "Insufficient scope, expected any of: a,b".
func parseExpectedScopes(msg string) []string {
	_, list, ok := strings.Cut(msg, "expected any of:")
	if !ok {
		return nil
	}
	var out []string
	for _, s := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, Clean(s))
	}
	return out
}

// wrapErr finds the *APIError or *TransportError inside err (go-auth0 and
// net/http wrap them) and re-wraps it with what was being done, dropping the
// URL text those layers add.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", op, ae)
	}
	var te *TransportError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: %w", op, te)
	}
	// go-auth0 and net/http bury the context error under URL text.
	for _, kind := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, kind) {
			return fmt.Errorf("%s: %w", op, kind)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
