package responders

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// How Result reads a triage of a large export (60,000 accounts, 114,000
// addresses, 250,000 pairs) in a few linear passes over flat arrays:
//
//  1. the pairs, in place: each address's account counts (tried, failed,
//     signed in, active) and each account's number of pairs; the pairs of
//     accounts that name-only accounts fold into are set aside, merged and
//     copied (resultPairs.extra);
//  2. the addresses: labels and flags (one byte an address, ipClass); only
//     the addresses that are reported get a full ipView, so the ordinary
//     ones (counted in OrdinaryIPs) cost their counters;
//  3. the pairs again, when the flagged addresses share user agents: who
//     signs in with the attacker's tooling elsewhere (the low-and-slow
//     rule);
//  4. the pairs once more: grouped by account (a counting sort), the
//     accounts that may have a verdict marked, the addresses' successes
//     and the networks' accounts tried collected;
//
// then the verdicts of the marked accounts only (those with a pair on a
// flagged address, or a success with the attacker's tooling). The passes
// over the pairs and the verdicts run on every core.

// ipView is an address's derived figures during Result: every reported
// address has one.
type ipView struct {
	ip                               uint32 // its index in Triage.ips
	text                             string // the address, cleaned
	addr                             netip.Addr
	label                            IPLabel
	flagged, stuffing                bool
	tooling                          int // flagged addresses sharing its failures' user agent
	fails, ap, succ, chall           int64
	tried, failed, succeeded, active int
	succFor                          []uint32 // accounts with successes
	compromised, challenged          []uint32
	sharedCompromises                int
	score                            int
	reasons                          []string
}

// runPair is a pair as an account's run in Result holds it: what orders
// the run and what the rules read of every pair, beside the pair's index
// (resultPairs.pair) for the rest: a verdict reads the pairs of flagged
// addresses and successes only.
type runPair struct {
	first int64
	ip    uint32
	e     uint32 // the pair's index, with runSucc when it has successes
}

// runSucc marks a runPair with successes (a triage has far fewer than
// 2^31 pairs: each costs 160 bytes).
const runSucc = 1 << 31

// ipCounts are an address's account counts (from its pairs).
type ipCounts struct {
	tried, failed, succeeded, active int32
}

// add adds o's counts.
func (c *ipCounts) add(o *ipCounts) {
	c.tried += o.tried
	c.failed += o.failed
	c.succeeded += o.succeeded
	c.active += o.active
}

// count adds a pair of the address (byName: of a name-only account).
func (c *ipCounts) count(p *pairStats, byName bool) {
	if byName && p.fails+p.ap > 0 {
		c.tried++ // an unknown name still counts as an account tried
		if p.fails > 0 {
			c.failed++
		}
		return
	}
	if p.fails+p.ap > 0 {
		c.tried++
	}
	if p.fails > 0 {
		c.failed++
	}
	if p.succ > 0 {
		c.succeeded++
	}
	if p.succ+p.token > 0 {
		c.active++
	}
}

// ipClass is an address's label and flag in one byte: what the passes
// over the pairs look up.
type ipClass uint8

const classFlagged ipClass = 0x80

var classLabels = [...]IPLabel{LabelNone, LabelAttacker, LabelSuspicious, LabelShared, LabelAllowlisted, LabelOperator}

func classOf(l IPLabel, flagged bool) ipClass {
	c := ipClass(slices.Index(classLabels[:], l))
	if flagged {
		c |= classFlagged
	}
	return c
}

func (c ipClass) flagged() bool   { return c&classFlagged != 0 }
func (c ipClass) label() IPLabel  { return classLabels[c&^classFlagged] }
func (c ipClass) operator() bool  { return c.label() == LabelOperator }
func (c ipClass) sharedNet() bool { return c.label() == LabelShared }

// resultPairs are the pairs as Result sees them: those of name-only
// accounts folded into their account's. Only the pairs that change are
// copied (into extra): an account's pair that name-only pairs merge into,
// and the pairs that only name-only events make; the rest are read in
// place. A pair is named by its index: below len(t.pairs) in t.pairs,
// else in extra.
type resultPairs struct {
	t     *Triage
	n     uint32
	extra []pairStats
	// gone marks the pairs of t.pairs that Result does not see (folded,
	// or copied into extra); nil when nothing folds.
	gone []bool
}

func (r *resultPairs) pair(e uint32) *pairStats {
	if e < r.n {
		return &r.t.pairs[e]
	}
	return &r.extra[e-r.n]
}

// eachPart calls f with every pair of part k of n, and its index: the
// parts, in order, hold every pair in order (extra in the last one).
func (r *resultPairs) eachPart(k, n int, f func(e uint32, p *pairStats)) {
	for i := k * len(r.t.pairs) / n; i < (k+1)*len(r.t.pairs)/n; i++ {
		if r.gone == nil || !r.gone[i] {
			f(uint32(i), &r.t.pairs[i])
		}
	}
	if k == n-1 {
		for i := range r.extra {
			f(r.n+uint32(i), &r.extra[i])
		}
	}
}

// runParts runs f(0) … f(n-1) at once and waits for them.
func runParts(n int, f func(k int)) {
	if n == 1 {
		f(0)
		return
	}
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() { f(k) })
	}
	wg.Wait()
}

