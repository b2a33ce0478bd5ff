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

// MFA push and SMS bombing ("MFA fatigue", the seed guide's attack after the
// Auth0 Detection Catalog): the attacker has the password, and every login
// attempt makes Guardian send the owner a push (gd_send_pn), a text
// (gd_send_sms) or a call (gd_send_voice). The attacker presses "log in"
// again and again until the owner approves to make the phone stop.
//
// Burst thresholds. The Detection Catalog names the events but gives no
// numbers for a burst, so these are atoctl's own:
//
//   - burstShortCount prompts within burstShortWindow (5 in 10 minutes):
//     Guardian sends one prompt per login attempt or resend. An owner who
//     misses a push retries once or twice, two or three prompts a minute or
//     two apart (the training tenant's "missed pushes"); five is more than
//     twice that, and ten minutes is about one sitting at a login page.
//   - burstLongCount prompts within burstLongWindow (10 in an hour): an
//     attacker who paces the prompts (one every few minutes, to catch the
//     owner when they pick up the phone) stays under the first rule; an
//     owner signing in on several devices gets one prompt each, far fewer.
//
// A few prompts over a day are never a burst.
const (
	burstShortCount  = 5
	burstShortWindow = 10 // minutes
	burstLongCount   = 10
	burstLongWindow  = 60 // minutes
	// mfaSharedAccounts: an address where this many other accounts sign
	// in (s) without being bombed from it is shared (a carrier NAT, an
	// office) and never a network to block. Deliberately lower than the
	// triage's MinSharedAccounts (10): here the case against the address is
	// a few accounts' prompts, not a stuffing run's failures.
	mfaSharedAccounts = 3
	// minSourcePrompts: an address is a source of an account's bursts when
	// it sent this many of their prompts. An owner who signs in while the
	// attack goes on sends one; an attacker sends them all. When no address
	// sent two (a proxy pool, a new address per prompt), every address of
	// the bursts is a source and none is blocked.
	minSourcePrompts = 2
	// mfaEvidence bounds the log ids kept per account.
	mfaEvidence = 5
	// maxPushMinutes bounds an account's prompt histogram (distinct minute
	// and address pairs with a prompt): about three days of one prompt a
	// minute. Prompts past it still count per address, not per minute.
	maxPushMinutes = 4096
)

// mfaBombing is the MFA push and SMS bombing detector.
//
// Rules, applied by Findings:
//
//   - bombed: an account received a burst of gd_send_pn, gd_send_sms or
//     gd_send_voice (see the thresholds above) from addresses that are not
//     its own. An address is the account's own when the account signed in
//     (s) from it before the bursts could have been approved (before their
//     burstShortCount-th prompt): an owner who keeps pressing "resend" at
//     home, or signed in there just before the attack, is no attacker.
//     Bursts are counted again without the prompts from such addresses.
//     The sources of the bursts are the addresses that sent at least
//     minSourcePrompts of their prompts.
//   - compromised: a bombed account approved: a gd_auth_succeed or a
//     successful login (s) from a source, after the bursts' first
//     burstShortCount prompts. The login that completes the transaction
//     which sent the prompts comes from the attacker's browser, so from
//     the source (the training tenant logs gd_auth_succeed there too; one
//     logged from elsewhere, say the phone's address, counts only through
//     the login that follows it). The owner's own logins from their own
//     addresses, before or after, are not approvals. Steps: ContainSteps,
//     or ContainWithMFASteps when a gd_enrollment_complete follows the
//     bursts' start (the attacker enrolled a factor of their own); a reset
//     by ticket when the email changed (sce) after it.
//   - stopped_by_mfa: bombed, no approval. Guardian only prompts after a
//     correct password, so the attacker knows it: ResetSteps.
//
// Networks are the sources, except shared ones (see mfaSharedAccounts) and
// a proxy pool's one-prompt addresses. Each account keeps a histogram of prompts per minute
// and address (for the sliding windows), counters and first and last
// times per address, and a few log ids: never the events themselves.
// Accounts are keyed by user_id: Guardian events always carry it, and an
// event without one cannot be tied to a prompt.
type mfaBombing struct {
	ips     []mfaIP
	ipIndex map[string]uint32
	accts   map[string]*mfaAccount
}

