package responders

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/eventstore"
)

// DefaultStoreMaxAge is how stale the store may be before a view syncs it
// first: a view opened within it after a sync (an IP from a triage, a bulk
// run from an IP) reads the store alone and sends no log request.
const DefaultStoreMaxAge = time.Minute

// EventSource is where the views (triage, detections, an IP's page, bulk
// discovery) read the tenant's events: the local store when one is given —
// synced first when it does not cover the window or is older than MaxAge —
// else the Management API.
type EventSource struct {
	Client *auth0client.Client
	// Tenant, when Client is nil, builds the client the first time one is
	// needed: a view the store answers alone (fresh, every user name known)
	// never waits for it. The training tenant is started so, in the
	// background, while the view reads the store.
	Tenant func(context.Context) (*auth0client.Client, error)
	// Store, if set, is read instead of the API.
	Store *eventstore.Store
	// MaxAge: 0 is DefaultStoreMaxAge.
	MaxAge time.Duration
	// Fill syncs a window the store does not cover before reading it; without
	// it such a window is read from the API (the console, whose background
	// sync fills the store, reads the API until the store covers the window).
	Fill bool
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// APIEvents reads the Management API directly.
func APIEvents(c *auth0client.Client) EventSource { return EventSource{Client: c} }

// tenant is the client, built on first need (see Tenant).
func (s EventSource) tenant(ctx context.Context) (*auth0client.Client, error) {
	if s.Client != nil || s.Tenant == nil {
		return s.Client, nil
	}
	return s.Tenant(ctx)
}

func (s EventSource) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Ready makes the store ready to answer for the window since since: a
// store that covers it is caught up when older than MaxAge; one that does
// not is filled when Fill is set. useStore is false when the window is to
// be read from the API (no store, or not covered and not Fill).
func (s EventSource) Ready(ctx context.Context, since time.Time) (f eventstore.Feed, useStore bool, err error) {
	if s.Store == nil {
		return eventstore.Feed{}, false, nil
	}
	maxAge := s.MaxAge
	if maxAge == 0 {
		maxAge = DefaultStoreMaxAge
	}
	fresh := func(f eventstore.Feed) bool { return f.Covers(since) && s.now().Sub(f.CaughtUpAt) <= maxAge }
	if f, err = s.Store.Feed(ctx, eventstore.FeedAPI); err != nil || fresh(f) {
		return f, err == nil, err
	}
	if !f.Covers(since) && !s.Fill {
		return f, false, nil
	}
	c, err := s.tenant(ctx)
	if err != nil {
		return f, false, err
	}
	if c == nil {
		return f, false, fmt.Errorf("the event store does not hold the window since %s and there is no tenant to sync it from", since.UTC().Format(time.RFC3339))
	}
	// Another sync of this process may be filling it: wait for it, look
	// again, and sync only if it still falls short.
	s.Store.LockSync()()
	if f, err = s.Store.Feed(ctx, eventstore.FeedAPI); err != nil || fresh(f) {
		return f, err == nil, err
	}
	res, err := SyncEvents(ctx, c, s.Store, since, nil)
	return res.Feed, err == nil, err
}

// storeNote says what a view read from the store: how fresh it is, and,
// when the window reaches past the tenant's oldest event, that nothing
// older was there to keep.
func (s EventSource) storeNotes(f eventstore.Feed, since time.Time) []string {
	notes := []string{fmt.Sprintf("events from the local store (%s), synced %s ago", s.Store.Path(), Age(s.now().Sub(f.CaughtUpAt)))}
	if !f.TenantOldest.IsZero() && f.TenantOldest.After(since.Add(time.Hour)) {
		notes = append(notes, fmt.Sprintf("the window reaches %s but the tenant's oldest event was from %s when the store was filled: nothing before it could be read (log retention is plan-dependent)",
			since.UTC().Format("2006-01-02 15:04Z"), f.TenantOldest.UTC().Format("2006-01-02 15:04Z")))
	}
	return notes
}

// Age is a short duration for freshness notes: "12s", "4m", "3h", "2d".
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// ReadSince hands every event since since to add (at most limit; limited
// reports that the limit stopped it) and returns what the analyst should
// know about where they came from.
func (s EventSource) ReadSince(ctx context.Context, since time.Time, limit int, add func(auth0client.LogEvent)) (n int, limited bool, notes []string, err error) {
	f, useStore, err := s.Ready(ctx, since)
	if err != nil {
		return 0, false, nil, err
	}
	if !useStore {
		return s.readAPISince(ctx, since, limit, add)
	}
	read := 0
	_, err = s.Store.Events(ctx, eventstore.Query{Since: since, Limit: limit + 1, Stored: true}, func(e auth0client.LogEvent) error {
		if read++; read <= limit {
			add(e)
		}
		return nil
	})
	if err != nil {
		return 0, false, nil, err
	}
	if read > limit {
		return limit, true, nil, nil
	}
	return read, false, s.storeNotes(f, since), nil
}

// readAPISince is ReadSince from the Management API, with the retention
// note when the window reaches past what the tenant keeps.
func (s EventSource) readAPISince(ctx context.Context, since time.Time, limit int, add func(auth0client.LogEvent)) (n int, limited bool, notes []string, err error) {
	c, err := s.tenant(ctx)
	if err != nil {
		return 0, false, nil, err
	}
	n, limited, err = ReadLogsSince(ctx, c, since, limit, add)
	if err == nil && !limited {
		if note := RetentionNote(ctx, c, since); note != "" {
			notes = append(notes, note)
		}
	}
	return n, limited, notes, err
}

// triageEventOf is a stored event's brief as triage weighs it.
func triageEventOf(b *eventstore.Brief) TriageEvent {
	return TriageEvent{LogID: b.LogID, Date: b.Date, Type: b.Type, IP: b.IP, UserID: b.UserID, UserName: b.UserName,
		Country: b.Country, Agent: AgentHash(b.UserAgent), RequiresVerification: b.RequiresVerification}
}

// readTriageSince is ReadSince for a triage: from the store it reads each
// event's brief only (Store.Briefs: no details to decode); add gets the
// event as triage weighs it and, for the fingerprint groups, the event
// whole from the API, or from the store its address, type and TLS
// fingerprints (nil when it has none).
func (s EventSource) readTriageSince(ctx context.Context, since time.Time, limit int, add func(TriageEvent, *auth0client.LogEvent)) (n int, limited bool, notes []string, err error) {
	f, useStore, err := s.Ready(ctx, since)
	if err != nil {
		return 0, false, nil, err
	}
	if !useStore {
		return s.readAPISince(ctx, since, limit, func(e auth0client.LogEvent) { add(TriageEventFrom(e), &e) })
	}
	read := 0
	_, err = s.Store.Briefs(ctx, eventstore.Query{Since: since, Limit: limit + 1, Stored: true}, func(b *eventstore.Brief) error {
		if read++; read <= limit {
			var fp *auth0client.LogEvent
			if b.JA3 != "" || b.JA4 != "" {
				fp = &auth0client.LogEvent{IP: b.IP, Type: b.Type, JA3: b.JA3, JA4: b.JA4}
			}
			add(triageEventOf(b), fp)
		}
		return nil
	})
	if err != nil {
		return 0, false, nil, err
	}
	if read > limit {
		return limit, true, nil, nil
	}
	return read, false, s.storeNotes(f, since), nil
}

// Search is SearchLogs over the source: from the store when it has one (the
// analyst's extra Lucene, which only Auth0 evaluates, goes to the API).
func (s EventSource) Search(ctx context.Context, q LogSearch) ([]auth0client.LogEvent, []string, error) {
	f, useStore, err := s.Ready(ctx, q.Since)
	if err != nil {
		return nil, nil, err
	}
	if !useStore || q.Query != "" {
		c, err := s.tenant(ctx)
		if err != nil {
			return nil, nil, err
		}
		events, err := SearchLogs(ctx, c, q)
		var notes []string
		if err == nil && (q.Limit == 0 || len(events) < q.Limit) {
			if note := RetentionNote(ctx, c, q.Since); note != "" {
				notes = append(notes, note)
			}
		}
		return events, notes, err
	}
	limit := q.Limit
	if limit <= 0 || limit > MaxSearchLimit {
		limit = MaxSearchLimit
	}
	var out []auth0client.LogEvent
	_, err = s.Store.Events(ctx, eventstore.Query{Since: q.Since, Network: q.Filter.Network, UserID: q.Filter.UserID, Types: q.Filter.Types,
		Limit: limit, NewestFirst: true}, func(e auth0client.LogEvent) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, s.storeNotes(f, q.Since), nil
}

// BulkRead is a BulkDiscovery's Read over the source: a target network's
// events in the window, newest first and capped as a log search is, handed
// to the triage as they are read (from the store, their briefs only).
func (s EventSource) BulkRead(since time.Time) func(ctx context.Context, p netip.Prefix, add func(TriageEvent)) (int, error) {
	return func(ctx context.Context, p netip.Prefix, add func(TriageEvent)) (int, error) {
		_, useStore, err := s.Ready(ctx, since)
		if err != nil {
			return 0, err
		}
		if !useStore {
			c, err := s.tenant(ctx)
			if err != nil {
				return 0, err
			}
			events, err := SearchLogs(ctx, c, LogSearch{Filter: LogFilter{Network: &p}, Since: since, Limit: MaxSearchLimit})
			for _, e := range events {
				add(TriageEventFrom(e))
			}
			return len(events), err
		}
		return s.Store.Briefs(ctx, eventstore.Query{Since: since, Network: &p, Limit: MaxSearchLimit, NewestFirst: true}, func(b *eventstore.Brief) error {
			add(triageEventOf(b))
			return nil
		})
	}
}

// BulkResolve is a BulkDiscovery's Resolve over the source: the names the
// store looked up (logs sync does, for its window) answer first, the
// tenant's user search the rest.
func (s EventSource) BulkResolve() func(ctx context.Context, r NameResolver) error {
	return func(ctx context.Context, r NameResolver) error {
		_, _, err := s.resolveNames(ctx, r)
		return err
	}
}

// knownNames hides the names the store already looked up from a resolver:
// the rest go to the tenant's user search.
type knownNames struct {
	NameResolver
	known  map[string]string
	looked map[string]string
}

func (k *knownNames) UnresolvedNames() []string {
	var out []string
	for _, n := range k.NameResolver.UnresolvedNames() {
		if _, ok := k.known[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

func (k *knownNames) ResolveNames(ids map[string]string) {
	k.looked = ids
	k.NameResolver.ResolveNames(ids)
}

// resolveNames looks up the user names r holds without an id (see
// resolveTriageNames); with a store, names it looked up within
// eventstore.NameMaxAge are answered from it, so a second view of the same
// window sends no user search either. It returns how many names stayed
// unresolved.
func (s EventSource) resolveNames(ctx context.Context, r NameResolver) (int, string, error) {
	if s.Store == nil {
		c, err := s.tenant(ctx)
		if err != nil {
			return 0, "", err
		}
		return resolveTriageNames(ctx, c, r)
	}
	now := s.now()
	asked := r.UnresolvedNames()
	known, err := s.Store.KnownNames(ctx, asked, now)
	if err != nil {
		return 0, "", err
	}
	found := map[string]string{}
	for n, id := range known {
		if id != "" {
			found[n] = id
		}
	}
	r.ResolveNames(found)
	k := &knownNames{NameResolver: r, known: known}
	pending := k.UnresolvedNames()
	unresolved, note := 0, ""
	if len(pending) > 0 {
		c, err := s.tenant(ctx)
		if err != nil {
			return 0, "", err
		}
		if unresolved, note, err = resolveTriageNames(ctx, c, k); err != nil {
			return 0, "", err
		}
	}
	// Keep what was looked up: the ids found and the names no account holds
	// (not those past the look-up cap, which were not asked).
	save := map[string]string{}
	if note == "" {
		for _, n := range pending {
			save[n] = k.looked[n]
		}
	} else {
		for n, id := range k.looked {
			save[n] = id
		}
	}
	if err := s.Store.SaveNames(ctx, save, now); err != nil {
		return 0, "", err
	}
	for _, id := range known {
		if id == "" {
			unresolved++
		}
	}
	return unresolved, note, nil
}
