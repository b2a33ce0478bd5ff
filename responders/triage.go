package responders

import (
	"hash/maphash"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Triage finds the attacking IPs of a credential-stuffing attack in a
// tenant's log events and sorts the accounts they touched into compromised,
// stopped by MFA and targeted (DESIGN.md, Triage).
//
// It is a streaming aggregator: Add folds one event into per-IP, per-account
// and per-(account, IP) counters and forgets it, so memory grows with the
// distinct addresses, accounts and account-address pairs seen, never with
// the number of events. Evidence is kept by reference (logRef: a date and
// a packed log id, no pointer): the earliest success, failure and MFA
// challenge of each account-address pair, beside its counts; a verdict
// shows at most MaxEvidence of each kind and counts the events they stand
// for (AccountVerdict.EvidenceEvents). Aggregates are order-free
// (counts, minimum and maximum dates), so events may arrive in any order, and
// partial triages built on several goroutines combine with Merge.
//
// The rules, applied by Result:
//
//   - An IP is flagged by the Auth0 Detection Catalog rule
//     logins_or_signups_from_suspicious_ips (an attack-protection event:
//     pwd_leak, reset_pwd_leak, signup_pwd_leak, limit_wc, limit_sul,
//     limit_mu, or pla with details.requiresVerification) or by the catalog's
//     credential-stuffing signal: failed logins (f, fp, fu) for at least
//     MinAccountsTried distinct accounts, more than twice the accounts it
//     signed in; or, low and slow, failures for two or more accounts with
//     the user agent of at least three flagged addresses' failures (one
//     that hardly any account signs in with). Shared infrastructure is
//     never flagged (see below).
//   - compromised: a success (s, ss) from a flagged IP; or a success from an
//     unflagged address that the account-level rule attributes to the
//     attacker (see sharedSuccessRule);
//   - stopped by MFA: an MFA challenge (mfar, gd_send_*) from a flagged IP —
//     the password was right, so it must be reset — and no compromise;
//   - targeted: failures or attack-protection events from flagged IPs only.
//
// Shared infrastructure is labelled, never called an attacker: the
// operator's own addresses (TriageConfig.OperatorIPs), configured allowlists
// (TriageConfig.Allowlist), and addresses where many accounts succeed
// (logins and token exchanges: a web backend's seacft, a carrier NAT) with
// few failures.
type Triage struct {
	cfg    TriageConfig
	events int64
	// skipped counts events before cfg.Since.
	skipped  int64
	from, to int64 // unix ms of the oldest and newest event

	// The population, found by seeded hashes (triage_keys.go): each
	// address, account and pair keeps its key.
	seeds    triageSeeds
	ips      []ipStats
	ipIndex  keyIndex // address key → address
	accts    []acctStats
	idIndex  keyIndex // user id key → account
	nameIdx  keyIndex // lowercased user_name key → name-only account
	pairs    []pairStats
	pairIdx  keyIndex // pairKey(address, account) → pair
	lastPair uint64   // one-entry cache: bursts of one bot against one account
	lastIdx  uint32
	// unindexed: the addresses and pairs from staleIPs and stalePairs on,
	// appended by mergeShare, are not in ipIndex and pairIdx yet (Result
	// needs neither); reindex adds them before more events or a Merge.
	unindexed            bool
	staleIPs, stalePairs int
	oddIDs               []string
	oddIndex             map[string]uint32
	// texts is the arena of the records' strings (triage_text.go).
	texts []byte
	// touched sums what foldBatch reads ahead (so that the reads stay).
	touched int64
}

// TriageConfig tunes Triage. The zero value works: defaults are filled in.
type TriageConfig struct {
	// Allowlist holds networks that are never flagged (a corporate egress,
	// a partner's backend): labelled "allowlisted".
	Allowlist []netip.Prefix
	// OperatorIPs are the responders' own addresses: labelled "operator",
	// never flagged, and a success from them never compromises an account.
	OperatorIPs []netip.Addr
	// Since drops events older than this instant (zero: keep everything).
	Since time.Time
	// MinAccountsTried is how many distinct accounts with failed logins
	// flag an IP as credential stuffing (default 5).
	MinAccountsTried int
	// MinSharedAccounts is how many accounts must succeed from one address
	// (with failures for at most a quarter as many) to call it shared
	// infrastructure (default 10).
	MinSharedAccounts int
	// MaxEvidence bounds the log ids of each kind (successes, MFA
	// challenges, failures) in a verdict's evidence (default 8).
	MaxEvidence int
	// OmitOrdinaryIPs leaves the addresses without a label (ordinary
	// traffic: neither flagged, suspicious nor shared) out of
	// TriageResult.IPs and counts them in OrdinaryIPs: an export of 60,000
	// accounts holds some 120,000 home addresses that nobody reads.
	OmitOrdinaryIPs bool
}

func (c TriageConfig) withDefaults() TriageConfig {
	if c.MinAccountsTried <= 0 {
		c.MinAccountsTried = 5
	}
	if c.MinSharedAccounts <= 0 {
		c.MinSharedAccounts = 10
	}
	if c.MaxEvidence <= 0 {
		c.MaxEvidence = 8
	}
	return c
}

// TriageEvent is the part of a log event triage needs: no description, no
// details beyond pla's requiresVerification, and the user agent as a hash
// (a bot's tooling fingerprint costs 8 bytes, not a 1 MB string).
type TriageEvent struct {
	LogID    string
	Date     time.Time
	Type     string
	IP       string
	UserID   string
	UserName string
	// Country is location_info.country_code; ASN the network's AS number,
	// when the source has one (Auth0's log events do not).
	Country, ASN string
	// Agent is AgentHash of the user agent (0 when there is none).
	Agent uint64
	// RequiresVerification is details.requiresVerification of a pla event.
	RequiresVerification bool
}

// AgentHash fingerprints a user agent (64 bits, never 0); "" hashes to 0.
// The hash is seeded once per process (agentSeed): user agents are
// attacker-controlled, and a bot must not be able to make its agent's
// fingerprint equal a popular browser's. It is also some ten times
// faster than the byte-at-a-time FNV-1a it replaces, on every event of a
// triage.
func AgentHash[S string | []byte](ua S) uint64 {
	if len(ua) == 0 {
		return 0
	}
	switch ua := any(ua).(type) {
	case string:
		return maphash.String(agentSeed, ua) | 1
	case []byte:
		return maphash.Bytes(agentSeed, ua) | 1
	}
	panic("unreachable")
}

// agentSeed is AgentHash's seed: fingerprints compare within a process
// only (none is stored).
var agentSeed = maphash.MakeSeed()

// TriageEventFrom converts a log event read through auth0client.
func TriageEventFrom(e auth0client.LogEvent) TriageEvent {
	ev := TriageEvent{LogID: e.ID, Date: e.Date, Type: e.Type, IP: e.IP, UserID: e.UserID, UserName: e.UserName,
		Country: e.Country, Agent: AgentHash(e.UserAgent)}
	if e.Type == "pla" {
		ev.RequiresVerification, _ = e.Details["requiresVerification"].(bool)
	}
	return ev
}

// Event type slots: a fixed array per IP instead of a map per IP.
const (
	slotF = iota
	slotFP
	slotFU
	slotLimitWC
	slotLimitMU
	slotLimitSUL
	slotPwdLeak
	slotResetPwdLeak
	slotSignupPwdLeak
	slotPLA
	slotPLAVerify // pla with details.requiresVerification
	slotS
	slotSS
	slotMFAR
	slotGDSend
	slotSEACFT
	slotSERTFT
	slotSECCFT
	slotSSA
	slotOther
	nSlots
)

var slotNames = [nSlots]string{"f", "fp", "fu", "limit_wc", "limit_mu", "limit_sul", "pwd_leak", "reset_pwd_leak",
	"signup_pwd_leak", "pla", "pla_requires_verification", "s", "ss", "mfar", "gd_send", "seacft", "sertft", "seccft", "ssa", "other"}

// slotOf classifies an event type; the string switch compiles to
// comparisons, so a []byte type does not allocate.
func slotOf[S string | []byte](typ S) int {
	switch string(typ) {
	case "f":
		return slotF
	case "fp":
		return slotFP
	case "fu":
		return slotFU
	case "limit_wc":
		return slotLimitWC
	case "limit_mu":
		return slotLimitMU
	case "limit_sul":
		return slotLimitSUL
	case "pwd_leak":
		return slotPwdLeak
	case "reset_pwd_leak":
		return slotResetPwdLeak
	case "signup_pwd_leak":
		return slotSignupPwdLeak
	case "pla":
		return slotPLA
	case "s":
		return slotS
	case "ss":
		return slotSS
	case "mfar":
		return slotMFAR
	case "seacft":
		return slotSEACFT
	case "sertft":
		return slotSERTFT
	case "seccft":
		return slotSECCFT
	case "ssa":
		return slotSSA
	}
	if len(typ) > 8 && string(typ[:8]) == "gd_send_" {
		return slotGDSend
	}
	return slotOther
}

// eventSlot is the slot of an event of type typ (a pla with
// details.requiresVerification has its own).
func eventSlot[S string | []byte](typ S, verify bool) int {
	slot := slotOf(typ)
	if slot == slotPLA && verify {
		slot = slotPLAVerify
	}
	return slot
}

// What a slot means for triage.
func isFailure(s int) bool { return s == slotF || s == slotFP || s == slotFU }
func isAttackProtection(s int) bool {
	return s == slotLimitWC || s == slotLimitMU || s == slotLimitSUL || s == slotPwdLeak ||
		s == slotResetPwdLeak || s == slotSignupPwdLeak || s == slotPLAVerify
}
func isSuccess(s int) bool   { return s == slotS || s == slotSS }
func isChallenge(s int) bool { return s == slotMFAR || s == slotGDSend }
func isToken(s int) bool     { return s == slotSEACFT || s == slotSERTFT || s == slotSSA }

const (
	noTime     = math.MaxInt64
	maxAgents  = 4 // failure user agents kept per IP
	pairAgents = 2 // success user agents kept per (account, IP)
)

type agentCount struct {
	hash uint64
	n    int64
}

// slotCounts counts an address's events by slot, in 32 bits (saturating
// at 4,294,967,295): an address costs 80 bytes of counters, not 160.
type slotCounts [nSlots]uint32

func (c *slotCounts) add(s int, n uint32) { c[s] = min(c[s], math.MaxUint32-n) + n }

// n is the count of slot s.
func (c *slotCounts) n(s int) int64 { return int64(c[s]) }

// ipStats and acctStats hold no pointer (their strings are in the
// triage's text arena), so the collector never scans them: a large
// export's triage holds some 120,000 addresses and 65,000 accounts a
// share, which it would otherwise walk at every cycle.
type ipStats struct {
	key         uint64
	ip          text
	counts      slotCounts
	first, last int64
	country     text
	countryAt   int64
	asn         text
	agents      [maxAgents]agentCount // failure user agents, by hash
}

// maxNames bounds the user names kept for an account.
const maxNames = 4

type acctStats struct {
	hash   uint64 // its key's hash (triage_keys.go)
	key    text   // user id, or the lowercased user name of a name-only account
	byName bool
	name   text // the user name first seen (by date)
	nameAt int64
	// names are the user names seen with this user id, lowercased (an
	// attacker may change the email: both must map to the account).
	names  [maxNames]text
	nNames uint8
	// lastName is the key of the user name last noted (noteName).
	lastName uint64
	// tried: failures or attack-protection events name the account;
	// unknownUser: Auth0 answered fu (no such user) for the name.
	tried, unknownUser bool
}

// evidence is one log id kept as evidence, with its date for ordering.
type evidence struct {
	at int64
	id string
}

// pairStats is what one address did to one account. It holds no pointer:
// its evidence is the earliest event of each kind, by reference.
type pairStats struct {
	ip, acct    uint32
	fails, ap   int32
	succ, chall int32
	token       int32
	// The log ids of the earliest failure (or attack-protection event),
	// success and MFA challenge: firstFail, firstSucc and firstChall.
	// (Here, after the 4-byte fields, they need no padding: 160 bytes a pair.)
	failID, succID, challID packedID
	first                   int64
	firstFail               int64 // failure or attack-protection event
	firstSucc               int64
	firstChall              int64
	agents                  [pairAgents]uint64 // user agents of the successes
}

// NewTriage starts an empty triage.
func NewTriage(cfg TriageConfig) *Triage { return newTriage(cfg, newTriageSeeds()) }

// newTriage starts an empty triage with the given hash functions (the
// shares of TriageLogStream use the same ones).
func newTriage(cfg TriageConfig, seeds triageSeeds) *Triage {
	return &Triage{cfg: cfg.withDefaults(), from: noTime, to: math.MinInt64, seeds: seeds,
		lastPair: 0, oddIndex: map[string]uint32{}}
}

// Events is the number of events added (including those before Since).
func (t *Triage) Events() int64 { return t.events }

// Add folds one event into the triage. It keeps copies of what it needs, so
// the event's strings may be reused afterwards. Not safe for concurrent use:
// give each goroutine its own Triage and Merge them.
func (t *Triage) Add(e TriageEvent) {
	addEvent(t, t.seeds.stringKeys(e.IP, e.UserID, e.UserName), eventSlot(e.Type, e.RequiresVerification), e.LogID, e.IP,
		e.UserID, e.UserName, e.Country, e.ASN, e.Date, e.Agent, noHints)
}

// foldHints are the pair, address and account of an event when found
// beforehand (foldBatch), noPair where not known.
type foldHints struct{ pair, ip, acct uint32 }

// noPair is "not known yet" in foldHints.
const noPair = math.MaxUint32

var noHints = foldHints{noPair, noPair, noPair}

// addEvent is Add over strings or byte slices: the log-stream reader hands
// in slices of its read buffer, and only what is kept is copied. k are
// the event's keys (t.seeds'): a known pair is found by one lookup, or
// given (hints).
func addEvent[S string | []byte](t *Triage, k eventKeys, slot int, logID, ip, userID, userName, country, asn S, date time.Time, agent uint64, hints foldHints) {
	if t.unindexed {
		t.reindex()
	}
	t.events++
	at := int64(noTime)
	if !date.IsZero() {
		at = date.UnixMilli()
		if !t.cfg.Since.IsZero() && date.Before(t.cfg.Since) {
			t.skipped++
			return
		}
		t.from, t.to = min(t.from, at), max(t.to, at)
	}
	if len(ip) == 0 {
		return // nothing to attribute (Management API events without an address)
	}
	var ipi, ai, pi uint32
	var p *pairStats
	pk := pairKey(k.ip, k.acct)
	if k.acct != 0 {
		ok := true
		switch {
		case hints.pair != noPair:
			pi = hints.pair
		case pk == t.lastPair:
			pi = t.lastIdx
		default:
			pi, ok = t.pairIdx.get(pk)
		}
		if ok {
			p = &t.pairs[pi]
			ipi, ai = p.ip, p.acct
		}
	}
	if p == nil {
		ipi = hints.ip
		if ipi == noPair {
			ipi = addressOf(t, k.ip, ip)
		}
	}
	is := &t.ips[ipi]
	is.counts.add(slot, 1)
	if slot == slotPLAVerify {
		is.counts.add(slotPLA, 1)
	}
	if at != noTime {
		is.first = min(is.first, at)
		if at > is.last || is.last == math.MinInt64 {
			is.last = at
		}
	}
	if len(country) > 0 && (at < is.countryAt || is.country.empty()) {
		is.country, is.countryAt = keepText(t, country), at
	}
	if len(asn) > 0 && is.asn.empty() {
		is.asn = keepText(t, asn)
	}
	if isFailure(slot) && agent != 0 {
		is.addAgent(agent, 1)
	}
	if k.acct == 0 {
		return // no account: the address alone
	}

	if p == nil {
		ai = hints.acct
		if ai == noPair {
			ai = accountOf(t, k, userID, userName, at)
		}
		pi = uint32(len(t.pairs))
		t.pairIdx.put(pk, pi)
		t.pairs = append(growFlat(t.pairs), pairStats{ip: ipi, acct: ai, first: noTime, firstFail: noTime, firstSucc: noTime, firstChall: noTime})
		p = &t.pairs[pi]
	}
	t.lastPair, t.lastIdx = pk, pi
	a := &t.accts[ai]
	if !k.byName && k.name != 0 && (k.name != a.lastName || at < a.nameAt) {
		noteName(t, a, userName, at)
		a.lastName = k.name
	}
	switch {
	case slot == slotFU:
		a.tried, a.unknownUser = true, true
	case isFailure(slot), isAttackProtection(slot):
		a.tried = true
	}
	p.first = min(p.first, at)
	switch {
	case isFailure(slot), isAttackProtection(slot):
		if isFailure(slot) {
			p.fails++
		} else {
			p.ap++
		}
		earliest(t, &p.firstFail, &p.failID, at, logID)
	case isSuccess(slot):
		p.succ++
		earliest(t, &p.firstSucc, &p.succID, at, logID)
		p.addAgent(agent)
	case isChallenge(slot):
		p.chall++
		earliest(t, &p.firstChall, &p.challID, at, logID)
	case isToken(slot):
		p.token++
	}
}

// addressOf finds (or adds) the address with key k.
func addressOf[S string | []byte](t *Triage, k uint64, ip S) uint32 {
	ipi, ok := t.ipIndex.get(k)
	if !ok {
		ipi = uint32(len(t.ips))
		t.ipIndex.put(k, ipi)
		t.ips = append(growFlat(t.ips), ipStats{key: k, ip: keepText(t, ip), first: noTime, last: math.MinInt64, countryAt: noTime})
	}
	return ipi
}

// accountOf finds (or adds) the account of an event: its user id's, or
// for an event naming only a user name, that name's (Auth0 sends user
// names as typed; name-only accounts compare case-blind).
func accountOf[S string | []byte](t *Triage, k eventKeys, userID, userName S, at int64) uint32 {
	index := &t.idIndex
	if k.byName {
		index = &t.nameIdx
	}
	ai, ok := index.get(k.acct)
	if ok {
		return ai
	}
	ai = uint32(len(t.accts))
	index.put(k.acct, ai)
	if k.byName {
		t.accts = append(growFlat(t.accts), acctStats{hash: k.acct, key: keepLower(t, userName), byName: true, nameAt: noTime})
		noteName(t, &t.accts[ai], userName, at)
	} else {
		t.accts = append(growFlat(t.accts), acctStats{hash: k.acct, key: keepText(t, userID), nameAt: noTime})
	}
	return ai
}

// growFlat returns s with room for one more,
// doubling it when it is full, in memory advised for huge pages: append
// would grow a large array by a quarter, so its records would be copied
// into fresh memory some five times over as a triage fills, each time
// faulting in every page of the new array.
func growFlat[T any](s []T) []T {
	if len(s) < cap(s) {
		return s
	}
	return roomFor(s, max(len(s), 256))
}

// roomFor returns s with room for n more, in memory advised for huge
// pages when it must grow.
func roomFor[T any](s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	grown := make([]T, len(s), len(s)+n)
	adviseHugePages(grown)
	return grown[:copy(grown, s)]
}

// lowerASCII lowercases ASCII letters, copying only when there is one.
func lowerASCII[S string | []byte](s S) S {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(string(s))
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return S(b)
		}
	}
	return s
}

