package tui

import (
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// fakeRows is a small list source for the widget's own tests.
type fakeRows [][]string

func (r fakeRows) Len() int             { return len(r) }
func (r fakeRows) Cells(i int) []string { return r[i] }
func (r fakeRows) Flag(i int) bool      { return false }

func shown(l *list) []string {
	var out []string
	for pos := range l.len() {
		out = append(out, l.src.Cells(l.rowAt(pos))[0])
	}
	return out
}

func TestListFiltersSortsAndMarks(t *testing.T) {
	k := defaultKeys()
	l := newList([]column{{title: "ip", min: 15}, {title: "fails", min: 5}})
	l.setSource(fakeRows{{"193.42.33.7", "9"}, {"10.0.0.1", "120"}, {"193.42.33.8", "30"}, {"45.76.1.1", "7"}})
	l.setSize(40, 10)
	press := func(keys ...string) {
		for _, s := range keys {
			for _, r := range s {
				msg := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
				if r == ' ' {
					msg = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{r}}
				}
				l.update(msg, k)
			}
		}
	}
	// ">" twice: the fails column, a count, most first (numerically).
	press(">>")
	if got, want := shown(l), []string{"10.0.0.1", "193.42.33.8", "193.42.33.7", "45.76.1.1"}; !slices.Equal(got, want) {
		t.Errorf("sorted by fails: %v, want %v", got, want)
	}
	press("~")
	if got := shown(l); got[0] != "45.76.1.1" {
		t.Errorf("~ did not reverse: %v", got)
	}
	// "/" filters, the sort stays.
	press("/", "193")
	l.update(tea.KeyMsg{Type: tea.KeyEnter}, k)
	if got, want := shown(l), []string{"193.42.33.7", "193.42.33.8"}; !slices.Equal(got, want) {
		t.Errorf("filtered 193 (fails ascending): %v, want %v", got, want)
	}
	if !strings.Contains(l.view(&styles{}), "/193 · 2 of 4 rows · sorted by fails ▲") {
		t.Errorf("the status line does not say what the list does:\n%s", l.view(&styles{}))
	}
	// Space marks and moves on; marks survive clearing the filter.
	press(" ", " ")
	if l.clearFilter(); !slices.Equal(rowsCells(l, l.markedRows()), []string{"45.76.1.1", "193.42.33.7", "193.42.33.8"}[1:]) {
		t.Errorf("marked rows %v", rowsCells(l, l.markedRows()))
	}
	if v := l.view(&styles{}); strings.Count(v, "*  ") != 2 || !strings.Contains(v, "2 marked") {
		t.Errorf("the marks are not drawn:\n%s", v)
	}
	l.clearMarks()
	if got := rowsCells(l, l.markedRows()); len(got) != 1 {
		t.Errorf("with no mark, the row under the cursor is the target: %v", got)
	}
}

func rowsCells(l *list, rows []int) []string {
	var out []string
	for _, r := range rows {
		out = append(out, l.src.Cells(r)[0])
	}
	return out
}

// A terminal delivers held keys as one message with several runes.
func TestAThreeRuneKeyMessageMovesTheCursorThreeRows(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.keys("email:*", "enter")
	d.untilContains("users for")
	if got := d.m.users.list.cursor; got != 0 {
		t.Fatalf("cursor starts at %d", got)
	}
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jjj")})
	d.drain(0)
	if got := d.m.users.list.cursor; got != 3 {
		t.Errorf("after one \"jjj\" key message the cursor is on row %d, want 3", got)
	}
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("kk")})
	d.drain(0)
	if got := d.m.users.list.cursor; got != 1 {
		t.Errorf("after \"kk\" the cursor is on row %d, want 1", got)
	}
	// A burst of space and j marks two rows.
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("  ")})
	d.drain(0)
	if got := len(d.m.users.list.marked); got != 2 {
		t.Errorf("two spaces in one message marked %d rows, want 2", got)
	}
}

// The typed confirmation takes a pasted user id whole.
func TestTheConfirmationAcceptsAPastedUserID(t *testing.T) {
	tn := startTenant(t)
	id := tn.compromised(t)
	d := newDriver(t, tn.options(true), 120, 40)
	d.openUser(id)
	d.keys("C")
	d.untilContains("Type the user id")
	d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(id), Paste: true})
	d.drain(0)
	if v := d.m.View(); !strings.Contains(v, "[ Confirm ]") {
		t.Errorf("the pasted id did not enable Confirm:\n%s", v)
	}
	d.keys("esc")
}

