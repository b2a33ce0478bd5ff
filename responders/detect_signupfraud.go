package responders

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Account creation fraud (the seed guide's "ss bursts from disposable
// domains or one network", after the Auth0 Detection Catalog's
// risk_of_signup_fraud_by_volume and
// risk_of_signup_fraud_by_disposable_domains rules): a script creates
// accounts in bulk, for sign-up bonuses, referral credit, fake reviews or
// a stock of accounts to sell. The accounts are the attacker's own: there
// is no owner to protect, reset or notify.
//
// The catalog counts per hour (its 1 h bins) and leaves the counts to the
// tenant; the counts are atoctl's own:
const (
	// signupBurstWindow is the catalog's observation window (1 h), applied
	// as a sliding window rather than clock-hour bins, so that a burst
	// across the hour does not halve.
	signupBurstWindow = time.Hour
	// signupBurstCount successful signups (ss) from one network (/24,
	// IPv6 /64) within the window: a household or an office signs up a
	// handful of people, not ten in an hour.
	signupBurstCount = 10
	// signupDisposableCount signups with disposable email domains within
	// the window, from anywhere: one or two privacy-minded people an hour is
	// normal on a busy tenant (the catalog's false positive), five is a
	// script.
	signupDisposableCount = 5
	// signupSharedAccounts: a network where this many accounts that did
	// not sign up in the window sign in is shared (a carrier NAT, a campus):
	// a launch behind it is not one actor (the triage's MinSharedAccounts).
	signupSharedAccounts = 10
	// signupOneAgentShare of a burst's signups with the same user agent
	// string is one tool; a crowd's phones and laptops are more varied.
	signupOneAgentShare = 0.9
)

// disposableDomains are throwaway-mailbox domains: the catalog's list
// (risk_of_signup_fraud_by_disposable_domains) and a few more as
// illustration. Real lists run to thousands of domains and change weekly
// (the catalog suggests a lookup table of a public blocklist); this one
// only shows the rule.
var disposableDomains = []string{
	"mailinator.com", "yopmail.com", "10minutemail.com", "guerrillamail.com", "temp-mail.org", "disposable.com",
	"mailnesia.com", "sharklasers.com", "getnada.com", "mohmal.com",
	"tempmail.com", "guerrillamail.net", "maildrop.cc", "trashmail.com", "dispostable.com",
}

// disposableDomain reports whether domain is, or is under, a disposable
// mail domain.
func disposableDomain(domain string) bool {
	return slices.ContainsFunc(disposableDomains, func(d string) bool {
		return domain == d || strings.HasSuffix(domain, "."+d)
	})
}

// signupFraud is the signup fraud detector.
//
// Rules, applied by Findings:
//
//   - a network burst: at least signupBurstCount signups from one /24 (or
//     IPv6 /64) within signupBurstWindow, on a network that is not shared
//     (signupSharedAccounts). Volume alone is the catalog's own false
//     positive (a conference, a launch on campus), so the burst is only
//     called fraud when a second sign agrees: a script's user agent (not a
//     browser: python-requests, curl, none at all) for at least half of
//     them, one user agent for signupOneAgentShare of them, or disposable
//     domains for at least half. Without one, the finding asks for a look
//     and recommends nothing.
//   - a disposable burst: at least signupDisposableCount signups with
//     disposable email domains (disposableDomains) within the window, from
//     any networks.
//
// The accounts of a burst are the fraudster's. Their verdict is targeted,
// the nearest of the three (no one's account was taken over, and there is
// no password to reset): Steps [block] only, which also stops their tokens
// (Auth0 refuses a refresh for a blocked user). Networks are the burst's
// network, or for a disposable burst the networks that sent two or more of
// it. A product launch (many signups from many ISPs, with ordinary domains)
// meets neither rule.
//
// State: per signup account, its address, network, domain, time, user
// agent (as a hash) and log id, which the finding lists anyway; per network,
// the failed signups (fs), a count; per account that signs in, a few of its
// networks (for the shared-network test).
type signupFraud struct {
	signups map[string]*sfSignup
	failed  map[string]int      // network → fs
	logins  map[string][]string // user id → networks it signs in from (a few)
}

// NewSignupFraudDetector builds the signup fraud detector.
func NewSignupFraudDetector() Detector {
	return &signupFraud{signups: map[string]*sfSignup{}, failed: map[string]int{}, logins: map[string][]string{}}
}

type sfSignup struct {
	id, name, ip, network, domain string
	at                            int64
	logID                         string
	agent                         uint64
	family                        string
	disposable                    bool
}

func (d *signupFraud) Kind() AttackKind { return AttackSignupFraud }

func (d *signupFraud) Add(e auth0client.LogEvent) {
	switch e.Type {
	case "ss":
	case "fs":
		if n := networkOf(e.IP); n != "" {
			d.failed[n]++
		}
		return
	case "s":
		if n := networkOf(e.IP); n != "" && e.UserID != "" {
			d.logins[e.UserID] = keepSmallest(d.logins[e.UserID], n, 4)
		}
		return
	default:
		return
	}
	if e.UserID == "" {
		return
	}
	at := eventMs(e.Date)
	if s := d.signups[e.UserID]; s != nil && (s.at < at || s.at == at && s.logID <= e.ID) {
		return // one account, one signup: keep the earliest event of it
	}
	name := clip(e.UserName, 320)
	domain := ""
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		domain = strings.ToLower(strings.TrimSpace(name[i+1:]))
	}
	d.signups[e.UserID] = &sfSignup{id: e.UserID, name: name, ip: e.IP, network: networkOf(e.IP), domain: domain, at: at, logID: e.ID,
		agent: AgentHash(e.UserAgent), family: agentFamily(e.UserAgent), disposable: disposableDomain(domain)}
}