// noteName remembers the user name of an account: the first seen (by
// date) for display, and every distinct one (at most a few) so that
// name-only events (captcha failures, pwd_leak, limit_wc) map to the id.
func noteName[S string | []byte](t *Triage, a *acctStats, name S, at int64) {
	if a.name.empty() || at < a.nameAt {
		a.name, a.nameAt = keepText(t, name), at
	}
	if a.byName {
		return
	}
	for _, n := range a.names[:a.nNames] {
		if int(n.n) == len(name) && strings.EqualFold(t.textView(n), string(name)) {
			return
		}
	}
	if a.nNames < maxNames {
		a.names[a.nNames] = keepLower(t, name)
		a.nNames++
	}
}

// keepEvidence keeps the earliest max log ids (by date, then id) in list.
func keepEvidence[S string | []byte](list []evidence, at int64, id S, max int) []evidence {
	if len(id) == 0 {
		return list
	}
	latest := -1
	for i, e := range list {
		if e.id == string(id) {
			return list // a log stream may repeat an event
		}
		if latest < 0 || e.later(list[latest]) {
			latest = i
		}
	}
	if len(list) < max {
		return append(list, evidence{at: at, id: string(id)})
	}
	if l := list[latest]; at < l.at || at == l.at && string(id) < l.id {
		list[latest] = evidence{at: at, id: string(id)}
	}
	return list
}