// Goldens of every list page with a mark, a sorted column and a filter.
func TestListsShowMarksSortedColumnsAndFiltersOnEveryPage(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.timeout = 3 * time.Minute
	// Users: marks (space) and a sort (">" sorts by the user column).
	d.keys("email:*", "enter")
	d.untilContains("users for")
	d.keys(">", "/", "ex", "enter", " ", " ")
	v := d.untilContains("2 marked")
	checkScreen(t, v, 120, 40)
	golden(t, "lists_users_120x40", v, false)
	d.keys("esc", "esc")

	// Findings: filtered.
	d.keys(":", "detect 48h", "enter")
	d.until("the findings", func(v string) bool { return strings.Contains(v, "events ·") })
	d.keys("/", "credential-stuffing", "enter")
	v = d.untilContains("1 of ")
	golden(t, "lists_findings_120x40", v, false)
	// A finding's accounts: marked, sorted by user, filtered.
	d.keys("enter")
	d.untilContains("accounts:")
	d.keys(" ", ">", ">", "/", "COMP", "enter")
	v = d.untilContains("sorted by user")
	checkScreen(t, v, 120, 40)
	golden(t, "lists_finding_120x40", v, false)

	// Triage: the addresses sorted by fails, most first, one marked.
	d.keys(":", "triage 48h", "enter")
	d.untilContains("[1: ")
	for range 5 {
		d.keys(">")
	}
	d.keys(" ", "/", "193", "enter")
	v = d.untilContains("sorted by fails")
	checkScreen(t, v, 120, 40)
	golden(t, "lists_triage_120x40", v, false)

	// An IP page: its accounts filtered and sorted by verdict.
	d.keys("enter")
	d.untilIPPage()
	d.keys(">", " ", "/", "stop", "enter")
	v = d.untilContains("sorted by verdict")
	checkScreen(t, v, 120, 40)
	golden(t, "lists_ip_120x40", v, false)

	// Logs: filtered (on the loaded rows) and sorted by type.
	d.keys(":", "logs", "enter")
	d.untilContains(" events · since") // loaded: the marks and sort act on these rows
	d.keys(">", ">", " ", "/", "fp", "enter")
	v = d.untilContains("sorted by")
	checkScreen(t, v, 120, 40)
	golden(t, "lists_logs_120x40", v, true)
}

func TestPaletteRemembersCommandsAndCompletesNames(t *testing.T) {
	var history []string
	run := func(p *palette, keys ...tea.KeyMsg) {
		for _, k := range keys {
			p.update(k)
		}
	}
	runes := func(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }
	p := newPalette(&history)
	run(p, runes("triage 48h"), tea.KeyMsg{Type: tea.KeyEnter})
	p = newPalette(&history)
	run(p, runes("ip 193.42.33.7"), tea.KeyMsg{Type: tea.KeyEnter})
	p = newPalette(&history)
	run(p, tea.KeyMsg{Type: tea.KeyUp})
	if got := p.in.Value(); got != "ip 193.42.33.7" {
		t.Errorf("↑ shows %q, want the last command", got)
	}
	run(p, tea.KeyMsg{Type: tea.KeyUp})
	if got := p.in.Value(); got != "triage 48h" {
		t.Errorf("↑↑ shows %q, want the one before", got)
	}
	run(p, tea.KeyMsg{Type: tea.KeyDown}, tea.KeyMsg{Type: tea.KeyDown})
	if got := p.in.Value(); got != "" {
		t.Errorf("↓ past the newest shows %q, want an empty line", got)
	}
	for _, tc := range []struct{ typed, want string }{{"tr", "triage "}, {"i", "i"}, {"in", "incident "}, {"zz", "zz"}} {
		p = newPalette(&history)
		run(p, runes(tc.typed), tea.KeyMsg{Type: tea.KeyTab})
		if got := p.in.Value(); got != tc.want {
			t.Errorf("tab after %q: %q, want %q", tc.typed, got, tc.want)
		}
	}
}

// C on marked accounts contains each of them (the playbook through the
// bulk engine), after the count is typed back; the list then ticks them.
func TestContainOnMarkedAccountsContainsEachOfThem(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	var ids []string
	for _, id := range tn.key.Compromised {
		if _, changed := tn.key.EmailChanged[id]; !changed && len(ids) < 2 {
			ids = append(ids, id)
		}
	}
	d.keys(`user_id:"`+ids[0]+`" OR user_id:"`+ids[1]+`"`, "enter")
	d.untilContains("2 users for")
	d.keys(" ", " ", "C")
	v := d.untilContains("Type the number of accounts (2)")
	if !strings.Contains(v, "CONTAIN 2 MARKED ACCOUNTS") {
		t.Errorf("the modal does not name the marked accounts:\n%s", v)
	}
	d.keys("2", "enter")
	v = d.until("the end of the run", func(v string) bool { return strings.Contains(v, "esc or enter closes") })
	for _, id := range ids {
		if !tn.contained(id) {
			t.Errorf("%s is not contained:\n%s", id, v)
		}
	}
	d.keys("esc")
	v = d.until("the ticks", func(v string) bool { return strings.Count(v, "contained") == 2 })
	if strings.Count(v, "✓") != 2 {
		t.Errorf("the users list does not tick the two contained accounts:\n%s", v)
	}
}
