package tui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/mattn/go-runewidth"

	"github.com/atoctl/atoctl/auth0client"
)

// column is one column of a list.
type column struct {
	title string
	min   int // width it never goes below
	flex  int // share of the spare width (0: stays at min)
	drop  int // dropped when the terminal is too narrow, highest first (0: never)
}

// rowSource supplies a list's rows. Cells are display text; the list cleans
// them again as they are drawn, so nothing raw reaches the terminal even if
// a source forgets.
type rowSource interface {
	Len() int
	Cells(i int) []string
	// Flag marks a row that needs the analyst's eye (blocked, ASN changed):
	// drawn with a "!" and the warning colour.
	Flag(i int) bool
}

// list is the virtualised table every page uses: it draws only the rows
// that fit on screen, so its cost per keystroke does not depend on how many
// rows it holds.
type list struct {
	cols   []column
	src    rowSource
	order  []int // rows shown, in order; nil: all rows in source order
	cursor int   // position in the shown rows
	offset int   // first shown row on screen

	width, height int // height includes the header line

	// match returns the byte offsets to highlight in row's cells (one slice
	// per column), or nil. Set while a fuzzy filter is active.
	match func(row int) [][]int

	layoutWidth int
	widths      []int // per column; 0: dropped
}

func newList(cols []column) *list { return &list{cols: cols} }

// setSource replaces the rows and resets the cursor.
func (l *list) setSource(src rowSource) {
	l.src, l.order, l.cursor, l.offset, l.match = src, nil, 0, 0, nil
}

// setOrder shows only these rows (a filter), best first; nil shows all.
func (l *list) setOrder(order []int) {
	l.order, l.cursor, l.offset = order, 0, 0
}

func (l *list) setSize(w, h int) {
	l.width, l.height = w, max(h, 2)
	l.clamp()
}

// len is the number of rows shown.
func (l *list) len() int {
	if l.src == nil {
		return 0
	}
	if l.order != nil {
		return len(l.order)
	}
	return l.src.Len()
}

// selected returns the source index of the row under the cursor.
func (l *list) selected() (int, bool) {
	if l.len() == 0 {
		return 0, false
	}
	return l.rowAt(l.cursor), true
}

func (l *list) rowAt(pos int) int {
	if l.order != nil {
		return l.order[pos]
	}
	return pos
}

func (l *list) visibleRows() int { return max(l.height-1, 1) }

func (l *list) moveBy(n int) {
	l.cursor += n
	l.clamp()
}

func (l *list) clamp() {
	n := l.len()
	l.cursor = max(0, min(l.cursor, n-1))
	vis := l.visibleRows()
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+vis {
		l.offset = l.cursor - vis + 1
	}
	l.offset = max(0, min(l.offset, n-vis))
}

// update moves the cursor; it reports whether the key was a movement.
func (l *list) update(msg tea.KeyMsg, k keyMap) bool {
	switch {
	case key.Matches(msg, k.Up):
		l.moveBy(-1)
	case key.Matches(msg, k.Down):
		l.moveBy(1)
	case key.Matches(msg, k.PageUp):
		l.moveBy(-l.visibleRows())
	case key.Matches(msg, k.PageDown):
		l.moveBy(l.visibleRows())
	case key.Matches(msg, k.Top):
		l.cursor = 0
		l.clamp()
	case key.Matches(msg, k.Bottom):
		l.cursor = l.len() - 1
		l.clamp()
	default:
		return false
	}
	return true
}

