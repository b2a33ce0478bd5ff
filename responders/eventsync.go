package responders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/eventstore"
)

// SyncMargin is how far before a window's start a sync begins paging:
// Auth0 numbers events as it ingests them, seconds to minutes after they
// happened, so the first event dated in the window is not always the first
// one ingested for it.
const SyncMargin = 15 * time.Minute

// SyncProgress is how far a sync got, told after every stored page.
type SyncProgress struct {
	// Pages read, events Fetched, of them Added (new to the store).
	Pages, Fetched, Added int
	// Newest is the date of the last event fetched.
	Newest time.Time
}

// SyncResult is what a sync did.
type SyncResult struct {
	SyncProgress
	// Feed is the API feed's state afterwards.
	Feed eventstore.Feed
	// Backfilled reports that the window reached before what the store held.
	Backfilled bool
}

// SyncEvents fills the store with the tenant's events since since by
// checkpoint paging (GET /api/v2/logs?from=…&take=100), from where the last
// sync stopped: each page is stored with its checkpoint in one transaction,
// so an interrupted sync loses at most the page in flight and the next one
// fetches only what is missing. A window older than what the store holds is
// paged from its start up to the held run, then the sync jumps to the
// checkpoint. Events are kept once (by log_id) however often they come.
func SyncEvents(ctx context.Context, c *auth0client.Client, st *eventstore.Store, since time.Time, progress func(SyncProgress)) (SyncResult, error) {
	var res SyncResult
	defer st.LockSync()()
	f, err := st.Feed(ctx, eventstore.FeedAPI)
	if err != nil {
		return res, err
	}
	page := func(batch []auth0client.RawLog, feed eventstore.Feed) error {
		added, err := st.Append(ctx, feed, batch)
		if err != nil {
			return err
		}
		res.Pages++
		res.Fetched += len(batch)
		res.Added += added
		if len(batch) > 0 {
			res.Newest = batch[len(batch)-1].Event.Date
		}
		if progress != nil {
			progress(res.SyncProgress)
		}
		return nil
	}
	if f.Checkpoint == "" || since.Before(f.CoversFrom) {
		first, oldest, err := windowStart(ctx, c, since)
		if err != nil {
			return res, err
		}
		f.TenantOldest = oldest
		switch {
		case first == nil && f.Checkpoint == "":
			// Nothing in the window yet: the store covers it, empty.
			f.CoversFrom, f.CaughtUpAt, f.LastAt = since, time.Now().UTC(), time.Now().UTC()
			if err := page(nil, f); err != nil {
				return res, err
			}
			res.Feed = f
			return res, nil
		case f.Checkpoint == "":
			f.StartID, f.Checkpoint, f.CoversFrom, f.LastAt = first.Event.ID, first.Event.ID, since, time.Now().UTC()
			if err := page([]auth0client.RawLog{*first}, f); err != nil {
				return res, err
			}
		case first != nil && first.Event.ID < f.StartID:
			res.Backfilled = true
			if err := backfill(ctx, c, st, first, f, page); err != nil {
				return res, err
			}
			f.StartID, f.CoversFrom = first.Event.ID, since
			if err := page(nil, f); err != nil {
				return res, err
			}
		default:
			// The tenant holds nothing older than the run already stored.
			f.CoversFrom = since
			if err := page(nil, f); err != nil {
				return res, err
			}
		}
	}
	for {
		started := time.Now().UTC()
		batch, err := c.RawLogsAfter(ctx, f.Checkpoint, auth0client.MaxPerPage)
		if err != nil {
			return res, fmt.Errorf("sync events after %s: %w", f.Checkpoint, err)
		}
		if len(batch) > 0 {
			f.Checkpoint = batch[len(batch)-1].Event.ID
		}
		f.LastAt = started
		if len(batch) < auth0client.MaxPerPage {
			f.CaughtUpAt = started
		}
		if err := page(batch, f); err != nil {
			return res, err
		}
		if len(batch) < auth0client.MaxPerPage {
			res.Feed = f
			return res, nil
		}
	}
}

