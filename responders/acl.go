package responders

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// StepACL and StepACLRelease are the journal's names for network blocks.
const (
	StepACL        = "acl"
	StepACLRelease = "acl-release"
)

// ManagedACLPrefix marks the one Network ACL atoctl manages. Tenants hold
// few ACLs (1 on Enterprise, 10 with Attack Protection), so atoctl keeps
// every block it adds in a single rule and never touches the others.
const ManagedACLPrefix = "atoctl-managed"

// Refusal is an address atoctl will not block, and why.
type Refusal struct {
	CIDR   string `json:"cidr"`
	Reason string `json:"reason"`
}

// ACLPlan is what blocking networks needs: the ACL to create or update,
// what fits in it, and what does not.
type ACLPlan struct {
	// Existing is the managed ACL, when there is one.
	Existing *auth0client.NetworkACL `json:"existing,omitempty"`
	// Want is the ACL as it will be written.
	Want auth0client.NetworkACL `json:"want"`
	// Added are the entries this plan adds (merged CIDRs).
	Added []string `json:"added"`
	// DoesNotFit are entries past Auth0's 20-per-list limit: reported, not
	// dropped silently.
	DoesNotFit []string `json:"does_not_fit,omitempty"`
	// Requested are the networks asked for and allowed (blocked now or
	// already); Refused, those atoctl will not block, and why.
	Requested []string  `json:"requested,omitempty"`
	Refused   []Refusal `json:"refused,omitempty"`
	// Call is the write (create or update); zero when nothing changes.
	Call *auth0client.Call `json:"call,omitempty"`
	// WideOnPurpose is the --allow-wide width when the plan blocks a
	// network wider than the default limits (journaled in the reason).
	WideOnPurpose int `json:"wide_on_purpose,omitempty"`
}

// Fits reports whether every requested entry fits in the ACL.
func (p ACLPlan) Fits() bool { return len(p.DoesNotFit) == 0 }

// managedACL finds atoctl's ACL among the tenant's.
func managedACL(acls []auth0client.NetworkACL) *auth0client.NetworkACL {
	for i := range acls {
		if strings.HasPrefix(acls[i].Description, ManagedACLPrefix) {
			return &acls[i]
		}
	}
	return nil
}

// PlanACL plans adding block entries for incident, block ranked most
// important first. protect says why a prefix must not be blocked ("" when
// it may be): the operator's address, an allowlist, shared infrastructure.
// IPv4 and IPv6 networks go to their own lists (ipv4_cidrs, ipv6_cidrs),
// each merged and held to Auth0's 20 entries.
func PlanACL(acls []auth0client.NetworkACL, incident string, block []netip.Prefix, protect func(netip.Prefix) string) (ACLPlan, error) {
	var p ACLPlan
	var ok4, ok6 []netip.Prefix
	for _, b := range block {
		if why := protect(b); why != "" {
			p.Refused = append(p.Refused, Refusal{CIDR: b.String(), Reason: why})
			continue
		}
		p.Requested = append(p.Requested, b.String())
		if b.Addr().Is4() {
			ok4 = append(ok4, b)
		} else {
			ok6 = append(ok6, b)
		}
	}
	p.Existing = managedACL(acls)
	var have4, have6 []netip.Prefix
	if p.Existing != nil {
		if p.Existing.Partial {
			return p, fmt.Errorf("the atoctl-managed ACL %s has conditions atoctl did not write: edit it in the dashboard", p.Existing.ID)
		}
		have4, have6 = parsePrefixes(p.Existing.IPv4CIDRs), parsePrefixes(p.Existing.IPv6CIDRs)
	}
	final4, added4, over4 := planList(have4, ok4)
	final6, added6, over6 := planList(have6, ok6)
	p.Added = append(added4, added6...)
	p.DoesNotFit = append(over4, over6...)
	if len(p.Added) == 0 {
		return p, nil
	}
	want := auth0client.NetworkACL{
		Description: fmt.Sprintf("%s: credential-stuffing blocks, last added by incident %s", ManagedACLPrefix, incident),
		Active:      true,
		Action:      "block",
		Scope:       "authentication",
	}
	for _, f := range final4 {
		want.IPv4CIDRs = append(want.IPv4CIDRs, f.String())
	}
	for _, f := range final6 {
		want.IPv6CIDRs = append(want.IPv6CIDRs, f.String())
	}
	if p.Existing != nil {
		want.ID, want.Priority = p.Existing.ID, p.Existing.Priority
		c := auth0client.CallUpdateNetworkACL(want)
		p.Call = &c
	} else {
		prio, err := blockPriority(acls)
		if err != nil {
			return p, err
		}
		want.Priority = prio
		c := auth0client.CallCreateNetworkACL(want)
		p.Call = &c
	}
	p.Want = want
	return p, nil
}

