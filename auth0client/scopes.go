package auth0client

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
)

// noteToken reads the scopes granted in a token answer (its scope field,
// else the access token's scope claim) and gives the body back untouched.
// The token itself is not kept here.
func (s *Stats) noteToken(resp *http.Response) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	if json.Unmarshal(body, &tok) != nil {
		return
	}
	scope := tok.Scope
	if scope == "" {
		scope = jwtScopeClaim(tok.AccessToken)
	}
	scopes := strings.Fields(scope)
	s.scopes.Store(&scopes)
}

// jwtScopeClaim is the scope claim of a JWT access token ("" if it has
// none or is not a JWT). Nothing is verified: Auth0 verifies its tokens;
// this only says what the tenant granted.
func jwtScopeClaim(token string) string {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var claims struct {
		Scope string `json:"scope"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.Scope
}

// GrantedScopes are the scopes of the access token in use; ok is false
// until a token was fetched (the first call fetches one).
func (c *Client) GrantedScopes() (scopes []string, ok bool) {
	p := c.stats.scopes.Load()
	if p == nil {
		return nil, false
	}
	return slices.Clone(*p), true
}