// fold merges the pairs of name-only accounts into their account's
// (canon): each into the account's pair at the same address (copied into
// extra at the first merge), or into a pair of the account's own in extra.
// The merges go in pair order, as events arrived.
func (r *resultPairs) fold(canon []uint32) {
	t := r.t
	affected := make([]bool, len(t.accts))
	for a, c := range canon {
		if c != uint32(a) {
			affected[a], affected[c] = true, true
		}
	}
	// The affected pairs grouped by account (a counting sort: in pair
	// order within an account).
	start := make([]uint32, len(t.accts)+1)
	folded := 0 // name-only pairs: at most as many copies in extra
	for i := range t.pairs {
		if a := t.pairs[i].acct; affected[a] {
			start[canon[a]+1]++
			if canon[a] != a {
				folded++
			}
		}
	}
	for a := range len(t.accts) {
		start[a+1] += start[a]
	}
	touched := make([]uint32, start[len(t.accts)])
	next := slices.Clone(start[:len(t.accts)])
	for i := range t.pairs {
		if a := t.pairs[i].acct; affected[a] {
			c := canon[a]
			touched[next[c]] = uint32(i)
			next[c]++
		}
	}
	r.extra = make([]pairStats, 0, folded)
	r.gone = make([]bool, len(t.pairs))
	// An account's pairs by address: a pair of t.pairs (below n) or of
	// extra. A long run, rare, finds them through a map.
	type slot struct{ ip, e uint32 }
	var slots []slot
	at := map[uint32]uint32{}
	for c := range len(t.accts) {
		run := touched[start[c]:start[c+1]]
		if len(run) == 0 {
			continue
		}
		long := len(run) > 32
		slots = slots[:0]
		if long {
			clear(at)
		}
		set := func(ip, e uint32) {
			if long {
				at[ip] = e
				return
			}
			for k := range slots {
				if slots[k].ip == ip {
					slots[k].e = e
					return
				}
			}
			slots = append(slots, slot{ip, e})
		}
		find := func(ip uint32) (uint32, bool) {
			if long {
				e, ok := at[ip]
				return e, ok
			}
			for _, s := range slots {
				if s.ip == ip {
					return s.e, true
				}
			}
			return 0, false
		}
		for _, i := range run {
			if p := &t.pairs[i]; p.acct == uint32(c) {
				set(p.ip, i)
			}
		}
		for _, i := range run {
			p := &t.pairs[i]
			if p.acct == uint32(c) {
				continue
			}
			r.gone[i] = true
			e, ok := find(p.ip)
			switch {
			case !ok:
				q := *p
				q.acct = uint32(c)
				set(p.ip, r.n+uint32(len(r.extra)))
				r.extra = append(r.extra, q)
			case e < r.n:
				r.gone[e] = true
				set(p.ip, r.n+uint32(len(r.extra)))
				r.extra = append(r.extra, t.pairs[e])
				r.extra[len(r.extra)-1].merge(t, p, t)
			default:
				r.extra[e-r.n].merge(t, p, t)
			}
		}
	}
}

// Result applies the rules to what was added. It does not change t: more
// events may be added and Result called again.
func (t *Triage) Result() TriageResult {
	canon, folded := t.canonical()
	return t.result(canon, folded, resultParts(len(t.pairs)))
}

// ResultAndUnresolvedNames is Result and UnresolvedNames together, the
// accounts that name-only events belong to found once.
func (t *Triage) ResultAndUnresolvedNames() (TriageResult, []string) {
	canon, folded := t.canonical()
	names := make(chan []string, 1)
	go func() { names <- t.unresolvedNames(canon) }()
	return t.result(canon, folded, resultParts(len(t.pairs))), <-names
}

// resultParts is how many parts Result's passes over the pairs are cut
// into: one per core, for a large triage.
func resultParts(pairs int) int { return max(1, min(runtime.GOMAXPROCS(0), pairs/(16<<10))) }

