package responders

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// Session hijacking (the seed guide's "a session whose ASN or country
// changes mid-life; initial_asn vs last_asn in the sessions API"): an
// infostealer lifts a browser's session cookie and the operator replays it
// from elsewhere. Auth0 logs the replays as silent authentications (ssa) on
// the session, from the operator's address, with no login (s) there: the
// session was opened at home with the password and MFA, and the cookie
// carries it on. The Detection Catalog has no session rule; its token rules'
// prevention (compare a token's initial and last ASN in a post-login Action)
// is the same idea for tokens.
//
// The numbers are atoctl's own.
const (
	// sessionHijackMaxAddrs bounds the addresses kept per account (as
	// tokenTheftMaxSources; past it, silent authentications are counted,
	// not placed).
	sessionHijackMaxAddrs = 64
	// sessionHijackSIDs bounds the session ids kept per account and country
	// (the earliest): enough to tie a replay to the login that opened the
	// session in a retention window of a person's own sessions.
	sessionHijackSIDs = 8
	// sessionHijackEvidence bounds the log ids kept per account and country.
	sessionHijackEvidence = 5
	// sessionHijackSharedAccounts: an address where this many accounts sign
	// in is shared (the triage's MinSharedAccounts) and never blocked.
	sessionHijackSharedAccounts = 10
)

// sessionHijack is the session-hijack detector.
//
// Rules, applied by Findings:
//
//   - log signal: the account signed in (s, ss) from one country and its
//     sessions were used (ssa) from another with no login from there in the
//     window. A traveller signs in where they are, which opens a new session
//     there: no signal. It is stronger when a replayed session id is one a
//     login of the account opened elsewhere (details.session_id), or when
//     the account was active at home while the session was in use abroad
//     (two places at once): confidence medium; otherwise low (a laptop that
//     kept its session across a flight looks the same).
//   - session signal (SessionAware): a session of the account whose
//     initial and last addresses lie in different countries, the last one
//     a country the account did not sign in from (the sessions API has
//     addresses and ASNs, not countries: the countries are those the log
//     events give the addresses), or whose last ASN is a hosting network
//     (hostingASNs) in a country the logs do not know. Confidence
//     high: Auth0's own record of the session moved. A session that only
//     changed ASN inside its country is a phone leaving home Wi-Fi for the
//     carrier: no signal.
//   - compromised: either signal. The operator is inside the account:
//     ContainSteps (block, revoke the sessions, which kills the cookie,
//     reset: infostealers take saved passwords too).
//
// Without the sessions API (plans without the feature) the log signal
// stands alone, with its lower confidence.
//
// Networks are the addresses the sessions were replayed from (and the
// moved sessions' last addresses), busiest first, never shared ones.
// State: per account, its addresses (at most sessionHijackMaxAddrs) with
// their country and counts, and per country counters, first and last times,
// a few session ids and log ids.
type sessionHijack struct {
	accts map[string]*shAccount
	addrs addressOwners
}

// NewSessionHijackDetector builds the session-hijack detector.
func NewSessionHijackDetector() Detector {
	return &sessionHijack{accts: map[string]*shAccount{}, addrs: addressOwners{}}
}

type shAccount struct {
	id       string
	name     string
	nameAt   int64
	addrs    map[string]*shAddr
	places   map[string]*shPlace // by country ("" unknown)
	overflow int
	// moved are the sessions the sessions API shows moving (AddSessions).
	moved []shMove
}

type shAddr struct {
	country     string
	countryAt   int64
	logins      int
	silent      int
	first, last int64      // of the silent authentications
	ev          []evidence // silent authentications
}

// shPlace is what one account did in one country.
type shPlace struct {
	country                 string
	logins, silent          int
	firstLogin, lastLogin   int64
	firstSilent, lastSilent int64
	loginSIDs, silentSIDs   []evidence
	ev                      []evidence // silent authentications
}

// shMove is a session whose device metadata moved.
type shMove struct {
	id, from, to   string // session id, initial and last address
	fromCC, toCC   string
	fromASN, toASN string
	hosting        string
	at             int64
}

func (d *sessionHijack) Kind() AttackKind { return AttackSessionHijack }

