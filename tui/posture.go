package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// posturePage is `:posture`: the same checks as `atoctl posture`, one row
// per check, findings first; the selected check's evidence and fix below.
type posturePage struct {
	sh      *shared
	rep     responders.PostureReport
	checks  []responders.PostureCheck
	loading bool
	err     string
	list    *list
}

type postureLoadedMsg struct {
	owner *posturePage
	rep   responders.PostureReport
	err   error
}

func newPosturePage(sh *shared) *posturePage {
	return &posturePage{sh: sh, list: newList([]column{
		{title: "status", min: 6},
		{title: "check", min: 18, flex: 1},
		{title: "target", min: 10, flex: 2, drop: 1},
		{title: "evidence", min: 20, flex: 4, drop: 2},
	})}
}

func (p *posturePage) title() string   { return "posture" }
func (p *posturePage) capturing() bool { return false }
func (p *posturePage) back() bool      { return false }
func (p *posturePage) hints() []key.Binding {
	return []key.Binding{p.sh.keys.Refresh}
}

// init reads the posture in a Cmd (reads only; never in Update).
func (p *posturePage) init() tea.Cmd {
	if p.sh.opts.Client == nil {
		p.err = "no tenant"
		return nil
	}
	p.loading = true
	ctx, c := p.sh.ctx, p.sh.opts.Client
	return func() tea.Msg {
		rep, err := responders.Posture(ctx, c)
		return postureLoadedMsg{p, rep, err}
	}
}

func (p *posturePage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case postureLoadedMsg:
		if msg.owner != p {
			return nil
		}
		p.loading, p.err = false, ""
		if msg.err != nil {
			p.err = msg.err.Error()
			return nil
		}
		p.rep = msg.rep
		// Findings first (fail, then warn), then the passes, each in the
		// checks' own order.
		p.checks = p.checks[:0]
		for _, s := range []responders.PostureStatus{responders.PostureFail, responders.PostureWarn, responders.PosturePass} {
			for _, ch := range msg.rep.Checks {
				if ch.Status == s {
					p.checks = append(p.checks, ch)
				}
			}
		}
		p.list.setSource(postureRows(p.checks))
	case tea.KeyMsg:
		k := p.sh.keys
		if p.list.update(msg, k) {
			return nil
		}
		if key.Matches(msg, k.Refresh) && !p.loading {
			return p.init()
		}
	}
	return nil
}

func (p *posturePage) view(w, h int) string {
	st := &p.sh.st
	switch {
	case p.err != "":
		return st.bad.Render("posture: " + auth0client.Clean(p.err))
	case p.loading && p.checks == nil:
		return "reading the tenant's configuration …"
	}
	var b strings.Builder
	s := p.rep.Summary
	head := fmt.Sprintf("%d pass · %d warn · %d fail", s[string(responders.PosturePass)], s[string(responders.PostureWarn)], s[string(responders.PostureFail)])
	if p.rep.Failed() {
		head = st.bad.Render(head)
	} else if s[string(responders.PostureWarn)] > 0 {
		head = st.warn.Render(head)
	} else {
		head = st.good.Render(head)
	}
	b.WriteString(head + "\n")
	detail := p.detail(w)
	lines := 1 + strings.Count(detail, "\n") + 1
	p.list.setSize(w, max(h-lines, 3))
	b.WriteString(p.list.view(st))
	b.WriteString("\n" + detail)
	return b.String()
}

// detail is the selected check's evidence and fix, each on one cleaned line.
func (p *posturePage) detail(w int) string {
	i, ok := p.list.selected()
	if !ok || i >= len(p.checks) {
		return ""
	}
	ch := p.checks[i]
	line := func(label, s string) string {
		s = label + auth0client.Clean(s)
		if r := []rune(s); w > 1 && len(r) > w {
			s = string(r[:w-1]) + "…"
		}
		return s
	}
	out := line("evidence: ", ch.Evidence)
	if ch.Fix != "" {
		out += "\n" + line("fix: ", ch.Fix)
	}
	return out
}

// postureRows adapts checks to the list.
type postureRows []responders.PostureCheck

func (r postureRows) Len() int        { return len(r) }
func (r postureRows) Flag(i int) bool { return r[i].Status != responders.PosturePass }
func (r postureRows) Cells(i int) []string {
	c := r[i]
	return []string{string(c.Status), c.ID, c.Target, c.Evidence}
}
