package responders

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Limits of a live triage.
const (
	// DefaultTriageLimit caps a live triage's reads unless asked otherwise.
	DefaultTriageLimit = 100_000
	// MaxTriageLimit is the most a live triage may be asked to read.
	MaxTriageLimit = 100_000_000
	// resolveBatch is how many names one user search looks up.
	resolveBatch = 25
	// maxResolveNames bounds the names looked up (each batch is a request).
	maxResolveNames = 5_000
)

// LogRequest is a log search as the analyst states it: a network, event
// types, a user (id or email), extra Lucene, a window and a limit.
type LogRequest struct {
	Network string
	Types   []string
	User    string
	Query   string
	Since   time.Time
	Limit   int
}

// Validate checks the request before anything is sent.
func (r LogRequest) Validate() error {
	if r.Network != "" {
		if _, err := ParseNetwork(r.Network); err != nil {
			return err
		}
	}
	if _, err := ParseEventTypes(r.Types); err != nil {
		return err
	}
	if r.User != "" {
		if err := ValidUserArg(r.User); err != nil {
			return err
		}
	}
	if strings.ContainsAny(r.Query, "\x00\r\n") {
		return BadInput("the query contains control characters")
	}
	if r.Limit < 0 || r.Limit > MaxSearchLimit {
		return BadInput("the limit must be between 1 and %d", MaxSearchLimit)
	}
	return nil
}

// Resolve validates the request and resolves the user to an id.
func (r LogRequest) Resolve(ctx context.Context, c *auth0client.Client) (LogSearch, error) {
	if err := r.Validate(); err != nil {
		return LogSearch{}, err
	}
	s := LogSearch{Query: r.Query, Since: r.Since, Limit: r.Limit}
	if r.Network != "" {
		p, _ := ParseNetwork(r.Network)
		s.Filter.Network = &p
	}
	s.Filter.Types, _ = ParseEventTypes(r.Types)
	if r.User != "" {
		u, err := ResolveUser(ctx, c, r.User)
		if err != nil {
			return LogSearch{}, err
		}
		s.Filter.UserID = u.ID
	}
	return s, nil
}

// FoundLogs is a search's answer: the events newest first, the filter (to
// follow new events on the client) and what the analyst should know.
type FoundLogs struct {
	Events []auth0client.LogEvent
	Filter LogFilter
	// Note: the window reaches past the tenant's retention, say.
	Note string
}

// FindLogs resolves and runs a log search; when it returns fewer events
// than asked, it says whether the window reaches past the retention.
func FindLogs(ctx context.Context, c *auth0client.Client, r LogRequest) (FoundLogs, error) {
	return FindLogsFrom(ctx, APIEvents(c), r)
}

// FindLogsFrom is FindLogs reading src (the local store, when it has one).
func FindLogsFrom(ctx context.Context, src EventSource, r LogRequest) (FoundLogs, error) {
	c := src.Client
	if r.User != "" { // only a user to resolve needs the tenant before the store is read
		var err error
		if c, err = src.tenant(ctx); err != nil {
			return FoundLogs{}, err
		}
	}
	s, err := r.Resolve(ctx, c)
	if err != nil {
		return FoundLogs{}, err
	}
	events, notes, err := src.Search(ctx, s)
	if err != nil {
		return FoundLogs{}, err
	}
	return FoundLogs{Events: events, Filter: s.Filter, Note: strings.Join(notes, "; ")}, nil
}

// TenantTriage is a triage of the tenant's own events.
type TenantTriage struct {
	TriageResult
	// Read is how many events were read; Limited, that the limit stopped it.
	Read    int
	Limited bool
	// UnresolvedNames counts names no account was found for.
	UnresolvedNames int
	// Notes are what the analyst should know (retention, limits, look-ups).
	Notes []string
	// Fingerprints group the events by TLS fingerprint (JA3, JA4), where
	// the tenant's events carry them: those of flagged addresses.
	Fingerprints []FingerprintReport `json:"fingerprints,omitempty"`
}

