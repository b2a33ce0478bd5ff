package tui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// TriageRead is a triage of the tenant's events: the result and anything
// the analyst should know about the read (a limit reached, retention).
type TriageRead struct {
	Result responders.TriageResult
	Note   string
	// Since is when the detection's window starts.
	Since time.Time
}

// defaultTriageWindow is how far back :triage looks unless told (the CLI's
// `ip triage` default).
const defaultTriageWindow = 24 * time.Hour

// stream is a job whose messages come back one at a time through a
// channel, read by a listen Cmd that the owner re-arms after each message:
// progress flows while Update never waits.
type stream struct{ ch chan tea.Msg }

// startStream runs work in a goroutine; work sends with send (which gives
// up when ctx ends), or offers progress on s, and the stream closes when
// work returns.
func startStream(ctx context.Context, work func(s *stream, send func(tea.Msg))) *stream {
	s := &stream{ch: make(chan tea.Msg, 64)}
	go func() {
		defer close(s.ch)
		work(s, func(m tea.Msg) {
			select {
			case s.ch <- m:
			case <-ctx.Done():
			}
		})
	}()
	return s
}

// offer sends m unless the channel is full (progress that a newer message
// will replace anyway).
func (s *stream) offer(m tea.Msg) {
	select {
	case s.ch <- m:
	default:
	}
}

func (s *stream) listen() tea.Cmd {
	if s == nil {
		return nil
	}
	ch := s.ch
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return m
	}
}

// triagePage ranks the addresses (and /24 networks) of an attack over a
// window, with shared infrastructure labelled, from the tenant's events.
type triagePage struct {
	sh     *shared
	window time.Duration
	since  time.Time
	tab    int // 0 addresses, 1 networks
	// takeoversFirst orders the addresses that took accounts over first
	// (most takeovers, then rank): what to contain first.
	takeoversFirst bool

	seq     int
	st      *stream
	loading bool
	read    int
	started time.Time
	err     string
	note    string

	// fresh asks the next init for a new detection (r), not the cached one.
	fresh bool

	res      *responders.TriageResult
	ips      []responders.IPReport // labelled ones: ordinary traffic is left out
	ipList   *list
	netList  *list
	acctList *list // every account the counts count
	flagged  int
	sharedIP int
}

type (
	triageProgressMsg struct {
		owner *triagePage
		st    *stream
		seq   int
		read  int
	}
	triageDoneMsg struct {
		owner *triagePage
		seq   int
		read  TriageRead
		err   error
	}
)

var triageIPColumns = []column{
	{title: "#", min: 3},
	{title: "ip", min: 15},
	{title: "score", min: 5},
	{title: "label", min: 13},
	{title: "fails", min: 6},
	{title: "accts", min: 6, drop: 3},
	{title: "signed in", min: 9, drop: 4},
	{title: "comp", min: 4},
	{title: "cc", min: 2, drop: 5},
	{title: "last seen", min: 16, drop: 2},
	{title: "why", min: 12, flex: 4, drop: 1},
}

var triageNetColumns = []column{
	{title: "network", min: 18, flex: 1},
	{title: "score", min: 5},
	{title: "flagged", min: 7},
	{title: "addrs", min: 5},
	{title: "fails", min: 6},
	{title: "accts", min: 6, drop: 3},
	{title: "shared inside", min: 13, flex: 1, drop: 2},
	{title: "why", min: 12, flex: 4, drop: 1},
}

func newTriagePage(sh *shared, window time.Duration) *triagePage {
	if window <= 0 {
		window = defaultTriageWindow
	}
	p := &triagePage{sh: sh, window: window, ipList: newList(triageIPColumns), netList: newList(triageNetColumns), acctList: newList(ipAccountColumns)}
	p.ipList.handledOn = sh.anyHandled
	p.ipList.handled = func(row int) string {
		ip := p.ips[row]
		if h := sh.networkHandled(ip.IP); h != "" {
			return h
		}
		if len(ip.Compromised) > 0 && sh.countHandled(ip.Compromised) == len(ip.Compromised) {
			return "contained"
		}
		return ""
	}
	p.netList.handledOn = sh.anyHandled
	p.netList.handled = func(row int) string { return sh.networkHandled(p.res.Clusters[row].CIDR) }
	p.acctList.handledOn = sh.anyHandled
	p.acctList.handled = func(row int) string { return sh.userHandled(p.res.Accounts[row].UserID) }
	return p
}

func (p *triagePage) title() string { return "triage " + fmtWindow(p.window) }

func (p *triagePage) capturing() bool { return p.currentList().filtering() }

func (p *triagePage) back() bool { return p.currentList().clearFilter() }

func (p *triagePage) hints() []key.Binding {
	k := p.sh.keys
	open := k.Open
	open.SetHelp("enter", "IP page")
	if p.tab == 1 {
		open.SetHelp("enter", "network page")
	}
	tab := k.NextTab
	tab.SetHelp("tab", "addresses/networks")
	if p.tab == 2 {
		return []key.Binding{open, k.Mark, k.Contain, k.Filter, k.SortNext, tab, k.Refresh}
	}
	return []key.Binding{open, k.Mark, k.Bulk, k.Filter, k.SortNext, k.Order, tab, k.Logs, k.Refresh}
}

