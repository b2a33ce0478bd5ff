package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// findingsPage lists the attacks a detection of the window found, most
// urgent first (`:detect`). It reads the same detection as the triage and
// IP pages.
type findingsPage struct {
	sh     *shared
	window time.Duration
	since  time.Time
	fresh  bool

	seq     int
	st      *stream
	loading bool
	read    int
	started time.Time
	err     string
	note    string

	findings []responders.AttackFinding
	list     *list
}

type (
	findingsProgressMsg struct {
		owner *findingsPage
		st    *stream
		seq   int
		read  int
	}
	findingsDoneMsg struct {
		owner *findingsPage
		seq   int
		run   detectionRun
		err   error
	}
	// openFindingMsg opens a finding's page.
	openFindingMsg struct {
		f     responders.AttackFinding
		since time.Time
	}
)

var findingColumns = []column{
	{title: "finding", min: 22},
	{title: "sev", min: 3},
	{title: "confidence", min: 10, drop: 3},
	{title: "comp", min: 4},
	{title: "mfa", min: 3, drop: 2},
	{title: "targeted", min: 8, drop: 1},
	{title: "nets", min: 4, drop: 4},
	{title: "what", min: 20, flex: 4},
}

func newFindingsPage(sh *shared, window time.Duration) *findingsPage {
	if window <= 0 {
		window = defaultTriageWindow
	}
	p := &findingsPage{sh: sh, window: window, list: newList(findingColumns)}
	p.list.handledOn = sh.anyHandled
	p.list.handled = func(row int) string { return p.handledOf(p.findings[row]) }
	return p
}

// handledOf says how much of a finding's response the incident has done:
// "all", "k of n" accounts, or "".
func (p *findingsPage) handledOf(f responders.AttackFinding) string {
	var ids []string
	for _, a := range f.Accounts {
		if a.UserID != "" && len(a.Steps) > 0 {
			ids = append(ids, a.UserID)
		}
	}
	n := p.sh.countHandled(ids)
	switch {
	case n == 0:
		return ""
	case n == len(ids):
		return "all"
	}
	return fmt.Sprintf("%d of %d", n, len(ids))
}

func (p *findingsPage) title() string   { return "detect " + fmtWindow(p.window) }
func (p *findingsPage) capturing() bool { return p.list.filtering() }
func (p *findingsPage) back() bool      { return p.list.clearFilter() }

func (p *findingsPage) hints() []key.Binding {
	k := p.sh.keys
	open := k.Open
	open.SetHelp("enter", "the finding")
	bulk := k.Bulk
	bulk.SetHelp("X", "run its response")
	return []key.Binding{open, bulk, k.Filter, k.SortNext, k.Refresh}
}

func (p *findingsPage) init() tea.Cmd {
	p.seq++
	p.loading, p.read, p.err, p.note = true, 0, "", ""
	p.since = p.sh.now().Add(-p.window)
	p.started = time.Now()
	seq, fresh := p.seq, p.fresh
	p.fresh = false
	st := p.sh.readDetection(p.window, fresh,
		func(st *stream, n int) tea.Msg { return findingsProgressMsg{p, st, seq, n} },
		func(run detectionRun, err error) tea.Msg { return findingsDoneMsg{p, seq, run, err} })
	p.st = st
	return st.listen()
}

func (p *findingsPage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case findingsProgressMsg:
		if msg.owner != p || msg.seq != p.seq {
			return nil
		}
		p.read = msg.read
		return msg.st.listen()
	case findingsDoneMsg:
		if msg.owner != p || msg.seq != p.seq {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.err = msg.err.Error()
			return nil
		}
		p.since, p.read = msg.run.since, msg.run.det.Read
		p.note = strings.Join(msg.run.det.Notes, "; ")
		p.findings = msg.run.det.Findings
		p.list.setSource(findingRows(p.findings))
	case tea.KeyMsg:
		k := p.sh.keys
		if p.list.filtering() {
			p.list.update(msg, k)
			return nil
		}
		switch {
		case key.Matches(msg, k.Refresh):
			if !p.loading {
				p.fresh = true
				return p.init()
			}
		case key.Matches(msg, k.Open):
			if i, ok := p.list.selected(); ok {
				f, since := p.findings[i], p.since
				return func() tea.Msg { return openFindingMsg{f, since} }
			}
		case key.Matches(msg, k.Bulk):
			if len(p.list.marked) > 1 {
				return toast("X runs one finding's response at a time: unmark all but one (space)", true)
			}
			if rows := p.list.markedRows(); len(rows) == 1 {
				i := rows[0]
				p.list.clearMarks()
				f, since := p.findings[i], p.since
				return func() tea.Msg { return bulkMsg{finding: &f, since: since} }
			}
		default:
			p.list.update(msg, k)
		}
	}
	return nil
}

func (p *findingsPage) view(w, h int) string {
	st := &p.sh.st
	var b strings.Builder
	head := fmt.Sprintf("window %s (since %s)", fmtWindow(p.window), fmtTime(p.since))
	switch {
	case p.loading:
		return head + fmt.Sprintf(" · reading the tenant's events … %d read (%s)", p.read, time.Since(p.started).Round(time.Second))
	case p.err != "":
		return head + "\n" + st.bad.Render("error: "+auth0client.Clean(p.err)) + "\n" + st.dim.Render("r tries again")
	}
	b.WriteString(head + fmt.Sprintf(" · %d events · %s", p.read, plural(len(p.findings), "finding")))
	if p.note != "" {
		b.WriteString(st.warn.Render(" · " + auth0client.Clean(p.note)))
	}
	b.WriteByte('\n')
	if len(p.findings) == 0 {
		b.WriteString("no attack found in this window")
		return b.String()
	}
	p.list.setSize(w, max(h-3, 2))
	b.WriteString(p.list.view(st))
	b.WriteByte('\n')
	if i, ok := p.list.selected(); ok {
		b.WriteString(st.dim.Render("enter: accounts, evidence and response of " + p.findings[i].ID + " · X: run its response"))
	}
	return b.String()
}

