package responders

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// DetectConfig is what a detection run looks at.
type DetectConfig struct {
	// Since drops older events (zero: keep every event).
	Since time.Time
	// Guard is never a network to block, and the operator's addresses are
	// never evidence.
	Guard Guard
}

// Detection runs every detector over one stream of events: the one
// computation behind `detect`, `ip triage` and the console's findings,
// triage and IP pages.
type Detection struct {
	cfg       DetectConfig
	detectors []Detector
	stuffing  *credentialStuffing
	// challenged maps an address to the accounts it met an MFA challenge
	// for (the first log id): an MFA challenge follows a correct password,
	// so from an attacker's address it means the password is known.
	challenged map[string]map[string]string
}

// NewDetection builds a detection run with every detector.
func NewDetection(cfg DetectConfig) *Detection {
	cs := NewCredentialStuffingDetector(cfg.Guard.TriageConfig(cfg.Since)).(*credentialStuffing)
	return &Detection{cfg: cfg, stuffing: cs, detectors: append([]Detector{cs}, otherDetectors()...), challenged: map[string]map[string]string{}}
}

// Add feeds one event to every detector.
func (d *Detection) Add(e auth0client.LogEvent) {
	if !d.cfg.Since.IsZero() && e.Date.Before(d.cfg.Since) {
		return
	}
	if a, err := netip.ParseAddr(e.IP); err == nil && d.operator(a) {
		return // the responders' own activity is never evidence
	}
	for _, det := range d.detectors {
		det.Add(e)
	}
	if e.UserID != "" && e.IP != "" && (e.Type == "mfar" || strings.HasPrefix(e.Type, "gd_send_")) {
		users := d.challenged[e.IP]
		if users == nil {
			users = map[string]string{}
			d.challenged[e.IP] = users
		}
		if _, ok := users[e.UserID]; !ok {
			users[e.UserID] = e.ID
		}
	}
}

func (d *Detection) operator(a netip.Addr) bool {
	return slices.ContainsFunc(d.cfg.Guard.Operators, func(p netip.Prefix) bool { return p.Contains(a.Unmap()) })
}

// Triage is the network view of the same events (ip triage, the console's
// triage and IP pages).
func (d *Detection) Triage() *Triage { return d.stuffing.Triage() }

