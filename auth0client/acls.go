package auth0client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"

	"github.com/auth0/go-auth0/management"
)

// Network ACLs (Tenant ACL) and suspicious-IP-throttling blocks: how atoctl
// keeps an attacking network out, and lets a wrongly throttled one back in.

// MaxACLEntries is what Auth0 documents as the most entries one ACL may hold
// per source identifier (ipv4_cidrs, ipv6_cidrs, …): a planner aggregates
// addresses into CIDRs to fit.
const MaxACLEntries = 20

// Network ACL error kinds, for errors.Is.
var (
	// ErrACLLimit: the ACL does not fit, because the tenant already holds as
	// many ACLs as its plan allows (1 on Enterprise, 10 with the Attack
	// Protection add-on) or one of its lists is over MaxACLEntries. The
	// *ACLLimitError says which.
	ErrACLLimit = errors.New("network ACL limit reached")
	// ErrACLPriorityTaken: another ACL of the tenant has that priority
	// (priorities are unique; Auth0 answers 409).
	ErrACLPriorityTaken = errors.New("network ACL priority already used")
)

// ACLLimitError is Auth0's refusal of an ACL that does not fit.
type ACLLimitError struct {
	// TooManyACLs is true when the tenant holds its maximum number of ACLs;
	// false when a list of the ACL is too long.
	TooManyACLs bool
	// Field is the property over its limit, e.g. "rule.match.ipv4_cidrs".
	Field string
	// Got is the number of entries sent (0 for TooManyACLs); Max the limit
	// Auth0 stated (0 if its message did not say).
	Got, Max int
	Err      *APIError
}

func (e *ACLLimitError) Error() string {
	if e.TooManyACLs {
		s := "the tenant holds the most network ACLs its plan allows"
		if e.Max > 0 {
			s += fmt.Sprintf(" (%d)", e.Max)
		}
		return s + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s has %d entries, more than the %d one ACL may hold: %v", e.Field, e.Got, e.Max, e.Err)
}

// Is makes errors.Is(err, ErrACLLimit) true.
func (e *ACLLimitError) Is(target error) bool { return target == ErrACLLimit }

// Unwrap exposes the *APIError (so ErrBadRequest matches too).
func (e *ACLLimitError) Unwrap() error { return e.Err }

// Auth0 validates bodies with JSON schema ("Array is too long (21), maximum
// 20' on property rule.match.ipv4_cidrs"); its wording for the ACL-count
// limit is not documented, so any 400/403 naming a maximum or limit of ACLs
// counts.
var (
	aclEntriesRe = regexp.MustCompile(`Array is too long \((\d+)\), maximum (\d+)' on property (rule\.(?:not_)?match\.[a-z0-9_]+)`)
	aclWordRe    = regexp.MustCompile(`(?i)\bacls?\b`)
	limitWordRe  = regexp.MustCompile(`(?i)\b(maximum|limit)\b`)
	aclCountNum  = regexp.MustCompile(`\((\d+)\)`)
)

// aclErr wraps an ACL write's error with its ACL kind, if any.
func aclErr(op string, err error) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return wrapErr(op, err)
	}
	switch {
	case ae.Status == http.StatusConflict:
		return fmt.Errorf("%s: %w: %w", op, ErrACLPriorityTaken, ae)
	case ae.Status == http.StatusBadRequest || ae.Status == http.StatusForbidden:
		if m := aclEntriesRe.FindStringSubmatch(ae.Message); m != nil {
			got, _ := strconv.Atoi(m[1])
			lim, _ := strconv.Atoi(m[2])
			return fmt.Errorf("%s: %w", op, &ACLLimitError{Field: m[3], Got: got, Max: lim, Err: ae})
		}
		if ae.Code != "insufficient_scope" && aclWordRe.MatchString(ae.Message) && limitWordRe.MatchString(ae.Message) {
			le := &ACLLimitError{TooManyACLs: true, Err: ae}
			if m := aclCountNum.FindStringSubmatch(ae.Message); m != nil {
				le.Max, _ = strconv.Atoi(m[1])
			}
			return fmt.Errorf("%s: %w", op, le)
		}
	}
	return wrapErr(op, err)
}