// planList merges the requested networks of one family (ranked busiest
// first) into the entries the ACL holds: the list as it will be written,
// what it adds, and what does not fit in Auth0's 20 entries.
func planList(have, ok []netip.Prefix) (final []netip.Prefix, added, doesNotFit []string) {
	merged := MergeCIDRs(append(slices.Clone(have), ok...))
	// What is new: merged entries not already in the ACL as they are.
	for _, m := range merged {
		if slices.Contains(have, m) {
			final = append(final, m)
		}
	}
	// New entries fill the free slots in the order the caller ranked the
	// networks (busiest first), not in address order: when not everything
	// fits, what is left out is the least important.
	rank := func(m netip.Prefix) int {
		for i, o := range ok {
			if m.Bits() <= o.Bits() && m.Contains(o.Addr()) {
				return i
			}
		}
		return len(ok)
	}
	var fresh []netip.Prefix
	for _, m := range merged {
		if !slices.Contains(have, m) {
			fresh = append(fresh, m)
		}
	}
	slices.SortStableFunc(fresh, func(a, b netip.Prefix) int { return rank(a) - rank(b) })
	for _, m := range fresh {
		if len(final) >= auth0client.MaxACLEntries {
			doesNotFit = append(doesNotFit, m.String())
			continue
		}
		final = append(final, m)
		added = append(added, m.String())
	}
	// A merged entry may replace existing narrower ones: drop those.
	return MergeCIDRs(final), added, doesNotFit
}

// parsePrefixes reads an ACL list, skipping what does not parse.
func parsePrefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if pr, err := parsePrefix(s); err == nil {
			out = append(out, pr)
		}
	}
	return out
}

// blockPriority picks a free priority evaluated after every allow rule (Auth0
// runs rules from the lowest number up and the first match decides), so a
// block never shadows an address the tenant explicitly allows.
func blockPriority(acls []auth0client.NetworkACL) (int, error) {
	after := 0
	used := map[int]bool{}
	for _, a := range acls {
		used[a.Priority] = true
		if a.Action == "allow" && a.Priority > after {
			after = a.Priority
		}
	}
	for prio := max(after+1, 10); prio <= 100; prio++ {
		if !used[prio] {
			return prio, nil
		}
	}
	return 0, errors.New("no free ACL priority after the tenant's allow rules (1–100 are taken)")
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ApplyACL writes the plan through the Writer, journaled like a step.
func ApplyACL(ctx context.Context, c *auth0client.Client, w auth0client.Writer, j JournalWriter, p ACLPlan) StepResult {
	sr := StepResult{Step: StepACL}
	if j == nil {
		sr.Outcome, sr.Error = Failed, ErrNoJournal.Error()
		return sr
	}
	if p.Call != nil {
		sr.Calls = []auth0client.Call{*p.Call}
	}
	record := func(kind RecordKind, o Outcome, reason string, err error) {
		rec := Record{Kind: kind, Step: StepACL, Calls: journalCalls(sr.Calls), Reason: reason}
		if kind == KindOutcome {
			rec.Outcome = o
		}
		if err != nil {
			rec.Error = auth0client.Clean(err.Error())
		}
		if _, jerr := j.Append(rec); jerr != nil && err == nil {
			sr.Outcome, sr.Error = Failed, "journal: "+jerr.Error()
		}
	}
	reason := fmt.Sprintf("block %s in the atoctl-managed Network ACL", strings.Join(p.Added, ", "))
	if len(p.DoesNotFit) > 0 {
		reason += fmt.Sprintf("; %d entries do NOT fit (Auth0 allows %d per list): %s", len(p.DoesNotFit), auth0client.MaxACLEntries, strings.Join(p.DoesNotFit, ", "))
	}
	if p.WideOnPurpose > 0 {
		reason += fmt.Sprintf(" (wider than the default limit on purpose: --allow-wide /%d)", p.WideOnPurpose)
	}
	var refused []string
	for _, r := range p.Refused {
		refused = append(refused, r.CIDR+" ("+r.Reason+")")
	}
	if len(refused) > 0 {
		reason += "; NOT blocked: " + strings.Join(refused, "; ")
	}
	finish := func(o Outcome, err error) StepResult {
		sr.Outcome, sr.Reason = o, reason
		if err != nil {
			sr.Error = auth0client.Clean(err.Error())
		}
		record(KindOutcome, o, reason, err)
		return sr
	}
	// The outcome says what happened on the tenant, never more.
	switch {
	case p.Call == nil && len(p.DoesNotFit) > 0:
		return finish(Failed, errors.New("nothing could be added: the ACL is full"))
	case p.Call == nil && len(p.Requested) == 0:
		reason = "no network was blocked: " + cmp.Or(strings.Join(refused, "; "), "none was asked for")
		return finish(Skipped, nil)
	case p.Call == nil:
		reason = strings.Join(p.Requested, ", ") + " already blocked by the atoctl-managed ACL"
		if len(refused) > 0 {
			reason += "; NOT blocked: " + strings.Join(refused, "; ")
		}
		return finish(AlreadyDone, nil)
	case w.DryRun():
		var err error
		if p.Existing != nil {
			err = w.UpdateNetworkACL(ctx, p.Want)
		} else {
			_, err = w.CreateNetworkACL(ctx, p.Want)
		}
		return finish(Planned, err)
	}
	record(KindIntent, "", reason, nil)
	if sr.Outcome == Failed { // the intent could not be journaled: send nothing
		return sr
	}
	var err error
	if p.Existing != nil {
		err = w.UpdateNetworkACL(ctx, p.Want)
	} else {
		_, err = w.CreateNetworkACL(ctx, p.Want)
	}
	if err != nil {
		return finish(Failed, err)
	}
	// Read back: every added entry is in the managed ACL.
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return finish(Failed, fmt.Errorf("sent, but not verified: %w", err))
	}
	m := managedACL(acls)
	for _, a := range p.Added {
		if m == nil || !coveredBy(a, append(slices.Clone(m.IPv4CIDRs), m.IPv6CIDRs...)) {
			return finish(Failed, fmt.Errorf("sent, but %s is not in the ACL read back", a))
		}
	}
	sr.Evidence = fmt.Sprintf("read back: ACL %s holds %d IPv4 and %d IPv6 entries", m.ID, len(m.IPv4CIDRs), len(m.IPv6CIDRs))
	if len(p.DoesNotFit) > 0 {
		return finish(Failed, fmt.Errorf("%d entries did not fit", len(p.DoesNotFit)))
	}
	return finish(Done, nil)
}

