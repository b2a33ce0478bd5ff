package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
)

// userTab is one tab of the user page.
type userTab int

const (
	tabProfile userTab = iota
	tabLogs
	tabSessions
	tabTokens
)

var userTabNames = []string{"profile", "logs", "sessions", "refresh tokens"}

// userPage is one user: profile (identities, blocks, MFA), recent logs,
// sessions and refresh tokens, each read by its own Cmd.
type userPage struct {
	sh  *shared
	id  string
	tab userTab

	user     *auth0client.User
	blocks   []auth0client.UserBlock
	methods  []auth0client.AuthMethod
	logs     []auth0client.LogEvent
	sessions []auth0client.Session
	tokens   []auth0client.RefreshToken
	errs     [4]string
	loaded   [4]bool

	logList, sessionList, tokenList *list
}

// Loads of the user page, addressed to the page that asked.
type (
	userProfileMsg struct {
		owner   *userPage
		user    auth0client.User
		blocks  []auth0client.UserBlock
		methods []auth0client.AuthMethod
		err     error
	}
	userLogsMsg struct {
		owner *userPage
		logs  []auth0client.LogEvent
		err   error
	}
	userSessionsMsg struct {
		owner    *userPage
		sessions []auth0client.Session
		err      error
	}
	userTokensMsg struct {
		owner  *userPage
		tokens []auth0client.RefreshToken
		err    error
	}
)

func newUserPage(sh *shared, id string) *userPage {
	return &userPage{sh: sh, id: id,
		logList: newList(logColumns),
		sessionList: newList([]column{
			{title: "session", min: 10, flex: 1, drop: 3},
			{title: "created", min: 16, drop: 2},
			{title: "last active", min: 16},
			{title: "initial ip", min: 15},
			{title: "last ip", min: 15},
			{title: "asn (initial → last)", min: 12, flex: 1},
			{title: "last user agent", min: 10, flex: 2, drop: 1},
		}),
		tokenList: newList([]column{
			{title: "token", min: 10, flex: 1, drop: 3},
			{title: "client", min: 10, flex: 1, drop: 4},
			{title: "created", min: 16, drop: 2},
			{title: "last used", min: 16},
			{title: "initial ip", min: 15},
			{title: "last ip", min: 15},
			{title: "asn (initial → last)", min: 12, flex: 1},
			{title: "rotating", min: 8, drop: 1},
		}),
	}
}

func (p *userPage) title() string { return "user " + auth0client.Clean(p.id) }

func (p *userPage) capturing() bool {
	l := p.currentList()
	return l != nil && l.filtering()
}

func (p *userPage) back() bool {
	l := p.currentList()
	return l != nil && l.clearFilter()
}

func (p *userPage) hints() []key.Binding {
	k := p.sh.keys
	if p.tab != tabProfile {
		return []key.Binding{k.NextTab, k.Contain, k.IP, k.Logs, k.Refresh}
	}
	return []key.Binding{k.NextTab, k.Contain, k.Logs, k.Refresh}
}

func (p *userPage) init() tea.Cmd {
	p.loaded = [4]bool{}
	c, ctx, id := p.sh.opts.Client, p.sh.ctx, p.id
	timeout := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Minute) }
	return tea.Batch(
		func() tea.Msg {
			ctx, cancel := timeout()
			defer cancel()
			m := userProfileMsg{owner: p}
			if m.user, m.err = c.User(ctx, id); m.err != nil {
				return m
			}
			if m.blocks, m.err = c.UserBlocks(ctx, id); m.err != nil {
				return m
			}
			m.methods, m.err = c.AuthMethods(ctx, id)
			return m
		},
		func() tea.Msg {
			ctx, cancel := timeout()
			defer cancel()
			logs, err := c.UserLogs(ctx, id, 0, auth0client.MaxPerPage)
			return userLogsMsg{p, logs, err}
		},
		func() tea.Msg {
			ctx, cancel := timeout()
			defer cancel()
			s, err := c.Sessions(ctx, id)
			return userSessionsMsg{p, s, err}
		},
		func() tea.Msg {
			ctx, cancel := timeout()
			defer cancel()
			t, err := c.RefreshTokens(ctx, id)
			return userTokensMsg{p, t, err}
		},
	)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	if errors.Is(err, auth0client.ErrNotFound) {
		return "not found: " + err.Error()
	}
	return err.Error()
}

