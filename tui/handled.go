package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/responders"
)

// handledMsg carries what the current incident's journal says was done:
// the lists mark those rows, and their counts follow, after every run.
type handledMsg struct{ h responders.Handled }

// loadHandled reads the current incident's journal in a Cmd.
func (sh *shared) loadHandled() tea.Cmd {
	o := sh.opts
	if o.Incidents == nil || o.Incident == "" {
		return nil
	}
	store, id := o.Incidents, o.Incident
	return func() tea.Msg {
		recs, err := store.Load(id)
		if err != nil && len(recs) == 0 {
			return nil
		}
		return handledMsg{responders.HandledFrom(recs)}
	}
}

// anyHandled reports whether the incident has handled anything yet: the
// lists add their handled column only then.
func (sh *shared) anyHandled() bool { return sh.handledAny }

// userHandled is an account's mark: "contained", "reset", "blocked" or "".
func (sh *shared) userHandled(id string) string {
	return sh.handled.Users[id].Label()
}

// networkHandled is an address's or network's mark: "blocked" when the
// managed Network ACL covers it.
func (sh *shared) networkHandled(target string) string {
	if sh.handled.NetworkBlocked(target) {
		return "blocked"
	}
	return ""
}

// countHandled counts the ids the incident has handled.
func (sh *shared) countHandled(ids []string) int {
	n := 0
	for _, id := range ids {
		if sh.userHandled(id) != "" {
			n++
		}
	}
	return n
}

// handledNote is " · N handled" for a count line, or "" when none is.
func handledNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" · %d handled", n)
}