func (e evidence) later(o evidence) bool { return e.at > o.at || e.at == o.at && e.id > o.id }

func mergeEvidence(dst, src []evidence, max int) []evidence {
	for _, e := range src {
		dst = keepEvidence(dst, e.at, e.id, max)
	}
	return dst
}

func (is *ipStats) addAgent(h uint64, n int64) {
	for i := range is.agents {
		switch is.agents[i].hash {
		case h:
			is.agents[i].n += n
			return
		case 0:
			is.agents[i] = agentCount{h, n}
			return
		}
	}
	// Full: a bot rotates few agents; a busy shared address is never
	// flagged, so its agents do not matter.
}

func (p *pairStats) addAgent(h uint64) {
	if h == 0 {
		return
	}
	for i := range p.agents {
		switch p.agents[i] {
		case h:
			return
		case 0:
			p.agents[i] = h
			return
		}
	}
}

// Merge folds o (a triage of other events, e.g. another worker's share of a
// file) into t. o must not be used afterwards.
func (t *Triage) Merge(o *Triage) {
	if t.unindexed {
		t.reindex()
	}
	if o.unindexed {
		o.reindex()
	}
	t.events += o.events
	t.skipped += o.skipped
	t.from, t.to = min(t.from, o.from), max(t.to, o.to)
	// Shares of one TriageLogStream hash alike; other triages are rehashed.
	sameSeeds := t.seeds == o.seeds
	ipMap := make([]uint32, len(o.ips))
	for i := range o.ips {
		src := &o.ips[i]
		k := src.key
		if !sameSeeds {
			k = hashKey(t.seeds.key, o.textString(src.ip))
		}
		ipi := addressOf(t, k, o.textBytes(src.ip))
		ipMap[i] = ipi
		dst := &t.ips[ipi]
		for s := range dst.counts {
			dst.counts.add(s, src.counts[s])
		}
		dst.first, dst.last = min(dst.first, src.first), max(dst.last, src.last)
		if !src.country.empty() && (dst.country.empty() || src.countryAt < dst.countryAt) {
			dst.country, dst.countryAt = keepText(t, o.textBytes(src.country)), src.countryAt
		}
		if dst.asn.empty() && !src.asn.empty() {
			dst.asn = keepText(t, o.textBytes(src.asn))
		}
		for _, a := range src.agents {
			if a.hash != 0 {
				dst.addAgent(a.hash, a.n)
			}
		}
	}
	acctMap := t.mergeAccounts(o, sameSeeds)
	t.lastPair = 0
	for i := range o.pairs {
		src := &o.pairs[i]
		ipi, ai := ipMap[src.ip], acctMap[src.acct]
		pk := pairKey(t.ips[ipi].key, t.accts[ai].hash)
		pi, ok := t.pairIdx.get(pk)
		if !ok {
			pi = uint32(len(t.pairs))
			t.pairIdx.put(pk, pi)
			t.pairs = append(t.pairs, pairStats{ip: ipi, acct: ai, first: noTime, firstFail: noTime, firstSucc: noTime, firstChall: noTime})
		}
		t.pairs[pi].merge(t, src, o)
	}
}

