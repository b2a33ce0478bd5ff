package tui

import (
	"encoding/base64"
	"fmt"
	"io"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
)

// copier is a page with something to copy under the cursor: an id or an
// address (y).
type copier interface {
	copyText() (string, bool)
}

// osc52 is the OSC 52 sequence that asks the terminal (and tmux, with
// set-clipboard on) to put text on the system clipboard. The text is
// cleaned first: attacker text must not carry escapes into the terminal.
func osc52(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(auth0client.Clean(text))) + "\a"
}

// copyCmd writes the OSC 52 sequence to the console's terminal and says
// what was copied.
func (sh *shared) copyCmd(text string) tea.Cmd {
	clean := auth0client.Clean(text)
	if clean == "" {
		return toast("nothing to copy here", true)
	}
	w := sh.opts.Clipboard
	return func() tea.Msg {
		if w == nil {
			return toastMsg{text: "no terminal to copy to", err: true}
		}
		if _, err := io.WriteString(w, osc52(clean)); err != nil {
			return toastMsg{text: "copy: " + err.Error(), err: true}
		}
		return toastMsg{text: fmt.Sprintf("copied %s (OSC 52)", clean)}
	}
}

// copySecretCmd copies a credential (a ticket URL) without naming it in
// the toast.
func (sh *shared) copySecretCmd(secret, what string) tea.Cmd {
	w := sh.opts.Clipboard
	return func() tea.Msg {
		if w == nil {
			return toastMsg{text: "no terminal to copy to", err: true}
		}
		if _, err := io.WriteString(w, osc52(secret)); err != nil {
			return toastMsg{text: "copy: " + err.Error(), err: true}
		}
		return toastMsg{text: "copied " + what + " (OSC 52): it is a credential"}
	}
}

func (p *usersPage) copyText() (string, bool) {
	u, ok := p.selected()
	return u.ID, ok
}

func (p *userPage) copyText() (string, bool) {
	if ip := p.selectedIP(); ip != "" && p.tab != tabProfile {
		return ip, true
	}
	return p.id, true
}

func (p *findingsPage) copyText() (string, bool) {
	if i, ok := p.list.selected(); ok {
		return p.findings[i].ID, true
	}
	return "", false
}

func (p *findingPage) copyText() (string, bool) {
	if i, ok := p.accts.selected(); ok && p.f.Accounts[i].UserID != "" {
		return p.f.Accounts[i].UserID, true
	}
	return p.f.ID, true
}

func (p *triagePage) copyText() (string, bool) {
	if p.tab == 2 && p.res != nil {
		if i, ok := p.acctList.selected(); ok {
			return p.res.Accounts[i].UserID, true
		}
		return "", false
	}
	return p.selectedTarget()
}

func (p *ipPage) copyText() (string, bool) {
	if i, ok := p.accts.selected(); ok {
		return p.verdict[i].UserID, true
	}
	return p.target, true
}

func (p *logsPage) copyText() (string, bool) {
	e, ok := p.selected()
	if !ok {
		return "", false
	}
	if e.IP != "" {
		return e.IP, true
	}
	return e.UserID, e.UserID != ""
}

func (p *incidentPage) copyText() (string, bool) {
	if i, ok := p.list.selected(); ok && p.records[i].UserID != "" {
		return p.records[i].UserID, true
	}
	return p.id, p.id != ""
}
