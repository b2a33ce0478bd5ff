package auth0client

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"

	"github.com/auth0/go-auth0/management"
)

// TLS fingerprints: Auth0 log events carry the client's JA3 and JA4
// fingerprints in security_context ({"ja3": …, "ja4": …}), which go-auth0
// v1.45.0's Log type drops; Network ACLs can match them
// (rule.match.ja3_fingerprints, ja4_fingerprints).

// listLogs is GET /api/v2/logs decoded twice from the same body: into
// go-auth0's Log, and for the security_context it drops.
func (c *Client) listLogs(ctx context.Context, opts ...management.RequestOption) ([]LogEvent, error) {
	var raw json.RawMessage
	if err := c.m.Request(ctx, "GET", c.m.URI("logs"), &raw, opts...); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return decodeLogPage(raw)
}

// decodeLogPage decodes a page of log events with their fingerprints.
func decodeLogPage(raw json.RawMessage) ([]LogEvent, error) {
	var ls []*management.Log
	if err := json.Unmarshal(raw, &ls); err != nil {
		return nil, err
	}
	var sc []struct {
		SecurityContext *struct {
			JA3 string `json:"ja3"`
			JA4 string `json:"ja4"`
		} `json:"security_context"`
	}
	out := logsFrom(ls)
	if !bytes.Contains(raw, []byte(`"security_context"`)) {
		return out, nil // a second decode only where there is something to find
	}
	_ = json.Unmarshal(raw, &sc) // same array: cannot fail where the first did not
	if len(sc) == len(ls) {
		j := 0
		for i, l := range ls {
			if l == nil {
				continue
			}
			if s := sc[i].SecurityContext; s != nil {
				out[j].JA3, out[j].JA4 = Clean(s.JA3), Clean(s.JA4)
			}
			j++
		}
	}
	return out, nil
}

var (
	ja3Re = regexp.MustCompile(`^[0-9a-f]{32}$`)
	ja4Re = regexp.MustCompile(`^[tqd][0-9a-z]{9}_[0-9a-f]{12}_[0-9a-f]{12}$`)
)

// FingerprintKind says whether s is a JA3 fingerprint (32 hex digits, an
// MD5) or a JA4 one (t13d1516h2_8daaf6152771_02713d6af862); "" if neither.
func FingerprintKind(s string) string {
	switch {
	case ja3Re.MatchString(s):
		return "ja3"
	case ja4Re.MatchString(s):
		return "ja4"
	}
	return ""
}