func (d *signupFraud) Findings() []AttackFinding {
	all := make([]*sfSignup, 0, len(d.signups))
	for _, s := range d.signups {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *sfSignup) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.logID, b.logID), cmp.Compare(a.id, b.id))
	})

	byNet := map[string][]*sfSignup{}
	for _, s := range all {
		if s.network != "" {
			byNet[s.network] = append(byNet[s.network], s)
		}
	}
	var out []AttackFinding
	taken := map[string]bool{}
	for _, n := range sortedKeys(byNet) {
		burst := inBurst(byNet[n], signupBurstCount)
		if len(burst) == 0 || d.shared(n) {
			continue
		}
		signs := burstSigns(burst)
		f := AttackFinding{Kind: AttackSignupFraud, Confidence: ConfidenceLow}
		f.Reasons = append(f.Reasons, fmt.Sprintf("%d accounts signed up from %s within %.0f minutes (the catalog's signup volume rule; flagged from %d)",
			len(burst), n, signupBurstWindow.Minutes(), signupBurstCount))
		if c := d.failed[n]; c > 0 {
			f.Reasons = append(f.Reasons, fmt.Sprintf("%d failed signups (fs) from the same network", c))
		}
		if len(signs) > 0 {
			f.Confidence = ConfidenceHigh
			f.Reasons = append(f.Reasons, signs...)
			f.Networks = []string{n}
			f.Response = "block the accounts (they are the fraudster's: no owner to reset or notify), block the network, " +
				"and slow signups down (bot detection, email verification before first use)"
		} else {
			f.Reasons = append(f.Reasons, "no second sign of a script (browsers of all kinds, ordinary domains): a conference or a launch on one network looks the same, so nothing is recommended until someone looks")
			f.Response = "look before acting: if the accounts are fake, block them and the network"
		}
		f.Title = fmt.Sprintf("signup burst: %d accounts created from %s within %.0f minutes", len(burst), n, signupBurstWindow.Minutes())
		for _, s := range burst {
			taken[s.id] = true
		}
		out = append(out, d.finding(f, burst, len(signs) > 0))
	}

	var disposable []*sfSignup
	for _, s := range all {
		if s.disposable && !taken[s.id] {
			disposable = append(disposable, s)
		}
	}
	if burst := inBurst(disposable, signupDisposableCount); len(burst) > 0 {
		f := AttackFinding{Kind: AttackSignupFraud, Confidence: ConfidenceMedium}
		domains := map[string]int{}
		nets := map[string]int{}
		for _, s := range burst {
			domains[s.domain]++
			if s.network != "" && !d.shared(s.network) {
				nets[s.network]++
			}
		}
		var ds []string
		for _, dom := range sortedKeys(domains) {
			ds = append(ds, fmt.Sprintf("%s ×%d", auth0client.Clean(dom), domains[dom]))
		}
		f.Reasons = append(f.Reasons, fmt.Sprintf("%d accounts signed up with disposable email domains within %.0f minutes (the catalog's disposable-domains rule; flagged from %d): %s",
			len(burst), signupBurstWindow.Minutes(), signupDisposableCount, strings.Join(ds, ", ")))
		for _, n := range sortedKeys(nets) {
			if nets[n] >= 2 {
				f.Networks = append(f.Networks, n)
			}
		}
		slices.SortStableFunc(f.Networks, func(a, b string) int { return cmp.Compare(nets[b], nets[a]) })
		if signs := burstSigns(burst); len(signs) > 1 || len(f.Networks) > 0 {
			f.Confidence = ConfidenceHigh
		}
		f.Title = fmt.Sprintf("signup burst: %d accounts created with disposable email addresses within %.0f minutes", len(burst), signupBurstWindow.Minutes())
		f.Response = "block the accounts (they are the fraudster's: no owner to reset or notify)"
		if len(f.Networks) > 0 {
			f.Response += ", block the networks that sent several"
		}
		f.Response += ", and refuse disposable domains at signup (a pre-user-registration Action)"
		out = append(out, d.finding(f, burst, true))
	}
	SortFindings(out)
	return out
}

