package responders

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// Fingerprints: where log events carry the client's TLS fingerprints
// (JA3, JA4), an attack's tooling shows one fingerprint across many
// addresses. Triage groups events by fingerprint, and ip contain --acl
// blocks a fingerprint the attack shares across addresses, in an ACL of
// its own (a rule matches only requests meeting every signal it lists, so
// fingerprints cannot share the address ACL), under the same 20-entry
// limit, journaled and released like addresses.

// Journal steps of fingerprint blocks.
const (
	StepFingerprintACL     = "acl-fingerprint"
	StepFingerprintRelease = "acl-fingerprint-release"
)

// FingerprintACLPrefix marks the Network ACL atoctl keeps fingerprint
// blocks in (not ManagedACLPrefix: the address ACL is found by that).
const FingerprintACLPrefix = "atoctl-fingerprints"

// MinFingerprintAddresses is how many flagged addresses must share a
// fingerprint before triage calls it the attack's.
const MinFingerprintAddresses = 3

// FingerprintReport is one fingerprint as triage saw it.
type FingerprintReport struct {
	Kind  string `json:"kind"` // ja3 or ja4
	Value string `json:"value"`
	// Addresses used it; Flagged of them are addresses triage flagged.
	Addresses int `json:"addresses"`
	Flagged   int `json:"flagged"`
	Events    int `json:"events"`
	// CleanSuccesses are successful logins with it from addresses triage
	// did not flag: ordinary customers' clients share it.
	CleanSuccesses int `json:"clean_successes"`
	// Blockable: the attack shares it across addresses and no ordinary
	// customer's success uses it; Reason says why (not).
	Blockable bool   `json:"blockable"`
	Reason    string `json:"reason"`
}

type fpStats struct {
	addrs     map[string]bool
	events    int
	successes map[string]int // by address
}

// FingerprintAgg groups log events by fingerprint. Not safe for
// concurrent use.
type FingerprintAgg struct {
	by map[[2]string]*fpStats
}

// NewFingerprintAgg returns an empty aggregator.
func NewFingerprintAgg() *FingerprintAgg { return &FingerprintAgg{by: map[[2]string]*fpStats{}} }

// Add counts one event (one without fingerprints is ignored).
func (a *FingerprintAgg) Add(e auth0client.LogEvent) {
	for _, kv := range [][2]string{{"ja3", e.JA3}, {"ja4", e.JA4}} {
		if kv[1] == "" || e.IP == "" {
			continue
		}
		s := a.by[kv]
		if s == nil {
			s = &fpStats{addrs: map[string]bool{}, successes: map[string]int{}}
			a.by[kv] = s
		}
		s.addrs[e.IP] = true
		s.events++
		if e.Type == "s" || e.Type == "ss" {
			s.successes[e.IP]++
		}
	}
}

// Report lists the fingerprints seen from at least one flagged address,
// busiest first. flagged says whether triage flagged an address.
func (a *FingerprintAgg) Report(flagged func(ip string) bool) []FingerprintReport {
	var out []FingerprintReport
	for k, s := range a.by {
		r := FingerprintReport{Kind: k[0], Value: k[1], Addresses: len(s.addrs), Events: s.events}
		for ip := range s.addrs {
			if flagged(ip) {
				r.Flagged++
			}
		}
		if r.Flagged == 0 {
			continue
		}
		for ip, n := range s.successes {
			if !flagged(ip) {
				r.CleanSuccesses += n
			}
		}
		switch {
		case r.CleanSuccesses > 0:
			r.Reason = fmt.Sprintf("shared with ordinary customers: %d successful logins from addresses not flagged", r.CleanSuccesses)
		case r.Flagged < MinFingerprintAddresses:
			r.Reason = fmt.Sprintf("seen from %d flagged address(es): block the addresses instead", r.Flagged)
		default:
			r.Blockable = true
			r.Reason = fmt.Sprintf("the attack's tooling: %d flagged addresses share it, no ordinary customer's login uses it", r.Flagged)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y FingerprintReport) int {
		return cmp.Or(cmp.Compare(y.Flagged, x.Flagged), cmp.Compare(y.Events, x.Events), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Value, y.Value))
	})
	return out
}