// mergeAccounts folds o's accounts into t's and returns where each went.
func (t *Triage) mergeAccounts(o *Triage, sameSeeds bool) []uint32 {
	acctMap := make([]uint32, len(o.accts))
	keyOf := func(src *acctStats) (*keyIndex, uint64) {
		index := &t.idIndex
		if src.byName {
			index = &t.nameIdx
		}
		if !sameSeeds {
			return index, t.seeds.acctKey(o.textString(src.key), src.byName)
		}
		return index, src.hash
	}
	// First the accounts t has already, each lookup independent of the
	// last so that many are in flight (every one a cache miss in a large
	// triage), as foldBatch does.
	if sameSeeds {
		for i := range o.accts {
			index, k := keyOf(&o.accts[i])
			ai, ok := index.get(k)
			if !ok {
				ai = noPair
			}
			acctMap[i] = ai
		}
	}
	for i := range o.accts {
		src := &o.accts[i]
		index, k := keyOf(src)
		ai, ok := acctMap[i], sameSeeds && acctMap[i] != noPair
		if !ok {
			ai, ok = index.get(k)
		}
		if !ok {
			ai = uint32(len(t.accts))
			index.put(k, ai)
			t.accts = append(t.accts, acctStats{hash: k, key: keepText(t, o.textBytes(src.key)), byName: src.byName, nameAt: noTime})
		}
		acctMap[i] = ai
		dst := &t.accts[ai]
		dst.tried = dst.tried || src.tried
		dst.unknownUser = dst.unknownUser || src.unknownUser
		if !src.name.empty() {
			noteName(t, dst, o.textBytes(src.name), src.nameAt)
		}
		for _, n := range src.names[:src.nNames] {
			noteName(t, dst, o.textBytes(n), noTime)
		}
	}
	return acctMap
}

