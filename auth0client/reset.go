package auth0client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// SendPasswordResetEmail asks Auth0 to email the user a reset link
// (POST /dbconnections/change_password on the Authentication API). clientID
// is the application the email comes from: one enabled on the user's
// database connection (the configured reset_client_id, or the one the
// preflight found on the connection). atoctl sends this call itself, through its
// paced transport: go-auth0's authentication client forces https, fetches
// JWKS when built and replaces http.DefaultClient's transport. The POST is
// not idempotent (each sends an email): it is never repeated once sent.
func (c *Client) SendPasswordResetEmail(ctx context.Context, clientID, email, connection string) error {
	op := fmt.Sprintf("send password reset to %s", Clean(email))
	if clientID == "" {
		return fmt.Errorf("%s: %w: no application to send it from: set reset_client_id in the profile (an application enabled on the %s connection)", op, ErrConfig, Clean(connection))
	}
	body, _ := json.Marshal(map[string]string{"client_id": clientID, "email": email, "connection": connection})
	u := *c.cfg.BaseURL
	u.Path = "/dbconnections/change_password"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests && ae.RetryAfter > 0 {
			// Nothing was sent: say why and when it can be, in the
			// analyst's terms (Auth0: 10 per address from one IP, then 1 a
			// minute).
			return fmt.Errorf("%s: %w (no email was sent: Auth0 allows 10 reset emails to one address from one IP, then 1 a minute; run the reset again in %s)",
				op, ae, ae.RetryAfter.Round(time.Second))
		}
		return wrapErr(op, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}

// unblockRe spots an Action that unblocks the user: a Management API user
// update setting blocked to false, in code (comments and strings removed).
var unblockRe = regexp.MustCompile(`\bblocked\s*:\s*false\b`)

var identRe = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// UnblocksUser reports whether Action code unblocks the user it runs for.
// Comments and string literals are removed first: a "TODO: send
// { blocked: false }" comment unblocks nobody.
func UnblocksUser(code string) bool { return unblockRe.MatchString(stripJSCommentsAndStrings(code)) }

// stripJSCommentsAndStrings blanks JavaScript comments and string literals
// (quotes and template literals), keeping the code's shape.
func stripJSCommentsAndStrings(code string) string {
	var b strings.Builder
	b.Grow(len(code))
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c == '/' && i+1 < len(code) && code[i+1] == '/':
			for i < len(code) && code[i] != '\n' {
				i++
			}
			b.WriteByte('\n')
		case c == '/' && i+1 < len(code) && code[i+1] == '*':
			end := strings.Index(code[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			i += end + 3
			b.WriteByte(' ')
		case c == '"' || c == '\'' || c == '`':
			start := i + 1
			for i++; i < len(code) && code[i] != c; i++ {
				if code[i] == '\\' {
					i++
				}
			}
			// A quoted key ({"blocked": false}) stays a key; prose goes.
			if lit := code[start:min(i, len(code))]; identRe.MatchString(lit) {
				b.WriteString(lit)
			} else {
				b.WriteString(`""`)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
