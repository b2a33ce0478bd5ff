package responders

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Breached-password logins (the Detection Catalog's pwd_leak): someone
// signs in with a username and password pair that Auth0's Breached Password
// Detection found in a breach corpus. With the "block" shield Auth0 blocks
// the login and every further login with that pair until the owner changes
// the password; with notifications only, the login goes on (an s follows
// the pwd_leak from the same address). Auth0 throttles the pwd_leak events
// themselves (about one an hour per user or address), so their counts are
// lower bounds.
//
// Thresholds:
//
//   - leakAccountsPerIP (3, the brief's and atoctl's): an address that
//     produced pwd_leak for this many distinct accounts is replaying a
//     breach corpus. One person tries one or two of their own accounts;
//     a household hardly three with breached passwords in the same window.
//   - leakLoginWindow (a minute before to 10 minutes after, atoctl's): an s
//     that belongs to the same login as the pwd_leak (notify-only mode)
//     comes seconds after it; ten minutes covers a retry of the same
//     sitting, a minute before covers clock order within one login.
//   - Shared infrastructure, after the triage (TriageConfig's
//     MinSharedAccounts, 10, and its quarter rule): an address where
//     breachedSharedAccounts accounts sign in and at most a quarter as many
//     produced pwd_leak is a carrier NAT or a backend, never flagged.
const (
	leakAccountsPerIP      = 3
	leakLoginBefore        = time.Minute
	leakLoginWindow        = 10 * time.Minute
	breachedSharedAccounts = 10
	// breachedEvidence bounds the log ids per account.
	breachedEvidence = 5
	// maxPasswordChanges bounds the password changes (scp) kept per
	// account: the earliest few. An owner changes a password once or twice
	// in a window.
	maxPasswordChanges = 4
	// maxSuccessTimes bounds the successful logins kept per account and
	// address: the earliest few. An address with more, all before its
	// pwd_leak, is the account's own anyway.
	maxSuccessTimes = 4
)

// breachedPassword is the breached-password detector.
//
// Rules, applied by Findings:
//
//   - compromised, by the catalog's logins_or_signups_from_suspicious_ips
//     rule narrowed to breached passwords: a successful login (s) from an
//     address that produced pwd_leak for leakAccountsPerIP or more accounts
//     (a flagged address). ContainSteps.
//   - compromised, the same login: an s from the address of the account's
//     own pwd_leak within leakLoginWindow of it (notify-only mode let the
//     breached password in), when the account had not signed in from that
//     address before (an owner at home in notify-only mode is not a
//     takeover), did not change its password in between, and the address
//     is not shared. ContainSteps.
//   - targeted (at risk: the password is known): any other account with a
//     pwd_leak. The event does not say the password is the account's
//     current one, but the pair is in a breach corpus and being tried:
//     ResetSteps. An account that changed its password (scp) after its
//     last pwd_leak is left out: the breached password is gone, and the
//     owner already did what the response would ask.
//
// reset_pwd_leak (a breached password chosen through the emailed reset
// link: the owner, blocked by Auth0, nothing to undo) and signup_pwd_leak
// (no account exists: the signup-fraud detector's) decide nothing here.
//
// Networks are the flagged addresses (never shared ones). pwd_leak events
// often carry only the user name: accounts are keyed by user id, and a
// name is tied to an id by any event that carries both, or by
// ResolveNames; a name never tied to an id stays a name-only account with
// no steps (nothing can be reset without the id).
type breachedPassword struct {
	ips     []string
	ipIndex map[string]uint32
	accts   map[string]*bpAccount // "id:" + user id, or "name:" + lowercased user name
	// links ties a lowercased user name to the user id seen with it first
	// (by date); resolved holds ResolveNames' answers, which win.
	links    map[string]nameLink
	resolved map[string]string
}

type nameLink struct {
	id string
	at int64
}

type bpAccount struct {
	id      string // user id ("" for a name-only account)
	name    string
	nameAt  int64
	pairs   map[uint32]*bpPair
	changes []int64 // earliest password changes (scp), unix ms
	lastSCP int64
}

// bpPair is one account at one address.
type bpPair struct {
	leaks               int32
	firstLeak, lastLeak int64
	leakIDs             []evidence // earliest pwd_leak
	succ                int32
	succs               []evidence // earliest successes, with their dates
}

// NewBreachedPasswordDetector builds the breached-password detector.
func NewBreachedPasswordDetector() Detector {
	return &breachedPassword{ipIndex: map[string]uint32{}, accts: map[string]*bpAccount{},
		links: map[string]nameLink{}, resolved: map[string]string{}}
}

func (d *breachedPassword) Kind() AttackKind { return AttackBreachedPassword }

func (d *breachedPassword) Add(e auth0client.LogEvent) {
	if e.Type != "pwd_leak" && e.Type != "s" && e.Type != "scp" {
		return
	}
	if e.Date.IsZero() {
		return
	}
	at := e.Date.UnixMilli()
	name := strings.ToLower(e.UserName)
	if e.UserID != "" && name != "" {
		if l, ok := d.links[name]; !ok || at < l.at || at == l.at && e.UserID < l.id {
			d.links[name] = nameLink{id: e.UserID, at: at}
		}
	}
	var key string
	switch {
	case e.UserID != "":
		key = "id:" + e.UserID
	case name != "":
		key = "name:" + name
	default:
		return
	}
	a := d.accts[key]
	if a == nil {
		a = &bpAccount{id: e.UserID, nameAt: noTime, lastSCP: noTime, pairs: map[uint32]*bpPair{}}
		d.accts[key] = a
	}
	notePlainName(&a.name, &a.nameAt, e.UserName, at)
	if e.Type == "scp" {
		a.changes = keepTimes(a.changes, at, maxPasswordChanges)
		a.lastSCP = laterMs(a.lastSCP, at)
		return
	}
	if e.IP == "" {
		return
	}
	ip, ok := d.ipIndex[e.IP]
	if !ok {
		ip = uint32(len(d.ips))
		d.ipIndex[e.IP] = ip
		d.ips = append(d.ips, e.IP)
	}
	p := a.pairs[ip]
	if p == nil {
		p = &bpPair{firstLeak: noTime, lastLeak: noTime}
		a.pairs[ip] = p
	}
	switch e.Type {
	case "pwd_leak":
		p.leaks++
		p.firstLeak = min(p.firstLeak, at)
		p.lastLeak = laterMs(p.lastLeak, at)
		p.leakIDs = keepEvidence(p.leakIDs, at, e.ID, 3)
	case "s":
		p.succ++
		p.succs = keepEvidence(p.succs, at, e.ID, maxSuccessTimes)
	}
}

// notePlainName keeps the user name seen first (by date, then the smaller).
func notePlainName(name *string, nameAt *int64, n string, at int64) {
	if n != "" && (*name == "" || at < *nameAt || at == *nameAt && n < *name) {
		*name, *nameAt = n, at
	}
}

// keepTimes keeps the earliest max instants.
func keepTimes(ts []int64, at int64, max int) []int64 {
	if slices.Contains(ts, at) {
		return ts
	}
	ts = append(ts, at)
	slices.Sort(ts)
	return ts[:min(len(ts), max)]
}

// UnresolvedNames lists the lowercased user names that pwd_leak events
// name without a user id and that no event ties to one: look them up in
// the tenant (a user search by email) and hand the answer to ResolveNames.
// Same contract as Triage.UnresolvedNames.
func (d *breachedPassword) UnresolvedNames() []string {
	var out []string
	for key, a := range d.accts {
		name, ok := strings.CutPrefix(key, "name:")
		if !ok || d.idOf(name) != "" {
			continue
		}
		for _, p := range a.pairs {
			if p.leaks > 0 {
				out = append(out, name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// ResolveNames records which user id holds a user name (lowercased email
// → id), as a tenant user search answers it.
func (d *breachedPassword) ResolveNames(ids map[string]string) {
	for name, id := range ids {
		if name != "" && id != "" {
			d.resolved[strings.ToLower(name)] = id
		}
	}
}

func (d *breachedPassword) idOf(name string) string {
	if id := d.resolved[name]; id != "" {
		return id
	}
	return d.links[name].id
}

// accounts folds the name-only accounts into the accounts of their ids.
// It builds new values and leaves what Add keeps unchanged.
func (d *breachedPassword) accounts() []*bpAccount {
	byID := map[string]*bpAccount{}
	var nameOnly []*bpAccount
	merge := func(dst, src *bpAccount) {
		notePlainName(&dst.name, &dst.nameAt, src.name, src.nameAt)
		for _, t := range src.changes {
			dst.changes = keepTimes(dst.changes, t, maxPasswordChanges)
		}
		dst.lastSCP = laterMs(dst.lastSCP, src.lastSCP)
		for ip, sp := range src.pairs {
			dp := dst.pairs[ip]
			if dp == nil {
				dp = &bpPair{firstLeak: noTime, lastLeak: noTime}
				dst.pairs[ip] = dp
			}
			dp.leaks += sp.leaks
			dp.firstLeak = min(dp.firstLeak, sp.firstLeak)
			dp.lastLeak = laterMs(dp.lastLeak, sp.lastLeak)
			dp.leakIDs = mergeEvidence(dp.leakIDs, sp.leakIDs, 3)
			dp.succ += sp.succ
			dp.succs = mergeEvidence(dp.succs, sp.succs, maxSuccessTimes)
		}
	}
	fresh := func(id string) *bpAccount {
		return &bpAccount{id: id, nameAt: noTime, lastSCP: noTime, pairs: map[uint32]*bpPair{}}
	}
	for _, key := range slices.Sorted(maps.Keys(d.accts)) {
		src := d.accts[key]
		id := src.id
		if name, ok := strings.CutPrefix(key, "name:"); ok {
			id = d.idOf(name)
		}
		if id == "" {
			a := fresh("")
			merge(a, src)
			nameOnly = append(nameOnly, a)
			continue
		}
		if byID[id] == nil {
			byID[id] = fresh(id)
		}
		merge(byID[id], src)
	}
	out := slices.SortedFunc(maps.Values(byID), func(x, y *bpAccount) int { return strings.Compare(x.id, y.id) })
	return append(out, nameOnly...)
}

func (d *breachedPassword) Findings() []AttackFinding {
	accts := d.accounts()
	// Addresses: accounts with pwd_leak and accounts signed in, per address.
	leakAccts, succAccts := map[uint32]int{}, map[uint32]int{}
	leakEvents := map[uint32]int32{}
	for _, a := range accts {
		for ip, p := range a.pairs {
			if p.leaks > 0 {
				leakAccts[ip]++
				leakEvents[ip] += p.leaks
			}
			if p.succ > 0 {
				succAccts[ip]++
			}
		}
	}
	shared := func(ip uint32) bool {
		return succAccts[ip] >= breachedSharedAccounts && leakAccts[ip]*4 <= succAccts[ip]
	}
	flagged := map[uint32]bool{}
	var networks, sharedLeaky []uint32
	for ip, n := range leakAccts {
		switch {
		case n >= leakAccountsPerIP && shared(ip):
			sharedLeaky = append(sharedLeaky, ip)
		case n >= leakAccountsPerIP:
			flagged[ip] = true
			networks = append(networks, ip)
		}
	}
	busiest := func(x, y uint32) int {
		return cmp.Or(cmp.Compare(leakAccts[y], leakAccts[x]), cmp.Compare(leakEvents[y], leakEvents[x]), strings.Compare(d.ips[x], d.ips[y]))
	}
	slices.SortFunc(networks, busiest)
	slices.SortFunc(sharedLeaky, busiest)

	f := AttackFinding{Kind: AttackBreachedPassword}
	var sample, top []evidence // top: the compromised accounts', kept first
	var why []string
	first, last := int64(noTime), int64(noTime)
	byFlagged, sameLogin, changed, nameOnly := 0, 0, 0, 0
	for _, a := range accts {
		var leakEv, succEv []evidence
		lastLeak := int64(noTime)
		var how string
		for _, ip := range slices.Sorted(maps.Keys(a.pairs)) {
			p := a.pairs[ip]
			if p.leaks > 0 {
				leakEv = append(leakEv, p.leakIDs...)
				lastLeak = laterMs(lastLeak, p.lastLeak)
				first, last = min(first, p.firstLeak), laterMs(last, p.lastLeak)
			}
			if p.succ == 0 {
				continue
			}
			addr := auth0client.Clean(d.ips[ip])
			switch {
			case flagged[ip]:
				succEv = append(succEv, p.succs...)
				if how == "" {
					how = fmt.Sprintf("signed in from %s, which produced pwd_leak for %d accounts", addr, leakAccts[ip])
					byFlagged++
				}
			case p.leaks > 0 && !shared(ip):
				if s, ok := a.sameLogin(p); ok {
					succEv = append(succEv, s)
					if how == "" {
						how = fmt.Sprintf("signed in from %s right after a breached-password login from there, an address the account had not used before", addr)
						sameLogin++
					}
				}
			}
		}
		for _, e := range succEv {
			first, last = min(first, e.at), laterMs(last, e.at)
		}
		acct := AttackAccount{UserID: auth0client.Clean(a.id), UserName: auth0client.Clean(a.name)}
		switch {
		case how != "":
			acct.Verdict, acct.Steps = VerdictCompromised, ContainSteps
			why = append(why, fmt.Sprintf("%s %s", cmp.Or(acct.UserID, acct.UserName), how))
		case lastLeak == noTime:
			continue
		case a.lastSCP != noTime && a.lastSCP > lastLeak:
			changed++ // the owner changed the password since: not at risk
			continue
		default:
			acct.Verdict, acct.Steps = VerdictTargeted, ResetSteps
		}
		if a.id == "" {
			acct.Steps = nil // nothing can be done without the user id
			nameOnly++
		}
		// The successes that decide first, then the earliest pwd_leak.
		ev := slices.Concat(earliestEvidence(succEv, 2), evidenceByDate(leakEv))
		ev = earliestEvidence(ev[:min(len(ev), breachedEvidence)], breachedEvidence)
		for _, e := range ev {
			acct.Evidence = append(acct.Evidence, auth0client.Clean(e.id))
		}
		if acct.Verdict == VerdictCompromised {
			top = append(top, ev...)
		} else {
			sample = append(sample, ev[:min(len(ev), 2)]...)
		}
		f.Accounts = append(f.Accounts, acct)
	}
	if len(f.Accounts) == 0 {
		return nil
	}
	slices.SortStableFunc(f.Accounts, func(x, y AttackAccount) int {
		return cmp.Or(cmp.Compare(findingVerdictOrder(x.Verdict), findingVerdictOrder(y.Verdict)),
			strings.Compare(x.UserID, y.UserID), strings.Compare(x.UserName, y.UserName))
	})
	for _, ip := range networks {
		f.Networks = append(f.Networks, auth0client.Clean(d.ips[ip]))
	}
	sample = slices.Concat(top, sample)
	for _, e := range earliestEvidence(sample[:min(len(sample), 20)], 20) {
		f.Evidence = append(f.Evidence, auth0client.Clean(e.id))
	}
	if first != noTime {
		f.First = time.UnixMilli(first).UTC()
	}
	if last != noTime {
		f.Last = time.UnixMilli(last).UTC()
	}

	comp, targeted := f.Count(VerdictCompromised), f.Count(VerdictTargeted)
	f.Title = fmt.Sprintf("breached-password logins: %s taken over, %d with a known password", plural(comp, "account"), targeted)
	f.Reasons = []string{fmt.Sprintf("%s tried with a password from a breach corpus (pwd_leak)", plural(len(f.Accounts), "account"))}
	if len(networks) > 0 {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s produced pwd_leak for %d or more accounts each: replaying a breach corpus", nAddresses(len(networks)), leakAccountsPerIP))
	}
	f.Reasons = append(f.Reasons, why...)
	for _, ip := range sharedLeaky {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s produced pwd_leak for %d accounts but %d accounts sign in there: shared, not blocked",
			auth0client.Clean(d.ips[ip]), leakAccts[ip], succAccts[ip]))
	}
	if changed > 0 {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s changed the password after the breached-password login: left out", plural(changed, "account")))
	}
	if nameOnly > 0 {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s named only by user name: look up the user id before a reset", plural(nameOnly, "account")))
	}
	switch {
	case len(networks) > 0 || byFlagged > 0:
		f.Confidence = ConfidenceHigh
	case sameLogin > 0 || len(f.Accounts) >= 2:
		f.Confidence = ConfidenceMedium
	default:
		// One account, one breached-password login, nothing else: the
		// owner reusing a password is as likely as an attacker.
		f.Confidence = ConfidenceLow
	}
	switch {
	case comp > 0:
		f.Severity = 80 + min(15, 5*comp)
	case len(networks) > 0:
		f.Severity = 50 + min(10, targeted)
	default:
		f.Severity = 30
	}
	var resp []string
	if comp > 0 {
		resp = append(resp, fmt.Sprintf("contain %s signed in with a breached password (snapshot, block, revoke sessions and refresh tokens, reset, unblock once the owner has reset)", plural(comp, "account")))
	}
	if targeted > 0 {
		resp = append(resp, fmt.Sprintf("reset the passwords of %s whose breached password is being tried", plural(targeted, "account")))
	}
	if len(f.Networks) > 0 {
		resp = append(resp, fmt.Sprintf("block %s replaying the breach corpus", nAddresses(len(f.Networks))))
	}
	resp = append(resp, "keep Breached Password Detection set to block")
	f.Response = strings.Join(resp, "; ")
	f.ID = FindingID(f.Kind, f.Accounts, f.Networks)
	return []AttackFinding{f}
}

// sameLogin finds a success that belongs to a breached-password login at
// p's address: from leakLoginBefore before its first pwd_leak there to
// leakLoginWindow after its last (a pair keeps the first and last, not
// every pwd_leak), from an address the account had not signed in from
// before, with no password change in between.
func (a *bpAccount) sameLogin(p *bpPair) (evidence, bool) {
	from := p.firstLeak - leakLoginBefore.Milliseconds()
	to := p.lastLeak + leakLoginWindow.Milliseconds()
	for _, s := range evidenceByDate(p.succs) {
		if s.at < from {
			return evidence{}, false // the account's own address
		}
		if s.at > to {
			break
		}
		if !slices.ContainsFunc(a.changes, func(c int64) bool { return c >= p.firstLeak && c <= s.at }) {
			return s, true
		}
	}
	return evidence{}, false
}
