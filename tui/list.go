package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
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

	// base is the page's own order (nil: source order); order is base
	// narrowed by the list's filter and sorted by its column.
	base []int
	// marked are the source rows marked with space: X and C act on them.
	marked map[int]bool
	// handled labels a row the incident has already acted on
	// ("contained", "reset", "blocked"): drawn in the gutter's mark.
	handled func(row int) string
	// handledOn says whether to show the handled column at all (the
	// incident has handled something): no room is taken before that.
	handledOn func() bool

	// The list's own "/" filter (pages with a server-side search keep
	// their own) and column sort.
	filterBox  input
	filterText string
	index      *fuzzyIndex
	starts     [][]int // per row: where each column starts in its filter text
	sortCol    int     // 1-based column; 0: the page's order
	sortDesc   bool
	ownMatch   bool // match is the list filter's (not a page's)
}

func newList(cols []column) *list {
	return &list{cols: cols, filterBox: newInput("/", "filter the rows", 200)}
}

// setSource replaces the rows and keeps the filter, sort and marks of rows
// that are still there (a refresh after a run must not lose them).
func (l *list) setSource(src rowSource) {
	l.src, l.cursor, l.offset, l.index, l.starts, l.match = src, 0, 0, nil, nil, nil
	l.base = nil
	for r := range l.marked {
		if src == nil || r >= src.Len() {
			delete(l.marked, r)
		}
	}
	l.reorder()
}

// setOrder is the page's own order of the rows (best first); nil is the
// source order. The list's filter and sort apply on top.
func (l *list) setOrder(order []int) {
	l.base, l.cursor, l.offset = order, 0, 0
	l.reorder()
}

// reorder recomputes the shown rows from the page's order, the filter and
// the sort column.
func (l *list) reorder() {
	l.order = l.base
	if l.ownMatch {
		l.match, l.ownMatch = nil, false
	}
	if l.src == nil {
		return
	}
	if q := l.filterText; q != "" {
		ix := l.filterIndex()
		ranked := ix.filter(q)
		if ranked == nil {
			ranked = []int{}
		}
		if l.base != nil {
			// Keep the page's order among the matches.
			in := make(map[int]bool, len(ranked))
			for _, r := range ranked {
				in[r] = true
			}
			kept := make([]int, 0, len(ranked))
			for _, r := range l.base {
				if in[r] {
					kept = append(kept, r)
				}
			}
			ranked = kept
		}
		l.order = ranked
		l.match = func(row int) [][]int { return l.marksOf(row, highlights(q, ix.keys[row])) }
		l.ownMatch = true
	}
	if l.sortCol > 0 && l.sortCol <= len(l.cols) {
		if l.order == nil {
			l.order = make([]int, l.src.Len())
			for i := range l.order {
				l.order[i] = i
			}
		} else {
			l.order = append([]int(nil), l.order...)
		}
		c, desc := l.sortCol-1, l.sortDesc
		keys := make([]sortKey, l.src.Len()) // by row: no map in the comparisons
		for _, r := range l.order {
			cells := l.src.Cells(r)
			if c < len(cells) {
				keys[r] = newSortKey(cells[c])
			}
		}
		slices.SortStableFunc(l.order, func(a, b int) int {
			x := compareSortKeys(keys[a], keys[b])
			if desc {
				return -x
			}
			return x
		})
	}
	l.clamp()
}

// filterIndex builds the fuzzy index of the rows' cells once per source.
func (l *list) filterIndex() *fuzzyIndex {
	if l.index != nil {
		return l.index
	}
	n := l.src.Len()
	keys := make([]string, n)
	l.starts = make([][]int, n)
	var b strings.Builder
	for i := range n {
		b.Reset()
		cells := l.src.Cells(i)
		starts := make([]int, len(cells))
		for c, cell := range cells {
			if c > 0 {
				b.WriteByte(' ')
			}
			starts[c] = b.Len()
			b.WriteString(auth0client.Clean(cell))
		}
		keys[i] = b.String()
		l.starts[i] = starts
	}
	ix := newFuzzyIndex(keys)
	l.index = &ix
	return l.index
}