// result is Result with the accounts' canonical ones (canonical), its
// passes over the pairs in nw parts.
func (t *Triage) result(canon []uint32, folded bool, nw int) TriageResult {
	res := TriageResult{Events: t.events, SkippedBeforeSince: t.skipped}
	if t.from != noTime {
		res.From, res.To = time.UnixMilli(t.from).UTC(), time.UnixMilli(t.to).UTC()
	}

	// Pass 1: the addresses' account counts and the accounts' numbers of
	// pairs (start[a+1], made into run starts below).
	rp := &resultPairs{t: t, n: uint32(len(t.pairs))}
	if folded {
		rp.fold(canon)
	}
	named := make([]bool, len(t.accts)) // name-only accounts
	for a := range t.accts {
		named[a] = t.accts[a].byName
	}
	// The passes over the pairs run on every core, each over a part of
	// them (rp.eachPart), with its own counters, summed after, in part
	// order where order matters.
	counts := make([]ipCounts, len(t.ips))
	partCounts := make([][]ipCounts, nw)
	perAcct := make([][]uint32, nw) // each part's pairs by account
	for k := range nw {
		partCounts[k], perAcct[k] = counts, make([]uint32, len(t.accts))
		if k > 0 {
			partCounts[k] = make([]ipCounts, len(t.ips))
		}
	}
	runParts(nw, func(k int) {
		c, pa := partCounts[k], perAcct[k]
		rp.eachPart(k, nw, func(_ uint32, p *pairStats) {
			c[p.ip].count(p, named[p.acct])
			pa[p.acct]++
		})
	})
	for _, c := range partCounts[1:] {
		for i := range counts {
			counts[i].add(&c[i])
		}
	}
	start := make([]uint32, len(t.accts)+1)
	for _, pa := range perAcct {
		for a, n := range pa {
			start[a+1] += n
		}
	}

	// Pass 2: the addresses' labels. Only the reported ones keep a view.
	cls := make([]ipClass, len(t.ips))
	viewOf := make([]int32, len(t.ips)) // index in views, -1 for none
	views := make([]ipView, 0, 1024)
	if !t.cfg.OmitOrdinaryIPs {
		views = make([]ipView, 0, len(t.ips)) // every one
	}
	needAddr := len(t.cfg.OperatorIPs) > 0 || len(t.cfg.Allowlist) > 0
	for i := range t.ips {
		c := &counts[i]
		if t.cfg.OmitOrdinaryIPs && !needAddr && t.surelyOrdinary(&t.ips[i].counts, c) {
			res.OrdinaryIPs++
			viewOf[i] = -1
			continue
		}
		v := ipView{ip: uint32(i)}
		v.fails, v.ap, v.succ, v.chall = t.ips[i].counts.totals()
		v.tried, v.failed, v.succeeded, v.active = int(c.tried), int(c.failed), int(c.succeeded), int(c.active)
		if needAddr {
			v.addr = parseAddr(t.textView(t.ips[i].ip))
		}
		t.label(&v)
		cls[i] = classOf(v.label, v.flagged)
		if t.cfg.OmitOrdinaryIPs && v.label == LabelNone && !v.flagged {
			res.OrdinaryIPs++
			viewOf[i] = -1
			continue
		}
		viewOf[i] = int32(len(views))
		views = append(views, v)
	}

	// Pass 3: the attacker's tooling: user agents of failures from at
	// least three flagged addresses, that hardly any account signs in with
	// elsewhere.
	agentIPs := map[uint64]int{}
	for i := range views {
		if views[i].flagged {
			for _, a := range t.ips[views[i].ip].agents {
				if a.hash != 0 {
					agentIPs[a.hash]++
				}
			}
		}
	}
	var tools []uint64 // the user agents of three flagged addresses or more
	for h, n := range agentIPs {
		if n >= 3 {
			tools = append(tools, h)
		}
	}
	agentUsers := map[uint64]map[uint32]bool{}
	if len(tools) > 0 {
		parts := make([]map[uint64]map[uint32]bool, nw)
		runParts(nw, func(k int) {
			users := map[uint64]map[uint32]bool{}
			rp.eachPart(k, nw, func(_ uint32, p *pairStats) {
				if p.succ == 0 || cls[p.ip].flagged() {
					return
				}
				for _, h := range p.agents {
					if h != 0 && slices.Contains(tools, h) {
						if users[h] == nil {
							users[h] = map[uint32]bool{}
						}
						users[h][p.acct] = true
					}
				}
			})
			parts[k] = users
		})
		for _, users := range parts {
			for h, accts := range users {
				if agentUsers[h] == nil {
					agentUsers[h] = map[uint32]bool{}
				}
				for a := range accts {
					agentUsers[h][a] = true
				}
			}
		}
	}
	attackerAgent := func(h uint64) bool { return h != 0 && agentIPs[h] >= 3 && len(agentUsers[h]) <= 2 }
	var attackerAgents []uint64
	for _, h := range tools {
		if attackerAgent(h) {
			attackerAgents = append(attackerAgents, h)
		}
	}
	// Low-and-slow addresses (residential proxies trying a few accounts
	// each) stay under the stuffing threshold; their tooling gives them
	// away. They have failures for two accounts or more: a label, a view.
	for i := range views {
		v := &views[i]
		if v.flagged || v.label.IsShared() || v.failed < 2 || v.failed <= 2*v.succeeded {
			continue
		}
		for _, a := range t.ips[v.ip].agents {
			if attackerAgent(a.hash) {
				v.flagged, v.tooling, v.label = true, agentIPs[a.hash], LabelAttacker
				v.reasons = slices.DeleteFunc(v.reasons, func(r string) bool { return strings.HasPrefix(r, "failed logins for") })
				cls[v.ip] = classOf(v.label, true)
				break
			}
		}
	}
	for i := range views {
		v := &views[i]
		if !needAddr {
			v.addr = parseAddr(t.textView(t.ips[v.ip].ip))
		}
		v.text = auth0client.Clean(t.textView(t.ips[v.ip].ip))
	}
	nets := t.clusterNets(views)

	// Pass 4: the pairs grouped by account (a counting sort: an account's
	// run, in pair order), the accounts that may have a verdict, the
	// reported addresses' successes and the networks' accounts tried.
	for a := range len(t.accts) {
		start[a+1] += start[a]
	}
	grouped := make([]runPair, start[len(t.accts)])
	type pass4 struct {
		next      []uint32 // where the part's next pair of each account goes
		candidate []bool
		succFor   []ipMark // view index, account
		netAccts  []uint64 // network index << 32 | account
	}
	p4 := make([]pass4, nw)
	netPairs := 0 // the pairs of failures in the networks: their accounts tried
	if nets.member != nil {
		for i, n := range nets.member {
			if n > 0 {
				netPairs += int(counts[i].tried)
			}
		}
	}
	for k := range p4 {
		p4[k].candidate = make([]bool, len(t.accts))
		if netPairs > 0 {
			p4[k].netAccts = make([]uint64, 0, netPairs)
		}
		if k == 0 {
			p4[k].next = slices.Clone(start[:len(t.accts)])
			continue
		}
		p4[k].next = slices.Clone(p4[k-1].next)
		for a, n := range perAcct[k-1] {
			p4[k].next[a] += n
		}
	}
	runParts(nw, func(k int) {
		w := &p4[k]
		rp.eachPart(k, nw, func(e uint32, p *pairStats) {
			r := runPair{p.first, p.ip, e}
			if p.succ > 0 {
				r.e |= runSucc
			}
			grouped[w.next[p.acct]] = r
			w.next[p.acct]++
			c := cls[p.ip]
			switch {
			case c.flagged():
				w.candidate[p.acct] = true
			case p.succ > 0 && !c.operator() && hasAgent(p, attackerAgents):
				w.candidate[p.acct] = true
			}
			if v := viewOf[p.ip]; v >= 0 && p.succ > 0 && (!named[p.acct] || p.fails+p.ap == 0) {
				w.succFor = append(w.succFor, ipMark{ip: uint32(v), acct: p.acct})
			}
			if nets.member != nil && p.fails+p.ap > 0 {
				if n := nets.member[p.ip]; n > 0 {
					w.netAccts = append(w.netAccts, uint64(n-1)<<32|uint64(p.acct))
				}
			}
		})
	})
	candidate := p4[0].candidate
	netAccts := p4[0].netAccts
	for k := range p4 {
		for a, c := range p4[k].candidate {
			candidate[a] = candidate[a] || c
		}
		for _, m := range p4[k].succFor {
			views[m.ip].succFor = append(views[m.ip].succFor, m.acct)
		}
		if k > 0 {
			netAccts = append(netAccts, p4[k].netAccts...)
		}
	}

	// The verdicts, on as many goroutines as there are processors, each
	// over a range of the candidate accounts. What a verdict marks on the
	// addresses (compromised or challenged from here) is applied after:
	// only counts and sorted lists come of it, so its order does not
	// matter.
	ipText := func(ip uint32) string {
		if k := viewOf[ip]; k >= 0 {
			return views[k].text
		}
		return auth0client.Clean(t.textView(t.ips[ip].ip))
	}
	var cands []uint32
	cstart := []uint32{0} // the candidates' runs' bounds, for verdictParts
	for a := range len(t.accts) {
		if candidate[a] {
			cands = append(cands, uint32(a))
			cstart = append(cstart, cstart[len(cstart)-1]+start[a+1]-start[a])
		}
	}
	parts := verdictParts(cstart, runtime.GOMAXPROCS(0))
	results := make([]verdictPart, len(parts)-1)
	verdicts := make([]AccountVerdict, len(cands))
	decided := make([]bool, len(cands))
	var wg sync.WaitGroup
	for k := range results {
		wg.Go(func() {
			r := &results[k]
			var sc verdictScratch
			for ci := parts[k]; ci < parts[k+1]; ci++ {
				a := cands[ci]
				run := append(sc.run[:0], grouped[start[a]:start[a+1]]...)
				slices.SortFunc(run, func(a, b runPair) int {
					if a.first != b.first {
						return cmp.Compare(a.first, b.first)
					}
					return cmp.Compare(t.textView(t.ips[a.ip].ip), t.textView(t.ips[b.ip].ip))
				})
				sc.run = run
				if named[a] {
					for _, k := range run {
						if p := rp.pair(k.e &^ runSucc); cls[k.ip].flagged() && p.fails+p.ap > 0 {
							r.unknown++
							break
						}
					}
				} else {
					decided[ci] = t.verdict(&verdicts[ci], a, run, rp, cls, ipText, attackerAgents, &r.marks, &sc)
				}
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		res.UnknownAccountsTried += r.unknown
		for _, m := range r.marks {
			k := viewOf[m.ip]
			if k < 0 {
				continue // an ordinary address, not reported
			}
			v := &views[k]
			switch m.kind {
			case markShared:
				v.sharedCompromises++
				fallthrough
			case markCompromised:
				v.compromised = append(v.compromised, m.acct)
			case markChallenged:
				v.challenged = append(v.challenged, m.acct)
			}
		}
	}
	// The accounts sort while the addresses are scored and reported.
	sorted := make(chan []AccountVerdict, 1)
	go func() { sorted <- sortAccounts(verdicts, decided) }()

	for i := range views {
		t.score(&views[i])
	}
	res.IPs = make([]IPReport, len(views))
	for i := range views {
		res.IPs[i] = t.ipReport(&views[i])
	}
	slices.SortFunc(res.IPs, func(a, b IPReport) int {
		return cmp.Or(-cmp.Compare(b2i(a.Flagged), b2i(b.Flagged)), -cmp.Compare(a.Score, b.Score),
			-cmp.Compare(a.Failures+a.AttackProtection, b.Failures+b.AttackProtection), cmp.Compare(a.IP, b.IP))
	})
	for i := range res.IPs {
		res.IPs[i].Rank = i + 1
	}
	res.Clusters = t.clusters(nets, views, viewOf, cls, netAccts)
	res.Accounts = <-sorted
	for _, a := range res.Accounts {
		switch a.Verdict {
		case VerdictCompromised:
			res.Compromised++
		case VerdictStoppedByMFA:
			res.StoppedByMFA++
		case VerdictTargeted:
			res.Targeted++
		}
	}
	return res
}

// sortAccounts returns the decided accounts sorted by verdict, then user
// id, in place (accts is reused). It sorts small keys, in the very order
// slices.SortFunc would put the verdicts themselves (the same comparisons,
// the same algorithm), then moves each verdict once: tens of thousands of
// verdicts of ~150 bytes.
func sortAccounts(accts []AccountVerdict, decided []bool) []AccountVerdict {
	n := 0
	for i := range accts {
		if decided[i] {
			accts[n] = accts[i]
			n++
		}
	}
	clear(accts[n:])
	accts = accts[:n:n]
	if n == 0 {
		return nil
	}
	type key struct {
		rank int
		id   string
		i    int
	}
	keys := make([]key, n)
	for i := range accts {
		keys[i] = key{verdictRank(accts[i].Verdict), accts[i].UserID, i}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if a.rank != b.rank {
			return cmp.Compare(a.rank, b.rank)
		}
		return cmp.Compare(a.id, b.id)
	})
	// Apply the permutation cycle by cycle: accts[j] = old accts[keys[j].i].
	for j := range keys {
		if keys[j].i < 0 {
			continue
		}
		held := accts[j]
		k := j
		for {
			src := keys[k].i
			keys[k].i = -1
			if src == j {
				accts[k] = held
				break
			}
			accts[k] = accts[src]
			k = src
		}
	}
	return accts
}

// hasAgent says whether one of p's success user agents is in agents.
func hasAgent(p *pairStats, agents []uint64) bool {
	if len(agents) == 0 {
		return false
	}
	for _, h := range p.agents {
		if h != 0 && slices.Contains(agents, h) {
			return true
		}
	}
	return false
}

// verdictRank orders the accounts of a result: compromised, stopped by
// MFA, targeted.
func verdictRank(v Verdict) int {
	switch v {
	case VerdictCompromised:
		return 0
	case VerdictStoppedByMFA:
		return 1
	case VerdictTargeted:
		return 2
	}
	return 3
}

// totals are an address's failures, attack-protection events, successes
// and MFA challenges.
func (c *slotCounts) totals() (fails, ap, succ, chall int64) {
	// The slots of isAttackProtection.
	fails = c.n(slotF) + c.n(slotFP) + c.n(slotFU)
	ap = c.n(slotLimitWC) + c.n(slotLimitMU) + c.n(slotLimitSUL) + c.n(slotPwdLeak) + c.n(slotResetPwdLeak) + c.n(slotSignupPwdLeak) +
		c.n(slotPLAVerify)
	return fails, ap, c.n(slotS) + c.n(slotSS), c.n(slotMFAR) + c.n(slotGDSend)
}

// surelyOrdinary says, without a view, that label leaves an address of
// these counts unlabelled and unflagged (no operator or allowlist
// configured): no attack-protection event, failures for fewer accounts
// than make it suspicious or stuffing, not shared. Most addresses of an
// export are one customer's home.
func (t *Triage) surelyOrdinary(sc *slotCounts, c *ipCounts) bool {
	if c.failed >= 2 || int(c.failed) >= t.cfg.MinAccountsTried || int(c.active) >= t.cfg.MinSharedAccounts && c.failed*4 <= c.active {
		return false
	}
	_, ap, _, _ := sc.totals()
	return ap == 0
}

// parseAddr parses an address as Result reads it (an IPv4-mapped IPv6
// address as IPv4; not an address: the zero Addr).
func parseAddr(s string) netip.Addr {
	a, _ := netip.ParseAddr(s)
	return a.Unmap()
}

// verdictPart is what one goroutine of Result's verdict pass found.
type verdictPart struct {
	marks   []ipMark
	unknown int // name-only accounts tried from flagged addresses
}

// ipMark is what a verdict says of an address: an account was
// compromised (through it as shared infrastructure: markShared) or
// challenged from it.
type ipMark struct {
	ip, acct uint32
	kind     uint8
}

const (
	markCompromised = iota
	markShared
	markChallenged
)

// verdictParts cuts the accounts (their runs of pairs, start) into n
// ranges of about as many pairs: n+1 bounds.
func verdictParts(start []uint32, n int) []int {
	accts := len(start) - 1
	bounds := []int{0}
	total := int(start[accts])
	a := 0
	for k := 1; k < n; k++ {
		for a < accts && int(start[a]) < total*k/n {
			a++
		}
		bounds = append(bounds, max(a, bounds[len(bounds)-1]))
	}
	return append(bounds, accts)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// label decides shared infrastructure first (it is never flagged), then
// the catalog rule and the stuffing signal.
func (t *Triage) label(v *ipView) {
	switch {
	case v.addr.IsValid() && slices.Contains(t.cfg.OperatorIPs, v.addr):
		v.label = LabelOperator
		v.reasons = append(v.reasons, "the operator's own address: never blocked")
	case v.addr.IsValid() && slices.ContainsFunc(t.cfg.Allowlist, func(p netip.Prefix) bool { return p.Contains(v.addr) }):
		v.label = LabelAllowlisted
		v.reasons = append(v.reasons, "inside the allowlist: never blocked")
	case v.active >= t.cfg.MinSharedAccounts && v.failed*4 <= v.active:
		v.label = LabelShared
		v.reasons = append(v.reasons, fmt.Sprintf("shared infrastructure: %d accounts signed in or exchanged tokens here, %d had failures: never blocked",
			v.active, v.failed))
	}
	if v.label.IsShared() {
		if v.ap > 0 {
			v.reasons = append(v.reasons, fmt.Sprintf("%d attack-protection events through it: contain the accounts, not the address", v.ap))
		}
		return
	}
	v.stuffing = v.failed >= t.cfg.MinAccountsTried && v.failed > 2*v.succeeded
	v.flagged = v.ap > 0 || v.stuffing
	switch {
	case v.flagged:
		v.label = LabelAttacker
	case v.failed >= 2:
		v.label = LabelSuspicious
		v.reasons = append(v.reasons, fmt.Sprintf("failed logins for %d accounts (flagged from %d)", v.failed, t.cfg.MinAccountsTried))
	}
}

// verdictScratch is the working space of one goroutine's verdicts.
type verdictScratch struct {
	run                 []runPair
	succ, chall, fail   []*pairStats
	succEv, challEv, ev []logRef
	failEv              []logRef
	ips, reasons        []string
	evidence            []string
	text                []byte
	ends                []int
	// strs is where the verdicts' lists are cut from: one allocation for
	// many verdicts (each list capped, so that an append copies).
	strs []string
}

// strings returns a copy of list cut from sc.strs (nil for none).
func (sc *verdictScratch) strings(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	if cap(sc.strs)-len(sc.strs) < len(list) {
		sc.strs = make([]string, 0, max(4096, len(list)))
	}
	n := len(sc.strs)
	sc.strs = append(sc.strs, list...)
	return sc.strs[n : n+len(list) : n+len(list)]
}

// verdict decides one account from its (account, address) pairs, which
// are sorted by their first event (and address), into *v; false when it
// has none.
// ipText is an address's cleaned text.
func (t *Triage) verdict(v *AccountVerdict, acct uint32, ps []runPair, rp *resultPairs, cls []ipClass, ipText func(uint32) string,
	attackerAgents []uint64, marks *[]ipMark, sc *verdictScratch) bool {
	a := &t.accts[acct]
	firstAttack, firstTried := int64(noTime), int64(noTime)
	succ, chall, fail := sc.succ[:0], sc.chall[:0], sc.fail[:0]
	for _, k := range ps {
		if !cls[k.ip].flagged() {
			continue
		}
		p := rp.pair(k.e &^ runSucc)
		firstAttack = min(firstAttack, p.first)
		if p.succ > 0 {
			succ = append(succ, p)
		}
		if p.chall > 0 {
			chall = append(chall, p)
		}
		if p.fails+p.ap > 0 {
			fail = append(fail, p)
			firstTried = min(firstTried, p.firstFail)
		}
	}
	sc.succ, sc.chall, sc.fail = succ, chall, fail
	// Evidence by reference: the earliest event of each kind from each
	// address the verdict rests on, at most MaxEvidence of each kind
	// (the earliest), with the count of all those events beside them.
	succEv, challEv, failEv := sc.succEv[:0], sc.challEv[:0], sc.failEv[:0]
	keep := func(list []logRef, r logRef) []logRef {
		if r.id.none() {
			return list
		}
		return append(list, r)
	}
	ips := sc.ips[:0]
	addIP := func(ip uint32) {
		if s := ipText(ip); !slices.Contains(ips, s) && len(ips) < 10 {
			ips = append(ips, s)
		}
	}
	reasons := sc.reasons[:0]
	switch {
	case len(succ) > 0:
		v.Verdict = VerdictCompromised
		for _, p := range succ {
			succEv = keep(succEv, logRef{p.firstSucc, p.succID})
			v.EvidenceEvents += int64(p.succ)
			addIP(p.ip)
			reasons = append(reasons, fmt.Sprintf("signed in (%d) from flagged address %s", p.succ, ipText(p.ip)))
			*marks = append(*marks, ipMark{p.ip, acct, markCompromised})
		}
	default:
		if p, why := t.sharedSuccessRule(ps, rp, cls, firstTried, attackerAgents); p != nil {
			v.Verdict = VerdictCompromised
			succEv = keep(succEv, logRef{p.firstSucc, p.succID})
			v.EvidenceEvents += int64(p.succ)
			addIP(p.ip)
			reasons = append(reasons, why)
			*marks = append(*marks, ipMark{p.ip, acct, markShared})
		} else if len(chall) > 0 {
			v.Verdict = VerdictStoppedByMFA
			reasons = append(reasons, "MFA challenged after a correct password from a flagged address: the attacker knows the password, reset it")
		} else if len(fail) > 0 {
			v.Verdict = VerdictTargeted
		} else {
			return false
		}
	}
	v.UserID, v.UserName = auth0client.Clean(t.textView(a.key)), auth0client.Clean(t.textView(a.name))
	for _, p := range chall {
		challEv = keep(challEv, logRef{p.firstChall, p.challID})
		v.EvidenceEvents += int64(p.chall)
		addIP(p.ip)
		*marks = append(*marks, ipMark{p.ip, acct, markChallenged})
	}
	tries, apEvents := int32(0), int32(0)
	for _, p := range fail {
		failEv = keep(failEv, logRef{p.firstFail, p.failID})
		addIP(p.ip)
		tries += p.fails
		apEvents += p.ap
	}
	v.EvidenceEvents += int64(tries) + int64(apEvents)
	ev := sc.ev[:0]
	for _, list := range [][]logRef{succEv, challEv, failEv} {
		slices.SortFunc(list, t.cmpRef)
		ev = append(ev, list[:min(len(list), t.cfg.MaxEvidence)]...)
	}
	sc.succEv, sc.challEv, sc.failEv, sc.ips = succEv, challEv, failEv, ips
	// The reason about failures and the log ids' text, in one string.
	b, ends := sc.text[:0], sc.ends[:0]
	if len(fail) > 0 {
		// plural and nAddresses, without fmt: tens of thousands of targets.
		b = appendPlural(b, int(tries), "failed login")
		b = append(b, " from "...)
		b = appendPlural(b, len(fail), "address")
		b = append(b, " flagged"...)
		if apEvents > 0 {
			b = append(b, ", "...)
			b = appendPlural(b, int(apEvents), "attack-protection event")
		}
	}
	why := len(b)
	slices.SortFunc(ev, t.cmpRef)
	sc.ev = ev
	for _, e := range ev {
		b = t.appendEvidence(b, e)
		ends = append(ends, len(b))
	}
	sc.text, sc.ends = b, ends
	all := string(b)
	if len(fail) > 0 {
		reasons = append(reasons, all[:why])
	}
	sc.reasons = reasons
	v.Reasons = sc.strings(reasons)
	evidence, from := sc.evidence[:0], why
	for _, end := range ends {
		if s := all[from:end]; !slices.Contains(evidence, s) {
			evidence = append(evidence, s)
		}
		from = end
	}
	sc.evidence = evidence
	v.Evidence = sc.strings(evidence)
	v.IPs = sc.strings(ips)
	if firstAttack != noTime {
		v.FirstAttack = time.UnixMilli(firstAttack).UTC()
	}
	return true
}

// appendEvidence appends the log id of r as a verdict shows it: cleaned,
// unless it is a packed Auth0 id (digits only).
func (t *Triage) appendEvidence(b []byte, r logRef) []byte {
	if r.id.none() || r.id.odd() {
		return append(b, auth0client.Clean(t.idOf(r))...)
	}
	for _, c := range r.id {
		for _, d := range [2]byte{c >> 4, c & 0xF} {
			if d == 0 {
				return b
			}
			b = append(b, '0'+d-1)
		}
	}
	return b
}

// appendPlural appends plural(n, noun) ("address" takes "es").
func appendPlural(b []byte, n int, noun string) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	b = append(b, noun...)
	switch {
	case n == 1:
	case strings.HasSuffix(noun, "s"):
		b = append(b, "es"...)
	default:
		b = append(b, 's')
	}
	return b
}

// sharedSuccessRule attributes a success from an unflagged address (a
// carrier NAT that dozens of customers share, a clean proxy) to the
// attacker when account-level evidence separates it from the account's
// own logins. The carrier's own customers always come from the NAT; the
// victim's own activity comes from elsewhere. Either of:
//
//  1. tooling: the success carries a user agent that the failures of at
//     least three flagged addresses used (the stuffing tool's fingerprint)
//     and that at most two accounts sign in with from unflagged addresses,
//     and the account is also active from another unflagged address;
//  2. sequence, on shared infrastructure only (shared, allowlisted): the
//     account was tried from flagged addresses, then signed in from this
//     address, which is new to it (it was active from another unflagged
//     address before its first event here);
//  3. both links, on shared infrastructure: tried from flagged addresses,
//     then signed in from it with the tooling's user agent. This one needs
//     no other address: a short --since window may hold none of the
//     account's own activity.
//
// The sequence rule is limited to shared addresses on purpose: targeted
// customers log in from a new home or work address after the botnet tried
// them, and that alone is no evidence of a takeover. The operator's
// addresses never count.
//
// attackerAgents are the user agents of the tooling rule.
func (t *Triage) sharedSuccessRule(ps []runPair, rp *resultPairs, cls []ipClass, firstTried int64, attackerAgents []uint64) (*pairStats, string) {
	for _, k := range ps {
		pc := cls[k.ip]
		if k.e&runSucc == 0 || pc.flagged() || pc.operator() {
			continue
		}
		p := rp.pair(k.e &^ runSucc)
		tooling, tried := hasAgent(p, attackerAgents), firstTried < p.firstSucc
		if !tooling && (!tried || !pc.label().IsShared()) {
			continue // none of the three rules can hold
		}
		var other, before *runPair
		for j := range ps {
			q := &ps[j]
			if q.ip == k.ip || cls[q.ip].flagged() || cls[q.ip].sharedNet() {
				continue // a web backend's seacft is no address of the customer's
			}
			if other == nil {
				other = q
			}
			if q.first < k.first {
				before = q
				break
			}
		}
		ip := auth0client.Clean(t.textView(t.ips[p.ip].ip))
		switch {
		case tooling && other != nil:
			return p, fmt.Sprintf("signed in from %s with the user agent of the flagged addresses' failures; the account's own activity comes from %s",
				ip, auth0client.Clean(t.textView(t.ips[other.ip].ip)))
		case tried && before != nil && pc.label().IsShared():
			return p, fmt.Sprintf("tried from flagged addresses, then signed in from shared address %s, new to the account (active from %s before)",
				ip, auth0client.Clean(t.textView(t.ips[before.ip].ip)))
		case tried && tooling && pc.label().IsShared():
			return p, fmt.Sprintf("tried from flagged addresses, then signed in from shared address %s with the user agent of the flagged addresses' failures", ip)
		}
	}
	return nil, ""
}

// score ranks an address 0–100: 50 and more for flagged ones, below 50 for
// the rest, 0 for shared infrastructure.
func (t *Triage) score(v *ipView) {
	if v.label.IsShared() {
		if n := v.sharedCompromises; n > 0 {
			v.reasons = append(v.reasons, fmt.Sprintf("the attacker signed %s in through it (account-level evidence): contain the accounts, not the address", plural(n, "account")))
		}
		return
	}
	c := min(20, 3*math.Log2(1+float64(v.fails))) + min(20, 4*math.Log2(1+float64(v.tried)))
	if v.ap > 0 {
		c += 15 + min(10, 2*math.Log2(1+float64(v.ap)))
	}
	if len(v.compromised) > 0 {
		c += 10
	}
	if len(v.challenged) > 0 {
		c += 5
	}
	const top = 80.0
	if v.flagged {
		v.score = 50 + int(math.Round(min(c, top)*50/top))
	} else {
		v.score = int(math.Round(min(c, top) * 49 / top))
	}
}

func (t *Triage) ipReport(v *ipView) IPReport {
	is := &t.ips[v.ip]
	r := IPReport{IP: auth0client.Clean(t.textView(is.ip)), Score: v.score, Flagged: v.flagged, Label: v.label,
		Country: auth0client.Clean(t.textView(is.country)), ASN: auth0client.Clean(t.textView(is.asn)),
		Failures: v.fails, AttackProtection: v.ap, Successes: v.succ, MFAChallenges: v.chall,
		AccountsTried: v.tried, AccountsSucceeded: v.succeeded, AccountsActive: v.active, Events: map[string]int64{}}
	if is.first != noTime {
		r.FirstSeen, r.LastSeen = time.UnixMilli(is.first).UTC(), time.UnixMilli(is.last).UTC()
	}
	for s := range is.counts {
		n := is.counts.n(s)
		if n > 0 {
			r.Events[slotNames[s]] = n
		}
	}
	if p, ok := clusterOf(v.addr); ok {
		r.Cluster = p.String()
	}
	if v.flagged {
		if v.ap > 0 {
			var kinds []string
			for s := range nSlots {
				if isAttackProtection(s) && is.counts[s] > 0 {
					kinds = append(kinds, fmt.Sprintf("%s ×%d", slotNames[s], is.counts[s]))
				}
			}
			why := "attack-protection events (" + strings.Join(kinds, ", ") + ")"
			if v.succ > 0 {
				why = "Detection Catalog logins_or_signups_from_suspicious_ips: " + why + " and successful logins"
			}
			r.Reasons = append(r.Reasons, why)
		}
		if v.stuffing {
			r.Reasons = append(r.Reasons, fmt.Sprintf("credential stuffing: %d failed logins for %d accounts, %d signed in", v.fails, v.failed, v.succeeded))
		}
		if v.tooling > 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("low and slow: %d failed logins for %d accounts with the user agent of %d flagged addresses' failures",
				v.fails, v.failed, v.tooling))
		}
		if n := len(v.compromised); n > 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s compromised from here", plural(n, "account")))
		}
		if n := len(v.challenged); n > 0 {
			r.Reasons = append(r.Reasons, fmt.Sprintf("%s met MFA after a correct password", plural(n, "account")))
		}
	}
	r.Reasons = append(r.Reasons, v.reasons...)
	r.SucceededFor = t.keys(v.succFor, 20)
	r.Compromised = t.keys(v.compromised, 0)
	return r
}

