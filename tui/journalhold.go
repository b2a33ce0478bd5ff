package tui

import (
	"context"
	"fmt"
	"sync"

	"github.com/atoctl/atoctl/responders"
)

// journalHold is the incident journal a modal (playbook or bulk) holds from
// planning until its run ends. The journal is opened in a Cmd while the
// analyst may already have closed the modal, so a release that comes first
// makes the late journal close at once.
type journalHold struct {
	mu       sync.Mutex
	j        *responders.Journal
	released bool
}

// open opens the current incident's journal from store and holds it. It
// fails without a store (every write is journaled: no journal, no run) and
// with context.Canceled when the modal was closed meanwhile.
func (h *journalHold) open(store *responders.Incidents) (*responders.Journal, error) {
	if store == nil {
		return nil, responders.ErrNoJournal
	}
	// Planning again (an option changed) keeps the journal already held.
	h.mu.Lock()
	if h.j != nil && !h.released {
		j := h.j
		h.mu.Unlock()
		return j, nil
	}
	h.mu.Unlock()
	j, err := store.Open("")
	if err != nil {
		return nil, fmt.Errorf("open the incident journal: %w", err)
	}
	if !h.hold(j) {
		return nil, context.Canceled
	}
	return j, nil
}

// hold keeps j; false (and j closed) when the modal was released already.
func (h *journalHold) hold(j *responders.Journal) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		_ = j.Close()
		return false
	}
	h.j = j
	return true
}

// release marks the modal closed: no journal is held after it.
func (h *journalHold) release() {
	h.mu.Lock()
	h.released = true
	h.mu.Unlock()
}

// close closes the held journal, if any.
func (h *journalHold) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.j != nil {
		_ = h.j.Close()
		h.j = nil
	}
}

// writer is the held journal to record into (nil when none).
func (h *journalHold) writer() responders.JournalWriter {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.j == nil {
		return nil // not an interface holding a nil *Journal
	}
	return h.j
}

// incident is the held journal's incident id and head hash ("" if none).
func (h *journalHold) incident() (id, head string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.j == nil {
		return "", ""
	}
	return h.j.Incident(), h.j.Head()
}
