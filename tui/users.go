package tui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// userRows is a user search result as list rows, with the fuzzy-filter
// text of each row built once from the same cleaned cells that are shown.
type userRows struct {
	users []auth0client.User
	cells [][]string
	// starts[i][c] is where column c begins in the filter text of row i.
	starts [][]int
}

// userColumns are the users page's columns; the filter text joins the
// text columns that tell users apart (user, name, email, last IP) with
// spaces.
var userColumns = []column{
	{title: "user", min: 14, flex: 6},
	{title: "name", min: 10, flex: 2, drop: 2},
	{title: "email", min: 14, flex: 4},
	{title: "connection", min: 10, flex: 1, drop: 4},
	{title: "blocked", min: 7},
	{title: "last login", min: 16, drop: 3},
	{title: "last ip", min: 15, drop: 1},
	{title: "logins", min: 6, drop: 5},
}

// filteredColumns are the columns the fuzzy filter matches on.
var filteredColumns = []int{0, 1, 2, 6}

func newUserRows(users []auth0client.User) (*userRows, []string) {
	r := &userRows{users: users, cells: make([][]string, len(users)), starts: make([][]int, len(users))}
	keys := make([]string, len(users))
	var b strings.Builder
	for i, u := range users {
		blocked := "no"
		if u.Blocked {
			blocked = "BLOCKED"
		}
		cells := []string{
			auth0client.Clean(u.ID), auth0client.Clean(u.Name), auth0client.Clean(u.Email), auth0client.Clean(connectionOf(u)),
			blocked, fmtTime(u.LastLogin), auth0client.Clean(u.LastIP), strconv.FormatInt(u.LoginsCount, 10),
		}
		r.cells[i] = cells
		b.Reset()
		starts := make([]int, len(cells))
		for j := range starts {
			starts[j] = -1
		}
		for n, c := range filteredColumns {
			if n > 0 {
				b.WriteByte(' ')
			}
			starts[c] = b.Len()
			b.WriteString(cells[c])
		}
		r.starts[i] = starts
		keys[i] = b.String()
	}
	return r, keys
}

func (r *userRows) Len() int             { return len(r.users) }
func (r *userRows) Cells(i int) []string { return r.cells[i] }
func (r *userRows) Flag(i int) bool      { return r.users[i].Blocked }

// marks splits the filter text's matched byte offsets per column.
func (r *userRows) marks(row int, offsets []int) [][]int {
	out := make([][]int, len(userColumns))
	for _, off := range offsets {
		for _, c := range filteredColumns {
			start := r.starts[row][c]
			if off >= start && off < start+len(r.cells[row][c]) {
				out[c] = append(out[c], off-start)
				break
			}
		}
	}
	return out
}

func connectionOf(u auth0client.User) string {
	if len(u.Identities) == 0 {
		return ""
	}
	return u.Identities[0].Connection
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// usersPage is the console's home: a server-side search box, then a
// fuzzy filter over the loaded rows.
type usersPage struct {
	sh     *shared
	search input
	filter input
	list   *list
	rows   *userRows
	index  fuzzyIndex

	seq       int
	loading   bool
	query     string // the Lucene sent
	truncated bool
	err       string
}

type usersLoadedMsg struct {
	seq       int
	users     []auth0client.User
	truncated bool
	query     string
	err       error
}

func newUsersPage(sh *shared) *usersPage {
	s := newInput("search: ", "email, user id, name, or Lucene (email:*@example.com AND blocked:false)", 1000)
	s.Focus()
	f := newInput("filter: ", "fuzzy over the loaded rows", 200)
	p := &usersPage{sh: sh, search: s, filter: f, list: newList(userColumns)}
	p.list.setSource(&userRows{})
	p.list.handledOn = sh.anyHandled
	p.list.handled = func(row int) string { return sh.userHandled(p.rows.users[row].ID) }
	return p
}

func (p *usersPage) init() tea.Cmd { return nil }

func (p *usersPage) title() string { return "users" }

func (p *usersPage) capturing() bool { return p.search.Focused() || p.filter.Focused() }

func (p *usersPage) hints() []key.Binding {
	k := p.sh.keys
	if p.search.Focused() {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "search")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "to the list"))}
	}
	if p.filter.Focused() {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter"))}
	}
	return []key.Binding{k.Open, k.Mark, k.Contain, k.Search, k.Filter, k.SortNext, k.Refresh}
}

func (p *usersPage) back() bool {
	if p.filter.Value() != "" {
		p.clearFilter()
		return true
	}
	return false
}

func (p *usersPage) clearFilter() {
	p.filter.SetValue("")
	p.index.filter("")
	p.list.setOrder(nil)
	p.list.match = nil
}