func (p *triagePage) init() tea.Cmd {
	p.seq++
	p.loading, p.read, p.err, p.note = true, 0, "", ""
	p.since = p.sh.now().Add(-p.window)
	p.started = time.Now()
	seq, fresh := p.seq, p.fresh
	p.fresh = false
	// The detection the findings and IP pages read too.
	st := p.sh.readDetection(p.window, fresh,
		func(st *stream, n int) tea.Msg { return triageProgressMsg{p, st, seq, n} },
		func(run detectionRun, err error) tea.Msg {
			if err != nil {
				return triageDoneMsg{p, seq, TriageRead{}, err}
			}
			read := TriageRead{Result: run.det.Detection.Triage().Result(), Note: strings.Join(run.det.Notes, "; "), Since: run.since}
			return triageDoneMsg{p, seq, read, nil}
		})
	p.st = st
	return st.listen()
}

func (p *triagePage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case triageProgressMsg:
		if msg.owner != p {
			return nil
		}
		if msg.seq == p.seq {
			p.read = msg.read
		}
		return msg.st.listen()
	case triageDoneMsg:
		if msg.owner != p || msg.seq != p.seq {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.err = msg.err.Error()
			return nil
		}
		p.setResult(msg.read)
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

func (p *triagePage) setResult(r TriageRead) {
	res := r.Result
	p.res, p.note = &res, r.Note
	if !r.Since.IsZero() {
		p.since = r.Since // the cached detection's window
	}
	p.read = int(res.Events)
	p.ips = p.ips[:0]
	p.flagged, p.sharedIP = 0, 0
	for _, ip := range res.IPs {
		if ip.Label == responders.LabelNone {
			continue
		}
		if ip.Flagged {
			p.flagged++
		}
		if ip.Label.IsShared() {
			p.sharedIP++
		}
		p.ips = append(p.ips, ip)
	}
	p.ipList.setSource(triageIPRows(p.ips))
	p.netList.setSource(triageNetRows(res.Clusters))
	p.acctList.setSource(accountRows(res.Accounts))
	p.applyOrder()
}

// applyOrder shows the addresses by rank, or takeovers first.
func (p *triagePage) applyOrder() {
	if !p.takeoversFirst {
		p.ipList.setOrder(nil)
		return
	}
	order := make([]int, len(p.ips))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(len(p.ips[b].Compromised), len(p.ips[a].Compromised))
	})
	p.ipList.setOrder(order)
}

func (p *triagePage) key(msg tea.KeyMsg) tea.Cmd {
	k := p.sh.keys
	if l := p.currentList(); l.filtering() {
		l.update(msg, k)
		return nil
	}
	switch {
	case key.Matches(msg, k.NextTab):
		p.tab = (p.tab + 1) % 3
		return nil
	case key.Matches(msg, k.PrevTab):
		p.tab = (p.tab + 2) % 3
		return nil
	case key.Matches(msg, k.Order):
		p.takeoversFirst = !p.takeoversFirst
		p.applyOrder()
		return nil
	case key.Matches(msg, k.Refresh):
		if p.loading {
			return nil
		}
		p.fresh = true
		return p.init()
	case key.Matches(msg, k.Open):
		if p.tab == 2 {
			if i, ok := p.acctList.selected(); ok {
				id := p.res.Accounts[i].UserID
				return func() tea.Msg { return openUserMsg{id} }
			}
			return nil
		}
		if t, ok := p.selectedTarget(); ok {
			since, window := p.since, p.window
			return func() tea.Msg { return openIPMsg{target: t, since: since, window: window} }
		}
	case key.Matches(msg, k.Logs):
		if t, ok := p.selectedTarget(); ok {
			return func() tea.Msg { return openLogsMsg{ip: t} }
		}
	case key.Matches(msg, k.Contain):
		if p.tab != 2 || p.res == nil {
			return toast("C contains accounts: the accounts tab (3) lists them; X bulk-contains addresses", true)
		}
		var ids []string
		for _, i := range p.acctList.markedRows() {
			ids = append(ids, p.res.Accounts[i].UserID)
		}
		p.acctList.clearMarks()
		return containMarked(ids)
	case key.Matches(msg, k.Bulk):
		if p.res == nil || p.tab == 2 {
			return toast("nothing selected to contain: X acts on addresses and networks (C on accounts)", true)
		}
		// The marked rows, or the one under the cursor.
		var targets []string
		for _, i := range p.currentList().markedRows() {
			if p.tab == 1 {
				targets = append(targets, p.res.Clusters[i].CIDR)
				continue
			}
			if ip := p.ips[i]; ip.Label.IsShared() {
				return toast(fmt.Sprintf("%s is %s infrastructure: atoctl does not bulk-contain it (enter lists its accounts; C contains one)", ip.IP, ip.Label), true)
			}
			targets = append(targets, p.ips[i].IP)
		}
		if len(targets) == 0 {
			return toast("nothing selected to contain", true)
		}
		p.currentList().clearMarks()
		since := p.since
		return func() tea.Msg { return bulkMsg{targets: targets, since: since} }
	default:
		p.currentList().update(msg, k)
	}
	return nil
}

