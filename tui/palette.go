package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

// paletteCommand is one `:` command.
type paletteCommand struct {
	name, desc string
}

// paletteCommands are the console's `:` commands.
var paletteCommands = []paletteCommand{
	{"users", "search users"},
	{"logs", "tenant logs [IP|CIDR]"},
	{"ip", "an address: ADDR [72h]"},
	{"detect", "attacks found [24h]"},
	{"triage", "ranked attackers [24h]"},
	{"bulk", "resume a bulk run"},
	{"incident", "the incident's journal"},
	{"posture", "configuration checks"},
	{"q", "quit"},
}

// palette is the `:` command line.
type palette struct {
	in  input
	err string
	// history are the commands run before, oldest first (shared with the
	// console); at is the one shown while ↑/↓ browse (len: the new line).
	history *[]string
	at      int
}

func newPalette(history *[]string) *palette {
	in := newInput(":", "users, logs [IP], ip ADDR, detect [24h], triage [24h], bulk, incident, posture, q", 200)
	in.Focus()
	return &palette{in: in, history: history, at: len(*history)}
}

// remember adds a command line to the history (not twice in a row).
func (p *palette) remember(line string) {
	h := *p.history
	if len(h) > 0 && h[len(h)-1] == line {
		return
	}
	if len(h) >= 100 {
		h = h[1:]
	}
	*p.history = append(h, line)
}

// paletteRunMsg is a command the analyst entered.
type paletteRunMsg struct{ name, arg string }

// update returns done=true when the palette closes, with the command to run.
func (p *palette) update(msg tea.KeyMsg) (done bool, cmd tea.Cmd) {
	switch msg.Type {
	case tea.KeyEsc:
		return true, nil
	case tea.KeyEnter:
		fields := strings.Fields(p.in.Value())
		if len(fields) == 0 {
			return true, nil
		}
		name, arg := fields[0], strings.Join(fields[1:], " ")
		for _, c := range paletteCommands {
			if c.name == name || (name == "quit" && c.name == "q") {
				p.remember(strings.Join(fields, " "))
				return true, func() tea.Msg { return paletteRunMsg{c.name, arg} }
			}
		}
		p.err = "unknown command :" + name + " (try :users, :logs, :ip, :detect, :triage, :bulk, :incident, :posture, :q)"
		return false, nil
	case tea.KeyUp, tea.KeyDown:
		// Browse the commands run before.
		h := *p.history
		if msg.Type == tea.KeyUp && p.at > 0 {
			p.at--
		} else if msg.Type == tea.KeyDown && p.at < len(h) {
			p.at++
		}
		if p.at < len(h) {
			p.in.SetValue(h[p.at])
		} else {
			p.in.SetValue("")
		}
		return false, nil
	case tea.KeyTab:
		// Complete the command name: the one that matches, or what all
		// the matches share.
		v := p.in.Value()
		if v == "" || strings.Contains(v, " ") {
			return false, nil
		}
		var match []string
		for _, c := range paletteCommands {
			if strings.HasPrefix(c.name, v) {
				match = append(match, c.name)
			}
		}
		switch len(match) {
		case 0:
		case 1:
			p.in.SetValue(match[0] + " ")
		default:
			common := match[0]
			for _, m := range match[1:] {
				for !strings.HasPrefix(m, common) {
					common = common[:len(common)-1]
				}
			}
			p.in.SetValue(common)
		}
		return false, nil
	}
	p.err = ""
	p.in.update(msg)
	return false, nil
}

func (p *palette) view(st *styles, w int) string {
	line := p.in.view(st, w/2)
	if p.err != "" {
		line += "  " + st.toastError.Render(p.err)
	} else {
		var names []string
		for _, c := range paletteCommands {
			if strings.HasPrefix(c.name, strings.TrimSpace(p.in.Value())) {
				names = append(names, ":"+c.name)
			}
		}
		line += "  " + st.dim.Render(strings.Join(names, " "))
	}
	return line
}