// marksOf splits a row's matched byte offsets per column.
func (l *list) marksOf(row int, offsets []int) [][]int {
	starts := l.starts[row]
	out := make([][]int, len(l.cols))
	for _, off := range offsets {
		for c := len(starts) - 1; c >= 0; c-- {
			if off >= starts[c] {
				if c < len(out) {
					out[c] = append(out[c], off-starts[c])
				}
				break
			}
		}
	}
	return out
}

// sortKey orders cells: numbers by value, before text; text by its
// lowercase form.
type sortKey struct {
	num   float64
	isNum bool
	text  string
}

func newSortKey(cell string) sortKey {
	t := strings.TrimSpace(cell)
	if f, err := strconv.ParseFloat(strings.TrimSuffix(t, "%"), 64); err == nil {
		return sortKey{num: f, isNum: true}
	}
	return sortKey{text: strings.ToLower(t)}
}

func compareSortKeys(a, b sortKey) int {
	switch {
	case a.isNum && b.isNum:
		return cmp.Compare(a.num, b.num)
	case a.isNum:
		return -1
	case b.isNum:
		return 1
	}
	return strings.Compare(a.text, b.text)
}

// filtering reports the filter box has focus: every key goes to it.
func (l *list) filtering() bool { return l.filterBox.Focused() }

// clearFilter drops the filter; it reports whether there was one.
func (l *list) clearFilter() bool {
	had := l.filterText != "" || l.filterBox.Focused()
	l.filterBox.Blur()
	l.filterBox.SetValue("")
	if l.filterText != "" {
		l.filterText = ""
		l.reorder()
	}
	return had
}

// toggleMark marks or unmarks the row under the cursor.
func (l *list) toggleMark() {
	r, ok := l.selected()
	if !ok {
		return
	}
	if l.marked == nil {
		l.marked = map[int]bool{}
	}
	if l.marked[r] {
		delete(l.marked, r)
	} else {
		l.marked[r] = true
	}
}

// markedRows are the marked source rows in the order shown; none marked
// gives the row under the cursor, so X and C act on "these" or "this".
func (l *list) markedRows() []int {
	if len(l.marked) == 0 {
		if r, ok := l.selected(); ok {
			return []int{r}
		}
		return nil
	}
	var out []int
	for pos := range l.len() {
		if r := l.rowAt(pos); l.marked[r] {
			out = append(out, r)
		}
	}
	// Marked rows the filter hides still count.
	var hidden []int
	for r := range l.marked {
		if !slices.Contains(out, r) {
			hidden = append(hidden, r)
		}
	}
	slices.Sort(hidden)
	return append(out, hidden...)
}

// clearMarks unmarks every row (after acting on them).
func (l *list) clearMarks() { l.marked = nil }