type mfaIP struct {
	ip string
	// fails counts failed logins (f, fp, fu) from the address, any account.
	fails int64
}

// pushMinute is one minute (unix minutes) of one address.
type pushMinute struct {
	minute int64
	ip     uint32
}

type mfaAccount struct {
	name    string
	nameAt  int64
	pushes  map[pushMinute]int32
	pairs   map[uint32]*mfaPair
	denied  int32 // gd_auth_rejected
	enrolAt int64 // newest gd_enrollment_complete
	enrolID string
	enrolIP string
	sceAt   int64 // newest sce (email changed)
}

// mfaPair is one account at one address.
type mfaPair struct {
	pushes              int32
	kinds               promptKinds
	firstPush, lastPush int64
	pushIDs             []evidence // earliest few prompts
	succ                int32
	firstSucc, lastSucc int64
	succIDs             []evidence // earliest successes
	approvals           int32      // gd_auth_succeed
	lastApproval        int64
	approvalIDs         []evidence // earliest approvals
}

// NewMFABombingDetector builds the MFA push and SMS bombing detector.
func NewMFABombingDetector() Detector {
	return &mfaBombing{ipIndex: map[string]uint32{}, accts: map[string]*mfaAccount{}}
}

func (d *mfaBombing) Kind() AttackKind { return AttackMFABombing }

func isMFAPrompt(typ string) bool { return promptKindOf(typ) != 0 }

// promptKinds is a set of Guardian prompt kinds.
type promptKinds uint8

const (
	promptPush promptKinds = 1 << iota
	promptSMS
	promptVoice
)

func promptKindOf(typ string) promptKinds {
	switch typ {
	case "gd_send_pn":
		return promptPush
	case "gd_send_sms":
		return promptSMS
	case "gd_send_voice":
		return promptVoice
	}
	return 0
}

