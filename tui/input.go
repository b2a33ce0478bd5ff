package tui

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-runewidth"
)

// input is a one-line text box. Keys reach it only while it has focus, and
// then every printable key is text: a "C" or a "q" typed here is a letter,
// never an action. Control characters (a pasted ESC, say) are dropped.
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
func (in *input) SetValue(s string) {
	in.value = nil
	in.insert(s)
	in.pos = len(in.value)
}

func (in *input) insert(s string) {
	for _, r := range s {
		if unicode.IsControl(r) || isHiddenRune(r) {
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
	switch msg.Type {
	case tea.KeyRunes, tea.KeySpace:
		in.insert(string(msg.Runes))
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

// isHiddenRune mirrors auth0client's list of invisible or reordering
// runes, so the analyst cannot paste one into a query unseen.
func isHiddenRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f, r == 0xad, r == 0x61c, r == 0xfeff:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2060 && r <= 0x206f:
		return true
	}
	return false
}