// NetworkACL is a Tenant ACL rule in the terms atoctl uses: an action on
// client IPs. Text is cleaned.
type NetworkACL struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Active      bool   `json:"active"`
	// Priority orders evaluation (1..100, lower first, unique in the
	// tenant); 0 on create lets Auth0 choose its default (50).
	Priority int `json:"priority"`
	// Action is "block", "allow", "log" (monitoring) or "redirect"; ""
	// on create means block.
	Action    string   `json:"action"`
	IPv4CIDRs []string `json:"ipv4_cidrs,omitempty"`
	IPv6CIDRs []string `json:"ipv6_cidrs,omitempty"`
	// JA3Fingerprints and JA4Fingerprints match the client's TLS
	// fingerprints (an ACL matching them is kept apart from the address
	// one: a rule matches only requests meeting every signal it lists).
	JA3Fingerprints []string `json:"ja3_fingerprints,omitempty"`
	JA4Fingerprints []string `json:"ja4_fingerprints,omitempty"`
	// Scope is "tenant" (all APIs), "authentication", "management" or
	// "dynamic_client_registration"; "" on create means tenant.
	Scope string `json:"scope"`
	// Partial is true when the ACL has conditions this type does not carry
	// (not_match, countries, ASNs, user agents, a redirect URI, …).
	// UpdateNetworkACL refuses such an ACL: its full replace would drop them.
	Partial bool `json:"partial,omitempty"`
}

func (a NetworkACL) scope() string {
	if a.Scope == "" {
		return "tenant"
	}
	return a.Scope
}

func (a NetworkACL) action() string {
	if a.Action == "" {
		return "block"
	}
	return a.Action
}

// toManagement is the body atoctl sends for a.
func (a NetworkACL) toManagement() *management.NetworkACL {
	t := true
	act := &management.NetworkACLRuleAction{}
	switch a.action() {
	case "block":
		act.Block = &t
	case "allow":
		act.Allow = &t
	case "log":
		act.Log = &t
	case "redirect":
		act.Redirect = &t
	}
	match := &management.NetworkACLRuleMatch{}
	if len(a.IPv4CIDRs) > 0 {
		v4 := slices.Clone(a.IPv4CIDRs)
		match.IPv4Cidrs = &v4
	}
	if len(a.IPv6CIDRs) > 0 {
		v6 := slices.Clone(a.IPv6CIDRs)
		match.IPv6Cidrs = &v6
	}
	if len(a.JA3Fingerprints) > 0 {
		l := slices.Clone(a.JA3Fingerprints)
		match.Ja3Fingerprints = &l
	}
	if len(a.JA4Fingerprints) > 0 {
		l := slices.Clone(a.JA4Fingerprints)
		match.Ja4Fingerprints = &l
	}
	desc, active, scope := a.Description, a.Active, a.scope()
	n := &management.NetworkACL{Description: &desc, Active: &active, Rule: &management.NetworkACLRule{Action: act, Match: match, Scope: &scope}}
	if a.Priority != 0 {
		p := a.Priority
		n.Priority = &p
	}
	return n
}

// aclBody is the JSON body of a, as planned calls and the journal show it.
func aclBody(a NetworkACL) map[string]any {
	raw, _ := json.Marshal(a.toManagement())
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

func cleanAll(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = Clean(s)
	}
	return out
}

func aclFrom(n *management.NetworkACL) NetworkACL {
	a := NetworkACL{ID: str(n.ID), Description: str(n.Description), Active: n.GetActive(), Priority: n.GetPriority()}
	r := n.Rule
	if r == nil {
		return a
	}
	a.Scope = str(r.Scope)
	if act := r.Action; act != nil {
		switch {
		case act.GetBlock():
			a.Action = "block"
		case act.GetRedirect():
			a.Action = "redirect"
		case act.GetAllow():
			a.Action = "allow"
		case act.GetLog():
			a.Action = "log"
		}
		a.Partial = act.RedirectURI != nil
	}
	if m := r.Match; m != nil {
		a.IPv4CIDRs = cleanAll(m.GetIPv4Cidrs())
		a.IPv6CIDRs = cleanAll(m.GetIPv6Cidrs())
		a.JA3Fingerprints = cleanAll(m.GetJa3Fingerprints())
		a.JA4Fingerprints = cleanAll(m.GetJa4Fingerprints())
		rest := *m
		rest.IPv4Cidrs, rest.IPv6Cidrs, rest.Ja3Fingerprints, rest.Ja4Fingerprints = nil, nil, nil, nil
		if raw, _ := json.Marshal(rest); string(raw) != "{}" {
			a.Partial = true
		}
	}
	if r.NotMatch != nil {
		a.Partial = true
	}
	return a
}

// NetworkACLs lists the tenant's Network ACLs.
func (c *Client) NetworkACLs(ctx context.Context) ([]NetworkACL, error) {
	var out []NetworkACL
	for page := 0; page < maxCheckpointPages; page++ {
		// Without include_totals: go-auth0 v1.45.0 cannot decode the
		// envelope Auth0 sends with it.
		l, err := c.m.NetworkACL.List(ctx, management.Page(page), management.PerPage(MaxPerPage))
		if err != nil {
			return nil, wrapErr("list network ACLs", err)
		}
		for _, n := range l {
			if n != nil {
				out = append(out, aclFrom(n))
			}
		}
		if len(l) < MaxPerPage {
			break
		}
	}
	return out, nil
}

