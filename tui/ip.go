package tui

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// ipLimit bounds the events one IP page reads (a busy shared address has
// many; an attacker's has hundreds).
const ipLimit = 20_000

// openIPMsg opens the IP page of an address or network; a zero since means
// the console's attack window.
type openIPMsg struct {
	target string
	since  time.Time
	window time.Duration
}

// ipPage is what triage knows about one address (or network) in a window:
// its label and reasons, events by type, a sparkline of failures over
// time, and the accounts it touched by verdict. It triages exactly the
// events bulk containment would, so X acts on what the page shows.
type ipPage struct {
	sh     *shared
	target string
	prefix netip.Prefix
	since  time.Time
	window time.Duration

	seq     int
	loading bool
	err     string
	note    string

	events  int
	report  *responders.IPReport // the address's own report (single addresses)
	res     responders.TriageResult
	byType  []typeCount
	fails   []int // failures per bucket, oldest first
	accts   *list
	verdict []responders.AccountVerdict
}

type typeCount struct {
	typ string
	n   int
}

type ipLoadedMsg struct {
	owner  *ipPage
	seq    int
	events []auth0client.LogEvent
	note   string
	err    error
}

var ipAccountColumns = []column{
	{title: "verdict", min: 14},
	{title: "user", min: 20, flex: 3},
	{title: "user name", min: 14, flex: 2, drop: 2},
	{title: "first attack", min: 16, drop: 3},
	{title: "why", min: 12, flex: 3, drop: 1},
}

func newIPPage(sh *shared, target string, prefix netip.Prefix, since time.Time, window time.Duration) *ipPage {
	if since.IsZero() {
		window = sh.opts.Since
		since = sh.now().Add(-window)
	}
	p := &ipPage{sh: sh, target: target, prefix: prefix, since: since, window: window, accts: newList(ipAccountColumns)}
	p.accts.handledOn = sh.anyHandled
	p.accts.handled = func(row int) string { return sh.userHandled(p.verdict[row].UserID) }
	return p
}

func (p *ipPage) title() string { return "ip " + auth0client.Clean(p.target) }

func (p *ipPage) capturing() bool { return p.accts.filtering() }

func (p *ipPage) back() bool { return p.accts.clearFilter() }

func (p *ipPage) hints() []key.Binding {
	k := p.sh.keys
	open := k.Open
	open.SetHelp("enter", "open user")
	return []key.Binding{open, k.Mark, k.Contain, k.Bulk, k.Filter, k.SortNext, k.Logs, k.Refresh}
}

func (p *ipPage) init() tea.Cmd {
	p.seq++
	p.loading, p.err = true, ""
	seq, ctx, sh, target, since := p.seq, p.sh.ctx, p.sh, p.target, p.since
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		res, err := responders.FindLogsFrom(ctx, sh.opts.events(), responders.LogRequest{Network: target, Since: since, Limit: ipLimit})
		return ipLoadedMsg{owner: p, seq: seq, events: res.Events, note: res.Note, err: err}
	}
}