// keys returns the sorted, cleaned user ids of accts (at most max; 0: all).
func (t *Triage) keys(accts []uint32, max int) []string {
	var out []string
	for _, a := range accts {
		out = append(out, auth0client.Clean(t.textView(t.accts[a].key)))
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}

// clusterOf is the network a block rule would cover: /24 for IPv4, /64
// for IPv6.
func clusterOf(a netip.Addr) (netip.Prefix, bool) {
	switch {
	case a.Is4():
		p, err := a.Prefix(24)
		return p, err == nil
	case a.Is6():
		p, err := a.Prefix(64)
		return p, err == nil
	}
	return netip.Prefix{}, false
}

// clusterNets are the networks reported as clusters (two or more flagged
// addresses) and which address belongs to which.
type clusterNets struct {
	nets []netip.Prefix
	// member is, by address, 1 + the index of its network in nets (0:
	// none); nil when there is no network to report.
	member []int32
}

// clusterNets finds the networks with two or more flagged addresses (all
// reported: they have views) and their addresses, parsing only those that
// may be theirs: an IPv4 address in dotted decimal is in a /24 only if its
// text begins with that network's first three numbers.
func (t *Triage) clusterNets(views []ipView) clusterNets {
	flagged := map[netip.Prefix]int{}
	for i := range views {
		if p, ok := clusterOf(views[i].addr); ok && views[i].flagged {
			flagged[p]++
		}
	}
	var cn clusterNets
	index := map[netip.Prefix]int32{}
	v4 := map[string]bool{} // "a.b.c" of each IPv4 network
	for p, n := range flagged {
		if n >= 2 {
			cn.nets = append(cn.nets, p)
		}
	}
	if len(cn.nets) == 0 {
		return cn
	}
	slices.SortFunc(cn.nets, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	for k, p := range cn.nets {
		index[p] = int32(k + 1)
		if p.Addr().Is4() {
			s := p.Addr().String()
			v4[s[:strings.LastIndexByte(s, '.')]] = true
		}
	}
	cn.member = make([]int32, len(t.ips))
	for i := range t.ips {
		s := t.textView(t.ips[i].ip)
		if strings.IndexByte(s, ':') < 0 {
			d := strings.LastIndexByte(s, '.')
			if d < 0 || !v4[s[:d]] {
				continue
			}
		}
		if p, ok := clusterOf(parseAddr(s)); ok {
			cn.member[i] = index[p]
		}
	}
	return cn
}

// clusters reports the networks of nets: their addresses' figures and the
// accounts tried from them (netAccts: network index << 32 | account, for
// every pair of failures there).
func (t *Triage) clusters(nets clusterNets, views []ipView, viewOf []int32, cls []ipClass, netAccts []uint64) []ClusterReport {
	if len(nets.nets) == 0 {
		return nil
	}
	type agg struct {
		r           ClusterReport
		first, last int64
		top         int
	}
	aggs := make([]agg, len(nets.nets))
	for k, p := range nets.nets {
		aggs[k] = agg{r: ClusterReport{CIDR: p.String()}, first: noTime, last: math.MinInt64}
	}
	for i, k := range nets.member {
		if k == 0 {
			continue
		}
		c, is := &aggs[k-1], &t.ips[i]
		c.r.Addresses++
		if cls[i].flagged() {
			c.r.FlaggedAddresses++
			c.top = max(c.top, views[viewOf[i]].score)
		}
		if cls[i].label().IsShared() {
			c.r.SharedAddresses = append(c.r.SharedAddresses, auth0client.Clean(t.textView(is.ip)))
		}
		fails, ap, succ, _ := is.counts.totals()
		c.r.Failures += fails
		c.r.AttackProtection += ap
		c.r.Successes += succ
		c.first, c.last = min(c.first, is.first), max(c.last, is.last)
	}
	slices.Sort(netAccts)
	netAccts = slices.Compact(netAccts)
	for _, na := range netAccts {
		aggs[na>>32].r.AccountsTried++
	}
	out := make([]ClusterReport, 0, len(aggs))
	for _, c := range aggs {
		r := c.r
		if c.first != noTime {
			r.FirstSeen, r.LastSeen = time.UnixMilli(c.first).UTC(), time.UnixMilli(c.last).UTC()
		}
		r.Score = min(100, c.top+int(math.Round(min(10, 2*math.Log2(float64(r.FlaggedAddresses))))))
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d of %d addresses seen are flagged: %d failed logins, %d accounts tried",
			r.FlaggedAddresses, r.Addresses, r.Failures, r.AccountsTried))
		if len(r.SharedAddresses) > 0 {
			slices.Sort(r.SharedAddresses)
			r.Reasons = append(r.Reasons, "holds shared infrastructure: block the flagged addresses, not the network")
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b ClusterReport) int {
		return cmp.Or(-cmp.Compare(a.Score, b.Score), -cmp.Compare(a.FlaggedAddresses, b.FlaggedAddresses), cmp.Compare(a.CIDR, b.CIDR))
	})
	return out
}
