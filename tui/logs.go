package tui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// logColumns are the columns of every log list (logs page, user logs tab).
var logColumns = []column{
	{title: "date", min: 19},
	{title: "type", min: 8},
	{title: "user", min: 12, flex: 2, drop: 2},
	{title: "ip", min: 15},
	{title: "client", min: 8, flex: 1, drop: 3},
	{title: "description", min: 12, flex: 3, drop: 1},
	{title: "user agent", min: 10, flex: 2, drop: 4},
}

// alarmTypes are event types the list flags: failures and attack protection.
var alarmTypes = map[string]bool{
	"f": true, "fp": true, "fu": true, "fcpr": true, "limit_wc": true, "limit_sul": true, "limit_mu": true,
	"pwd_leak": true, "reset_pwd_leak": true, "signup_pwd_leak": true, "sce": true, "scpn": true, "gd_enrollment_complete": true,
}

type logRows []auth0client.LogEvent

func newLogRows(evs []auth0client.LogEvent) logRows { return logRows(evs) }

func (r logRows) Len() int        { return len(r) }
func (r logRows) Flag(i int) bool { return alarmTypes[r[i].Type] }
func (r logRows) Cells(i int) []string {
	e := r[i]
	user := e.UserName
	if user == "" {
		user = e.UserID
	}
	return []string{e.Date.UTC().Format("2006-01-02 15:04:05"), e.Type, user, e.IP, e.ClientName, e.Description, e.UserAgent}
}

// logsPage is the tenant log explorer: filters (type, IP/CIDR, user, time
// window) searched on the server, and a live follow by checkpoint.
type logsPage struct {
	sh     *shared
	fields [4]input // type, ip, user, since
	field  int      // focused field, -1 when none
	list   *list
	events []auth0client.LogEvent

	searched bool
	seq      int
	loading  bool
	err      string
	note     string
	matches  func(auth0client.LogEvent) bool
	applied  string // the filter in words

	following  bool
	followGen  int
	checkpoint string
	newCount   int
}

const (
	fieldType = iota
	fieldIP
	fieldUser
	fieldSince
)

// logsLimit bounds one search of the console (the CLI goes to 100k).
const logsLimit = 1000

// followEvery is how often following asks for new events.
const followEvery = 2 * time.Second

type (
	logsLoadedMsg struct {
		seq int
		res responders.FoundLogs
		err error
	}
	followTickMsg struct{ gen int }
	followMsg     struct {
		gen        int
		events     []auth0client.LogEvent
		checkpoint string
		err        error
	}
)

func newLogsPage(sh *shared) *logsPage {
	p := &logsPage{sh: sh, field: -1, list: newList(logColumns)}
	p.fields[fieldType] = newInput("type: ", "s,f,fp,limit_wc", 200)
	p.fields[fieldIP] = newInput("ip: ", "203.0.113.7 or /24", 64)
	p.fields[fieldUser] = newInput("user: ", "id or email", 300)
	p.fields[fieldSince] = newInput("since: ", "24h", 40)
	p.fields[fieldSince].SetValue("24h")
	p.list.setSource(logRows(nil))
	return p
}

func (p *logsPage) fresh() bool { return !p.searched }

func (p *logsPage) init() tea.Cmd { return p.search() }

func (p *logsPage) title() string { return "logs" }

func (p *logsPage) capturing() bool { return p.field >= 0 || p.list.filtering() }

func (p *logsPage) back() bool { return p.list.clearFilter() }

func (p *logsPage) hints() []key.Binding {
	k := p.sh.keys
	if p.field >= 0 {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "search")),
			key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next field")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "to the list"))}
	}
	follow := k.Follow
	if p.following {
		follow.SetHelp("f", "stop following")
	}
	return []key.Binding{k.Edit, follow, k.Open, k.Contain, k.IP, k.Refresh}
}

// filterBy sets the IP or user filter and searches.
func (p *logsPage) filterBy(ip, user string) tea.Cmd {
	p.fields[fieldIP].SetValue(ip)
	p.fields[fieldUser].SetValue(user)
	p.fields[fieldType].SetValue("")
	return p.search()
}