// windowStart finds the first event ingested for the window (the oldest
// event dated since since − SyncMargin: checkpoint paging needs an id
// to start from) and the tenant's oldest retained event.
func windowStart(ctx context.Context, c *auth0client.Client, since time.Time) (*auth0client.RawLog, time.Time, error) {
	q := "date:[" + since.Add(-SyncMargin).UTC().Format(time.RFC3339Nano) + " TO *]"
	first, err := c.RawSearchLogs(ctx, auth0client.LogQuery{Q: q, PerPage: 1, Ascending: true})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("find the start of the window: %w", err)
	}
	oldest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1, Ascending: true})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("find the tenant's oldest event: %w", err)
	}
	var old time.Time
	if len(oldest) > 0 {
		old = oldest[0].Date
	}
	if len(first) == 0 {
		return nil, old, nil
	}
	return &first[0], old, nil
}

// backfill pages from first up to the run the store already holds
// (f.StartID), storing what it reads without moving the feed's state: the
// run stays contiguous only once the gap is closed.
func backfill(ctx context.Context, c *auth0client.Client, st *eventstore.Store, first *auth0client.RawLog, f eventstore.Feed, page func([]auth0client.RawLog, eventstore.Feed) error) error {
	if err := page([]auth0client.RawLog{*first}, f); err != nil {
		return err
	}
	from := first.Event.ID
	for from < f.StartID {
		batch, err := c.RawLogsAfter(ctx, from, auth0client.MaxPerPage)
		if err != nil {
			return fmt.Errorf("sync events after %s: %w", from, err)
		}
		var keep []auth0client.RawLog
		for _, e := range batch {
			if e.Event.ID >= f.StartID {
				break
			}
			keep = append(keep, e)
		}
		if err := page(keep, f); err != nil {
			return err
		}
		if len(keep) < len(batch) || len(batch) < auth0client.MaxPerPage {
			return nil
		}
		from = batch[len(batch)-1].Event.ID
	}
	return nil
}

// NamesPrepared is what PrepareNames looked up.
type NamesPrepared struct {
	// Asked counts the user names the window's events give without an
	// account id; Known those the store had looked up within
	// eventstore.NameMaxAge; Unresolved those no account holds (the most
	// any one view is left with).
	Asked, Known, Unresolved int
	// Note: the look-up stopped at its cap (see resolveTriageNames).
	Note string
}

// PrepareNames looks up, once, the user names that the store's events
// since since give without an account id, as a triage of that window
// would, and keeps the answers in the store: the first view after a sync
// then sends no user search. (On the credential-stuffing training tenant
// these are about 2,800 names, 112 user searches: 7–10 s at the tenant's
// rate limit, which the first triage after a sync otherwise paid.)
func PrepareNames(ctx context.Context, src EventSource, since time.Time) (NamesPrepared, error) {
	if src.Store == nil {
		return NamesPrepared{}, errors.New("prepare user names: no event store")
	}
	tr := NewTriage(TriageConfig{Since: since})
	if _, err := src.Store.Briefs(ctx, eventstore.Query{Since: since, Stored: true}, func(b *eventstore.Brief) error {
		tr.Add(triageEventOf(b))
		return nil
	}); err != nil {
		return NamesPrepared{}, err
	}
	// The detectors that look names up (breached passwords: pwd_leak
	// events without an id) read only these types.
	d := NewDetection(DetectConfig{Since: since})
	if _, err := src.Store.Events(ctx, eventstore.Query{Since: since, Types: []string{"pwd_leak", "s", "scp"}, Stored: true}, func(e auth0client.LogEvent) error {
		d.Add(e)
		return nil
	}); err != nil {
		return NamesPrepared{}, err
	}
	resolvers := []NameResolver{tr}
	for _, det := range d.detectors {
		if r, ok := det.(NameResolver); ok {
			resolvers = append(resolvers, r)
		}
	}
	var asked []string
	for _, r := range resolvers {
		asked = append(asked, r.UnresolvedNames()...)
	}
	slices.Sort(asked)
	asked = slices.Compact(asked)
	known, err := src.Store.KnownNames(ctx, asked, src.now())
	if err != nil {
		return NamesPrepared{}, err
	}
	out := NamesPrepared{Asked: len(asked), Known: len(known)}
	for _, r := range resolvers {
		// A name the triage looked up is known to the next resolver.
		unresolved, note, err := src.resolveNames(ctx, r)
		if err != nil {
			return NamesPrepared{}, err
		}
		out.Unresolved = max(out.Unresolved, unresolved)
		if note != "" {
			out.Note = note
		}
	}
	return out, nil
}