// String names the kinds for a title: "push", "SMS", "push and SMS".
func (k promptKinds) String() string {
	var out []string
	for _, x := range []struct {
		k    promptKinds
		name string
	}{{promptPush, "push"}, {promptSMS, "SMS"}, {promptVoice, "voice"}} {
		if k&x.k != 0 {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return "MFA"
	}
	return strings.Join(out, " and ")
}

func (d *mfaBombing) ipOf(ip string) uint32 {
	i, ok := d.ipIndex[ip]
	if !ok {
		i = uint32(len(d.ips))
		d.ipIndex[ip] = i
		d.ips = append(d.ips, mfaIP{ip: ip})
	}
	return i
}

func (d *mfaBombing) Add(e auth0client.LogEvent) {
	switch e.Type {
	case "f", "fp", "fu":
		if e.IP != "" {
			d.ips[d.ipOf(e.IP)].fails++
		}
		return
	case "gd_send_pn", "gd_send_sms", "gd_send_voice", "s", "gd_auth_succeed", "gd_auth_rejected", "gd_enrollment_complete", "sce":
	default:
		return
	}
	if e.UserID == "" || e.Date.IsZero() {
		return
	}
	at := e.Date.UnixMilli()
	a := d.accts[e.UserID]
	if a == nil {
		a = &mfaAccount{nameAt: noTime, enrolAt: noTime, sceAt: noTime, pairs: map[uint32]*mfaPair{}}
		d.accts[e.UserID] = a
	}
	if e.UserName != "" && (a.name == "" || at < a.nameAt || at == a.nameAt && e.UserName < a.name) {
		a.name, a.nameAt = e.UserName, at
	}
	switch e.Type {
	case "gd_auth_rejected":
		a.denied++
		return
	case "gd_enrollment_complete":
		if a.enrolAt == noTime || at > a.enrolAt || at == a.enrolAt && e.ID > a.enrolID {
			a.enrolAt, a.enrolID, a.enrolIP = at, e.ID, e.IP
		}
		return
	case "sce":
		if a.sceAt == noTime || at > a.sceAt {
			a.sceAt = at
		}
		return
	}
	if e.IP == "" {
		return
	}
	ip := d.ipOf(e.IP)
	p := a.pairs[ip]
	if p == nil {
		p = &mfaPair{firstPush: noTime, firstSucc: noTime, lastPush: noTime, lastSucc: noTime, lastApproval: noTime}
		a.pairs[ip] = p
	}
	switch {
	case isMFAPrompt(e.Type):
		p.pushes++
		p.kinds |= promptKindOf(e.Type)
		p.firstPush = min(p.firstPush, at)
		p.lastPush = laterMs(p.lastPush, at)
		p.pushIDs = keepEvidence(p.pushIDs, at, e.ID, 3)
		if a.pushes == nil {
			a.pushes = map[pushMinute]int32{}
		}
		k := pushMinute{minute: at / 60_000, ip: ip}
		if _, ok := a.pushes[k]; ok || len(a.pushes) < maxPushMinutes {
			a.pushes[k]++
		}
	case e.Type == "s":
		p.succ++
		p.firstSucc = min(p.firstSucc, at)
		p.lastSucc = laterMs(p.lastSucc, at)
		p.succIDs = keepEvidence(p.succIDs, at, e.ID, 2)
	case e.Type == "gd_auth_succeed":
		p.approvals++
		p.lastApproval = laterMs(p.lastApproval, at)
		p.approvalIDs = keepEvidence(p.approvalIDs, at, e.ID, 2)
	}
}

// laterMs is max over unix ms where noTime means "none".
func laterMs(a, b int64) int64 {
	if a == noTime {
		return b
	}
	if b == noTime {
		return a
	}
	return max(a, b)
}

// promptBursts returns, per address, the earliest minute at which its
// prompts were part of a burst and how many of its prompts were, and the
// start (unix ms) of the minute that holds the burstShortCount-th prompt
// of the bursts: the earliest an approval can follow a burst. skip leaves
// an address's prompts out.
func promptBursts(pushes map[pushMinute]int32, skip func(uint32) bool) (map[uint32]burstFrom, int64) {
	totals := map[int64]int32{}
	for k, n := range pushes {
		if !skip(k.ip) {
			totals[k.minute] += n
		}
	}
	minutes := slices.Sorted(maps.Keys(totals))
	// mark[i] > 0: minute i lies in a window that holds a burst.
	mark := make([]int, len(minutes)+1)
	for _, w := range []struct {
		span  int64
		count int32
	}{{burstShortWindow, burstShortCount}, {burstLongWindow, burstLongCount}} {
		left, sum := 0, int32(0)
		for i, m := range minutes {
			sum += totals[m]
			for m-minutes[left] >= w.span {
				sum -= totals[minutes[left]]
				left++
			}
			if sum >= w.count {
				mark[left]++
				mark[i+1]--
			}
		}
	}
	inBurst := map[int64]bool{}
	run, seen, ready := 0, int32(0), int64(noTime)
	for i, m := range minutes {
		if run += mark[i]; run > 0 {
			inBurst[m] = true
			if seen += totals[m]; seen >= burstShortCount && ready == noTime {
				ready = m * 60_000
			}
		}
	}
	out := map[uint32]burstFrom{}
	for k, n := range pushes {
		if skip(k.ip) || !inBurst[k.minute] {
			continue
		}
		b, ok := out[k.ip]
		if !ok || k.minute < b.minute {
			b.minute = k.minute
		}
		b.pushes += n
		out[k.ip] = b
	}
	return out, ready
}

// burstFrom is one address's share of an account's bursts.
type burstFrom struct {
	minute int64 // earliest burst minute (unix minutes)
	pushes int32
}

// mfaVictim is one bombed account while Findings decides.
type mfaVictim struct {
	id       string
	a        *mfaAccount
	from     map[uint32]burstFrom // the bursts' sources
	rotating bool                 // no address sent two prompts of the bursts
	start    int64                // first burst minute, unix ms
	approved []uint32             // sources that approved
	pushes   int32                // prompts in the bursts
}

func (d *mfaBombing) Findings() []AttackFinding {
	var victims []*mfaVictim
	bombedFrom := map[uint32]map[string]bool{} // address → accounts it bombed
	for _, id := range slices.Sorted(maps.Keys(d.accts)) {
		a := d.accts[id]
		if len(a.pushes) == 0 {
			continue
		}
		// The owner's own addresses: signed in from before the bursts
		// could have been approved. Then count again without their prompts.
		all, ready := promptBursts(a.pushes, func(uint32) bool { return false })
		own := map[uint32]bool{}
		for ip := range all {
			if p := a.pairs[ip]; p.firstSucc != noTime && p.firstSucc < ready {
				own[ip] = true
			}
		}
		from, ready := promptBursts(a.pushes, func(ip uint32) bool { return own[ip] })
		if len(from) == 0 {
			continue
		}
		v := &mfaVictim{id: id, a: a, from: map[uint32]burstFrom{}, start: noTime}
		for ip, b := range from {
			v.start = min(v.start, b.minute*60_000)
			v.pushes += b.pushes
			if b.pushes >= minSourcePrompts {
				v.from[ip] = b
			}
		}
		if len(v.from) == 0 {
			// A new address for every prompt (a rotating proxy pool):
			// every one is a source, none is worth an ACL entry.
			v.from, v.rotating = from, true
		} else {
			for ip := range v.from {
				if bombedFrom[ip] == nil {
					bombedFrom[ip] = map[string]bool{}
				}
				bombedFrom[ip][id] = true
			}
		}
		for _, ip := range slices.Sorted(maps.Keys(v.from)) {
			p := a.pairs[ip]
			if p.succ > 0 && p.lastSucc >= ready || p.approvals > 0 && p.lastApproval >= ready {
				v.approved = append(v.approved, ip)
			}
		}
		victims = append(victims, v)
	}
	if len(victims) == 0 {
		return nil
	}

	// Addresses: shared ones (ordinary sign-ins of other accounts) are
	// never blocked.
	others := map[uint32]int{}
	for id, a := range d.accts {
		for ip, p := range a.pairs {
			if p.succ > 0 && bombedFrom[ip] != nil && !bombedFrom[ip][id] {
				others[ip]++
			}
		}
	}
	var networks, shared []uint32
	pushesFrom := map[uint32]int32{}
	for _, v := range victims {
		for ip, b := range v.from {
			pushesFrom[ip] += b.pushes
		}
	}
	for ip := range bombedFrom {
		if others[ip] >= mfaSharedAccounts {
			shared = append(shared, ip)
		} else {
			networks = append(networks, ip)
		}
	}
	byBusiest := func(x, y uint32) int {
		return cmp.Or(cmp.Compare(pushesFrom[y], pushesFrom[x]), strings.Compare(d.ips[x].ip, d.ips[y].ip))
	}
	slices.SortFunc(networks, byBusiest)
	slices.SortFunc(shared, byBusiest)

	f := AttackFinding{Kind: AttackMFABombing}
	var reasons []string
	var sample, top []evidence // top: the compromised accounts', kept first
	first, last := int64(noTime), int64(noTime)
	enrolled, denied := 0, int32(0)
	var kinds promptKinds
	for _, v := range victims {
		a := v.a
		acct := AttackAccount{UserID: auth0client.Clean(v.id), UserName: auth0client.Clean(a.name)}
		var ev, extra []evidence
		for ip := range v.from {
			p := a.pairs[ip]
			kinds |= p.kinds
			first = min(first, p.firstPush)
			last = laterMs(last, p.lastPush)
			ev = append(ev, p.pushIDs...)
		}
		denied += a.denied
		addrs := d.addrList(v.from)
		if len(v.approved) > 0 {
			acct.Verdict, acct.Steps = VerdictCompromised, ContainSteps
			var at []string
			for _, ip := range v.approved {
				p := a.pairs[ip]
				at = append(at, auth0client.Clean(d.ips[ip].ip))
				for _, e := range slices.Concat(p.approvalIDs, p.succIDs) {
					if e.at >= v.start {
						extra = append(extra, e)
					}
				}
				last = laterMs(laterMs(last, p.lastSucc), p.lastApproval)
			}
			why := fmt.Sprintf("%s approved after %d prompts from %s (signed in or passed MFA from %s)",
				acct.UserID, v.pushes, addrs, strings.Join(at, ", "))
			if a.enrolAt != noTime && a.enrolAt >= v.start {
				acct.Steps = ContainWithMFASteps
				enrolled++
				extra = append(extra, evidence{at: a.enrolAt, id: a.enrolID})
				last = laterMs(last, a.enrolAt)
				why += fmt.Sprintf("; a factor was enrolled after the burst (from %s): the attacker's", auth0client.Clean(a.enrolIP))
			}
			if a.sceAt != noTime && a.sceAt >= v.start {
				acct.ResetMethod = "ticket"
				why += "; the email changed after the burst: reset by ticket"
			}
			reasons = append(reasons, why)
		} else {
			acct.Verdict, acct.Steps = VerdictStoppedByMFA, ResetSteps
		}
		// Approvals and the enrollment first, then the earliest prompts.
		ev = slices.Concat(extra, evidenceByDate(ev))
		ev = ev[:min(len(ev), mfaEvidence)]
		for _, e := range evidenceByDate(ev) {
			if e.id != "" {
				acct.Evidence = append(acct.Evidence, auth0client.Clean(e.id))
			}
		}
		if acct.Verdict == VerdictCompromised {
			top = append(top, ev...)
		} else {
			sample = append(sample, ev[:min(len(ev), 2)]...)
		}
		f.Accounts = append(f.Accounts, acct)
	}
	slices.SortStableFunc(f.Accounts, func(x, y AttackAccount) int {
		return cmp.Or(cmp.Compare(findingVerdictOrder(x.Verdict), findingVerdictOrder(y.Verdict)), strings.Compare(x.UserID, y.UserID))
	})
	for _, ip := range networks {
		f.Networks = append(f.Networks, auth0client.Clean(d.ips[ip].ip))
	}
	sample = slices.Concat(top, sample)
	for _, e := range earliestEvidence(sample[:min(len(sample), 20)], 20) {
		if e.id != "" {
			f.Evidence = append(f.Evidence, auth0client.Clean(e.id))
		}
	}
	if first != noTime {
		f.First = time.UnixMilli(first).UTC()
	}
	if last != noTime {
		f.Last = time.UnixMilli(last).UTC()
	}

	comp, stopped := f.Count(VerdictCompromised), f.Count(VerdictStoppedByMFA)
	what := map[promptKinds]string{promptPush: "a push", promptSMS: "an SMS", promptVoice: "a call"}[kinds]
	if what == "" {
		what = "a prompt"
	}
	f.Title = fmt.Sprintf("MFA %s bombing: %s approved %s, %d bombed", kinds, plural(comp, "account"), what, stopped)
	f.Reasons = append([]string{fmt.Sprintf("%s received bursts of MFA prompts (gd_send_pn, gd_send_sms, gd_send_voice: %d or more in %d minutes, or %d or more in an hour) from addresses they had not signed in from",
		plural(len(victims), "account"), burstShortCount, burstShortWindow, burstLongCount)}, reasons...)
	if denied > 0 {
		f.Reasons = append(f.Reasons, fmt.Sprintf("the owners denied %d prompts (gd_auth_rejected)", denied))
	}
	multi, failing := 0, 0
	for ip, accts := range bombedFrom {
		if len(accts) >= 2 {
			multi++
		}
		if d.ips[ip].fails > 0 {
			failing++
		}
	}
	if multi > 0 {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s bombed two or more accounts", nAddresses(multi)))
	}
	if failing > 0 {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s that sent bursts also had failed logins", nAddresses(failing)))
	}
	rotating := 0
	for _, v := range victims {
		if v.rotating {
			rotating++
			f.Reasons = append(f.Reasons, fmt.Sprintf("%s was bombed from %s, one prompt each (a proxy pool): not blocked",
				auth0client.Clean(v.id), nAddresses(len(v.from))))
		}
	}
	for _, ip := range shared {
		f.Reasons = append(f.Reasons, fmt.Sprintf("%s sent bursts but %d other accounts sign in there: shared, not blocked", auth0client.Clean(d.ips[ip].ip), others[ip]))
	}
	switch {
	case len(f.Networks) == 0 && rotating == 0:
		// Only through shared addresses: an office of owners pressing
		// "resend" looks the same.
		f.Confidence = ConfidenceLow
	case multi > 0 || failing > 0 || enrolled > 0 || rotating > 0 || len(victims) >= 2:
		f.Confidence = ConfidenceHigh
	default:
		// One account, one address, nothing else: an owner at a new place
		// pressing "resend" looks the same.
		f.Confidence = ConfidenceMedium
	}
	switch {
	case comp > 0 && enrolled > 0:
		f.Severity = 95
	case comp > 0:
		f.Severity = 90
	default:
		f.Severity = 60
	}
	var resp []string
	if comp > 0 {
		r := fmt.Sprintf("contain %s that approved a prompt (snapshot, block, revoke sessions and refresh tokens, reset the password, unblock once the owner has reset)", plural(comp, "account"))
		if enrolled > 0 {
			r += fmt.Sprintf(", removing the factor the attacker enrolled on %d of them", enrolled)
		}
		resp = append(resp, r)
	}
	if stopped > 0 {
		resp = append(resp, fmt.Sprintf("reset the passwords of %s bombed without approving: a prompt is only sent after the right password, so the attacker knows it", plural(stopped, "account")))
	}
	if len(f.Networks) > 0 {
		resp = append(resp, fmt.Sprintf("block %s that sent the bursts", nAddresses(len(f.Networks))))
	}
	resp = append(resp, "tell the owners never to approve a prompt they did not start")
	f.Response = strings.Join(resp, "; ")
	f.ID = FindingID(f.Kind, f.Accounts, f.Networks)
	return []AttackFinding{f}
}

// addrList names the burst addresses, busiest first.
func (d *mfaBombing) addrList(from map[uint32]burstFrom) string {
	ips := slices.SortedFunc(maps.Keys(from), func(x, y uint32) int {
		return cmp.Or(cmp.Compare(from[y].pushes, from[x].pushes), strings.Compare(d.ips[x].ip, d.ips[y].ip))
	})
	var out []string
	for _, ip := range ips {
		out = append(out, auth0client.Clean(d.ips[ip].ip))
	}
	return strings.Join(out, ", ")
}

// evidenceByDate sorts log ids by date, then id, without duplicates.
func evidenceByDate(ev []evidence) []evidence {
	ev = slices.Clone(ev)
	slices.SortFunc(ev, func(x, y evidence) int { return cmp.Or(cmp.Compare(x.at, y.at), strings.Compare(x.id, y.id)) })
	return slices.CompactFunc(ev, func(x, y evidence) bool { return x.id == y.id })
}

func findingVerdictOrder(v Verdict) int {
	switch v {
	case VerdictCompromised:
		return 0
	case VerdictStoppedByMFA:
		return 1
	}
	return 2
}

// earliestEvidence is the first n of ev by date, without duplicates.
func earliestEvidence(ev []evidence, n int) []evidence {
	ev = evidenceByDate(ev)
	return ev[:min(len(ev), n)]
}

// nAddresses writes n and "address", plural when n is not one.
func nAddresses(n int) string {
	if n == 1 {
		return "1 address"
	}
	return fmt.Sprintf("%d addresses", n)
}