func (p *ipPage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case ipLoadedMsg:
		if msg.owner != p || msg.seq != p.seq {
			return nil
		}
		p.loading = false
		if msg.err != nil {
			p.err = msg.err.Error()
			return nil
		}
		p.note = msg.note
		if len(msg.events) >= ipLimit {
			p.note = strings.TrimPrefix(p.note+fmt.Sprintf("; the newest %d events only", ipLimit), "; ")
		}
		p.setEvents(msg.events)
	case containedMsg:
		// The verdicts do not change, but the analyst may want the list
		// read again after a run; nothing to do until they ask (r).
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

// sparkBuckets is how many columns the failure sparkline has.
const sparkBuckets = 48

func (p *ipPage) setEvents(evs []auth0client.LogEvent) {
	p.events = len(evs)
	tr := responders.NewTriage(responders.TriageConfig{Since: p.since})
	counts := map[string]int{}
	p.fails = make([]int, sparkBuckets)
	from, span := p.since, p.sh.now().Sub(p.since)
	for _, e := range evs {
		tr.Add(responders.TriageEventFrom(e))
		counts[e.Type]++
		switch e.Type {
		case "f", "fp", "fu":
			if span > 0 {
				i := int(int64(e.Date.Sub(from)) * sparkBuckets / int64(span))
				p.fails[min(max(i, 0), sparkBuckets-1)]++
			}
		}
	}
	p.byType = p.byType[:0]
	for t, n := range counts {
		p.byType = append(p.byType, typeCount{t, n})
	}
	slices.SortFunc(p.byType, func(a, b typeCount) int {
		return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.typ, b.typ))
	})
	p.res = tr.Result()
	// Opened from triage or findings: the accounts and the address's
	// report come from their detection of the window, so the counts agree
	// (an account-level takeover through shared infrastructure needs the
	// other addresses' events to be seen).
	if run, ok := p.sh.cached(p.window, p.since); ok {
		whole := run.det.Detection.Triage().Result()
		p.res.IPs, p.res.Accounts = whole.IPs, nil
		p.res.Compromised, p.res.StoppedByMFA, p.res.Targeted = 0, 0, 0
		// An account's own address list is capped; the address's report
		// names every account taken over from it.
		takenHere := map[string]bool{}
		for _, ip := range whole.IPs {
			if p.inside(ip.IP) {
				for _, id := range ip.Compromised {
					takenHere[id] = true
				}
			}
		}
		for _, a := range whole.Accounts {
			if !slices.ContainsFunc(a.IPs, p.inside) && !takenHere[a.UserID] {
				continue
			}
			p.res.Accounts = append(p.res.Accounts, a)
			switch a.Verdict {
			case responders.VerdictCompromised:
				p.res.Compromised++
			case responders.VerdictStoppedByMFA:
				p.res.StoppedByMFA++
			case responders.VerdictTargeted:
				p.res.Targeted++
			}
		}
	}
	p.report = nil
	if p.prefix.IsSingleIP() {
		for i := range p.res.IPs {
			if p.res.IPs[i].IP == p.prefix.Addr().String() {
				p.report = &p.res.IPs[i]
			}
		}
	}
	p.verdict = p.res.Accounts
	p.accts.setSource(accountRows(p.verdict))
}

// inside reports whether an address is in the page's network.
func (p *ipPage) inside(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && p.prefix.Contains(a.Unmap())
}

func (p *ipPage) key(msg tea.KeyMsg) tea.Cmd {
	k := p.sh.keys
	if p.accts.filtering() {
		p.accts.update(msg, k)
		return nil
	}
	switch {
	case key.Matches(msg, k.Refresh):
		return p.init()
	case key.Matches(msg, k.Open):
		if i, ok := p.accts.selected(); ok {
			id := p.verdict[i].UserID
			return func() tea.Msg { return openUserMsg{id} }
		}
	case key.Matches(msg, k.Contain):
		var ids []string
		for _, i := range p.accts.markedRows() {
			ids = append(ids, p.verdict[i].UserID)
		}
		p.accts.clearMarks()
		return containMarked(ids)
	case key.Matches(msg, k.Logs):
		t := p.target
		return func() tea.Msg { return openLogsMsg{ip: t} }
	case key.Matches(msg, k.Bulk):
		if p.loading {
			return toast("still reading the events of "+p.target, true)
		}
		if p.report != nil && p.report.Label.IsShared() {
			return toast(fmt.Sprintf("%s is %s infrastructure: atoctl does not bulk-contain it", p.report.IP, p.report.Label), true)
		}
		t, since := p.target, p.since
		return func() tea.Msg { return bulkMsg{targets: []string{t}, since: since} }
	default:
		p.accts.update(msg, k)
	}
	return nil
}