func (p *userPage) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case userProfileMsg:
		if msg.owner == p {
			p.loaded[tabProfile], p.errs[tabProfile] = true, errText(msg.err)
			if msg.err == nil {
				p.user, p.blocks, p.methods = &msg.user, msg.blocks, msg.methods
			}
		}
	case userLogsMsg:
		if msg.owner == p {
			p.loaded[tabLogs], p.errs[tabLogs] = true, errText(msg.err)
			p.logs = msg.logs
			p.logList.setSource(newLogRows(msg.logs))
		}
	case userSessionsMsg:
		if msg.owner == p {
			p.loaded[tabSessions], p.errs[tabSessions] = true, errText(msg.err)
			p.sessions = msg.sessions
			p.sessionList.setSource(sessionRows(msg.sessions))
		}
	case userTokensMsg:
		if msg.owner == p {
			p.loaded[tabTokens], p.errs[tabTokens] = true, errText(msg.err)
			p.tokens = msg.tokens
			p.tokenList.setSource(tokenRows(msg.tokens))
		}
	case containedMsg:
		if msg.userID == p.id {
			return p.init()
		}
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

func (p *userPage) currentList() *list {
	switch p.tab {
	case tabLogs:
		return p.logList
	case tabSessions:
		return p.sessionList
	case tabTokens:
		return p.tokenList
	}
	return nil
}

func (p *userPage) key(msg tea.KeyMsg) tea.Cmd {
	k := p.sh.keys
	if l := p.currentList(); l != nil && l.filtering() {
		l.update(msg, k)
		return nil
	}
	switch {
	case key.Matches(msg, k.NextTab):
		p.tab = (p.tab + 1) % 4
		return nil
	case key.Matches(msg, k.PrevTab):
		p.tab = (p.tab + 3) % 4
		return nil
	case key.Matches(msg, k.Tab1):
		p.tab = tabProfile
	case key.Matches(msg, k.Tab2):
		p.tab = tabLogs
	case key.Matches(msg, k.Tab3):
		p.tab = tabSessions
	case key.Matches(msg, k.Tab4):
		p.tab = tabTokens
	case key.Matches(msg, k.Contain):
		id := p.id
		return func() tea.Msg { return containMsg{id} }
	case key.Matches(msg, k.Refresh):
		return p.init()
	case key.Matches(msg, k.IP):
		if ip := p.selectedIP(); ip != "" {
			return func() tea.Msg { return openIPMsg{target: ip} }
		}
		return nil
	case key.Matches(msg, k.Logs), key.Matches(msg, k.Open):
		ip := p.selectedIP()
		if ip == "" && p.tab != tabProfile {
			return nil
		}
		user := ""
		if ip == "" {
			user = p.id
		}
		return func() tea.Msg { return openLogsMsg{ip: ip, user: user} }
	default:
		if l := p.currentList(); l != nil {
			l.update(msg, k)
		}
	}
	return nil
}

// selectedIP is the address of the selected log, session or token (its
// last IP): where "l" jumps to.
func (p *userPage) selectedIP() string {
	l := p.currentList()
	if l == nil {
		return ""
	}
	i, ok := l.selected()
	if !ok {
		return ""
	}
	switch p.tab {
	case tabLogs:
		return p.logs[i].IP
	case tabSessions:
		return p.sessions[i].Device.LastIP
	case tabTokens:
		return p.tokens[i].Device.LastIP
	}
	return ""
}

func (p *userPage) view(w, h int) string {
	st := &p.sh.st
	var b strings.Builder
	// Tabs line.
	for i, name := range userTabNames {
		label := fmt.Sprintf("%d %s", i+1, name)
		switch userTab(i) {
		case tabLogs:
			label += count(p.loaded[i], len(p.logs))
		case tabSessions:
			label += count(p.loaded[i], len(p.sessions))
		case tabTokens:
			label += count(p.loaded[i], len(p.tokens))
		}
		if userTab(i) == p.tab {
			b.WriteString(st.tabActive.Render("[" + label + "]"))
		} else {
			b.WriteString(st.tabInactive.Render(" " + label + " "))
		}
		b.WriteString(" ")
	}
	b.WriteByte('\n')
	h--
	if !p.loaded[p.tab] {
		b.WriteString("loading …")
		return b.String()
	}
	if e := p.errs[p.tab]; e != "" {
		b.WriteString(st.bad.Render("error: " + auth0client.Clean(e)))
		return b.String()
	}
	switch p.tab {
	case tabProfile:
		b.WriteString(p.profileView(w))
	case tabLogs:
		p.logList.setSize(w, h)
		b.WriteString(p.logList.view(st))
	case tabSessions:
		b.WriteString(p.deviceTab(w, h, p.sessionList, len(p.sessions), func(i int) auth0client.Device { return p.sessions[i].Device }, "sessions"))
	case tabTokens:
		b.WriteString(p.deviceTab(w, h, p.tokenList, len(p.tokens), func(i int) auth0client.Device { return p.tokens[i].Device }, "refresh tokens"))
	}
	return b.String()
}

func count(loaded bool, n int) string {
	if !loaded {
		return ""
	}
	return fmt.Sprintf(" (%d)", n)
}