// FingerprintsOfTriage groups events by fingerprint against a triage's
// flagged addresses.
func FingerprintsOfTriage(agg *FingerprintAgg, r TriageResult) []FingerprintReport {
	flagged := map[string]bool{}
	for _, ip := range r.IPs {
		if ip.Flagged {
			flagged[ip.IP] = true
		}
	}
	return agg.Report(func(ip string) bool { return flagged[ip] })
}

// maxFingerprintLookups bounds the addresses CheckFingerprints looks at
// per fingerprint.
const maxFingerprintLookups = 10

// CheckFingerprints refuses fingerprints that ordinary customers use. It
// reads the newest 1000 successful logins (s) since the window's start;
// an address outside targets that signed in with the fingerprint is
// ordinary unless its own events show failures for two accounts or more
// (the attack's other addresses do; a customer mistyping their own
// password does not). Up to maxFingerprintLookups addresses are looked at
// per fingerprint. It returns the allowed fingerprints and the refusals.
func CheckFingerprints(ctx context.Context, c *auth0client.Client, fps []string, isTarget func(ip string) bool, since string) (allowed []string, refused []Refusal, err error) {
	for _, fp := range fps {
		if auth0client.FingerprintKind(fp) == "" {
			return nil, nil, BadInput("%q is not a JA3 (32 hex digits) or JA4 (t13d1516h2_8daaf6152771_02713d6af862) fingerprint", auth0client.Clean(fp))
		}
	}
	seen := map[string][]string{} // fingerprint → addresses outside targets, newest first
	for page := 0; page < auth0client.SearchCap/auth0client.MaxPerPage; page++ {
		q := "type:s"
		if since != "" {
			q += " AND date:[" + since + " TO *]"
		}
		evs, err := c.SearchLogs(ctx, auth0client.LogQuery{Q: q, Page: page, PerPage: auth0client.MaxPerPage})
		if err != nil {
			return nil, nil, err
		}
		for _, e := range evs {
			if e.IP == "" || isTarget(e.IP) {
				continue
			}
			for _, fp := range []string{e.JA3, e.JA4} {
				if fp != "" && !slices.Contains(seen[fp], e.IP) {
					seen[fp] = append(seen[fp], e.IP)
				}
			}
		}
		if len(evs) < auth0client.MaxPerPage {
			break
		}
	}
	attackLike := map[string]bool{}
	for _, fp := range fps {
		var ordinary string
		for i, ip := range seen[fp] {
			if i == maxFingerprintLookups {
				break
			}
			bad, ok := attackLike[ip]
			if !ok {
				if bad, err = failsForSeveral(ctx, c, ip); err != nil {
					return nil, nil, err
				}
				attackLike[ip] = bad
			}
			if !bad {
				ordinary = ip
				break
			}
		}
		if ordinary != "" {
			refused = append(refused, Refusal{CIDR: fp, Reason: "shared with ordinary customers: a successful login from " + ordinary + ", an address that tries no other accounts"})
			continue
		}
		if !slices.Contains(allowed, fp) {
			allowed = append(allowed, fp)
		}
	}
	return allowed, refused, nil
}

// failsForSeveral reports whether an address's newest 100 events hold
// failed logins for two accounts or more.
func failsForSeveral(ctx context.Context, c *auth0client.Client, ip string) (bool, error) {
	evs, err := c.SearchLogs(ctx, auth0client.LogQuery{Q: `ip:"` + ip + `"`, PerPage: auth0client.MaxPerPage})
	if err != nil {
		return false, err
	}
	accounts := map[string]bool{}
	for _, e := range evs {
		if e.Type == "f" || e.Type == "fp" || e.Type == "fu" {
			accounts[cmp.Or(e.UserID, e.UserName)] = true
		}
	}
	return len(accounts) >= 2, nil
}

// FingerprintACLPlan is a fingerprint block to write.
type FingerprintACLPlan struct {
	Existing   *auth0client.NetworkACL `json:"existing,omitempty"`
	Want       auth0client.NetworkACL  `json:"want"`
	Added      []string                `json:"added"`
	DoesNotFit []string                `json:"does_not_fit,omitempty"`
	Refused    []Refusal               `json:"refused,omitempty"`
	Call       *auth0client.Call       `json:"call,omitempty"`
}

func fingerprintACL(acls []auth0client.NetworkACL) *auth0client.NetworkACL {
	for i := range acls {
		if strings.HasPrefix(acls[i].Description, FingerprintACLPrefix) {
			return &acls[i]
		}
	}
	return nil
}

