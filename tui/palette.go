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
}

func newPalette() *palette {
	in := newInput(":", "users, logs [IP], ip ADDR, detect [24h], triage [24h], bulk, incident, posture, q", 200)
	in.Focus()
	return &palette{in: in}
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
				return true, func() tea.Msg { return paletteRunMsg{c.name, arg} }
			}
		}
		p.err = "unknown command :" + name + " (try :users, :logs, :ip, :detect, :triage, :bulk, :incident, :posture, :q)"
		return false, nil
	case tea.KeyTab:
		// Complete the command name.
		v := p.in.Value()
		for _, c := range paletteCommands {
			if v != "" && strings.HasPrefix(c.name, v) {
				p.in.SetValue(c.name + " ")
				break
			}
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