// ReleaseACL removes entries covered by release from the managed ACL (and
// the ACL itself when it empties), journaled.
func ReleaseACL(ctx context.Context, c *auth0client.Client, w auth0client.Writer, j JournalWriter, release []netip.Prefix) (StepResult, error) {
	sr := StepResult{Step: StepACLRelease}
	if j == nil {
		return sr, ErrNoJournal
	}
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return sr, err
	}
	m := managedACL(acls)
	if m == nil {
		sr.Outcome, sr.Reason = AlreadyDone, "there is no atoctl-managed ACL"
		return sr, nil
	}
	var removed []string
	split := func(list []string) (keep []string) {
		for _, s := range list {
			pr, err := parsePrefix(s)
			if err == nil && slices.ContainsFunc(release, func(r netip.Prefix) bool { return r.Bits() <= pr.Bits() && r.Contains(pr.Addr()) }) {
				removed = append(removed, s)
				continue
			}
			keep = append(keep, s)
		}
		return keep
	}
	keep4, keep6 := split(m.IPv4CIDRs), split(m.IPv6CIDRs)
	empty := len(keep4)+len(keep6) == 0
	if len(removed) == 0 {
		sr.Outcome, sr.Reason = AlreadyDone, "none of these networks is in the atoctl-managed ACL"
		return sr, nil
	}
	sr.Reason = "unblock " + strings.Join(removed, ", ")
	upd := *m
	upd.IPv4CIDRs, upd.IPv6CIDRs = keep4, keep6
	var call auth0client.Call
	if empty {
		call = auth0client.CallDeleteNetworkACL(m.ID)
	} else {
		call = auth0client.CallUpdateNetworkACL(upd)
	}
	sr.Calls = []auth0client.Call{call}
	apply := func() error {
		if empty {
			return w.DeleteNetworkACL(ctx, m.ID)
		}
		return w.UpdateNetworkACL(ctx, upd)
	}
	journal := func(kind RecordKind, o Outcome, e error) error {
		return appendStepRecord(j, Record{Kind: kind, Step: StepACLRelease, Calls: journalCalls(sr.Calls), Reason: sr.Reason}, o, e)
	}
	if w.DryRun() {
		err := apply()
		sr.Outcome = Planned
		return sr, errors.Join(err, journal(KindOutcome, Planned, err))
	}
	if err := journal(KindIntent, "", nil); err != nil {
		return sr, err // not journaled, not sent
	}
	if err := apply(); err != nil {
		sr.Outcome, sr.Error = Failed, auth0client.Clean(err.Error())
		return sr, journal(KindOutcome, Failed, err)
	}
	sr.Outcome = Done
	return sr, journal(KindOutcome, Done, nil)
}

// coveredBy reports whether entry lies within one of the list's prefixes.
func coveredBy(entry string, list []string) bool {
	e, err := parsePrefix(entry)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(list, func(s string) bool {
		p, err := parsePrefix(s)
		return err == nil && p.Bits() <= e.Bits() && p.Contains(e.Addr())
	})
}