// runSearch sends the search box's query.
func (p *usersPage) runSearch() tea.Cmd {
	input := strings.TrimSpace(p.search.Value())
	if input == "" {
		return nil
	}
	q, err := responders.UserQuery(input)
	if err != nil {
		p.err = err.Error()
		return nil
	}
	p.seq++
	p.loading, p.err, p.query = true, "", q
	seq, c, ctx := p.seq, p.sh.opts.Client, p.sh.ctx
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		users, truncated, err := c.SearchAllUsers(ctx, q, auth0client.SearchCap)
		return usersLoadedMsg{seq: seq, users: users, truncated: truncated, query: q, err: err}
	}
}

// setUsers shows users (tests and benchmarks load rows this way too).
func (p *usersPage) setUsers(users []auth0client.User) {
	rows, keys := newUserRows(users)
	p.rows = rows
	p.index = newFuzzyIndex(keys)
	p.list.setSource(rows)
	if p.filter.Value() != "" {
		p.applyFilter()
	}
}

func (p *usersPage) applyFilter() {
	q := p.filter.Value()
	order := p.index.filter(q)
	if q == "" {
		p.list.setOrder(nil)
		p.list.match = nil
		return
	}
	if order == nil {
		order = []int{}
	}
	p.list.setOrder(order)
	rows := p.rows
	p.list.match = func(row int) [][]int { return rows.marks(row, highlights(q, p.index.keys[row])) }
}

func (p *usersPage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case usersLoadedMsg:
		if msg.seq != p.seq {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.err = msg.err.Error()
			return nil
		}
		p.truncated = msg.truncated
		p.setUsers(msg.users)
		if len(msg.users) > 0 {
			p.search.Blur()
		}
		return nil
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

func (p *usersPage) key(msg tea.KeyMsg) tea.Cmd {
	k := p.sh.keys
	if p.search.Focused() {
		switch msg.Type {
		case tea.KeyEnter:
			return p.runSearch()
		case tea.KeyEsc:
			p.search.Blur()
			return nil
		}
		p.search.update(msg)
		return nil
	}
	if p.filter.Focused() {
		switch msg.Type {
		case tea.KeyEnter, tea.KeyDown, tea.KeyUp:
			p.filter.Blur()
			if msg.Type != tea.KeyEnter {
				p.list.update(msg, k)
			}
			return nil
		case tea.KeyEsc:
			p.filter.Blur()
			p.clearFilter()
			return nil
		}
		before := p.filter.Value()
		p.filter.update(msg)
		if p.filter.Value() != before {
			p.applyFilter()
		}
		return nil
	}
	// The page's own filter (with its column highlights), not the list's.
	if key.Matches(msg, k.Filter) {
		return p.filter.Focus()
	}
	if p.list.update(msg, k) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Search):
		p.filter.Blur()
		return p.search.Focus()
	case key.Matches(msg, k.Refresh):
		return p.runSearch()
	case key.Matches(msg, k.Open):
		if u, ok := p.selected(); ok {
			return func() tea.Msg { return openUserMsg{u.ID} }
		}
	case key.Matches(msg, k.Contain):
		if p.rows == nil {
			return nil
		}
		var ids []string
		for _, i := range p.list.markedRows() {
			ids = append(ids, p.rows.users[i].ID)
		}
		p.list.clearMarks()
		return containMarked(ids)
	}
	return nil
}

func (p *usersPage) selected() (auth0client.User, bool) {
	i, ok := p.list.selected()
	if !ok || p.rows == nil {
		return auth0client.User{}, false
	}
	return p.rows.users[i], true
}

func (p *usersPage) view(w, h int) string {
	st := &p.sh.st
	var b strings.Builder
	b.WriteString(p.search.view(st, w))
	b.WriteByte('\n')
	status := ""
	switch {
	case p.loading:
		status = "searching " + auth0client.Clean(p.query) + " …"
	case p.err != "":
		status = st.bad.Render("error: " + auth0client.Clean(p.err))
	case p.rows == nil:
		status = st.dim.Render("type a query and press enter; / filters the loaded rows")
	default:
		status = fmt.Sprintf("%d users for %s", p.rows.Len(), auth0client.Clean(p.query))
		if p.truncated {
			status += st.warn.Render(fmt.Sprintf(" (more match: Auth0 search reaches %d; narrow the query)", auth0client.SearchCap))
		}
		if p.filter.Value() != "" || p.filter.Focused() {
			status = fmt.Sprintf("%d of %d users match", p.list.len(), p.rows.Len())
		}
	}
	if p.filter.Focused() || p.filter.Value() != "" {
		status = p.filter.view(st, w/2) + "  " + status
	}
	b.WriteString(status)
	b.WriteByte('\n')
	p.list.setSize(w, h-2)
	b.WriteString(p.list.view(st))
	return b.String()
}