func (p *triagePage) currentList() *list {
	switch p.tab {
	case 1:
		return p.netList
	case 2:
		return p.acctList
	}
	return p.ipList
}

func (p *triagePage) currentRow() int {
	i, _ := p.currentList().selected()
	return i
}

// selectedTarget is the address or network under the cursor.
func (p *triagePage) selectedTarget() (string, bool) {
	if p.res == nil {
		return "", false
	}
	i, ok := p.currentList().selected()
	if !ok || p.tab == 2 {
		return "", false
	}
	if p.tab == 1 {
		return p.res.Clusters[i].CIDR, true
	}
	return p.ips[i].IP, true
}

func (p *triagePage) view(w, h int) string {
	st := &p.sh.st
	var b strings.Builder
	head := fmt.Sprintf("window %s (since %s)", fmtWindow(p.window), fmtTime(p.since))
	switch {
	case p.loading:
		b.WriteString(head + fmt.Sprintf(" · reading the tenant's events … %d read (%s)", p.read, time.Since(p.started).Round(time.Second)))
		return b.String()
	case p.err != "":
		b.WriteString(head + "\n" + st.bad.Render("error: "+auth0client.Clean(p.err)) + "\n" + st.dim.Render("r tries again"))
		return b.String()
	case p.res == nil:
		return head
	}
	r := p.res
	b.WriteString(head + fmt.Sprintf(" · %d events · %d flagged · %d shared", r.Events, p.flagged, p.sharedIP))
	b.WriteByte('\n')
	var ids []string
	for _, a := range r.Accounts {
		ids = append(ids, a.UserID)
	}
	b.WriteString(fmt.Sprintf("accounts: %s compromised · %d stopped by MFA · %d targeted", st.bad.Render(strconv.Itoa(r.Compromised)), r.StoppedByMFA, r.Targeted) +
		handledNote(p.sh.countHandled(ids)))
	if p.note != "" {
		b.WriteString(st.warn.Render(" · " + auth0client.Clean(p.note)))
	}
	b.WriteByte('\n')
	tabs := []string{"1: " + pluralOf(len(p.ips), "address", "addresses"), "2: " + plural(len(r.Clusters), "network"), "3: " + plural(len(r.Accounts), "account")}
	for i, t := range tabs {
		if i == p.tab {
			b.WriteString(st.tabActive.Render("[" + t + "]"))
		} else {
			b.WriteString(st.tabInactive.Render(" " + t + " "))
		}
		b.WriteString(" ")
	}
	if p.tab == 0 {
		order := "by rank"
		if p.takeoversFirst {
			order = "takeovers first"
		}
		b.WriteString(st.dim.Render("order: " + order + " (o)"))
	}
	b.WriteByte('\n')
	l := p.currentList()
	if l.len() == 0 {
		switch p.tab {
		case 0:
			b.WriteString("no attacking, suspicious or shared addresses in this window")
		case 1:
			b.WriteString("no network holds several flagged addresses")
		default:
			b.WriteString("no account has a verdict in this window")
		}
		return b.String()
	}
	l.setSize(w, max(h-4, 2))
	b.WriteString(l.view(st))
	b.WriteByte('\n')
	if t, ok := p.selectedTarget(); ok {
		b.WriteString(st.dim.Render("enter: what triage knows about " + auth0client.Clean(t) + " · X: bulk-contain it"))
	}
	return b.String()
}

// fmtWindow prints a window the way it is typed (24h, 90m, 7d).
func fmtWindow(d time.Duration) string {
	switch {
	case d >= 72*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

type triageIPRows []responders.IPReport

func (r triageIPRows) Len() int        { return len(r) }
func (r triageIPRows) Flag(i int) bool { return len(r[i].Compromised) > 0 }
func (r triageIPRows) Cells(i int) []string {
	ip := r[i]
	label := string(ip.Label)
	if ip.Label.IsShared() {
		label += " (keep)"
	}
	return []string{strconv.Itoa(ip.Rank), ip.IP, strconv.Itoa(ip.Score), label, strconv.FormatInt(ip.Failures+ip.AttackProtection, 10),
		strconv.Itoa(ip.AccountsTried), strconv.Itoa(ip.AccountsSucceeded), strconv.Itoa(len(ip.Compromised)), ip.Country,
		fmtTime(ip.LastSeen), strings.Join(ip.Reasons, "; ")}
}

type triageNetRows []responders.ClusterReport

func (r triageNetRows) Len() int        { return len(r) }
func (r triageNetRows) Flag(i int) bool { return len(r[i].SharedAddresses) > 0 }
func (r triageNetRows) Cells(i int) []string {
	c := r[i]
	return []string{c.CIDR, strconv.Itoa(c.Score), strconv.Itoa(c.FlaggedAddresses), strconv.Itoa(c.Addresses),
		strconv.FormatInt(c.Failures+c.AttackProtection, 10), strconv.Itoa(c.AccountsTried), strings.Join(c.SharedAddresses, ","),
		strings.Join(c.Reasons, "; ")}
}