type findingRows []responders.AttackFinding

func (r findingRows) Len() int        { return len(r) }
func (r findingRows) Flag(i int) bool { return r[i].Count(responders.VerdictCompromised) > 0 }
func (r findingRows) Cells(i int) []string {
	f := r[i]
	return []string{f.ID, strconv.Itoa(f.Severity), string(f.Confidence), strconv.Itoa(f.Count(responders.VerdictCompromised)),
		strconv.Itoa(f.Count(responders.VerdictStoppedByMFA)), strconv.Itoa(f.Count(responders.VerdictTargeted)), strconv.Itoa(len(f.Networks)), f.Title}
}

// findingPage is one finding: why, the response, every account it counts
// with its steps, the networks and the evidence.
type findingPage struct {
	sh    *shared
	f     responders.AttackFinding
	since time.Time
	accts *list
}

var findingAccountColumns = []column{
	{title: "verdict", min: 14},
	{title: "user", min: 20, flex: 3},
	{title: "user name", min: 14, flex: 2, drop: 2},
	{title: "response", min: 12, flex: 3, drop: 1},
}

func newFindingPage(sh *shared, f responders.AttackFinding, since time.Time) *findingPage {
	p := &findingPage{sh: sh, f: f, since: since, accts: newList(findingAccountColumns)}
	p.accts.setSource(findingAccountRows(f.Accounts))
	p.accts.handledOn = sh.anyHandled
	p.accts.handled = func(row int) string { return sh.userHandled(f.Accounts[row].UserID) }
	return p
}

func (p *findingPage) title() string   { return "finding " + p.f.ID }
func (p *findingPage) capturing() bool { return p.accts.filtering() }
func (p *findingPage) back() bool      { return p.accts.clearFilter() }
func (p *findingPage) init() tea.Cmd   { return nil }

func (p *findingPage) hints() []key.Binding {
	k := p.sh.keys
	open := k.Open
	open.SetHelp("enter", "open user")
	bulk := k.Bulk
	bulk.SetHelp("X", "run the response")
	return []key.Binding{open, bulk, k.Mark, k.Contain, k.Filter, k.SortNext}
}

func (p *findingPage) update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	k := p.sh.keys
	if p.accts.filtering() {
		p.accts.update(km, k)
		return nil
	}
	switch {
	case key.Matches(km, k.Open):
		if i, ok := p.accts.selected(); ok && p.f.Accounts[i].UserID != "" {
			id := p.f.Accounts[i].UserID
			return func() tea.Msg { return openUserMsg{id} }
		}
	case key.Matches(km, k.Bulk):
		f, since := p.f, p.since
		return func() tea.Msg { return bulkMsg{finding: &f, since: since} }
	case key.Matches(km, k.Contain):
		var ids []string
		for _, i := range p.accts.markedRows() {
			if id := p.f.Accounts[i].UserID; id != "" {
				ids = append(ids, id)
			}
		}
		p.accts.clearMarks()
		return containMarked(ids)
	default:
		p.accts.update(km, k)
	}
	return nil
}

func (p *findingPage) view(w, h int) string {
	st := &p.sh.st
	f := p.f
	lines := []string{
		st.bold.Render(auth0client.Clean(f.Title)),
		fmt.Sprintf("%s · severity %d · confidence %s · %s to %s", f.Kind, f.Severity, f.Confidence, fmtTime(f.First), fmtTime(f.Last)),
	}
	for _, r := range f.Reasons {
		lines = append(lines, "why: "+auth0client.Clean(r))
	}
	lines = append(lines, "response: "+auth0client.Clean(f.Response))
	if len(f.Networks) > 0 {
		lines = append(lines, "networks to block: "+auth0client.Clean(strings.Join(f.Networks, ", ")))
	}
	if len(f.Evidence) > 0 {
		lines = append(lines, st.dim.Render("evidence: "+auth0client.Clean(strings.Join(firstLines(f.Evidence, 8), " "))))
	}
	var ids []string
	for _, a := range f.Accounts {
		ids = append(ids, a.UserID)
	}
	lines = append(lines, fmt.Sprintf("accounts: %d compromised · %d stopped by MFA · %d targeted", f.Count(responders.VerdictCompromised), f.Count(responders.VerdictStoppedByMFA), f.Count(responders.VerdictTargeted))+
		handledNote(p.sh.countHandled(ids)))
	lines = wrapLines(lines, w)
	if room := h - 6; len(lines) > room {
		lines = lines[:max(room, 3)]
	}
	var b strings.Builder
	b.WriteString(strings.Join(lines, "\n"))
	b.WriteByte('\n')
	p.accts.setSize(w, max(h-len(lines)-2, 2))
	b.WriteString(p.accts.view(st))
	b.WriteByte('\n')
	b.WriteString(st.dim.Render("X runs the response: the networks blocked first, then each account's steps (you type the count)"))
	return b.String()
}

type findingAccountRows []responders.AttackAccount

func (r findingAccountRows) Len() int        { return len(r) }
func (r findingAccountRows) Flag(i int) bool { return r[i].Verdict == responders.VerdictCompromised }
func (r findingAccountRows) Cells(i int) []string {
	a := r[i]
	resp := strings.Join(a.Steps, ",")
	if a.ResetMethod == "ticket" {
		resp += " (reset by ticket)"
	}
	if resp == "" {
		resp = "watch"
	}
	return []string{verdictLabel(a.Verdict), a.UserID, a.UserName, resp}
}