// SessionCandidates are the accounts whose sessions and refresh tokens the
// session-aware detectors want to read.
func (d *Detection) SessionCandidates() []string {
	var out []string
	for _, det := range d.detectors {
		if s, ok := det.(SessionAware); ok {
			out = append(out, s.SessionCandidates()...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AddSessions hands an account's sessions and tokens to the detectors
// that read them.
func (d *Detection) AddSessions(userID string, sessions []auth0client.Session, tokens []auth0client.RefreshToken) {
	for _, det := range d.detectors {
		if s, ok := det.(SessionAware); ok {
			s.AddSessions(userID, sessions, tokens)
		}
	}
}

// Findings are every detector's findings, most urgent first, with the
// guarded networks taken out of what they would block.
func (d *Detection) Findings() []AttackFinding {
	var out []AttackFinding
	for _, det := range d.detectors {
		for _, f := range det.Findings() {
			f.Networks = slices.DeleteFunc(f.Networks, d.guarded)
			d.addChallenged(&f)
			f.ID = FindingID(f.Kind, f.Accounts, f.Networks)
			out = append(out, f)
		}
	}
	SortFindings(out)
	return out
}

// addChallenged adds to a finding the accounts its attacker's addresses met
// an MFA challenge for: stopped by MFA, their password known, to reset.
func (d *Detection) addChallenged(f *AttackFinding) {
	in := map[string]bool{}
	for _, a := range f.Accounts {
		in[a.UserID] = true
	}
	for ip, users := range d.challenged {
		a, err := netip.ParseAddr(ip)
		if err != nil || !slices.ContainsFunc(f.Networks, func(n string) bool {
			p, err := ParseNetwork(n)
			return err == nil && p.Contains(a.Unmap())
		}) {
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(users)) {
			if in[id] {
				continue
			}
			in[id] = true
			f.Accounts = append(f.Accounts, AttackAccount{UserID: id, Verdict: VerdictStoppedByMFA, Evidence: []string{users[id]}, Steps: ResetSteps})
			f.Reasons = append(f.Reasons, fmt.Sprintf("%s met an MFA challenge from the attacker's address %s: the password is known", id, ip))
		}
	}
}

// guarded reports whether a network overlaps the allowlist or the
// operator's addresses.
func (d *Detection) guarded(network string) bool {
	p, err := ParseNetwork(network)
	if err != nil {
		return true // what cannot be parsed cannot be blocked
	}
	g := d.cfg.Guard
	return slices.ContainsFunc(append(slices.Clone(g.Allow), g.Operators...), p.Overlaps)
}

// Detected is a detection run over the tenant's events.
type Detected struct {
	Findings []AttackFinding `json:"findings"`
	// Read is how many events were read; Limited, that the limit stopped it.
	Read    int  `json:"read"`
	Limited bool `json:"limited,omitempty"`
	// SessionsRead counts the accounts whose sessions were read.
	SessionsRead int      `json:"sessions_read"`
	Notes        []string `json:"notes,omitempty"`
	// Detection is the run itself, for its triage (the network view).
	Detection *Detection `json:"-"`
}

// maxSessionReads bounds the accounts whose sessions a detection reads
// (two requests each).
const maxSessionReads = 500

// DetectTenant reads the tenant's events since cfg.Since (at most limit;
// 0: DefaultTriageLimit), then the sessions and refresh tokens of the
// accounts the session-aware detectors name, and returns the findings.
func DetectTenant(ctx context.Context, c *auth0client.Client, cfg DetectConfig, limit int, progress func(events int)) (Detected, error) {
	return DetectTenantFrom(ctx, APIEvents(c), cfg, limit, progress)
}

// DetectTenantFrom is DetectTenant reading the events from src (the local
// store, when it has one); sessions and tokens still come from the tenant.
func DetectTenantFrom(ctx context.Context, src EventSource, cfg DetectConfig, limit int, progress func(events int)) (Detected, error) {
	if limit == 0 {
		limit = DefaultTriageLimit
	}
	d := NewDetection(cfg)
	n := 0
	read, limited, notes, err := src.ReadSince(ctx, cfg.Since, limit, func(e auth0client.LogEvent) {
		d.Add(e)
		if n++; progress != nil && n%500 == 0 {
			progress(n)
		}
	})
	if err != nil {
		return Detected{}, err
	}
	out := Detected{Read: read, Limited: limited, Detection: d, Notes: notes}
	if limited {
		out.Notes = append(out.Notes, fmt.Sprintf("stopped at %d events; later events were not read", limit))
	}
	for _, det := range d.detectors {
		r, ok := det.(NameResolver)
		if !ok {
			continue
		}
		if _, note, err := src.resolveNames(ctx, r); err != nil {
			return Detected{}, err
		} else if note != "" {
			out.Notes = append(out.Notes, note)
		}
	}
	cands := d.SessionCandidates()
	if len(cands) > maxSessionReads {
		out.Notes = append(out.Notes, fmt.Sprintf("%d accounts to check for hijacked sessions; read the first %d", len(cands), maxSessionReads))
		cands = cands[:maxSessionReads]
	}
	var c *auth0client.Client
	if len(cands) > 0 {
		if c, err = src.tenant(ctx); err != nil {
			return Detected{}, err
		}
	}
	for _, id := range cands {
		sessions, err := c.Sessions(ctx, id)
		if errors.Is(err, auth0client.ErrPlanLacksFeature) {
			out.Notes = append(out.Notes, "sessions and refresh tokens are not readable on this plan: session hijacking is judged from the logs alone")
			break
		}
		if errors.Is(err, auth0client.ErrNotFound) {
			continue
		}
		if err != nil {
			return Detected{}, err
		}
		tokens, err := c.RefreshTokens(ctx, id)
		if err != nil && !errors.Is(err, auth0client.ErrNotFound) {
			return Detected{}, err
		}
		d.AddSessions(id, sessions, tokens)
		out.SessionsRead++
	}
	out.Findings = d.Findings()
	return out, nil
}

// logStreamLine is one line of a log-stream export: Auth0's envelope, the
// event in data.
type logStreamLine struct {
	LogID string `json:"log_id"`
	Data  struct {
		auth0client.LogEvent
		LocationInfo struct {
			CountryCode string `json:"country_code"`
			CityName    string `json:"city_name"`
		} `json:"location_info"`
	} `json:"data"`
}

// DetectStream runs detection over a log-stream export (NDJSON, one
// envelope a line; malformed lines are counted and skipped).
func DetectStream(ctx context.Context, r io.Reader, cfg DetectConfig) (Detected, int, error) {
	d := NewDetection(cfg)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), maxLineBytes)
	read, malformed := 0, 0
	for sc.Scan() {
		if read%1024 == 0 && ctx.Err() != nil {
			return Detected{}, malformed, ctx.Err()
		}
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var l logStreamLine
		if err := json.Unmarshal(line, &l); err != nil || l.Data.Type == "" {
			malformed++
			continue
		}
		e := l.Data.LogEvent
		e.ID = cmpOr(e.ID, l.LogID)
		e.Country, e.City = cmpOr(e.Country, l.Data.LocationInfo.CountryCode), cmpOr(e.City, l.Data.LocationInfo.CityName)
		d.Add(cleanEvent(e))
		read++
	}
	if err := sc.Err(); err != nil {
		return Detected{}, malformed, fmt.Errorf("read the log stream: %w", err)
	}
	return Detected{Findings: d.Findings(), Read: read, Detection: d}, malformed, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cleanEvent cleans an export's attacker-controlled text, as the client
// does for what it reads from the tenant.
func cleanEvent(e auth0client.LogEvent) auth0client.LogEvent {
	c := auth0client.Clean
	e.ID, e.Type, e.Description, e.IP = c(e.ID), c(e.Type), c(e.Description), c(e.IP)
	e.UserID, e.UserName, e.ClientID, e.ClientName = c(e.UserID), c(e.UserName), c(e.ClientID), c(e.ClientName)
	e.Connection, e.UserAgent, e.Hostname, e.Country, e.City = c(e.Connection), c(e.UserAgent), c(e.Hostname), c(e.Country), c(e.City)
	// Details stay as decoded: the detectors read flags from them
	// (requiresVerification), never text to display.
	return e
}
