package tui

import "github.com/charmbracelet/bubbles/key"

// keyMap is every key the console answers to, declared once: the footer
// hints and the `?` help are generated from it.
type keyMap struct {
	Quit, ForceQuit, Help, Palette, Back, CommandLog key.Binding
	Up, Down, PageUp, PageDown, Top, Bottom          key.Binding
	Open, Filter, Search, Refresh, Follow, Edit      key.Binding
	NextTab, PrevTab, Tab1, Tab2, Tab3, Tab4         key.Binding
	Logs, IP, Order, Export                          key.Binding
	Mark, SortNext, SortPrev, SortReverse, Copy      key.Binding
	// Contain and Bulk are dangerous: they only ever open a confirm modal.
	Contain, Bulk key.Binding
}

// dangerous lists the keys whose action changes the tenant. They are
// shifted keys and the only thing they do is open a confirmation.
func (k keyMap) dangerous() []key.Binding { return []key.Binding{k.Contain, k.Bulk} }

func defaultKeys() keyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return keyMap{
		Quit:        b("q", "quit", "q"),
		ForceQuit:   b("ctrl+c", "quit", "ctrl+c"),
		Help:        b("?", "help", "?"),
		Palette:     b(":", "command", ":"),
		Back:        b("esc", "back", "esc"),
		CommandLog:  b("ctrl+l", "API call log", "ctrl+l"),
		Up:          b("↑/k", "up", "up", "k"),
		Down:        b("↓/j", "down", "down", "j"),
		PageUp:      b("pgup", "page up", "pgup", "ctrl+b"),
		PageDown:    b("pgdn", "page down", "pgdown", "ctrl+f"),
		Top:         b("g", "top", "home", "g"),
		Bottom:      b("G", "bottom", "end", "G"),
		Open:        b("enter", "open", "enter"),
		Filter:      b("/", "filter", "/"),
		Search:      b("s", "search", "s"),
		Refresh:     b("r", "refresh", "r"),
		Follow:      b("f", "follow", "f"),
		Edit:        b("e", "edit filters", "e"),
		NextTab:     b("tab", "next tab", "tab"),
		PrevTab:     b("shift+tab", "previous tab", "shift+tab"),
		Tab1:        b("1", "profile", "1"),
		Tab2:        b("2", "logs", "2"),
		Tab3:        b("3", "sessions", "3"),
		Tab4:        b("4", "tokens", "4"),
		Logs:        b("l", "logs of this IP/user", "l"),
		IP:          b("i", "IP page", "i"),
		Order:       b("o", "takeovers first / by rank", "o"),
		Export:      b("x", "export report", "x"),
		Mark:        b("space", "mark a row", " "),
		SortNext:    b(">", "sort: next column", ">"),
		SortPrev:    b("<", "sort: previous col", "<"),
		SortReverse: b("~", "reverse the sort", "~"),
		Copy:        b("y", "copy id/address", "y"),
		Contain:     b("C", "contain (playbook)", "C"),
		Bulk:        b("X", "bulk-contain (IP/network)", "X"),
	}
}

// globalHints are shown in every footer after the page's own.
func (k keyMap) globalHints() []key.Binding {
	return []key.Binding{k.Help, k.Palette, k.CommandLog, k.Back, k.Quit}
}