// maxACLCreates bounds the attempts of one CreateNetworkACL.
const maxACLCreates = 3

// CreateNetworkACL creates a (ID ignored) and returns it as stored. The POST
// is not idempotent: when its outcome is unknown (the connection dropped
// after it was sent, or Auth0 answered 5xx) the tenant's ACLs are listed,
// and an ACL with the same description, priority and rule is taken as this
// one; only when there is none is the POST sent again.
func (c *Client) CreateNetworkACL(ctx context.Context, a NetworkACL) (NetworkACL, error) {
	op := fmt.Sprintf("create network ACL %q", Clean(a.Description))
	for attempt := 1; ; attempt++ {
		n := a.toManagement()
		err := c.m.NetworkACL.Create(ctx, n)
		if err == nil {
			return aclFrom(n), nil
		}
		var te *TransportError
		unknown := (errors.As(err, &te) && te.MayBeApplied) || errors.Is(err, ErrServer)
		if !unknown || ctx.Err() != nil {
			return NetworkACL{}, aclErr(op, err)
		}
		found, ok, lerr := c.findACL(ctx, a)
		if lerr != nil {
			return NetworkACL{}, fmt.Errorf("%w (listing to check whether it was created failed too: %v)", aclErr(op, err), lerr)
		}
		if ok {
			return found, nil
		}
		if attempt == maxACLCreates {
			return NetworkACL{}, aclErr(op, err)
		}
	}
}

// findACL looks for an ACL equal to a (as CreateNetworkACL would store it).
func (c *Client) findACL(ctx context.Context, a NetworkACL) (NetworkACL, bool, error) {
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return NetworkACL{}, false, err
	}
	want := aclFrom(a.toManagement())
	for _, got := range acls {
		if sameACL(got, want) {
			return got, true, nil
		}
	}
	return NetworkACL{}, false, nil
}

// sameACL compares everything but the id; a zero priority (Auth0's default)
// matches any.
func sameACL(got, want NetworkACL) bool {
	if want.Priority == 0 {
		want.Priority = got.Priority
	}
	got.ID = ""
	sortCIDRs := func(a *NetworkACL) {
		a.IPv4CIDRs = slices.Sorted(slices.Values(a.IPv4CIDRs))
		a.IPv6CIDRs = slices.Sorted(slices.Values(a.IPv6CIDRs))
	}
	sortCIDRs(&got)
	sortCIDRs(&want)
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	return string(g) == string(w)
}

// UpdateNetworkACL replaces the ACL a.ID with a (PUT: idempotent, so it is
// retried like any idempotent call). An ACL read with Partial set is
// refused: the replace would drop the conditions this type does not carry.
func (c *Client) UpdateNetworkACL(ctx context.Context, a NetworkACL) error {
	op := fmt.Sprintf("update network ACL %s", Clean(a.ID))
	if a.ID == "" {
		return fmt.Errorf("update network ACL: %w: no id", ErrConfig)
	}
	if a.Partial {
		return fmt.Errorf("%s: it has conditions atoctl does not manage (not_match, countries, ASNs, …); replacing it would drop them: edit it in the Auth0 dashboard or API", op)
	}
	return aclErr(op, c.m.NetworkACL.Update(ctx, a.ID, a.toManagement()))
}

// DeleteNetworkACL deletes an ACL. One that does not exist is not an error:
// the goal holds, and a DELETE retried after a dropped connection finds the
// ACL already gone.
func (c *Client) DeleteNetworkACL(ctx context.Context, id string) error {
	err := c.m.NetworkACL.Delete(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return wrapErr(fmt.Sprintf("delete network ACL %s", Clean(id)), err)
}

func checkIP(op, ip string) error {
	if a, err := netip.ParseAddr(ip); err != nil || a.Zone() != "" {
		return fmt.Errorf("%s: %q is not an IP address", op, Clean(ip))
	}
	return nil
}

// IPBlockedByThrottling reports whether suspicious IP throttling (Attack
// Protection) currently blocks ip.
func (c *Client) IPBlockedByThrottling(ctx context.Context, ip string) (bool, error) {
	op := "check throttling of " + Clean(ip)
	if err := checkIP(op, ip); err != nil {
		return false, err
	}
	blocked, err := c.m.Anomaly.CheckIP(ctx, ip)
	// Auth0 answers 404 for an address that is not blocked; the transport
	// has already turned it into an error.
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, wrapErr(op, err)
	}
	return blocked, nil
}

// UnblockIPThrottling lifts a suspicious-IP-throttling block (idempotent:
// an address not blocked is fine).
func (c *Client) UnblockIPThrottling(ctx context.Context, ip string) error {
	op := "unblock throttled IP " + Clean(ip)
	if err := checkIP(op, ip); err != nil {
		return err
	}
	return wrapErr(op, c.m.Anomaly.UnblockIP(ctx, ip))
}
