package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// incidentPage is the current incident's journal as a timeline, with the
// report's summary (integrity, head hash, users awaiting an unblock).
type incidentPage struct {
	sh      *shared
	id      string
	records []responders.Record
	report  responders.Report
	loaded  bool
	err     string
	list    *list
}

type incidentLoadedMsg struct {
	owner *incidentPage
	recs  []responders.Record
	err   error
}

func newIncidentPage(sh *shared) *incidentPage {
	return &incidentPage{sh: sh, list: newList([]column{
		{title: "time", min: 19},
		{title: "#", min: 4},
		{title: "kind", min: 7},
		{title: "user", min: 12, flex: 2, drop: 1},
		{title: "step", min: 13},
		{title: "outcome", min: 16},
		{title: "detail", min: 10, flex: 4, drop: 2},
	})}
}

func (p *incidentPage) title() string   { return "incident" }
func (p *incidentPage) capturing() bool { return p.list.filtering() }
func (p *incidentPage) back() bool      { return p.list.clearFilter() }
func (p *incidentPage) hints() []key.Binding {
	return []key.Binding{p.sh.keys.Refresh, p.sh.keys.Open, p.sh.keys.Export}
}

func (p *incidentPage) init() tea.Cmd {
	p.id = p.sh.opts.Incident
	if p.id == "" || p.sh.opts.Incidents == nil {
		p.loaded = true
		return nil
	}
	store, id := p.sh.opts.Incidents, p.id
	return func() tea.Msg {
		recs, err := store.Load(id)
		return incidentLoadedMsg{p, recs, err}
	}
}

func (p *incidentPage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case incidentLoadedMsg:
		if msg.owner != p {
			return nil
		}
		p.loaded, p.err = true, ""
		if msg.err != nil {
			p.err = msg.err.Error()
		}
		p.records = msg.recs
		p.report = responders.BuildReport(msg.recs)
		p.list.setSource(recordRows(msg.recs))
		p.list.cursor = len(msg.recs) - 1 // the newest record
		p.list.clamp()
	case containedMsg:
		return p.init()
	case tea.KeyMsg:
		k := p.sh.keys
		if p.list.update(msg, k) {
			return nil
		}
		switch {
		case key.Matches(msg, k.Refresh):
			return p.init()
		case key.Matches(msg, k.Export):
			return p.export()
		case key.Matches(msg, k.Open):
			if i, ok := p.list.selected(); ok && p.records[i].UserID != "" {
				id := p.records[i].UserID
				return func() tea.Msg { return openUserMsg{id} }
			}
		}
	}
	return nil
}

// export writes the report in a Cmd (IO stays out of Update) and toasts
// where it went.
func (p *incidentPage) export() tea.Cmd {
	if p.id == "" || !p.loaded || p.sh.opts.Incidents == nil {
		return toast("no incident to export yet", true)
	}
	store, id, md := p.sh.opts.Incidents, p.id, p.report.Markdown()
	return func() tea.Msg {
		path, err := store.SaveReport(id, md)
		if err != nil {
			return toastMsg{"export failed: " + err.Error(), true}
		}
		return toastMsg{"report saved to " + path, false}
	}
}

func (p *incidentPage) view(w, h int) string {
	st := &p.sh.st
	switch {
	case p.id == "":
		return "No incident yet: the first containment (C on a user) opens one.\nThe CLI's incidents are listed by 'atoctl incident list'."
	case !p.loaded:
		return "reading the journal of " + p.id + " …"
	}
	r := p.report
	var b strings.Builder
	integrity := st.good.Render("chain ok")
	if !r.Verified {
		integrity = st.bad.Render("INTEGRITY: " + r.Integrity)
	}
	head := r.Head
	if len(head) > 16 {
		head = head[:16]
	}
	fmt.Fprintf(&b, "%s · %s · mode %s · %d records · %d users · head %s · %s\n",
		auth0client.Clean(p.id), r.Tenant, r.Mode, r.Records, len(r.Users), head, integrity)
	lines := 1
	if p.err != "" {
		b.WriteString(st.bad.Render("error: "+auth0client.Clean(p.err)) + "\n")
		lines++
	}
	if len(r.AwaitingUnblock) > 0 {
		b.WriteString(st.warn.Render("! awaiting unblock after the reset: "+auth0client.Clean(strings.Join(r.AwaitingUnblock, ", "))) + "\n")
		lines++
	}
	p.list.setSize(w, h-lines)
	b.WriteString(p.list.view(st))
	return b.String()
}

// recordRows adapts journal records to the list.
type recordRows []responders.Record

func (r recordRows) Len() int { return len(r) }
func (r recordRows) Flag(i int) bool {
	return r[i].Outcome == responders.Failed || r[i].Outcome == responders.AwaitingUnblock
}
func (r recordRows) Cells(i int) []string {
	rec := r[i]
	detail := rec.Reason
	if rec.Error != "" {
		detail = rec.Error
	}
	if rec.Kind == responders.KindIntent && len(rec.Calls) > 0 {
		var cs []string
		for _, c := range rec.Calls {
			cs = append(cs, c.Method+" "+c.Path)
		}
		detail = strings.Join(cs, "; ")
	}
	outcome := rec.Outcome
	if rec.Mode == responders.ModeDryRun && outcome != "" {
		outcome += " (dry)"
	}
	return []string{rec.Time.UTC().Format("2006-01-02 15:04:05"), fmt.Sprint(rec.Seq), string(rec.Kind), rec.UserID, rec.Step, string(outcome), detail}
}
