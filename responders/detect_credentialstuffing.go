package responders

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// credentialStuffing is the triage (the catalog's
// logins_or_signups_from_suspicious_ips rule and the stuffing signals) as a
// detector: one finding for the campaign, its accounts by verdict and the
// attacker's networks. It also notes, per account, the attacker's
// persistence after the takeover, which decides the response: a factor
// enrolled (remove it) or the email changed (reset by ticket).
type credentialStuffing struct {
	tr *Triage
	// enrolled and emailChanged are the newest gd_enrollment_complete and
	// sce per user: what the attacker may have done once inside.
	enrolled, emailChanged map[string]time.Time
}

// NewCredentialStuffingDetector builds the detector over the triage with
// cfg (its window, allowlist and the operator's addresses).
func NewCredentialStuffingDetector(cfg TriageConfig) Detector {
	return &credentialStuffing{tr: NewTriage(cfg), enrolled: map[string]time.Time{}, emailChanged: map[string]time.Time{}}
}

func (d *credentialStuffing) Kind() AttackKind { return AttackCredentialStuffing }

func (d *credentialStuffing) Add(e auth0client.LogEvent) {
	d.tr.Add(TriageEventFrom(e))
	if e.UserID == "" {
		return
	}
	switch e.Type {
	case "gd_enrollment_complete":
		if e.Date.After(d.enrolled[e.UserID]) {
			d.enrolled[e.UserID] = e.Date
		}
	case "sce":
		if e.Date.After(d.emailChanged[e.UserID]) {
			d.emailChanged[e.UserID] = e.Date
		}
	}
}

// Triage is the detector's triage, for the network view (ip triage) of the
// same events.
func (d *credentialStuffing) Triage() *Triage { return d.tr }

func (d *credentialStuffing) Findings() []AttackFinding {
	res := d.tr.Result()
	f := AttackFinding{Kind: AttackCredentialStuffing}
	var evidence []string
	for _, a := range res.Accounts {
		acct := AttackAccount{UserID: a.UserID, UserName: a.UserName, Verdict: a.Verdict, Evidence: a.Evidence}
		switch a.Verdict {
		case VerdictCompromised:
			acct.Steps = ContainSteps
			// Persistence after the first attack: the attacker's factor is
			// removed before the owner is invited back, and a reset never
			// goes to the address the attacker set.
			if t, ok := d.enrolled[a.UserID]; ok && !t.Before(a.FirstAttack) {
				acct.Steps = ContainWithMFASteps
			}
			if t, ok := d.emailChanged[a.UserID]; ok && !t.Before(a.FirstAttack) {
				acct.ResetMethod = "ticket"
			}
		case VerdictStoppedByMFA:
			acct.Steps = ResetSteps
		}
		f.Accounts = append(f.Accounts, acct)
		if len(evidence) < 20 && len(a.Evidence) > 0 {
			evidence = append(evidence, a.Evidence[0])
		}
	}
	f.Networks = stuffingNetworks(res)
	// Flagged addresses that touched no account with a verdict are noise
	// of the window, not a campaign to respond to.
	if len(f.Accounts) == 0 {
		return nil
	}
	f.Evidence = evidence
	f.First, f.Last = res.From, res.To
	comp, stopped, targeted := f.Count(VerdictCompromised), f.Count(VerdictStoppedByMFA), f.Count(VerdictTargeted)
	f.Title = fmt.Sprintf("credential stuffing from %s: %s taken over, %d stopped by MFA, %d targeted", plural(len(f.Networks), "network"), plural(comp, "account"), stopped, targeted)
	f.Reasons = []string{fmt.Sprintf("%s (the Detection Catalog's suspicious-IP rule and failed logins for many accounts)", nAddresses(flaggedCount(res))+" flagged")}
	f.Confidence = ConfidenceMedium
	if comp > 0 {
		f.Confidence = ConfidenceHigh
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s signed in from flagged addresses", plural(comp, "account")))
	}
	f.Severity = 50 + min(comp*5, 45)
	f.Response = "contain the accounts taken over (block, revoke, reset; remove a factor the attacker enrolled; a ticket where the attacker changed the email), reset the passwords MFA protected, block the networks"
	f.ID = FindingID(f.Kind, f.Accounts, f.Networks)
	return []AttackFinding{f}
}

func flaggedCount(res TriageResult) int {
	n := 0
	for _, ip := range res.IPs {
		if ip.Flagged {
			n++
		}
	}
	return n
}

// stuffingNetworks are the networks to block: the /24s with several
// flagged addresses and no shared infrastructure first, then the flagged
// addresses outside them, busiest first.
func stuffingNetworks(res TriageResult) []string {
	var out []string
	var clusters []netip.Prefix
	for _, c := range res.Clusters {
		if len(c.SharedAddresses) > 0 {
			continue
		}
		if p, err := netip.ParsePrefix(c.CIDR); err == nil {
			clusters = append(clusters, p)
			out = append(out, c.CIDR)
		}
	}
	ips := slices.Clone(res.IPs)
	slices.SortStableFunc(ips, func(a, b IPReport) int {
		return int(b.Failures+b.AttackProtection) - int(a.Failures+a.AttackProtection)
	})
	for _, ip := range ips {
		if !ip.Flagged || ip.Label.IsShared() {
			continue
		}
		a, err := netip.ParseAddr(ip.IP)
		if err != nil || slices.ContainsFunc(clusters, func(p netip.Prefix) bool { return p.Contains(a) }) {
			continue
		}
		out = append(out, ip.IP)
	}
	return out
}

// UnresolvedNames are the triage's name-only accounts.
func (d *credentialStuffing) UnresolvedNames() []string { return d.tr.UnresolvedNames() }

// ResolveNames ties names to user ids in the triage.
func (d *credentialStuffing) ResolveNames(ids map[string]string) { d.tr.ResolveNames(ids) }