// PlanFingerprintACL plans adding fps (checked: see CheckFingerprints) to
// atoctl's fingerprint ACL, each kind held to Auth0's 20 entries.
func PlanFingerprintACL(acls []auth0client.NetworkACL, incident string, fps []string, refused []Refusal) (FingerprintACLPlan, error) {
	p := FingerprintACLPlan{Refused: refused}
	p.Existing = fingerprintACL(acls)
	var ja3, ja4 []string
	if p.Existing != nil {
		if p.Existing.Partial || len(p.Existing.IPv4CIDRs)+len(p.Existing.IPv6CIDRs) > 0 {
			return p, fmt.Errorf("the atoctl fingerprint ACL %s has conditions atoctl did not write: edit it in the dashboard", p.Existing.ID)
		}
		ja3, ja4 = slices.Clone(p.Existing.JA3Fingerprints), slices.Clone(p.Existing.JA4Fingerprints)
	}
	for _, fp := range fps {
		list := &ja3
		if auth0client.FingerprintKind(fp) == "ja4" {
			list = &ja4
		}
		switch {
		case slices.Contains(*list, fp):
		case len(*list) >= auth0client.MaxACLEntries:
			p.DoesNotFit = append(p.DoesNotFit, fp)
		default:
			*list = append(*list, fp)
			p.Added = append(p.Added, fp)
		}
	}
	if len(p.Added) == 0 {
		return p, nil
	}
	want := auth0client.NetworkACL{
		Description: fmt.Sprintf("%s: attack tooling TLS fingerprints, last added by incident %s", FingerprintACLPrefix, incident),
		Active:      true, Action: "block", Scope: "authentication", JA3Fingerprints: ja3, JA4Fingerprints: ja4,
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

// ApplyFingerprintACL writes the plan through the Writer, journaled, and
// reads the ACL back.
func ApplyFingerprintACL(ctx context.Context, c *auth0client.Client, w auth0client.Writer, j JournalWriter, p FingerprintACLPlan) (StepResult, error) {
	sr := StepResult{Step: StepFingerprintACL}
	if j == nil {
		return sr, ErrNoJournal
	}
	var refused []string
	for _, r := range p.Refused {
		refused = append(refused, r.CIDR+" ("+r.Reason+")")
	}
	sr.Reason = "block TLS fingerprints " + strings.Join(p.Added, ", ") + " in the atoctl fingerprint ACL"
	if len(p.DoesNotFit) > 0 {
		sr.Reason += fmt.Sprintf("; %d do NOT fit (Auth0 allows %d per list): %s", len(p.DoesNotFit), auth0client.MaxACLEntries, strings.Join(p.DoesNotFit, ", "))
	}
	if len(refused) > 0 {
		sr.Reason += "; NOT blocked: " + strings.Join(refused, "; ")
	}
	if p.Call == nil {
		sr.Outcome = AlreadyDone
		if len(p.DoesNotFit) > 0 {
			sr.Outcome = Failed
			sr.Error = "the fingerprint ACL is full"
		} else if len(p.Added) == 0 && len(refused) > 0 && len(p.Refused) > 0 {
			sr.Outcome = Skipped
		}
		_, err := j.Append(Record{Kind: KindOutcome, Step: StepFingerprintACL, Outcome: sr.Outcome, Reason: sr.Reason, Error: sr.Error})
		return sr, err
	}
	sr.Calls = []auth0client.Call{*p.Call}
	journal := func(kind RecordKind, o Outcome, e error) error {
		return appendStepRecord(j, Record{Kind: kind, Step: StepFingerprintACL, Calls: journalCalls(sr.Calls), Reason: sr.Reason, Evidence: mustRaw(fingerprintEvidence{p.Added})}, o, e)
	}
	send := func() error {
		if p.Existing != nil {
			return w.UpdateNetworkACL(ctx, p.Want)
		}
		_, err := w.CreateNetworkACL(ctx, p.Want)
		return err
	}
	if w.DryRun() {
		err := send()
		sr.Outcome = Planned
		return sr, errors.Join(err, journal(KindOutcome, Planned, err))
	}
	if err := journal(KindIntent, "", nil); err != nil {
		return sr, err
	}
	err := send()
	if err == nil {
		var acls []auth0client.NetworkACL
		if acls, err = c.NetworkACLs(ctx); err == nil {
			m := fingerprintACL(acls)
			for _, fp := range p.Added {
				if m == nil || !slices.Contains(append(slices.Clone(m.JA3Fingerprints), m.JA4Fingerprints...), fp) {
					err = fmt.Errorf("sent, but %s is not in the ACL read back", fp)
					break
				}
			}
		}
	}
	if err != nil {
		sr.Outcome, sr.Error = Failed, auth0client.Clean(err.Error())
		return sr, errors.Join(err, journal(KindOutcome, Failed, err))
	}
	sr.Outcome = Done
	return sr, journal(KindOutcome, Done, nil)
}

// ReleaseFingerprints removes fps from atoctl's fingerprint ACL (deleting
// it when it empties), journaled.
func ReleaseFingerprints(ctx context.Context, c *auth0client.Client, w auth0client.Writer, j JournalWriter, fps []string) (StepResult, error) {
	sr := StepResult{Step: StepFingerprintRelease}
	if j == nil {
		return sr, ErrNoJournal
	}
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return sr, err
	}
	m := fingerprintACL(acls)
	if m == nil {
		sr.Outcome, sr.Reason = AlreadyDone, "there is no atoctl fingerprint ACL"
		return sr, nil
	}
	var removed []string
	keep := func(list []string) (out []string) {
		for _, s := range list {
			if slices.Contains(fps, s) {
				removed = append(removed, s)
				continue
			}
			out = append(out, s)
		}
		return out
	}
	upd := *m
	upd.JA3Fingerprints, upd.JA4Fingerprints = keep(m.JA3Fingerprints), keep(m.JA4Fingerprints)
	if len(removed) == 0 {
		sr.Outcome, sr.Reason = AlreadyDone, "none of these fingerprints is in the atoctl fingerprint ACL"
		return sr, nil
	}
	empty := len(upd.JA3Fingerprints)+len(upd.JA4Fingerprints) == 0
	sr.Reason = "unblock TLS fingerprints " + strings.Join(removed, ", ")
	call := auth0client.CallUpdateNetworkACL(upd)
	if empty {
		call = auth0client.CallDeleteNetworkACL(m.ID)
	}
	sr.Calls = []auth0client.Call{call}
	journal := func(kind RecordKind, o Outcome, e error) error {
		return appendStepRecord(j, Record{Kind: kind, Step: StepFingerprintRelease, Calls: journalCalls(sr.Calls), Reason: sr.Reason, Evidence: mustRaw(fingerprintEvidence{removed})}, o, e)
	}
	apply := func() error {
		if empty {
			return w.DeleteNetworkACL(ctx, m.ID)
		}
		return w.UpdateNetworkACL(ctx, upd)
	}
	if w.DryRun() {
		err := apply()
		sr.Outcome = Planned
		return sr, errors.Join(err, journal(KindOutcome, Planned, err))
	}
	if err := journal(KindIntent, "", nil); err != nil {
		return sr, err
	}
	if err := apply(); err != nil {
		sr.Outcome, sr.Error = Failed, auth0client.Clean(err.Error())
		return sr, journal(KindOutcome, Failed, err)
	}
	sr.Outcome = Done
	return sr, journal(KindOutcome, Done, nil)
}

// fingerprintEvidence is what fingerprint block and release records carry.
type fingerprintEvidence struct {
	Fingerprints []string `json:"fingerprints"`
}

// BlockedFingerprints reads an incident's journal: the fingerprints its
// blocks added (done, not dry-run) and no release of it removed since.
func BlockedFingerprints(recs []Record) []string {
	var out []string
	for _, r := range recs {
		if r.Kind != KindOutcome || r.Mode == ModeDryRun || r.Outcome != Done {
			continue
		}
		var ev fingerprintEvidence
		if json.Unmarshal(r.Evidence, &ev) != nil {
			continue
		}
		switch r.Step {
		case StepFingerprintACL:
			for _, fp := range ev.Fingerprints {
				if !slices.Contains(out, fp) {
					out = append(out, fp)
				}
			}
		case StepFingerprintRelease:
			out = slices.DeleteFunc(out, func(s string) bool { return slices.Contains(ev.Fingerprints, s) })
		}
	}
	return out
}