// mergeShare is Merge for another share of one TriageLogStream: same
// hash functions, and no address in common (so no pair either). Its
// addresses and pairs are appended without a lookup and indexed only if
// more events or triages come (reindex): a merge of 60,000 addresses and
// 125,000 pairs costs their copy, not as many map insertions.
func (t *Triage) mergeShare(o *Triage) {
	if t.seeds != o.seeds {
		t.Merge(o)
		return
	}
	if !t.unindexed {
		t.unindexed, t.staleIPs, t.stalePairs = true, len(t.ips), len(t.pairs)
	}
	t.events += o.events
	t.skipped += o.skipped
	t.from, t.to = min(t.from, o.from), max(t.to, o.to)
	// It runs once the whole export is read, on one goroutine but for
	// this: room for all of o at once, then o's addresses copied beside
	// the merge of the accounts, and its pairs (which need the accounts'
	// new indexes) on every core.
	textBase := t.appendTexts(o)
	ipBase, pairBase := len(t.ips), len(t.pairs)
	t.ips = roomFor(t.ips, len(o.ips))[:ipBase+len(o.ips)]
	t.pairs = roomFor(t.pairs, len(o.pairs))[:pairBase+len(o.pairs)]
	var ips sync.WaitGroup
	ips.Go(func() {
		for i, is := range o.ips {
			is.ip, is.country, is.asn = is.ip.moved(textBase), is.country.moved(textBase), is.asn.moved(textBase)
			t.ips[ipBase+i] = is
		}
	})
	acctMap := t.mergeAccounts(o, true)
	ips.Wait()
	t.lastPair = 0
	parts := min(runtime.GOMAXPROCS(0), 1+len(o.pairs)/(32<<10))
	if len(o.oddIDs) > 0 {
		parts = 1 // repack interns odd ids in t: one goroutine
	}
	var pairs sync.WaitGroup
	for k := range parts {
		pairs.Go(func() {
			for i := k * len(o.pairs) / parts; i < (k+1)*len(o.pairs)/parts; i++ {
				p := o.pairs[i]
				p.ip, p.acct = uint32(ipBase)+p.ip, acctMap[p.acct]
				p.failID, p.succID, p.challID = t.repack(p.failID, o), t.repack(p.succID, o), t.repack(p.challID, o)
				t.pairs[pairBase+i] = p
			}
		})
	}
	pairs.Wait()
}