// TriageTenant reads the tenant's events in cfg's window (at most limit;
// 0: DefaultTriageLimit) and triages them as they stream in, then looks up
// the accounts that events name only by email. progress (if set) hears the
// count of events read, from the reading goroutine.
func TriageTenant(ctx context.Context, c *auth0client.Client, cfg TriageConfig, limit int, progress func(events int)) (TenantTriage, error) {
	return TriageTenantFrom(ctx, APIEvents(c), cfg, limit, progress)
}

// TriageTenantFrom is TriageTenant reading src (the local store, when it
// has one: synced first if it does not cover the window).
func TriageTenantFrom(ctx context.Context, src EventSource, cfg TriageConfig, limit int, progress func(events int)) (TenantTriage, error) {
	if limit == 0 {
		limit = DefaultTriageLimit
	}
	if limit < 0 || limit > MaxTriageLimit {
		return TenantTriage{}, BadInput("the limit must be between 1 and %d", MaxTriageLimit)
	}
	tr := NewTriage(cfg)
	fps := NewFingerprintAgg()
	n, limited, notes, err := src.readTriageSince(ctx, cfg.Since, limit, func(ev TriageEvent, e *auth0client.LogEvent) {
		tr.Add(ev)
		if e != nil {
			fps.Add(*e)
		}
		if progress != nil {
			if n := tr.events; n%500 == 0 {
				progress(int(n))
			}
		}
	})
	if err != nil {
		return TenantTriage{}, err
	}
	out := TenantTriage{Read: n, Limited: limited, Notes: notes}
	if limited {
		out.Notes = append(out.Notes, fmt.Sprintf("stopped at %d events; later events were not read", limit))
	}
	unresolved, note, err := src.resolveNames(ctx, tr)
	if err != nil {
		return TenantTriage{}, err
	}
	if note != "" {
		out.Notes = append(out.Notes, note)
	}
	out.UnresolvedNames = unresolved
	out.TriageResult = tr.Result()
	out.Fingerprints = FingerprintsOfTriage(fps, out.TriageResult)
	return out, nil
}

// NameResolver holds accounts that events name only by user name (email):
// the triage and the detectors that read pwd_leak and captcha failures.
type NameResolver interface {
	UnresolvedNames() []string
	ResolveNames(ids map[string]string)
}

// resolveTriageNames looks up, by email, the user names that events name
// without a user id (a targeted account that never signed in shows up only
// in captcha failures or pwd_leak), a batch of names per user search. It
// returns how many stayed unresolved.
func resolveTriageNames(ctx context.Context, c *auth0client.Client, tr NameResolver) (int, string, error) {
	var names []string
	for _, n := range tr.UnresolvedNames() {
		// Only plausible emails: the rest cannot match a user search.
		if strings.Contains(n, "@") && len(n) <= 254 && !strings.ContainsAny(n, "\x00\r\n\t \"\\*") && auth0client.Clean(n) == n {
			names = append(names, n)
		}
	}
	all := len(tr.UnresolvedNames())
	note := ""
	if len(names) > maxResolveNames {
		note = fmt.Sprintf("%d user names to look up; looked up the first %d", len(names), maxResolveNames)
		names = names[:maxResolveNames]
	}
	ids := map[string]string{}
	for i := 0; i < len(names); i += resolveBatch {
		batch := names[i:min(i+resolveBatch, len(names))]
		terms := make([]string, len(batch))
		for j, n := range batch {
			terms[j] = "email:" + LuceneQuote(n)
		}
		page, err := c.SearchUsers(ctx, strings.Join(terms, " OR "), 0, auth0client.MaxPerPage)
		if err != nil {
			return 0, "", fmt.Errorf("look up tried user names: %w", err)
		}
		for _, u := range page.Users {
			if e := strings.ToLower(u.Email); e != "" {
				ids[e] = u.ID
			}
		}
	}
	tr.ResolveNames(ids)
	return all - len(ids), note, nil
}