// layout decides column widths for the current width: narrow terminals
// drop the least useful columns, wide ones give the spare to flex columns.
func (l *list) layout() {
	if l.layoutWidth == l.width && l.widths != nil {
		return
	}
	l.layoutWidth = l.width
	l.widths = make([]int, len(l.cols))
	on := make([]bool, len(l.cols))
	for i := range on {
		on[i] = true
	}
	need := func() int {
		n, sum := 0, 0
		for i, c := range l.cols {
			if on[i] {
				n++
				sum += c.min
			}
		}
		return sum + n - 1 + 2 // separators and the cursor/flag gutter
	}
	for need() > l.width {
		worst, at := 0, -1
		for i, c := range l.cols {
			if on[i] && c.drop > worst {
				worst, at = c.drop, i
			}
		}
		if at < 0 {
			break
		}
		on[at] = false
	}
	spare := max(0, l.width-need())
	flex := 0
	for i, c := range l.cols {
		if on[i] {
			flex += c.flex
		}
	}
	given := 0
	lastFlex := -1
	for i, c := range l.cols {
		if !on[i] {
			continue
		}
		l.widths[i] = c.min
		if flex > 0 && c.flex > 0 {
			extra := spare * c.flex / flex
			l.widths[i] += extra
			given += extra
			lastFlex = i
		}
	}
	if lastFlex >= 0 {
		l.widths[lastFlex] += spare - given
	}
}

// view draws the header and the visible rows, exactly height lines.
func (l *list) view(st *styles) string {
	l.layout()
	var b strings.Builder
	b.Grow((l.width + 16) * l.height)
	// Header.
	b.WriteString("  ")
	first := true
	for i, c := range l.cols {
		if l.widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		b.WriteString(fitCell(strings.ToUpper(c.title), l.widths[i], nil, paint{}, paint{}))
	}
	lines := 1
	vis := l.visibleRows()
	n := l.len()
	for pos := l.offset; pos < n && pos < l.offset+vis; pos++ {
		b.WriteByte('\n')
		lines++
		row := l.rowAt(pos)
		cells := l.src.Cells(row)
		var marks [][]int
		if l.match != nil {
			marks = l.match(row)
		}
		var base paint
		gutter := []byte("  ")
		if l.src.Flag(row) {
			gutter[1] = '!'
			base = st.rowWarn
		}
		if pos == l.cursor {
			gutter[0] = '>'
			base = st.rowSelected
		}
		b.WriteString(base.on)
		b.Write(gutter)
		first := true
		for i := range l.cols {
			if l.widths[i] == 0 {
				continue
			}
			if !first {
				b.WriteByte(' ')
			}
			first = false
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			var m []int
			if i < len(marks) {
				m = marks[i]
			}
			b.WriteString(fitCell(cell, l.widths[i], m, st.match, base))
		}
		if base.on != "" {
			b.WriteString(resetSeq)
		}
	}
	for ; lines < l.height; lines++ {
		b.WriteByte('\n')
	}
	return b.String()
}

// fitCell cleans s, cuts it to w cells (ending in "…" when cut) and pads it.
// marks are byte offsets into the cleaned text to paint with hl; base is the
// row's paint, re-opened after each highlight.
func fitCell(s string, w int, marks []int, hl, base paint) string {
	s = auth0client.Clean(s)
	if len(marks) == 0 || hl.on == "" {
		sw := runewidth.StringWidth(s)
		if sw <= w {
			return s + strings.Repeat(" ", w-sw)
		}
		t := runewidth.Truncate(s, w, "…")
		return t + strings.Repeat(" ", w-runewidth.StringWidth(t))
	}
	var b strings.Builder
	sw := runewidth.StringWidth(s)
	limit := w
	if sw > w {
		limit = w - 1 // room for the ellipsis
	}
	used, mi := 0, 0
	for i, r := range s {
		rw := runewidth.RuneWidth(r)
		if used+rw > limit {
			break
		}
		for mi < len(marks) && marks[mi] < i {
			mi++
		}
		if mi < len(marks) && marks[mi] == i {
			b.WriteString(hl.on)
			b.WriteRune(r)
			b.WriteString(resetSeq)
			b.WriteString(base.on)
		} else {
			b.WriteRune(r)
		}
		used += rw
	}
	if sw > w {
		b.WriteString("…")
		used++
	}
	if used < w {
		b.WriteString(strings.Repeat(" ", w-used))
	}
	return b.String()
}
