package main

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// parseSince reads --since: a duration back from now ("90m", "24h", "7d") or
// an RFC 3339 instant. It returns the instant.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, usagef("--since is empty: give a duration like 24h or 7d, or a time like 2025-03-14T02:00:00Z")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err == nil && n > 0 && n <= 3650 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("--since %q is not a duration (24h, 90m, 7d) or an RFC 3339 time", auth0client.Clean(s))
}

// ipFilter is --ip: one address or a CIDR. A CIDR is matched on the client:
// Auth0's log search has no range query on ip.
type ipFilter struct {
	prefix netip.Prefix
	raw    string
}

func parseIPFilter(s string) (ipFilter, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return ipFilter{prefix: p.Masked(), raw: s}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return ipFilter{prefix: netip.PrefixFrom(a, a.BitLen()), raw: a.String()}, nil
	}
	return ipFilter{}, usagef("--ip %q is not an IP address or CIDR (e.g. 203.0.113.7 or 203.0.113.0/24)", auth0client.Clean(s))
}

func (f ipFilter) single() bool { return f.prefix.Bits() == f.prefix.Addr().BitLen() }

func (f ipFilter) matches(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && f.prefix.Contains(a.Unmap())
}

// serverQuery narrows the server-side search as far as Lucene can: an exact
// address, or an octet-aligned IPv4 prefix as a trailing wildcard.
func (f ipFilter) serverQuery() string {
	if f.single() {
		return "ip:" + quote(f.prefix.Addr().String())
	}
	if f.prefix.Addr().Is4() && f.prefix.Bits()%8 == 0 && f.prefix.Bits() > 0 {
		octets := strings.Split(f.prefix.Addr().String(), ".")[:f.prefix.Bits()/8]
		return "ip:" + strings.Join(octets, ".") + ".*"
	}
	return ""
}

var eventTypeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// parseTypes reads --type f,fp,limit_wc.
func parseTypes(list []string) ([]string, error) {
	var out []string
	for _, item := range list {
		for _, t := range strings.Split(item, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if !eventTypeRe.MatchString(t) {
				return nil, usagef("--type %q is not an Auth0 event type code (like f, fp, s, limit_wc)", auth0client.Clean(t))
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// quote makes a Lucene phrase of any value: quoted, with backslashes and
// quotes escaped, so user input never becomes query syntax.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// luceneFieldRe spots input that is already a Lucene query: a field name
// followed by a colon at the start or after a space or parenthesis.
var luceneFieldRe = regexp.MustCompile(`(^|[\s(])[a-zA-Z_][a-zA-Z0-9_.]*:`)

// wordRe is what may carry a trailing wildcard unquoted.
var wordRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._-]*$`)

// userQuery turns the analyst's input into a safe user search: Lucene passes
// through; a bare email, user id or word becomes a quoted query.
func userQuery(input string) (string, error) {
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return "", usagef("empty query: give Lucene (email:*@example.com), an email, a user id or a word")
	case strings.ContainsAny(s, "\x00\r\n"):
		return "", usagef("query contains control characters")
	case strings.Contains(s, "|") && !strings.ContainsAny(s, " :"):
		return "user_id:" + quote(s), nil
	case luceneFieldRe.MatchString(s):
		return s, nil
	case strings.Contains(s, "@") && !strings.ContainsAny(s, " \t"):
		return "email:" + quote(s), nil
	case wordRe.MatchString(s):
		w := strings.ToLower(s)
		return "name:" + w + "* OR email:" + w + "* OR nickname:" + w + "*", nil
	}
	return "name:" + quote(s), nil
}