func (p *ipPage) view(w, h int) string {
	st := &p.sh.st
	var lines []string
	head := fmt.Sprintf("%s · window %s: since %s", auth0client.Clean(p.target), fmtWindow(p.window), fmtTime(p.since))
	switch {
	case p.loading:
		return head + "\nreading its events …"
	case p.err != "":
		return head + "\n" + st.bad.Render("error: "+auth0client.Clean(p.err)) + "\n" + st.dim.Render("r tries again")
	}
	if r := p.report; r != nil {
		label := string(r.Label)
		if label == "" {
			label = "no label (ordinary traffic)"
		}
		switch {
		case r.Flagged:
			label = st.bad.Render(strings.ToUpper(label))
		case r.Label.IsShared():
			label = st.good.Render(label + " infrastructure, never blocked")
		}
		head += fmt.Sprintf(" · %s · score %d", label, r.Score)
		if r.Country != "" {
			head += " · " + auth0client.Clean(r.Country)
		}
		if r.Cluster != "" {
			head += " · in " + r.Cluster
		}
	}
	lines = append(lines, head)
	if p.report != nil && len(p.report.Reasons) > 0 {
		lines = append(lines, firstLines(wrapLines([]string{"why: " + auth0client.Clean(strings.Join(p.report.Reasons, "; "))}, w), 2)...)
	}
	// Events by type.
	var types []string
	for _, tc := range p.byType {
		types = append(types, auth0client.Clean(tc.typ)+" "+strconv.Itoa(tc.n))
	}
	ev := fmt.Sprintf("%d events", p.events)
	if len(types) > 0 {
		ev += ": " + strings.Join(types, " · ")
	}
	if p.note != "" {
		ev += st.warn.Render(" · " + auth0client.Clean(p.note))
	}
	lines = append(lines, firstLines(wrapLines([]string{ev}, w), 2)...)
	lines = append(lines, p.sparkline(w))
	var ids []string
	for _, a := range p.verdict {
		ids = append(ids, a.UserID)
	}
	accounts := fmt.Sprintf("accounts: %s compromised · %d stopped by MFA · %d targeted",
		st.bad.Render(strconv.Itoa(p.res.Compromised)), p.res.StoppedByMFA, p.res.Targeted) + handledNote(p.sh.countHandled(ids))
	if h := p.sh.networkHandled(p.target); h != "" {
		accounts += " · " + st.good.Render("network blocked")
	}
	lines = append(lines, accounts)
	out := strings.Join(lines, "\n") + "\n"
	if p.accts.len() == 0 {
		return out + "no account has a verdict from here in this window"
	}
	p.accts.setSize(w, max(h-len(lines)-1, 2))
	return out + p.accts.view(st) + "\n" + st.dim.Render("X bulk-contains "+auth0client.Clean(p.target)+": the compromised accounts above, resets, a network block")
}

// sparkline draws failures (f, fp, fu) over the window, one bucket per
// cell: the bot's rhythm and when it stopped.
func (p *ipPage) sparkline(w int) string {
	bars := []rune("▁▂▃▄▅▆▇█")
	peak := 0
	total := 0
	for _, n := range p.fails {
		peak = max(peak, n)
		total += n
	}
	prefix := "failures "
	suffix := fmt.Sprintf(" %d, peak %d per %s", total, peak, bucketSpan(p.sh.now().Sub(p.since)))
	if w < 100 {
		suffix = fmt.Sprintf(" %d (peak %d/%s)", total, peak, bucketSpan(p.sh.now().Sub(p.since)))
	}
	room := w - len(prefix) - len(suffix) - 2
	buckets := p.fails
	if room < len(buckets) {
		// Narrow terminal: merge neighbouring buckets.
		k := (len(buckets) + room - 1) / max(room, 1)
		merged := make([]int, 0, room)
		for i := 0; i < len(buckets); i += k {
			s := 0
			for _, n := range buckets[i:min(i+k, len(buckets))] {
				s += n
			}
			merged = append(merged, s)
		}
		buckets = merged
		peak = slices.Max(append([]int{0}, merged...))
		suffix = fmt.Sprintf(" %d (peak %d/%s)", total, peak, bucketSpan(p.sh.now().Sub(p.since)*time.Duration(k)))
	}
	var b strings.Builder
	b.WriteString(prefix + "│")
	for _, n := range buckets {
		switch {
		case n == 0 || peak == 0:
			b.WriteRune(' ')
		default:
			b.WriteRune(bars[min((n*len(bars)-1)/peak, len(bars)-1)])
		}
	}
	b.WriteString("│" + suffix)
	return b.String()
}

func bucketSpan(window time.Duration) string {
	d := max((window / sparkBuckets).Round(time.Minute), time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%02dm", h, m)
}

type accountRows []responders.AccountVerdict

func (r accountRows) Len() int        { return len(r) }
func (r accountRows) Flag(i int) bool { return r[i].Verdict == responders.VerdictCompromised }
func (r accountRows) Cells(i int) []string {
	a := r[i]
	return []string{verdictLabel(a.Verdict), a.UserID, a.UserName, fmtTime(a.FirstAttack), strings.Join(a.Reasons, "; ")}
}

// verdictLabel is a verdict as a list shows it (takeovers shout).
func verdictLabel(v responders.Verdict) string {
	switch v {
	case responders.VerdictCompromised:
		return "COMPROMISED"
	case responders.VerdictStoppedByMFA:
		return "stopped by MFA"
	}
	return string(v)
}

// firstLines keeps at most n lines, marking a cut with "…".
func firstLines(lines []string, n int) []string {
	if len(lines) <= n {
		return lines
	}
	out := append([]string{}, lines[:n]...)
	out[n-1] += " …"
	return out
}