// parseSearch reads the filter fields into the shared layer's request;
// nothing is sent when they are bad.
func (p *logsPage) parseSearch() (responders.LogRequest, error) {
	r := responders.LogRequest{Limit: logsLimit, Network: strings.TrimSpace(p.fields[fieldIP].Value()), User: strings.TrimSpace(p.fields[fieldUser].Value())}
	if t := strings.TrimSpace(p.fields[fieldType].Value()); t != "" {
		r.Types = []string{t}
	}
	since := strings.TrimSpace(p.fields[fieldSince].Value())
	if since == "" {
		since = "24h"
	}
	var err error
	if r.Since, err = responders.ParseSince(since, p.sh.now()); err != nil {
		return r, err
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	r.Types, _ = responders.ParseEventTypes(r.Types)
	return r, nil
}

func (p *logsPage) search() tea.Cmd {
	r, err := p.parseSearch()
	if err != nil {
		p.err = err.Error()
		return nil
	}
	p.searched = true
	p.seq++
	p.loading, p.err, p.note = true, "", ""
	p.applied = describeSearch(r)
	seq, ctx, c := p.seq, p.sh.ctx, p.sh.opts.Client
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		res, err := responders.FindLogs(ctx, c, r)
		return logsLoadedMsg{seq: seq, res: res, err: err}
	}
}

func describeSearch(r responders.LogRequest) string {
	var parts []string
	if len(r.Types) > 0 {
		parts = append(parts, "type "+strings.Join(r.Types, ","))
	}
	if r.Network != "" {
		parts = append(parts, "ip "+r.Network)
	}
	if r.User != "" {
		parts = append(parts, "user "+r.User)
	}
	parts = append(parts, "since "+r.Since.UTC().Format("2006-01-02 15:04"))
	return auth0client.Clean(strings.Join(parts, ", "))
}

func (p *logsPage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case logsLoadedMsg:
		if msg.seq != p.seq {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.err = msg.err.Error()
			return nil
		}
		p.events, p.matches, p.note = msg.res.Events, msg.res.Filter.Matches, msg.res.Note
		p.newCount = 0
		p.list.setSource(logRows(p.events))
		return nil
	case followTickMsg:
		if msg.gen != p.followGen || !p.following {
			return nil
		}
		return p.fetchNew()
	case followMsg:
		if msg.gen != p.followGen || !p.following {
			return nil
		}
		if msg.err != nil {
			p.err = "follow: " + msg.err.Error()
		} else {
			p.err = ""
			p.checkpoint = msg.checkpoint
			p.addNew(msg.events)
		}
		gen := p.followGen
		return tea.Tick(followEvery, func(time.Time) tea.Msg { return followTickMsg{gen} })
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

// addNew puts followed events that pass the filter on top, keeping the
// cursor on the row it was on.
func (p *logsPage) addNew(evs []auth0client.LogEvent) {
	var keep []auth0client.LogEvent
	for i := len(evs) - 1; i >= 0; i-- { // checkpoint pages are oldest first
		if p.matches == nil || p.matches(evs[i]) {
			keep = append(keep, evs[i])
		}
	}
	if len(keep) == 0 {
		return
	}
	p.newCount += len(keep)
	p.events = append(keep, p.events...)
	cur := p.list.cursor
	p.list.setSource(logRows(p.events))
	if cur > 0 {
		p.list.cursor = cur + len(keep)
		p.list.clamp()
	}
}

// fetchNew reads every event after the checkpoint (checkpoint paging has
// no cap but ignores filters: the client filters).
func (p *logsPage) fetchNew() tea.Cmd {
	c, ctx, gen, from := p.sh.opts.Client, p.sh.ctx, p.followGen, p.checkpoint
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		m := followMsg{gen: gen, checkpoint: from}
		if from == "" {
			newest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1})
			if err != nil || len(newest) == 0 {
				m.err = err
				return m
			}
			m.checkpoint = newest[0].ID
			return m
		}
		for range 50 { // at most 5000 new events per tick
			batch, err := c.LogsAfter(ctx, m.checkpoint, auth0client.MaxPerPage)
			if err != nil {
				m.err = err
				return m
			}
			m.events = append(m.events, batch...)
			if len(batch) > 0 {
				m.checkpoint = batch[len(batch)-1].ID
			}
			if len(batch) < auth0client.MaxPerPage {
				break
			}
		}
		return m
	}
}

