package tui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// confirmResult is what the analyst decided.
type confirmResult int

const (
	confirmPending confirmResult = iota
	confirmCancelled
	confirmAccepted
)

// confirm is the one way a dangerous action runs: the analyst types the
// target (a user id) back. Enter presses the highlighted button, which is
// Cancel until the typed text equals the target exactly; esc cancels.
// Every key goes to the input, so no letter can trigger anything else.
type confirm struct {
	want string
	what string // "the user id"
	in   input
}

func newConfirm(want, what string) *confirm {
	in := newInput("> ", what, 512)
	in.Focus()
	return &confirm{want: want, what: what, in: in}
}

// matches reports whether the typed text names the target exactly.
func (c *confirm) matches() bool { return c.want != "" && c.in.Value() == c.want }

func (c *confirm) update(msg tea.KeyMsg) (confirmResult, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEsc, tea.KeyCtrlC:
		return confirmCancelled, nil
	case tea.KeyEnter:
		if c.matches() {
			return confirmAccepted, nil
		}
		return confirmCancelled, nil
	}
	c.in.update(msg)
	return confirmPending, nil
}

func (c *confirm) view(st *styles) string {
	cancel, ok := "[ Cancel ]", "  Confirm  "
	if c.matches() {
		cancel, ok = "  Cancel  ", "[ Confirm ]"
		ok = st.bad.Render(ok)
	} else {
		cancel = st.bold.Render(cancel)
	}
	hint := "type " + c.what + " exactly to enable Confirm; enter presses the highlighted button; esc cancels"
	return "Type " + c.what + " to confirm:\n" + c.in.view(st, 60) + "\n\n" + cancel + "  " + ok + "\n" + st.dim.Render(hint)
}
