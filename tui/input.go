package tui

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-runewidth"

	"github.com/atoctl/atoctl/auth0client"
)

// input is a one-line text box. Keys reach it only while it has focus, and
// then every printable key is text: a "C" or a "q" typed here is a letter,
// never an action. Control characters (a pasted ESC, say) and hidden runes
// (auth0client.IsHiddenRune) are dropped.
//
// Invariants, kept by every method: 0 <= pos <= len(value), and
// len(value) <= limit when limit > 0.
type input struct {
	prompt, placeholder string
	value               []rune
	pos                 int
	focused             bool
	limit               int
}

func newInput(prompt, placeholder string, limit int) input {
	return input{prompt: prompt, placeholder: placeholder, limit: limit}
}

func (in *input) Value() string  { return string(in.value) }
func (in *input) Focused() bool  { return in.focused }
func (in *input) Focus() tea.Cmd { in.focused = true; return nil }
func (in *input) Blur()          { in.focused = false }

// SetValue replaces the value (cleaned and cut to the limit like typed text)
// and puts the cursor at its end.
func (in *input) SetValue(s string) {
	// The cursor must move with the value: insert works at pos, and a pos
	// left over from the old value would be past the end of the new one.
	in.value = nil
	in.pos = 0
	in.insert(s)
	in.pos = len(in.value)
}

// clamp restores the invariants, in case value or pos was set directly.
func (in *input) clamp() {
	if in.limit > 0 && len(in.value) > in.limit {
		in.value = in.value[:in.limit]
	}
	in.pos = min(max(in.pos, 0), len(in.value))
}

// insert types s at the cursor, dropping control and hidden runes and
// whatever does not fit under the limit.
func (in *input) insert(s string) {
	in.clamp()
	for _, r := range s {
		if unicode.IsControl(r) || auth0client.IsHiddenRune(r) {
			continue
		}
		if in.limit > 0 && len(in.value) >= in.limit {
			return
		}
		in.value = append(in.value[:in.pos], append([]rune{r}, in.value[in.pos:]...)...)
		in.pos++
	}
}

// update edits the value; it reports whether the key was an edit.
func (in *input) update(msg tea.KeyMsg) bool {
	in.clamp()
	switch msg.Type {
	case tea.KeyRunes:
		in.insert(string(msg.Runes))
	case tea.KeySpace:
		// A space key may arrive without its rune (a synthesised message).
		if len(msg.Runes) == 0 {
			in.insert(" ")
		} else {
			in.insert(string(msg.Runes))
		}
	case tea.KeyBackspace:
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case tea.KeyDelete:
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case tea.KeyLeft:
		in.pos = max(0, in.pos-1)
	case tea.KeyRight:
		in.pos = min(len(in.value), in.pos+1)
	case tea.KeyHome, tea.KeyCtrlA:
		in.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		in.pos = len(in.value)
	case tea.KeyCtrlU:
		in.value = append([]rune(nil), in.value[in.pos:]...)
		in.pos = 0
	case tea.KeyCtrlK:
		in.value = in.value[:in.pos]
	case tea.KeyCtrlW:
		i := in.pos
		for i > 0 && in.value[i-1] == ' ' {
			i--
		}
		for i > 0 && in.value[i-1] != ' ' {
			i--
		}
		in.value = append(in.value[:i], in.value[in.pos:]...)
		in.pos = i
	default:
		return false
	}
	return true
}

// view draws the prompt and value in w cells; the cursor is a reverse
// block when focused (a "_" under the ASCII profile, so it stays visible).
func (in *input) view(st *styles, w int) string {
	in.clamp()
	var b strings.Builder
	b.WriteString(in.prompt)
	room := max(w-runewidth.StringWidth(in.prompt)-1, 4)
	if len(in.value) == 0 && !in.focused {
		return b.String() + st.dim.Render(runewidth.Truncate(in.placeholder, room, "…"))
	}
	// Scroll so the cursor stays in view.
	start := 0
	for in.focused && runewidth.StringWidth(string(in.value[start:in.pos])) > room-1 {
		start++
	}
	used := 0
	for i := start; i <= len(in.value); i++ {
		if in.focused && i == in.pos {
			c := " "
			if i < len(in.value) {
				c = string(in.value[i])
			}
			if st.rowSelected.on == "" {
				if c == " " {
					c = "_"
				}
				b.WriteString(c)
			} else {
				b.WriteString(st.rowSelected.wrap(c))
			}
			used += runewidth.StringWidth(c)
			continue
		}
		if i == len(in.value) {
			break
		}
		rw := runewidth.RuneWidth(in.value[i])
		if used+rw > room {
			break
		}
		b.WriteRune(in.value[i])
		used += rw
	}
	if len(in.value) == 0 && in.focused {
		b.WriteString(st.dim.Render(runewidth.Truncate(in.placeholder, max(room-1, 1), "…")))
	}
	return b.String()
}

// viewPlain is the prompt and value without colours (a list's status
// line), with "_" for the cursor at the end while focused.
func (in *input) viewPlain() string {
	s := in.prompt + string(in.value)
	if in.focused {
		s += "_"
	}
	return s
}