func (p *logsPage) key(msg tea.KeyMsg) tea.Cmd {
	k := p.sh.keys
	if p.field >= 0 {
		switch msg.Type {
		case tea.KeyEnter:
			p.fields[p.field].Blur()
			p.field = -1
			return p.search()
		case tea.KeyEsc:
			p.fields[p.field].Blur()
			p.field = -1
			return nil
		case tea.KeyTab, tea.KeyShiftTab, tea.KeyDown, tea.KeyUp:
			p.fields[p.field].Blur()
			if msg.Type == tea.KeyTab || msg.Type == tea.KeyDown {
				p.field = (p.field + 1) % len(p.fields)
			} else {
				p.field = (p.field + len(p.fields) - 1) % len(p.fields)
			}
			p.fields[p.field].Focus()
			return nil
		}
		p.fields[p.field].update(msg)
		return nil
	}
	if p.list.update(msg, k) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Edit):
		p.field = fieldType
		p.fields[p.field].Focus()
	case key.Matches(msg, k.Refresh):
		return p.search()
	case key.Matches(msg, k.Follow):
		p.following = !p.following
		p.followGen++
		if !p.following {
			return toast("stopped following", false)
		}
		p.checkpoint = ""
		if len(p.events) > 0 && p.newestIsTenantNewest() {
			p.checkpoint = p.events[0].ID
		}
		return tea.Batch(p.fetchNew(), toast("following new events every 2s", false))
	case key.Matches(msg, k.Open):
		if e, ok := p.selected(); ok && e.UserID != "" {
			id := e.UserID
			return func() tea.Msg { return openUserMsg{id} }
		}
	case key.Matches(msg, k.IP):
		if e, ok := p.selected(); ok && e.IP != "" {
			ip := e.IP
			return func() tea.Msg { return openIPMsg{target: ip} }
		}
	case key.Matches(msg, k.Contain):
		if e, ok := p.selected(); ok && e.UserID != "" {
			id := e.UserID
			return func() tea.Msg { return containMsg{id} }
		}
	}
	return nil
}

// newestIsTenantNewest: with no filter the newest row is a valid checkpoint;
// with one, the tenant's newest event is fetched instead (the filtered
// newest may be old, and following from it would replay everything since).
func (p *logsPage) newestIsTenantNewest() bool {
	return strings.TrimSpace(p.fields[fieldType].Value()+p.fields[fieldIP].Value()+p.fields[fieldUser].Value()) == ""
}

func (p *logsPage) selected() (auth0client.LogEvent, bool) {
	i, ok := p.list.selected()
	if !ok {
		return auth0client.LogEvent{}, false
	}
	return p.events[i], true
}

func (p *logsPage) view(w, h int) string {
	st := &p.sh.st
	var b strings.Builder
	fw := max(w/4, 16)
	for i := range p.fields {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(padTo(p.fields[i].view(st, fw-1), fw-1))
	}
	b.WriteByte('\n')
	var status string
	switch {
	case p.loading:
		status = "searching " + p.applied + " …"
	case p.err != "":
		status = st.bad.Render("error: " + auth0client.Clean(p.err))
	case !p.searched:
		status = st.dim.Render("e edits the filters; enter searches")
	default:
		status = fmt.Sprintf("%d events · %s", len(p.events), p.applied)
		if len(p.events) >= logsLimit {
			status += fmt.Sprintf(" (the newest %d)", logsLimit)
		}
	}
	if p.following {
		status = st.good.Render(fmt.Sprintf("● FOLLOWING (+%d) ", p.newCount)) + status
	}
	if p.note != "" {
		status += st.warn.Render(" · " + auth0client.Clean(p.note))
	}
	b.WriteString(status)
	b.WriteByte('\n')
	p.list.setSize(w, h-2)
	b.WriteString(p.list.view(st))
	return b.String()
}

func visibleWidth(s string) int { return ansi.StringWidth(s) }

// padTo pads an (ANSI-styled) string to w cells.
func padTo(s string, w int) string {
	n := visibleWidth(s)
	if n >= w {
		return s
	}
	return s + strings.Repeat(" ", w-n)
}
