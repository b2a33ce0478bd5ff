// Package termquery keeps atoctl from querying the terminal when it starts.
//
// Bubble Tea v1's package init asks lipgloss whether the terminal has a
// dark background, so that a program's first render does not wait on an
// answer once Bubble Tea owns the terminal. lipgloss asks the terminal
// (OSC 11, then a cursor report) and waits up to 5 s for a reply that
// script(1), some CI ptys and serial consoles never send. It does that on
// every run of the binary, since the init runs before main: a command that
// prints a table paid 5 s for a console it never opened.
//
// Importing this package answers the question first: Go initialises
// packages in import-path order among those whose imports are ready, and
// "github.com/atoctl/…" sorts before "github.com/charmbracelet/bubbletea",
// so this init runs right after lipgloss's and before Bubble Tea's. atoctl's
// styles use fixed ANSI colours, never adaptive ones, so the background is
// never needed; if the console ever needs it, it asks its own renderer
// before the program starts (see tui.Run).
package termquery

import "github.com/charmbracelet/lipgloss"

func init() {
	// Explicit, so the default renderer never queries the terminal.
	lipgloss.SetHasDarkBackground(true)
}