// deviceTab is a sessions or tokens list with the selected row's initial
// and last device below it, network changes called out.
func (p *userPage) deviceTab(w, h int, l *list, n int, dev func(int) auth0client.Device, what string) string {
	st := &p.sh.st
	if n == 0 {
		return "no " + what
	}
	l.setSize(w, max(h-4, 3))
	var b strings.Builder
	b.WriteString(l.view(st))
	i, _ := l.selected()
	d := dev(i)
	b.WriteString("\n" + fmt.Sprintf("initial: %s  %s  %s", orDash(d.InitialIP), orDash(d.InitialASN), orDash(d.InitialUserAgent)))
	b.WriteString("\n" + fmt.Sprintf("last:    %s  %s  %s", orDash(d.LastIP), orDash(d.LastASN), orDash(d.LastUserAgent)))
	if d.ASNChanged() {
		b.WriteString("\n" + st.warn.Render(fmt.Sprintf("! ASN CHANGED %s → %s: used from another network after it was created (replayed cookie or token?)", d.InitialASN, d.LastASN)))
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return auth0client.Clean(s)
}

func (p *userPage) profileView(w int) string {
	st := &p.sh.st
	u := p.user
	var lines []string
	add := func(k, v string) { lines = append(lines, fmt.Sprintf("%-18s %s", k, auth0client.Clean(v))) }
	add("user_id", u.ID)
	verified := " (unverified)"
	if u.EmailVerified {
		verified = " (verified)"
	}
	add("email", u.Email+verified)
	add("name", u.Name)
	if u.Nickname != "" && u.Nickname != u.Name {
		add("nickname", u.Nickname)
	}
	if u.PhoneNumber != "" {
		add("phone", u.PhoneNumber)
	}
	if u.Blocked {
		lines = append(lines, fmt.Sprintf("%-18s %s", "blocked", st.bad.Render("BLOCKED")))
	} else {
		add("blocked", "no")
	}
	add("created", fmtTime(u.CreatedAt))
	add("last login", fmtTime(u.LastLogin)+" from "+orDash(u.LastIP))
	add("logins", fmt.Sprint(u.LoginsCount))
	for _, id := range u.Identities {
		kind := "database"
		if id.IsSocial {
			kind = "social"
		}
		add("identity", fmt.Sprintf("%s (%s, %s)", id.Connection, id.Provider, kind))
	}
	if len(p.blocks) == 0 {
		add("brute-force", "no blocks")
	}
	for _, bl := range p.blocks {
		lines = append(lines, fmt.Sprintf("%-18s %s", "brute-force block", st.warn.Render(auth0client.Clean(bl.Identifier+" from "+bl.IP))))
	}
	if len(p.methods) == 0 {
		add("MFA / methods", "none")
	}
	for _, m := range p.methods {
		desc := m.Type
		if extra := strings.TrimSpace(m.Name + " " + m.Phone + " " + m.Email); extra != "" {
			desc += " " + extra
		}
		if !m.Confirmed {
			desc += " (unconfirmed)"
		}
		enrolled := m.EnrolledAt
		if enrolled.IsZero() {
			enrolled = m.CreatedAt
		}
		line := fmt.Sprintf("%-18s %s, enrolled %s", "method", auth0client.Clean(desc), fmtTime(enrolled))
		if m.Type != "password" && !enrolled.IsZero() && enrolled.After(p.sh.now().Add(-p.sh.opts.Since)) {
			line += st.warn.Render("  ! enrolled in the attack window")
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

// sessionRows and tokenRows adapt sessions and tokens to the list.
type sessionRows []auth0client.Session

func (r sessionRows) Len() int        { return len(r) }
func (r sessionRows) Flag(i int) bool { return r[i].Device.ASNChanged() }
func (r sessionRows) Cells(i int) []string {
	s := r[i]
	last := s.LastInteractedAt
	if last.IsZero() {
		last = s.UpdatedAt
	}
	return []string{s.ID, fmtTime(s.CreatedAt), fmtTime(last), s.Device.InitialIP, s.Device.LastIP, asnCell(s.Device), s.Device.LastUserAgent}
}

type tokenRows []auth0client.RefreshToken

func (r tokenRows) Len() int        { return len(r) }
func (r tokenRows) Flag(i int) bool { return r[i].Device.ASNChanged() }
func (r tokenRows) Cells(i int) []string {
	t := r[i]
	rot := "no"
	if t.Rotating {
		rot = "yes"
	}
	return []string{t.ID, t.ClientID, fmtTime(t.CreatedAt), fmtTime(t.LastExchangedAt), t.Device.InitialIP, t.Device.LastIP, asnCell(t.Device), rot}
}

func asnCell(d auth0client.Device) string {
	if d.ASNChanged() {
		return d.InitialASN + " → " + d.LastASN + " CHANGED"
	}
	if d.LastASN != "" {
		return d.LastASN
	}
	return d.InitialASN
}