// repack re-interns an odd log id of triage o in t.
func (t *Triage) repack(id packedID, o *Triage) packedID {
	if id.odd() {
		return packOf(t, o.idString(id))
	}
	return id
}

// reindex adds the addresses and pairs mergeShare appended to the indexes.
func (t *Triage) reindex() {
	for i := t.staleIPs; i < len(t.ips); i++ {
		t.ipIndex.put(t.ips[i].key, uint32(i))
	}
	for i := t.stalePairs; i < len(t.pairs); i++ {
		p := &t.pairs[i]
		t.pairIdx.put(pairKey(t.ips[p.ip].key, t.accts[p.acct].hash), uint32(i))
	}
	t.unindexed = false
}

// merge folds src (a pair of triage from) into p (a pair of t).
func (p *pairStats) merge(t *Triage, src *pairStats, from *Triage) {
	p.first = min(p.first, src.first)
	p.fails += src.fails
	p.ap += src.ap
	p.succ += src.succ
	p.chall += src.chall
	p.token += src.token
	for _, a := range src.agents {
		p.addAgent(a)
	}
	t.mergeEarliest(&p.firstFail, &p.failID, src.firstFail, src.failID, from)
	t.mergeEarliest(&p.firstSucc, &p.succID, src.firstSucc, src.succID, from)
	t.mergeEarliest(&p.firstChall, &p.challID, src.firstChall, src.challID, from)
}

