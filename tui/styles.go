package tui

import (
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles are the console's looks, built once from a renderer so that the
// colour profile (and NO_COLOR) is decided in one place. Under the ASCII
// profile every style renders as plain text, so nothing the analyst needs
// is carried by colour alone: the cursor is a ">" and warnings carry words.
// The colours are fixed ANSI ones, never lipgloss.AdaptiveColor: an
// adaptive colour makes the renderer query the terminal's background (a
// 5 s wait on terminals that do not answer; see Run).
type styles struct {
	r *lipgloss.Renderer

	header, footer, title, dim, bold lipgloss.Style
	live, dryRun, training           lipgloss.Style
	tabActive, tabInactive           lipgloss.Style
	modal, modalDanger               lipgloss.Style
	toastInfo, toastError            lipgloss.Style
	warn, bad, good                  lipgloss.Style
	input                            lipgloss.Style

	// paints are raw sequences for the list's hot path, where a lipgloss
	// Render per cell would cost more than the whole keystroke budget.
	rowSelected, rowWarn, match paint
}

// paint is a style as its opening sequence; "" under the ASCII profile.
type paint struct{ on string }

const resetSeq = "\x1b[0m"

func (p paint) wrap(s string) string {
	if p.on == "" || s == "" {
		return s
	}
	return p.on + s + resetSeq
}

func newPaint(profile termenv.Profile, st termenv.Style) paint {
	if profile == termenv.Ascii {
		return paint{}
	}
	s := st.Styled("x")
	// Styled wraps as on + "x" + reset; keep the opening part.
	if i := len(s) - len("x") - len(resetSeq); i > 0 {
		return paint{on: s[:i]}
	}
	return paint{}
}

func newStyles(r *lipgloss.Renderer) styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	s := styles{r: r}
	ns := r.NewStyle
	s.header = ns().Bold(true)
	s.footer = ns().Faint(true)
	s.title = ns().Bold(true)
	s.dim = ns().Faint(true)
	s.bold = ns().Bold(true)
	s.live = ns().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1"))
	s.dryRun = ns().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("3"))
	s.training = ns().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("6"))
	s.tabActive = ns().Bold(true).Underline(true)
	s.tabInactive = ns().Faint(true)
	s.modal = ns().Border(lipgloss.NormalBorder()).Padding(0, 1)
	s.modalDanger = s.modal.BorderForeground(lipgloss.Color("1"))
	s.toastInfo = ns().Foreground(lipgloss.Color("2"))
	s.toastError = ns().Bold(true).Foreground(lipgloss.Color("1"))
	s.warn = ns().Bold(true).Foreground(lipgloss.Color("3"))
	s.bad = ns().Bold(true).Foreground(lipgloss.Color("1"))
	s.good = ns().Foreground(lipgloss.Color("2"))
	s.input = ns()

	p := r.ColorProfile()
	s.rowSelected = newPaint(p, p.String().Reverse())
	s.rowWarn = newPaint(p, p.String().Foreground(p.Color("3")))
	s.match = newPaint(p, p.String().Bold().Underline().Foreground(p.Color("5")))
	return s
}
