package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
)

// helpView is the `?` screen, generated from the keymap so it cannot drift
// from what the keys do.
func helpView(st *styles, k keyMap, pageHints []key.Binding, w int) string {
	type group struct {
		title string
		keys  []key.Binding
	}
	render := func(gs []group) string {
		var b strings.Builder
		for i, g := range gs {
			if len(g.keys) == 0 {
				continue
			}
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(st.bold.Render(g.title) + "\n")
			for _, kb := range g.keys {
				h := kb.Help()
				fmt.Fprintf(&b, "  %-10s %s\n", h.Key, h.Desc)
			}
		}
		return strings.TrimRight(b.String(), "\n")
	}
	// Balanced so that 80×24 holds it all: the command list is long.
	left := render([]group{
		{"This page", pageHints},
		{"Move", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}},
		{"Lists", []key.Binding{k.Mark, k.Filter, k.SortNext, k.SortPrev, k.SortReverse, k.Copy}},
		{"Dangerous (asks; default Cancel)", k.dangerous()},
	})
	right := render([]group{
		{"Everywhere", []key.Binding{k.Help, k.Palette, k.CommandLog, k.Back, k.Quit, k.ForceQuit}},
	})
	var cmds strings.Builder
	cmds.WriteString(st.bold.Render("Commands (:)"))
	for _, c := range paletteCommands {
		fmt.Fprintf(&cmds, "\n  %-10s %s", ":"+c.name, c.desc)
	}
	right += "\n\n" + cmds.String()
	var body string
	if w >= 2*38+4 {
		body = lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(w/2-2).Render(left), "  ", lipgloss.NewStyle().MaxWidth(w-w/2).Render(right))
	} else {
		body = left + "\n\n" + right
	}
	return st.title.Render("Keys") + "\n" + body +
		"\nKeys typed into a search or filter box go to the box: esc or enter leaves it. ? or esc closes this."
}

// hintLine is the footer: the page's keys then the global ones, as many as fit.
func hintLine(hints []key.Binding, w int) string {
	var parts []string
	used := 0
	for _, h := range hints {
		if !h.Enabled() {
			continue
		}
		s := h.Help().Key + " " + h.Help().Desc
		if used+len(s)+3 > w {
			break
		}
		parts = append(parts, s)
		used += len(s) + 3
	}
	return strings.Join(parts, " · ")
}