// Verdict is what happened to an account.
type Verdict string

// The verdicts of DESIGN.md's Triage section.
const (
	// VerdictCompromised: the attacker signed in.
	VerdictCompromised Verdict = "compromised"
	// VerdictStoppedByMFA: the attacker had the password and met an MFA
	// challenge: reset the password.
	VerdictStoppedByMFA Verdict = "stopped_by_mfa"
	// VerdictTargeted: only failed attempts from flagged addresses.
	VerdictTargeted Verdict = "targeted"
)

// IPLabel says what an address is.
type IPLabel string

// Labels of an address in a triage.
const (
	// LabelAttacker: flagged by the catalog rule or the stuffing signal.
	LabelAttacker IPLabel = "attacker"
	// LabelSuspicious: failures for several accounts, below the thresholds.
	LabelSuspicious IPLabel = "suspicious"
	// LabelShared: many accounts succeed here with few failures (a web
	// backend, a carrier NAT): never block it.
	LabelShared IPLabel = "shared"
	// LabelAllowlisted: inside TriageConfig.Allowlist.
	LabelAllowlisted IPLabel = "allowlisted"
	// LabelOperator: one of TriageConfig.OperatorIPs.
	LabelOperator IPLabel = "operator"
	// LabelNone: ordinary traffic.
	LabelNone IPLabel = ""
)

// IsShared reports whether the label means infrastructure that must not be
// blocked.
func (l IPLabel) IsShared() bool {
	return l == LabelShared || l == LabelAllowlisted || l == LabelOperator
}

// TriageResult is what a triage found. Text that came from the logs (user
// names, addresses, countries) is cleaned with auth0client.Clean.
type TriageResult struct {
	// Events is how many events were read; SkippedBeforeSince of them were
	// older than TriageConfig.Since.
	Events             int64 `json:"events"`
	SkippedBeforeSince int64 `json:"skipped_before_since,omitempty"`
	// From and To are the oldest and newest event dates considered.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// Compromised, StoppedByMFA and Targeted count Accounts by verdict.
	Compromised  int `json:"compromised"`
	StoppedByMFA int `json:"stopped_by_mfa"`
	Targeted     int `json:"targeted"`
	// UnknownAccountsTried counts user names tried from flagged addresses
	// that never appear with a user id (mostly accounts that do not exist).
	UnknownAccountsTried int `json:"unknown_accounts_tried"`
	// IPs are every address seen (but the ordinary ones with
	// TriageConfig.OmitOrdinaryIPs), flagged ones first, by score.
	IPs []IPReport `json:"ips"`
	// OrdinaryIPs counts the addresses left out of IPs.
	OrdinaryIPs int `json:"ordinary_ips,omitempty"`
	// Clusters are /24 (IPv4) or /64 (IPv6) networks with two or more
	// flagged addresses, by score.
	Clusters []ClusterReport `json:"clusters"`
	// Accounts are the accounts with a verdict: compromised, then stopped
	// by MFA, then targeted, each by user id.
	Accounts []AccountVerdict `json:"accounts"`
}

