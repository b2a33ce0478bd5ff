package responders

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Refresh-token theft and reuse (the seed guide's "ferrt reuse, sertft from
// hosting networks or a new country", after the Auth0 Detection Catalog's
// refresh_token_reuse, refresh_token_from_multiple_user_agent and
// refresh_token_from_too_many_locations rules). A refresh token is bound to
// one installation of one application: its owner exchanges it (sertft) with
// the app's user agent from the networks they live on. A stolen token is
// exchanged by the thief's HTTP client from the thief's network, usually a
// hosting provider, often abroad; a stolen rotating token trips Auth0's reuse
// detection (ferrt "reused refresh token detected") and Auth0 revokes its
// family.
//
// The catalog leaves its thresholds to the tenant ("run the query for a
// period and set them from the data"); the numbers below are atoctl's own,
// each with its reason.
const (
	// tokenTheftAppAccounts: a client (an agent family, see agentFamily) that
	// at least this many accounts exchange tokens with from addresses they
	// sign in from is one of the tenant's applications, never the thief's
	// tool: a thief does not exchange from the victims' own addresses, and
	// three keeps one odd device from vouching for a tool. This is the
	// catalog's "list of allowed UAs" (option 2 of
	// refresh_token_from_multiple_user_agent), learnt from the tenant.
	tokenTheftAppAccounts = 3
	// tokenTheftMaxSources bounds the addresses kept per account. A person
	// uses a handful of networks in a retention window; a stolen token
	// replayed from more than this many addresses is caught by the first
	// ones. Past it exchanges are counted, not placed (and the verdict may
	// then depend on the order the events came in).
	tokenTheftMaxSources = 64
	// tokenTheftEvidence bounds the log ids kept per address and per account.
	tokenTheftEvidence = 5
	// tokenTheftSharedAccounts: an address where this many accounts sign in
	// (s, ss) or exchange an authorization code (seacft) is shared
	// infrastructure (a carrier NAT, a web app's backend that exchanges
	// tokens for every user) and never the thief's: the triage's
	// MinSharedAccounts default.
	tokenTheftSharedAccounts = 10
)

// reusedTokenDescription is how Auth0 describes a ferrt for a rotated
// refresh token presented again (the catalog's refresh_token_reuse rule
// matches it exactly; atoctl matches the words, case-blind).
const reusedTokenDescription = "reused refresh token"

// hostingASNs are autonomous systems of hosting and cloud providers, where
// no customer's phone or browser lives. Illustrative, not complete: the
// large providers that turn up in token replays; a tenant that sees others
// should extend it. Auth0's log events carry no ASN: it comes from the
// device metadata of sessions and refresh tokens (SessionAware). Consumer
// VPNs egress from some of these (M247 above all), which is why hosting alone
// never convicts a token: it takes another client as well.
var hostingASNs = map[string]string{
	"AS14061":  "DigitalOcean",
	"AS16276":  "OVH",
	"AS24940":  "Hetzner",
	"AS20473":  "Vultr (The Constant Company)",
	"AS45102":  "Alibaba Cloud",
	"AS16509":  "Amazon AWS",
	"AS14618":  "Amazon AWS",
	"AS15169":  "Google",
	"AS396982": "Google Cloud",
	"AS8075":   "Microsoft Azure",
	"AS63949":  "Akamai (Linode)",
	"AS31898":  "Oracle Cloud",
	"AS9009":   "M247",
	"AS51167":  "Contabo",
	"AS12876":  "Scaleway",
}

// hostingASN reports whether asn (as Auth0 writes it, "AS14061", or bare
// digits) belongs to a hosting provider, and which.
func hostingASN(asn string) (string, bool) {
	asn = strings.ToUpper(strings.TrimSpace(asn))
	if asn == "" {
		return "", false
	}
	if !strings.HasPrefix(asn, "AS") {
		asn = "AS" + asn
	}
	name, ok := hostingASNs[asn]
	return name, ok
}

// tokenTheft is the refresh-token theft detector.
//
// Rules, applied by Findings. An address is the account's own when the
// account signed in (s, ss) or its device exchanged an authorization code
// (seacft) from it; shared addresses (tokenTheftSharedAccounts) are never
// anyone's thief. The account's clients are the agent families of its
// logins and of its exchanges from its own addresses, and the tenant's
// applications (tokenTheftAppAccounts). Its countries are those of its own
// addresses and of its own clients' exchanges outside hosting networks.
// A token exchange (sertft) from an address that is not the account's own
// is the thief's when it comes from another client, and from a new country
// or a hosting network:
//
//   - another client: none of its user agents' families is one of the
//     account's clients (the catalog's multiple-user-agents rule; comparing
//     families, not whole strings, keeps an app update from looking like
//     theft, the catalog's first false positive);
//   - a new country: neither the account's own addresses nor its own
//     clients' exchanges are there;
//   - a hosting network: the token's or a session's device metadata puts
//     the address on a hosting ASN (hostingASNs). Only exchanges by another
//     client in the account's own country wait for it (SessionCandidates).
//
// Another client alone is app-to-web SSO (the user-agents rule's false
// positive); a new country or a hosting network with the account's own
// client is a phone abroad or on a VPN (the locations rule's: natural
// movement). A thief who copies the app's exact user agent from a host
// abroad therefore looks like the owner on a VPN: the catalog's post-login
// Action comparing a token's initial and last ASN is the control for that.
// A mobile user on a new carrier address in their own country with their
// own app matches nothing.
//
//   - compromised: a thief's exchange succeeded. The thief had access tokens:
//     ContainSteps (block, revoke sessions and tokens, reset). Once an
//     account is compromised, its other exchanges by another client from
//     addresses not its own are the thief's too (the same tool from a host
//     in the owner's own country).
//   - targeted: no thief's exchange, but a reuse ferrt from an address not
//     its own by another client or from a hosting network: someone else
//     presented a rotated token and Auth0 revoked the token family. Nothing
//     to contain (Steps empty): find where the tokens leak from. A reuse from
//     the account's own address and client is an app caching tokens (the
//     catalog's false positive) and is ignored.
//
// Networks are the addresses of the thief's exchanges and reuses, busiest
// first. Accounts whose thieves share an address are one finding.
//
// State: per account, its addresses (at most tokenTheftMaxSources) with
// counters, first and last times, a few agent families and log ids; per
// address, the accounts that sign in from it (at most
// tokenTheftSharedAccounts). Every kept set is the earliest or the smallest
// few, so the result does not depend on the order of the events.
type tokenTheft struct {
	accts map[string]*ttAccount
	addrs addressOwners
}

// NewTokenTheftDetector builds the refresh-token theft and reuse detector.
func NewTokenTheftDetector() Detector {
	return &tokenTheft{accts: map[string]*ttAccount{}, addrs: addressOwners{}}
}

type ttAccount struct {
	id       string
	name     string
	nameAt   int64
	sources  map[string]*ttSource
	overflow int // events from addresses past tokenTheftMaxSources
}

// ttSource is one address of one account.
type ttSource struct {
	ip, country string
	countryAt   int64
	asn         string // from AddSessions' device metadata
	logins      int    // s, ss
	codes       int    // seacft
	exchanges   int    // sertft
	reuses      int    // ferrt for a reused token
	first, last int64  // of the exchanges and reuses
	loginFams   []string
	tokenFams   []string   // agent families of the exchanges and reuses
	agent       evidence   // the earliest exchange agent (at, text)
	tokens      []evidence // the earliest token ids (familyId, refresh_token_id)
	ev          []evidence // exchanges and reuses
}

func (d *tokenTheft) Kind() AttackKind { return AttackRefreshTokenTheft }

func (d *tokenTheft) Add(e auth0client.LogEvent) {
	var login, code, exchange, reuse bool
	switch e.Type {
	case "s", "ss":
		login = true
	case "seacft":
		code = true
	case "sertft":
		exchange = true
	case "ferrt":
		reuse = strings.Contains(strings.ToLower(e.Description), reusedTokenDescription)
		if !reuse {
			return // an expired or revoked token: the owner's app, not a thief
		}
	default:
		return
	}
	if e.UserID == "" || e.IP == "" {
		return
	}
	at := eventMs(e.Date)
	if login || code {
		d.addrs.add(e.IP, e.UserID)
	}
	a := d.accts[e.UserID]
	if a == nil {
		a = &ttAccount{id: e.UserID, nameAt: noTime, sources: map[string]*ttSource{}}
		d.accts[e.UserID] = a
	}
	if e.UserName != "" && (a.name == "" || at < a.nameAt) {
		a.name, a.nameAt = e.UserName, at
	}
	s := a.sources[e.IP]
	if s == nil {
		if len(a.sources) >= tokenTheftMaxSources {
			a.overflow++
			return
		}
		s = &ttSource{ip: e.IP, countryAt: noTime, first: noTime, last: math.MinInt64}
		a.sources[e.IP] = s
	}
	if e.Country != "" && (s.country == "" || at < s.countryAt) {
		s.country, s.countryAt = e.Country, at
	}
	fam := agentFamily(e.UserAgent)
	switch {
	case login:
		s.logins++
		s.loginFams = keepSmallest(s.loginFams, fam, 4)
	case code:
		s.codes++
		s.loginFams = keepSmallest(s.loginFams, fam, 4)
	default:
		if exchange {
			s.exchanges++
		} else {
			s.reuses++
		}
		s.first, s.last = min(s.first, at), max(s.last, at)
		s.tokenFams = keepSmallest(s.tokenFams, fam, 4)
		if ua := clip(e.UserAgent, 120); ua != "" && (s.agent.id == "" || at < s.agent.at || at == s.agent.at && ua < s.agent.id) {
			s.agent = evidence{at: at, id: ua}
		}
		if tok := tokenKey(e); tok != "" {
			s.tokens = keepEvidence(s.tokens, at, tok, 2)
		}
		s.ev = keepEvidence(s.ev, at, e.ID, tokenTheftEvidence)
	}
}

// SessionCandidates are the accounts with an exchange by another client
// in their own country, from an address not their own: the address's ASN,
// which only the tokens and sessions API has, decides.
func (d *tokenTheft) SessionCandidates() []string {
	var out []string
	for _, j := range d.judge() {
		if j.undecided {
			out = append(out, j.acct.id)
		}
	}
	slices.Sort(out)
	return out
}

// AddSessions notes the ASNs that the account's sessions and refresh tokens
// were created and last used from.
func (d *tokenTheft) AddSessions(userID string, sessions []auth0client.Session, tokens []auth0client.RefreshToken) {
	a := d.accts[userID]
	if a == nil {
		return
	}
	note := func(dev auth0client.Device) {
		for _, p := range [][2]string{{dev.InitialIP, dev.InitialASN}, {dev.LastIP, dev.LastASN}} {
			if s := a.sources[p[0]]; s != nil && p[1] != "" {
				s.asn = p[1]
			}
		}
	}
	for _, t := range tokens {
		note(t.Device)
	}
	for _, s := range sessions {
		note(s.Device)
	}
}

// ttJudgement is one account's verdict.
type ttJudgement struct {
	acct        *ttAccount
	verdict     Verdict
	thief       []*ttSource
	reasons     []string
	undecided   bool // a source that an ASN would convict
	confidence  Confidence
	first, last int64
}

func (d *tokenTheft) Findings() []AttackFinding {
	var accts []detectedAccount
	for _, j := range d.judge() {
		if j.verdict == "" {
			continue
		}
		da := detectedAccount{
			acct:       AttackAccount{UserID: auth0client.Clean(j.acct.id), UserName: auth0client.Clean(j.acct.name), Verdict: j.verdict},
			nets:       map[string]int{},
			confidence: j.confidence,
			reasons:    j.reasons,
			first:      j.first,
			last:       j.last,
		}
		if j.verdict == VerdictCompromised {
			da.acct.Steps = ContainSteps
		}
		for _, s := range j.thief {
			da.nets[auth0client.Clean(s.ip)] += s.exchanges + s.reuses
			da.ev = mergeEvidence(da.ev, s.ev, tokenTheftEvidence)
		}
		accts = append(accts, da)
	}
	return groupFindings(AttackRefreshTokenTheft, accts, func(f *AttackFinding) {
		comp, targeted := f.Count(VerdictCompromised), f.Count(VerdictTargeted)
		f.Title = fmt.Sprintf("refresh tokens used by someone else from %s: %s taken over, %d stopped by reuse detection",
			nAddresses(len(f.Networks)), plural(comp, "account"), targeted)
		f.Response = "contain the accounts whose tokens were exchanged by the thief (block, revoke sessions and refresh tokens, reset), block the thief's addresses; " +
			"where reuse detection stopped the thief Auth0 has already revoked the token family: nothing to contain, find where the tokens leak from"
		if comp > 0 {
			f.Severity = 50 + min(5*comp, 45)
		} else {
			f.Severity = 30 + min(2*targeted, 15)
		}
	})
}

// judge applies the rules to every account (see tokenTheft).
func (d *tokenTheft) judge() []ttJudgement {
	apps := d.applications()
	var out []ttJudgement
	for _, id := range sortedKeys(d.accts) {
		a := d.accts[id]
		if j, ok := d.judgeAccount(a, apps); ok {
			out = append(out, j)
		}
	}
	return out
}

// applications are the agent families that at least tokenTheftAppAccounts
// accounts exchange tokens or codes with from their own addresses.
func (d *tokenTheft) applications() map[string]bool {
	n := map[string]int{}
	for _, a := range d.accts {
		seen := map[string]bool{}
		for _, s := range a.sources {
			if !d.own(s) {
				continue
			}
			for _, f := range s.tokenFams {
				seen[f] = true
			}
			if s.codes > 0 {
				for _, f := range s.loginFams {
					seen[f] = true
				}
			}
		}
		for f := range seen {
			n[f]++
		}
	}
	apps := map[string]bool{}
	for f, c := range n {
		if f != "" && c >= tokenTheftAppAccounts {
			apps[f] = true
		}
	}
	return apps
}

// own reports whether the account signed in or exchanged a code from s
// (and s is not shared infrastructure, whose code exchanges are a web
// backend's, for everyone).
func (d *tokenTheft) own(s *ttSource) bool {
	return s.logins > 0 || s.codes > 0 && !d.addrs.shared(s.ip, tokenTheftSharedAccounts)
}

func (d *tokenTheft) judgeAccount(a *ttAccount, apps map[string]bool) (ttJudgement, bool) {
	j := ttJudgement{acct: a, first: noTime, last: math.MinInt64}
	clients := map[string]bool{}
	for f := range apps {
		clients[f] = true
	}
	for _, s := range a.sources {
		if d.own(s) {
			for _, f := range slices.Concat(s.loginFams, s.tokenFams) {
				clients[f] = true
			}
		}
	}
	delete(clients, "")
	otherClient := func(s *ttSource) bool {
		return len(clients) > 0 && len(s.tokenFams) > 0 && !slices.ContainsFunc(s.tokenFams, func(f string) bool { return clients[f] })
	}
	countries := map[string]bool{}
	for _, s := range a.sources {
		_, hosting := hostingASN(s.asn)
		if s.country != "" && (d.own(s) || s.exchanges > 0 && !otherClient(s) && !hosting) {
			countries[s.country] = true
		}
	}
	newCountry := func(s *ttSource) bool { return s.country != "" && len(countries) > 0 && !countries[s.country] }

	type signs struct {
		s                    *ttSource
		other, abroad, host  bool
		hostName             string
		strong, reuseByOther bool
	}
	var suspects []signs
	for _, ip := range sortedKeys(a.sources) {
		s := a.sources[ip]
		if d.own(s) || d.addrs.shared(s.ip, tokenTheftSharedAccounts) || s.exchanges+s.reuses == 0 {
			continue
		}
		g := signs{s: s, other: otherClient(s), abroad: newCountry(s)}
		g.hostName, g.host = hostingASN(s.asn)
		g.strong = g.other && (g.abroad || g.host)
		g.reuseByOther = s.reuses > 0 && (g.other || g.host)
		if !g.other && !g.host {
			continue
		}
		if g.other && !g.strong && s.asn == "" {
			j.undecided = true
		}
		suspects = append(suspects, g)
	}
	compromised := slices.ContainsFunc(suspects, func(g signs) bool { return g.strong && g.s.exchanges > 0 })
	describe := func(g signs) string {
		s := g.s
		var what []string
		if s.exchanges > 0 {
			what = append(what, fmt.Sprintf("refresh token exchanged %d× from %s", s.exchanges, auth0client.Clean(s.ip)))
		}
		if s.reuses > 0 {
			what = append(what, fmt.Sprintf("reused refresh token presented %d× from %s", s.reuses, auth0client.Clean(s.ip)))
		}
		var why []string
		if g.abroad {
			why = append(why, fmt.Sprintf("in %s, a country the account does not use", auth0client.Clean(s.country)))
		}
		if g.host {
			why = append(why, fmt.Sprintf("on a hosting network (%s, %s)", auth0client.Clean(s.asn), g.hostName))
		}
		if g.other {
			why = append(why, fmt.Sprintf("by %q, not a client of the account's", auth0client.Clean(s.agent.id)))
		}
		if len(s.tokens) > 0 {
			why = append(why, "token "+auth0client.Clean(s.tokens[0].id))
		}
		return strings.Join(what, ", ") + ": " + strings.Join(why, ", ")
	}
	take := func(g signs) {
		j.thief = append(j.thief, g.s)
		j.first, j.last = min(j.first, g.s.first), max(j.last, g.s.last)
		if len(j.reasons) < 3 {
			j.reasons = append(j.reasons, describe(g))
		}
	}
	switch {
	case compromised:
		j.verdict, j.confidence = VerdictCompromised, ConfidenceMedium
		for _, g := range suspects {
			if g.strong || g.other {
				take(g)
			}
			if g.strong && g.host && g.s.exchanges > 0 {
				// Auth0's own device metadata puts the exchange on a
				// hosting network, and a second sign agrees.
				j.confidence = ConfidenceHigh
			}
		}
		if len(j.thief) > 1 {
			// Several thief addresses: not one VPN toggled once.
			j.confidence = ConfidenceHigh
		}
	case slices.ContainsFunc(suspects, func(g signs) bool { return g.reuseByOther }):
		j.verdict, j.confidence = VerdictTargeted, ConfidenceMedium
		for _, g := range suspects {
			if g.reuseByOther {
				take(g)
			}
		}
		j.reasons = append(j.reasons, "Auth0's reuse detection revoked the token family: the thief got nothing from it")
	default:
		return j, j.undecided
	}
	if len(j.thief) > 3 {
		j.reasons = append(j.reasons, fmt.Sprintf("and %d more addresses", len(j.thief)-3))
	}
	if a.overflow > 0 {
		j.reasons = append(j.reasons, fmt.Sprintf("%d more token events from addresses past the %d kept for the account", a.overflow, tokenTheftMaxSources))
	}
	return j, true
}

// tokenKey names the token family of a token event: details.familyId (the
// catalog groups by it), else details.refresh_token_id.
func tokenKey(e auth0client.LogEvent) string {
	for _, k := range []string{"familyId", "refresh_token_id"} {
		if v, ok := e.Details[k].(string); ok && v != "" {
			return clip(v, 64)
		}
	}
	return ""
}

// agentFamily is the product a user agent names first, lowercased
// ("AcmeShop/4.12.0 (Android 14) okhttp/4.12.0" → "acmeshop",
// "python-requests/2.31.0" → "python-requests"), so that an app update is
// the same client and a script is another. Every browser says "Mozilla":
// browsers are told apart by platform ("mozilla/iphone"). Only the first
// bytes are read: attacker text can be a megabyte.
func agentFamily(ua string) string {
	ua = clip(ua, 256)
	end := strings.IndexAny(ua, "/ (;")
	if end < 0 {
		end = len(ua)
	}
	fam := strings.ToLower(ua[:end])
	if fam == "mozilla" {
		for _, p := range []string{"iPhone", "iPad", "Android", "Windows", "Macintosh", "CrOS", "Linux"} {
			if strings.Contains(ua, p) {
				return fam + "/" + strings.ToLower(p)
			}
		}
	}
	return fam
}

// clip cuts s to at most n bytes (on a rune boundary).
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// keepSmallest adds v to the sorted set list, keeping the smallest max
// values: a bounded set that does not depend on the order of the adds.
func keepSmallest(list []string, v string, max int) []string {
	i, found := slices.BinarySearch(list, v)
	if found {
		return list
	}
	if len(list) >= max {
		if i >= max {
			return list
		}
		list = list[:max-1]
	}
	return slices.Insert(list, i, v)
}

// eventMs is a log date in unix milliseconds (noTime when it has none).
func eventMs(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMilli()
}

// addressOwners records, per address, the accounts that treat it as their
// own (sign in, exchange a code): at most tokenTheftSharedAccounts each, the
// smallest ids, so that the count saturates the same in any event order.
// Shared by the token-theft and session-hijack detectors.
type addressOwners map[string][]string

func (o addressOwners) add(ip, userID string) {
	o[ip] = keepSmallest(o[ip], userID, tokenTheftSharedAccounts)
}

// shared reports whether at least n accounts sign in from ip.
func (o addressOwners) shared(ip string, n int) bool { return len(o[ip]) >= n }

// sortedKeys returns a map's keys in order (stable output, stable ids).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// detectedAccount is one account of a session or token finding before the
// accounts are grouped: its verdict, the attacker addresses that put it
// there (with their event counts), its evidence and its span.
type detectedAccount struct {
	acct        AttackAccount
	nets        map[string]int
	ev          []evidence
	reasons     []string
	confidence  Confidence
	first, last int64
}

// groupFindings makes one finding of each set of accounts whose attackers
// share an address (connected through any chain of shared addresses);
// describe fills in the title, response and severity.
func groupFindings(kind AttackKind, accts []detectedAccount, describe func(*AttackFinding)) []AttackFinding {
	if len(accts) == 0 {
		return nil
	}
	parent := make([]int, len(accts))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	byNet := map[string]int{}
	for i, a := range accts {
		for _, n := range sortedKeys(a.nets) {
			if j, ok := byNet[n]; ok {
				parent[find(i)] = find(j)
			} else {
				byNet[n] = i
			}
		}
	}
	groups := map[int][]int{}
	for i := range accts {
		r := find(i)
		groups[r] = append(groups[r], i)
	}
	rank := map[Confidence]int{ConfidenceLow: 0, ConfidenceMedium: 1, ConfidenceHigh: 2}
	verdictOrder := map[Verdict]int{VerdictCompromised: 0, VerdictStoppedByMFA: 1, VerdictTargeted: 2}
	var out []AttackFinding
	for _, members := range groups {
		f := AttackFinding{Kind: kind, Confidence: ConfidenceLow}
		nets := map[string]int{}
		var ev []evidence
		first, last := int64(noTime), int64(math.MinInt64)
		for _, i := range members {
			a := accts[i]
			for n, c := range a.nets {
				nets[n] += c
			}
			slices.SortFunc(a.ev, func(x, y evidence) int { return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.id, y.id)) })
			for _, e := range a.ev {
				a.acct.Evidence = append(a.acct.Evidence, auth0client.Clean(e.id))
			}
			if len(a.ev) > 0 {
				ev = append(ev, a.ev[0])
			}
			first, last = min(first, a.first), max(last, a.last)
			if rank[a.confidence] > rank[f.Confidence] {
				f.Confidence = a.confidence
			}
			for _, r := range a.reasons {
				if len(f.Reasons) < 12 {
					f.Reasons = append(f.Reasons, a.acct.UserID+": "+r)
				}
			}
			f.Accounts = append(f.Accounts, a.acct)
		}
		slices.SortFunc(f.Accounts, func(x, y AttackAccount) int {
			return cmp.Or(cmp.Compare(verdictOrder[x.Verdict], verdictOrder[y.Verdict]), cmp.Compare(x.UserID, y.UserID))
		})
		f.Networks = sortedKeys(nets)
		slices.SortStableFunc(f.Networks, func(x, y string) int { return cmp.Compare(nets[y], nets[x]) })
		slices.SortFunc(ev, func(x, y evidence) int { return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.id, y.id)) })
		for _, e := range ev[:min(len(ev), 20)] {
			f.Evidence = append(f.Evidence, auth0client.Clean(e.id))
		}
		if first != noTime {
			f.First = time.UnixMilli(first).UTC()
		}
		if last != math.MinInt64 {
			f.Last = time.UnixMilli(last).UTC()
		}
		describe(&f)
		f.ID = FindingID(kind, f.Accounts, f.Networks)
		out = append(out, f)
	}
	SortFindings(out)
	return out
}

// networkOf is the /24 (IPv4) or /64 (IPv6) of an address, or "" when it
// is not one.
func networkOf(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	if p, ok := clusterOf(a.Unmap()); ok {
		return p.String()
	}
	return ""
}
