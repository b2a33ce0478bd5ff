package tui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/eventstore"
	"github.com/atoctl/atoctl/responders"
)

// syncEvery is how often the console syncs the event store in the
// background: views then read a store younger than
// responders.DefaultStoreMaxAge and send no log request.
const syncEvery = 30 * time.Second

// storeFreshness is what the header says about the event store.
type storeFreshness struct {
	syncing  bool
	syncedAt time.Time
	err      string
}

// storeSyncedMsg ends a background sync.
type storeSyncedMsg struct {
	at  time.Time
	err error
}

// syncTickMsg starts the next background sync.
type syncTickMsg struct{}

// events is where the views read events.
func (o *Options) events() responders.EventSource {
	if o.Events.Store != nil {
		return o.Events
	}
	return responders.APIEvents(o.Client)
}

// storeState reads how fresh the store is (no request): the first
// background sync starts syncEvery later, so it never races the first
// page's own read of the tenant.
func (m *Model) storeState() tea.Cmd {
	src := m.sh.opts.Events
	if src.Store == nil || src.Client == nil {
		return nil
	}
	ctx := m.sh.ctx
	return func() tea.Msg {
		f, err := src.Store.Feed(ctx, eventstore.FeedAPI)
		return storeSyncedMsg{at: f.CaughtUpAt, err: err}
	}
}

// syncEvents syncs the store's window (Options.Since) in a Cmd; nil
// without a store.
func (m *Model) syncEvents() tea.Cmd {
	src := m.sh.opts.Events
	if src.Store == nil || src.Client == nil {
		return nil
	}
	m.store.syncing = true
	ctx, since := m.sh.ctx, m.sh.now().Add(-m.sh.opts.Since)
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		res, err := responders.SyncEvents(ctx, src.Client, src.Store, since, nil)
		return storeSyncedMsg{at: res.Feed.CaughtUpAt, err: err}
	}
}

func (m *Model) storeUpdate(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case storeSyncedMsg:
		m.store.syncing = false
		m.store.err = ""
		if msg.err != nil {
			m.store.err = "sync failed"
		} else {
			m.store.syncedAt = msg.at
		}
		return tea.Tick(syncEvery, func(time.Time) tea.Msg { return syncTickMsg{} })
	case syncTickMsg:
		return m.syncEvents()
	}
	return nil
}

// freshness is the header's note on the event store: " │ events: synced
// 12s ago" ("" without a store).
func (m *Model) freshness() string {
	if m.sh.opts.Events.Store == nil {
		return ""
	}
	s := m.store
	switch {
	case s.err != "":
		return " │ events: " + s.err
	case s.syncedAt.IsZero() && s.syncing:
		return " │ events: syncing…"
	case s.syncedAt.IsZero():
		return " │ events: not synced yet"
	}
	return " │ events: synced " + responders.Age(m.sh.now().Sub(s.syncedAt)) + " ago"
}