func (d *sessionHijack) Add(e auth0client.LogEvent) {
	login := e.Type == "s" || e.Type == "ss"
	if !login && e.Type != "ssa" || e.UserID == "" || e.IP == "" {
		return
	}
	if login {
		d.addrs.add(e.IP, e.UserID)
	}
	at := eventMs(e.Date)
	a := d.accts[e.UserID]
	if a == nil {
		a = &shAccount{id: e.UserID, nameAt: noTime, addrs: map[string]*shAddr{}, places: map[string]*shPlace{}}
		d.accts[e.UserID] = a
	}
	if e.UserName != "" && (a.name == "" || at < a.nameAt) {
		a.name, a.nameAt = e.UserName, at
	}
	ad := a.addrs[e.IP]
	if ad == nil {
		if len(a.addrs) >= sessionHijackMaxAddrs {
			a.overflow++
			return
		}
		ad = &shAddr{countryAt: noTime, first: noTime, last: math.MinInt64}
		a.addrs[e.IP] = ad
	}
	if e.Country != "" && (ad.country == "" || at < ad.countryAt) {
		ad.country, ad.countryAt = e.Country, at
	}
	p := a.places[e.Country]
	if p == nil {
		p = &shPlace{country: e.Country, firstLogin: noTime, lastLogin: math.MinInt64, firstSilent: noTime, lastSilent: math.MinInt64}
		a.places[e.Country] = p
	}
	sid, _ := e.Details["session_id"].(string)
	sid = clip(sid, 64)
	if login {
		ad.logins++
		p.logins++
		p.firstLogin, p.lastLogin = min(p.firstLogin, at), max(p.lastLogin, at)
		p.loginSIDs = keepEvidence(p.loginSIDs, at, sid, sessionHijackSIDs)
		return
	}
	ad.silent++
	ad.first, ad.last = min(ad.first, at), max(ad.last, at)
	ad.ev = keepEvidence(ad.ev, at, e.ID, sessionHijackEvidence)
	p.silent++
	p.firstSilent, p.lastSilent = min(p.firstSilent, at), max(p.lastSilent, at)
	p.silentSIDs = keepEvidence(p.silentSIDs, at, sid, sessionHijackSIDs)
	p.ev = keepEvidence(p.ev, at, e.ID, sessionHijackEvidence)
}

// SessionCandidates are the accounts with the log signal (the sessions
// API confirms it) and those whose sessions were used from an address of
// no known country where they never signed in (only the API can place
// it). Sessions that moved inside their country are not read: they never
// convict.
func (d *sessionHijack) SessionCandidates() []string {
	var out []string
	for _, id := range sortedKeys(d.accts) {
		a := d.accts[id]
		unplaced := false
		for _, ad := range a.addrs {
			unplaced = unplaced || ad.country == "" && ad.silent > 0 && ad.logins == 0
		}
		if unplaced || len(d.foreign(a)) > 0 {
			out = append(out, id)
		}
	}
	return out
}

// AddSessions notes the account's sessions that moved country (or onto a
// hosting network of unknown country) during their life.
func (d *sessionHijack) AddSessions(userID string, sessions []auth0client.Session, _ []auth0client.RefreshToken) {
	a := d.accts[userID]
	if a == nil {
		return
	}
	country := func(ip string) string {
		if ad := a.addrs[ip]; ad != nil {
			return ad.country
		}
		return ""
	}
	for _, s := range sessions {
		dev := s.Device
		if dev.InitialIP == "" || dev.LastIP == "" || dev.InitialIP == dev.LastIP && !dev.ASNChanged() {
			continue
		}
		m := shMove{id: s.ID, from: dev.InitialIP, to: dev.LastIP, fromCC: country(dev.InitialIP), toCC: country(dev.LastIP),
			fromASN: dev.InitialASN, toASN: dev.LastASN, at: eventMs(s.LastInteractedAt)}
		if m.at == noTime {
			m.at = eventMs(s.UpdatedAt)
		}
		// A session that moved to a country the account signs in from in
		// the window went along with its owner (a laptop abroad).
		moved := m.fromCC != "" && m.toCC != "" && m.fromCC != m.toCC && !a.signsInFrom(m.toCC)
		if name, ok := hostingASN(dev.LastASN); ok && dev.ASNChanged() && m.toCC == "" {
			m.hosting, moved = name, true
		}
		if moved && !slices.ContainsFunc(a.moved, func(x shMove) bool { return x.id == m.id }) {
			a.moved = append(a.moved, m)
		}
	}
	slices.SortFunc(a.moved, func(x, y shMove) int { return strings.Compare(x.id, y.id) })
}

// signsInFrom reports whether the account signed in from country cc.
func (a *shAccount) signsInFrom(cc string) bool {
	p := a.places[cc]
	return p != nil && p.logins > 0
}

// foreign are the countries the account's sessions were used from without
// a login there, when it signed in from somewhere else.
func (d *sessionHijack) foreign(a *shAccount) []*shPlace {
	home := false
	for cc, p := range a.places {
		if cc != "" && p.logins > 0 {
			home = true
		}
	}
	if !home {
		return nil
	}
	var out []*shPlace
	for _, cc := range sortedKeys(a.places) {
		if p := a.places[cc]; cc != "" && p.logins == 0 && p.silent > 0 {
			out = append(out, p)
		}
	}
	return out
}

func (d *sessionHijack) Findings() []AttackFinding {
	var accts []detectedAccount
	for _, id := range sortedKeys(d.accts) {
		if da, ok := d.judge(d.accts[id]); ok {
			accts = append(accts, da)
		}
	}
	return groupFindings(AttackSessionHijack, accts, func(f *AttackFinding) {
		comp := f.Count(VerdictCompromised)
		f.Title = fmt.Sprintf("sessions used from another country without a login, from %s: %s", nAddresses(len(f.Networks)), plural(comp, "account"))
		f.Response = "contain the accounts (block, revoke the sessions so the stolen cookies die, reset: the stealer took saved passwords too), " +
			"block the addresses the sessions were replayed from, and have the owners clean the machine the cookies were stolen from"
		f.Severity = 50 + min(5*comp, 45)
	})
}