// status says what the list's filter, sort and marks do, or "".
func (l *list) status() string {
	var parts []string
	if l.filterBox.Focused() || l.filterText != "" {
		total := 0
		if l.src != nil {
			total = l.src.Len()
		}
		parts = append(parts, fmt.Sprintf("%s · %d of %s", l.filterBox.viewPlain(), l.len(), plural(total, "row")))
	}
	if l.sortCol > 0 {
		dir := "▲"
		if l.sortDesc {
			dir = "▼"
		}
		parts = append(parts, "sorted by "+l.cols[l.sortCol-1].title+" "+dir)
	}
	if n := len(l.marked); n > 0 {
		parts = append(parts, fmt.Sprintf("%d marked", n))
	}
	return strings.Join(parts, " · ")
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

// handledColumn is the column a list grows when it marks handled rows.
var handledColumn = column{title: "handled", min: 9, drop: 9}

// allCols are the page's columns and, when the list marks handled rows,
// the handled column.
func (l *list) allCols() []column {
	if l.handled == nil || l.handledOn != nil && !l.handledOn() {
		return l.cols
	}
	return append(l.cols[:len(l.cols):len(l.cols)], handledColumn)
}

// visibleRows is the room for rows: the height less the header and, when
// the filter, sort or marks are on, their status line.
func (l *list) visibleRows() int {
	h := l.height - 1
	if l.status() != "" {
		h--
	}
	return max(h, 1)
}

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

// update handles the list's own keys (movement, space marks, / filters,
// < > and ~ sort); it reports whether the key was one of them. While the
// filter box has focus every key is the list's.
func (l *list) update(msg tea.KeyMsg, k keyMap) bool {
	if l.filterBox.Focused() {
		switch msg.Type {
		case tea.KeyEnter:
			l.filterBox.Blur()
		case tea.KeyEsc:
			l.clearFilter()
		case tea.KeyUp, tea.KeyDown:
			l.filterBox.Blur()
			l.update(msg, k)
		default:
			l.filterBox.update(msg)
			if v := l.filterBox.Value(); v != l.filterText {
				l.filterText = v
				l.cursor, l.offset = 0, 0
				l.reorder()
			}
		}
		return true
	}
	switch {
	case key.Matches(msg, k.Mark):
		l.toggleMark()
		l.moveBy(1)
	case key.Matches(msg, k.Filter):
		l.filterBox.Focus()
	case key.Matches(msg, k.SortNext), key.Matches(msg, k.SortPrev):
		n := len(l.cols) + 1
		if key.Matches(msg, k.SortNext) {
			l.sortCol = (l.sortCol + 1) % n
		} else {
			l.sortCol = (l.sortCol + n - 1) % n
		}
		l.sortDesc = l.sortCol > 0 && l.numericColumn(l.sortCol-1) // most first
		l.reorder()
	case key.Matches(msg, k.SortReverse):
		if l.sortCol > 0 {
			l.sortDesc = !l.sortDesc
			l.reorder()
		}
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

// numericColumn reports whether the first row's cell in column c is a
// number (counts sort most first).
func (l *list) numericColumn(c int) bool {
	if l.src == nil || l.src.Len() == 0 {
		return false
	}
	cells := l.src.Cells(l.rowAt(0))
	return c < len(cells) && newSortKey(cells[c]).isNum
}

// layout decides column widths for the current width: narrow terminals
// drop the least useful columns, wide ones give the spare to flex columns.
func (l *list) layout() {
	if l.layoutWidth == l.width && l.widths != nil && len(l.widths) == len(l.allCols()) {
		return
	}
	l.layoutWidth = l.width
	cols := l.allCols()
	l.widths = make([]int, len(cols))
	on := make([]bool, len(cols))
	for i := range on {
		on[i] = true
	}
	need := func() int {
		n, sum := 0, 0
		for i, c := range cols {
			if on[i] {
				n++
				sum += c.min
			}
		}
		return sum + n - 1 + gutterWidth // separators and the gutter
	}
	for need() > l.width {
		worst, at := 0, -1
		for i, c := range cols {
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
	for i, c := range cols {
		if on[i] {
			flex += c.flex
		}
	}
	given := 0
	lastFlex := -1
	for i, c := range cols {
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
	lines := 1
	if st := l.status(); st != "" {
		b.WriteString(fitCell(st, l.width, nil, paint{}, paint{}))
		b.WriteByte('\n')
		lines++
	}
	// Header.
	b.WriteString(strings.Repeat(" ", gutterWidth))
	first := true
	for i, c := range l.allCols() {
		if l.widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		title := strings.ToUpper(c.title)
		if l.sortCol == i+1 {
			// The arrow first: a narrow column cuts the title, not it.
			if l.sortDesc {
				title = "▼" + title
			} else {
				title = "▲" + title
			}
		}
		b.WriteString(fitCell(title, l.widths[i], nil, paint{}, paint{}))
	}
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
		gutter := []rune("    ")
		if l.marked[row] {
			gutter[1] = '*'
		}
		if l.src.Flag(row) {
			gutter[2] = '!'
			base = st.rowWarn
		}
		if l.handled != nil {
			// Handled rows are no longer the analyst's worry: a tick
			// replaces the warning.
			if h := l.handled(row); h != "" {
				gutter[2] = '✓'
				if base == st.rowWarn {
					base = paint{}
				}
			}
		}
		if pos == l.cursor {
			gutter[0] = '>'
			base = st.rowSelected
		}
		b.WriteString(base.on)
		b.WriteString(string(gutter))
		first := true
		for i := range l.allCols() {
			if l.widths[i] == 0 {
				continue
			}
			if !first {
				b.WriteByte(' ')
			}
			first = false
			cell := ""
			switch {
			case i < len(cells):
				cell = cells[i]
			case i == len(l.cols) && l.handled != nil:
				cell = l.handled(row)
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

// gutterWidth is the cells before the first column: the cursor ">", the
// mark "*", the flag "!" (or "✓" when the incident handled the row) and a
// space.
const gutterWidth = 4

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