// finding completes f with its accounts (blocked when block), evidence,
// span, severity and id.
func (d *signupFraud) finding(f AttackFinding, burst []*sfSignup, block bool) AttackFinding {
	for _, s := range burst {
		a := AttackAccount{UserID: auth0client.Clean(s.id), UserName: auth0client.Clean(s.name), Verdict: VerdictTargeted}
		if s.logID != "" {
			a.Evidence = []string{auth0client.Clean(s.logID)}
		}
		if block {
			a.Steps = []string{StepBlock}
		}
		f.Accounts = append(f.Accounts, a)
		if len(f.Evidence) < 20 && s.logID != "" {
			f.Evidence = append(f.Evidence, auth0client.Clean(s.logID))
		}
	}
	slices.SortFunc(f.Accounts, func(a, b AttackAccount) int { return strings.Compare(a.UserID, b.UserID) })
	if first, last := burst[0].at, burst[len(burst)-1].at; first != noTime {
		f.First = time.UnixMilli(first).UTC()
		if last != noTime {
			f.Last = time.UnixMilli(last).UTC()
		}
	}
	f.Severity = 30 + min(len(burst), 30)
	if !block {
		f.Severity = 20
	}
	f.ID = FindingID(f.Kind, f.Accounts, f.Networks)
	return f
}

// shared reports whether at least signupSharedAccounts accounts that did
// not sign up in the window sign in from network n.
func (d *signupFraud) shared(n string) bool {
	c := 0
	for id, nets := range d.logins {
		if d.signups[id] == nil && slices.Contains(nets, n) {
			if c++; c >= signupSharedAccounts {
				return true
			}
		}
	}
	return false
}

// inBurst returns the signups (sorted by time) that lie in some window of
// signupBurstWindow holding at least count of them.
func inBurst(signups []*sfSignup, count int) []*sfSignup {
	var out []*sfSignup
	marked, left := 0, 0
	window := signupBurstWindow.Milliseconds()
	for i, s := range signups {
		if s.at == noTime {
			break // undated events sort last and belong to no window
		}
		for s.at-signups[left].at > window {
			left++
		}
		if i-left+1 >= count {
			for k := max(left, marked); k <= i; k++ {
				out = append(out, signups[k])
			}
			marked = i + 1
		}
	}
	return out
}

// burstSigns are the signs beside volume that a burst is one script.
func burstSigns(burst []*sfSignup) []string {
	var signs []string
	scripted, disposable := 0, 0
	agents := map[uint64]int{}
	for _, s := range burst {
		if !strings.HasPrefix(s.family, "mozilla") {
			scripted++
		}
		if s.disposable {
			disposable++
		}
		agents[s.agent]++
	}
	n := len(burst)
	if 2*scripted >= n {
		signs = append(signs, fmt.Sprintf("%d of %d signups by a script's user agent (not a browser)", scripted, n))
	}
	top := 0
	for _, c := range agents {
		top = max(top, c)
	}
	if float64(top) >= signupOneAgentShare*float64(n) && n > 1 {
		signs = append(signs, fmt.Sprintf("%d of %d signups with one user agent", top, n))
	}
	if 2*disposable >= n {
		signs = append(signs, fmt.Sprintf("%d of %d signups with disposable email domains", disposable, n))
	}
	return signs
}