// IPReport is one address: its counters, label, score and reasons.
type IPReport struct {
	Rank    int      `json:"rank"`
	IP      string   `json:"ip"`
	Score   int      `json:"score"` // 0–100; 50 and more means flagged
	Flagged bool     `json:"flagged"`
	Label   IPLabel  `json:"label,omitempty"`
	Reasons []string `json:"reasons,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
	Country string   `json:"country,omitempty"`
	ASN     string   `json:"asn,omitempty"`
	// FirstSeen and LastSeen bound the address's events.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Events counts events by type (gd_send_* together as gd_send).
	Events map[string]int64 `json:"events"`
	// Failures are f, fp and fu; AttackProtection the catalog's events;
	// Successes s and ss; MFAChallenges mfar and gd_send_*.
	Failures         int64 `json:"failures"`
	AttackProtection int64 `json:"attack_protection"`
	Successes        int64 `json:"successes"`
	MFAChallenges    int64 `json:"mfa_challenges"`
	// AccountsTried have failures or attack-protection events from here;
	// AccountsSucceeded signed in (s, ss); AccountsActive signed in or
	// exchanged tokens (seacft, sertft, ssa).
	AccountsTried     int `json:"accounts_tried"`
	AccountsSucceeded int `json:"accounts_succeeded"`
	AccountsActive    int `json:"accounts_active"`
	// SucceededFor lists the first accounts (by user id) that signed in
	// from here, at most 20.
	SucceededFor []string `json:"succeeded_for,omitempty"`
	// Compromised lists the accounts the attacker took over from here.
	Compromised []string `json:"compromised,omitempty"`
}

// ClusterReport is a network holding several flagged addresses.
type ClusterReport struct {
	CIDR             string    `json:"cidr"`
	Score            int       `json:"score"`
	Addresses        int       `json:"addresses"`
	FlaggedAddresses int       `json:"flagged_addresses"`
	SharedAddresses  []string  `json:"shared_addresses,omitempty"`
	Failures         int64     `json:"failures"`
	AttackProtection int64     `json:"attack_protection"`
	Successes        int64     `json:"successes"`
	AccountsTried    int       `json:"accounts_tried"`
	FirstSeen        time.Time `json:"first_seen,omitzero"`
	LastSeen         time.Time `json:"last_seen,omitzero"`
	Reasons          []string  `json:"reasons,omitempty"`
}

// AccountVerdict is one account's verdict with its evidence.
type AccountVerdict struct {
	UserID   string   `json:"user_id"`
	UserName string   `json:"user_name,omitempty"`
	Verdict  Verdict  `json:"verdict"`
	Reasons  []string `json:"reasons"`
	// IPs are the addresses the verdict rests on (flagged ones, and the
	// shared address of an account-level compromise), at most 10.
	IPs []string `json:"ips"`
	// Evidence are log ids, oldest first, kept by reference while reading:
	// the first success of each address the verdict rests on, the first
	// MFA challenge and the first failure of each flagged address, at most
	// MaxEvidence of each kind (the earliest).
	Evidence []string `json:"evidence"`
	// EvidenceEvents counts every event of those kinds from those
	// addresses: the events the evidence stands for.
	EvidenceEvents int64 `json:"evidence_events"`
	// FirstAttack is the first event from a flagged address.
	FirstAttack time.Time `json:"first_attack,omitzero"`
}

// canonical maps every account to itself, except name-only accounts
// (captcha failures, pwd_leak, limit_wc and limit_mu carry no user id),
// which belong to the account that used that name with a user id, in the
// logs or through ResolveNames (the least user id, when several did).
// folded says whether any name-only account maps to another.
//
// It looks each user id's names up in the index of name-only accounts
// (keys, not strings: tens of thousands of accounts cost as many hash
// lookups, not a map of every name).
func (t *Triage) canonical() (canon []uint32, folded bool) {
	canon = make([]uint32, len(t.accts))
	for i := range t.accts {
		canon[i] = uint32(i)
	}
	if t.nameIdx.len() == 0 {
		return canon, false
	}
	for i := range t.accts {
		a := &t.accts[i]
		if a.byName {
			continue
		}
		for _, n := range a.names[:a.nNames] {
			name := t.textBytes(n)
			j, ok := t.nameIdx.get(maphash.Bytes(t.seeds.name, name) | 1)
			if !ok || !t.accts[j].byName || string(t.textBytes(t.accts[j].key)) != string(name) {
				continue
			}
			if c := canon[j]; c == j || t.compareText(a.key, t.accts[c].key) < 0 {
				canon[j], folded = uint32(i), true
			}
		}
	}
	return canon, folded
}

// UnresolvedNames lists the user names (lowercased, sorted) that failures
// or attack-protection events name without a user id, that no event ties
// to a user id and for which Auth0 never answered fu (unknown user): they
// may be real accounts that were only tried through captcha failures,
// pwd_leak, limit_wc or limit_mu. Look them up in the tenant and hand the
// answer to ResolveNames.
func (t *Triage) UnresolvedNames() []string {
	canon, _ := t.canonical()
	return t.unresolvedNames(canon)
}

// unresolvedNames is UnresolvedNames with the accounts' canonical ones.
func (t *Triage) unresolvedNames(canon []uint32) []string {
	var out []string
	for i := range t.accts {
		if a := &t.accts[i]; a.byName && canon[i] == uint32(i) && a.tried && !a.unknownUser {
			out = append(out, t.textString(a.key))
		}
	}
	slices.Sort(out)
	return out
}

// ResolveNames records which user id holds a user name (an email, as a
// tenant user search answers it): events naming only the user name then
// count for that account.
func (t *Triage) ResolveNames(ids map[string]string) {
	for name, id := range ids {
		if name == "" || id == "" {
			continue
		}
		k := hashKey(t.seeds.key, id)
		ai, ok := t.idIndex.get(k)
		if !ok {
			ai = uint32(len(t.accts))
			t.idIndex.put(k, ai)
			t.accts = append(t.accts, acctStats{hash: k, key: keepText(t, id), nameAt: noTime})
		}
		noteName(t, &t.accts[ai], lowerASCII(name), noTime)
	}
}
