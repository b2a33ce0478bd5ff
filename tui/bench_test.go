package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/table"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
	"github.com/sahilm/fuzzy"

	"github.com/atoctl/atoctl/auth0client"
)

// syntheticUsers makes n users shaped like the training tenant's, some with
// non-ASCII names (the filter's slow path) and hostile text (the cleaner's).
func syntheticUsers(n int) []auth0client.User {
	first := []string{"Sarah", "Zoë", "Lukas", "Amaka", "José", "Mia", "Noah", "Yuki", "Ümit", "Hannah", "Ravi", "Ngozi"}
	last := []string{"Singh", "Müller", "Okafor", "García", "Chen", "Andersson", "Rossi", "Tanaka", "Dubois", "Khan"}
	domains := []string{"gmail.com", "yahoo.com", "outlook.com", "gmx.de", "proton.me"}
	out := make([]auth0client.User, n)
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for i := range out {
		f, l := first[i%len(first)], last[(i/7)%len(last)]
		name := f + " " + l
		if i%997 == 0 {
			name = auth0client.Clean("\x1b[31m" + name + "\u202e")
		}
		out[i] = auth0client.User{
			ID:          fmt.Sprintf("auth0|%024x", i*7919),
			Name:        name,
			Email:       strings.ToLower(fmt.Sprintf("%s.%s%d@%s", f, l, i, domains[i%len(domains)])),
			Identities:  []auth0client.Identity{{Connection: "Username-Password-Authentication", Provider: "auth0"}},
			LastLogin:   t0.Add(-time.Duration(i) * time.Minute),
			LastIP:      fmt.Sprintf("%d.%d.%d.%d", 24+i%200, i%251, i%241, i%239),
			LoginsCount: int64(i % 300),
			Blocked:     i%113 == 0,
		}
	}
	return out
}

func colourRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(nil)
	r.SetColorProfile(termenv.ANSI256)
	return r
}

// BenchmarkCursorKeystroke100k is one ↓ on a 100,000-row users list and
// the re-render of the whole screen (cleaning, styles, chrome), against a
// plain bubbles v1.0.0 table of the same rows.
func BenchmarkCursorKeystroke100k(b *testing.B) {
	users := syntheticUsers(100_000)
	down := tea.KeyMsg{Type: tea.KeyDown}
	b.Run("console", func(b *testing.B) {
		m := New(Options{Renderer: colourRenderer(), Training: true})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m.users.search.Blur()
		m.users.setUsers(users)
		m.View()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%90_000 == 0 {
				m.users.list.cursor = 0
			}
			m.Update(down)
			_ = m.View()
		}
	})
	b.Run("bubbles-table", func(b *testing.B) {
		cols := []table.Column{{Title: "user", Width: 30}, {Title: "name", Width: 16}, {Title: "email", Width: 24},
			{Title: "connection", Width: 14}, {Title: "blocked", Width: 7}, {Title: "last login", Width: 16}, {Title: "last ip", Width: 15}, {Title: "logins", Width: 6}}
		rows := make([]table.Row, len(users))
		for i, u := range users {
			rows[i] = table.Row{u.ID, u.Name, u.Email, connectionOf(u), yesNo(u.Blocked), fmtTime(u.LastLogin), u.LastIP, fmt.Sprint(u.LoginsCount)}
		}
		t := table.New(table.WithColumns(cols), table.WithRows(rows), table.WithHeight(36), table.WithFocused(true))
		_ = t.View()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%90_000 == 0 {
				t.GotoTop()
			}
			t.MoveDown(1)
			_ = t.View()
		}
	})
}

// BenchmarkFuzzyKeystroke100k types "sarah" into the filter of 100,000
// rows, one keystroke per op (every fifth starts over on the full list),
// against sahilm/fuzzy over the full list for the same queries.
func BenchmarkFuzzyKeystroke100k(b *testing.B) {
	users := syntheticUsers(100_000)
	_, keys := newUserRows(users)
	query := "sarah"
	b.Run("console", func(b *testing.B) {
		ix := newFuzzyIndex(keys)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ix.filter(query[:i%len(query)+1])
		}
	})
	b.Run("console-first-keystroke", func(b *testing.B) {
		ix := newFuzzyIndex(keys)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ix.filter("")
			ix.filter("s")
		}
	})
	b.Run("sahilm-full-list", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			fuzzy.Find(query[:i%len(query)+1], keys)
		}
	})
}

// BenchmarkSortKeystroke100k is one ">" on a 100,000-row users list (sort
// by the next column, numbers by value) and the re-render, against
// sort.SliceStable of the same rows by one column's text (the baseline a
// plain table would need).
func BenchmarkSortKeystroke100k(b *testing.B) {
	users := syntheticUsers(100_000)
	next := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'>'}}
	b.Run("console", func(b *testing.B) {
		m := New(Options{Renderer: colourRenderer(), Training: true})
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		m.users.search.Blur()
		m.users.setUsers(users)
		m.View()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			m.Update(next)
			_ = m.View()
		}
	})
	b.Run("slices-sort-by-text", func(b *testing.B) {
		rows, _ := newUserRows(users)
		order := make([]int, len(users))
		for i := 0; i < b.N; i++ {
			for j := range order {
				order[j] = j
			}
			c := i % len(userColumns)
			slices.SortStableFunc(order, func(x, y int) int { return strings.Compare(rows.cells[x][c], rows.cells[y][c]) })
		}
	})
}