func (d *sessionHijack) judge(a *shAccount) (detectedAccount, bool) {
	foreign := d.foreign(a)
	if len(foreign) == 0 && len(a.moved) == 0 {
		return detectedAccount{}, false
	}
	da := detectedAccount{
		acct: AttackAccount{UserID: auth0client.Clean(a.id), UserName: auth0client.Clean(a.name), Verdict: VerdictCompromised,
			Steps: ContainSteps},
		nets: map[string]int{}, confidence: ConfidenceLow, first: noTime, last: math.MinInt64,
	}
	addNet := func(ip string, n int) {
		if ip := auth0client.Clean(ip); !d.addrs.shared(ip, sessionHijackSharedAccounts) && n > da.nets[ip] {
			da.nets[ip] = n
		}
	}
	var homes []*shPlace
	for _, cc := range sortedKeys(a.places) {
		if p := a.places[cc]; cc != "" && p.logins > 0 {
			homes = append(homes, p)
		}
	}
	homeNames := func() string {
		var cc []string
		for _, h := range homes {
			cc = append(cc, auth0client.Clean(h.country))
		}
		return strings.Join(cc, ", ")
	}
	for _, p := range foreign {
		da.first, da.last = min(da.first, p.firstSilent), max(da.last, p.lastSilent)
		da.ev = mergeEvidence(da.ev, p.ev, sessionHijackEvidence)
		var ips []string
		for _, ip := range sortedKeys(a.addrs) {
			if ad := a.addrs[ip]; ad.country == p.country && ad.silent > 0 && ad.logins == 0 {
				addNet(ip, ad.silent)
				ips = append(ips, auth0client.Clean(ip))
			}
		}
		r := fmt.Sprintf("sessions used %d× from %s (%s) with no login there; the account signs in from %s",
			p.silent, auth0client.Clean(p.country), strings.Join(ips[:min(len(ips), 3)], ", "), homeNames())
		if opened, at := openedElsewhere(p, homes); opened != "" {
			r += fmt.Sprintf("; session %s was opened by a login in %s", auth0client.Clean(opened), auth0client.Clean(at))
			da.confidence = ConfidenceMedium
		}
		if h := activeMeanwhile(p, homes); h != nil {
			r += fmt.Sprintf("; the account was active in %s meanwhile", auth0client.Clean(h.country))
			da.confidence = ConfidenceMedium
		}
		da.reasons = append(da.reasons, r)
	}
	for _, m := range a.moved {
		if ad := a.addrs[m.to]; ad != nil && ad.silent > 0 {
			// The replays from the session's last address: its evidence.
			addNet(m.to, ad.silent)
			da.first, da.last = min(da.first, ad.first), max(da.last, ad.last)
			da.ev = mergeEvidence(da.ev, ad.ev, sessionHijackEvidence)
		} else {
			addNet(m.to, 1)
			if m.at != noTime {
				da.first, da.last = min(da.first, m.at), max(da.last, m.at)
			}
		}
		r := fmt.Sprintf("session %s moved from %s (%s, %s) to %s (%s, %s) without a new login", auth0client.Clean(m.id),
			auth0client.Clean(m.from), auth0client.Clean(m.fromCC), auth0client.Clean(m.fromASN),
			auth0client.Clean(m.to), auth0client.Clean(cmpOr(m.toCC, "country unknown")), auth0client.Clean(m.toASN))
		if m.hosting != "" {
			r += ", a hosting network (" + m.hosting + ")"
		}
		da.reasons = append(da.reasons, r)
		da.confidence = ConfidenceHigh
	}
	if len(da.reasons) > 4 {
		da.reasons = append(da.reasons[:4], fmt.Sprintf("and %d more", len(da.reasons)-4))
	}
	if a.overflow > 0 {
		da.reasons = append(da.reasons, fmt.Sprintf("%d more session events from addresses past the %d kept for the account", a.overflow, sessionHijackMaxAddrs))
	}
	return da, true
}

// openedElsewhere returns a session id used in p that a login in one of
// homes opened, and that home's country.
func openedElsewhere(p *shPlace, homes []*shPlace) (string, string) {
	for _, s := range p.silentSIDs {
		for _, h := range homes {
			if slices.ContainsFunc(h.loginSIDs, func(l evidence) bool { return l.id == s.id }) {
				return s.id, h.country
			}
		}
	}
	return "", ""
}

// activeMeanwhile returns a home country where the account signed in or
// used a session while its sessions were in use in p.
func activeMeanwhile(p *shPlace, homes []*shPlace) *shPlace {
	for _, h := range homes {
		from, to := min(h.firstLogin, h.firstSilent), max(h.lastLogin, h.lastSilent)
		if from < p.lastSilent && to > p.firstSilent {
			return h
		}
	}
	return nil
}
