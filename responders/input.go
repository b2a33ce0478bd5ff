package responders

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// ErrBadInput marks input the analyst has to fix. Functions that return it
// have sent nothing to the tenant; the CLI exits 2, the console says why.
var ErrBadInput = errors.New("bad input")

// inputError is a one-line description of bad input that is ErrBadInput.
type inputError struct{ msg string }

func (e inputError) Error() string        { return e.msg }
func (e inputError) Is(target error) bool { return target == ErrBadInput }

// BadInput builds an ErrBadInput error: what was wrong and what to do.
func BadInput(format string, args ...any) error {
	return inputError{fmt.Sprintf(format, args...)}
}

// ParseSince reads the start of a window: a duration back from now ("90m",
// "24h", "7d") or an RFC 3339 instant, and returns the instant.
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, BadInput("the window is empty: give a duration like 24h or 7d, or a time like 2025-03-14T02:00:00Z")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		// A window that starts in the future holds nothing, and would
		// switch off every check that looks at the window.
		if t.After(now) {
			return time.Time{}, BadInput("window %s starts in the future: give a time in the past, or a duration like 24h", t.UTC().Format(time.RFC3339))
		}
		return t.UTC(), nil
	}
	if d, err := ParseWindow(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, BadInput("window %q is not a duration (24h, 90m, 7d) or an RFC 3339 time", auth0client.Clean(s))
}

// ParseWindow reads a length of time back from now: 24h, 90m, 7d.
func ParseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 3650 {
			return 0, BadInput("window %q is not a duration (24h, 90m, 7d)", auth0client.Clean(s))
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, BadInput("window %q is not a duration (24h, 90m, 7d)", auth0client.Clean(s))
	}
	return d, nil
}

// ParseNetwork reads one address or a CIDR as a (masked) prefix.
func ParseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, BadInput("%q is not an IP address or CIDR (e.g. 203.0.113.7 or 203.0.113.0/24)", auth0client.Clean(s))
}

// ParseNetworks reads a list of addresses or CIDRs.
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := ParseNetwork(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

var eventTypeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// ParseEventTypes reads event type codes ("f,fp", "limit_wc"), comma
// separated or one per item.
func ParseEventTypes(list []string) ([]string, error) {
	var out []string
	for _, item := range list {
		for _, t := range strings.Split(item, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			if !eventTypeRe.MatchString(t) || !auth0client.KnownEventType(t) {
				return nil, BadInput("%q is not an Auth0 log event type code (e.g. f, fp, s, limit_wc): see https://auth0.com/docs/deploy-monitor/logs/log-event-type-codes", auth0client.Clean(t))
			}
			out = append(out, t)
		}
	}
	return out, nil
}

// LuceneQuote makes a Lucene phrase of any value: quoted, with backslashes
// and quotes escaped, so the analyst's input never becomes query syntax.
func LuceneQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// luceneFieldRe spots input that is already a Lucene query: a field name
// followed by a colon at the start or after a space or parenthesis.
var luceneFieldRe = regexp.MustCompile(`(^|[\s(])[a-zA-Z_][a-zA-Z0-9_.]*:`)

// wordRe is what may carry a trailing wildcard unquoted.
var wordRe = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}._-]*$`)

// UserQuery turns the analyst's input into a safe user search: Lucene passes
// through; a bare email, user id or word becomes a quoted query.
func UserQuery(input string) (string, error) {
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return "", BadInput("empty query: give Lucene (email:*@example.com), an email, a user id or a word")
	case strings.ContainsAny(s, "\x00\r\n"):
		return "", BadInput("query contains control characters")
	case strings.Contains(s, "|") && !strings.ContainsAny(s, " :"):
		return "user_id:" + LuceneQuote(s), nil
	case luceneFieldRe.MatchString(s):
		return s, nil
	case strings.Contains(s, "@") && !strings.ContainsAny(s, " \t"):
		return "email:" + LuceneQuote(s), nil
	case wordRe.MatchString(s):
		w := strings.ToLower(s)
		return "name:" + w + "* OR email:" + w + "* OR nickname:" + w + "*", nil
	}
	return "name:" + LuceneQuote(s), nil
}

// ValidUserArg checks a USER argument (a user id or an email) before
// anything is sent: no control, escape, bidi or invisible character (what
// the analyst cannot see, the tenant must not be sent), and an email with
// something on both sides of its @.
func ValidUserArg(arg string) error {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return BadInput("empty USER: give a user id (auth0|…) or an email")
	}
	if auth0client.Clean(arg) != arg {
		return BadInput("USER %s contains control, escape or invisible characters: type it again", auth0client.Clean(arg))
	}
	isID := strings.Contains(arg, "|")
	if !isID && !strings.Contains(arg, "@") {
		return BadInput("USER %q is neither a user id (provider|id) nor an email", arg)
	}
	if !isID {
		local, domain, _ := strings.Cut(arg, "@")
		if local == "" || domain == "" || strings.ContainsAny(arg, " \"<>,;") || strings.Count(arg, "@") > 1 && !strings.HasPrefix(local, "\"") {
			return BadInput("USER %q is not an email address (name@domain)", arg)
		}
	}
	if isID {
		provider, id, _ := strings.Cut(arg, "|")
		if provider == "" || id == "" || strings.ContainsAny(arg, " /") {
			return BadInput("USER %q is not a user id (provider|id, e.g. auth0|65f0c2a1b3d4e5f6a7b8c9d0)", arg)
		}
	}
	return nil
}
