// Package tui is atoctl's full-screen console: a bubbletea program whose
// root model routes messages to pages (users, user detail, logs, incident)
// and draws the chrome around them (header with tenant, mode badge and
// incident, footer key hints, `?` help, `:` palette, the API call log,
// toasts). It reads through *auth0client.Client and acts through
// responders.Runner; everything else (queries, journals) comes from cmd as
// values in Options. IO happens only in tea.Cmds; Update never waits.
package tui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// Options is everything the console needs from cmd.
type Options struct {
	// Ctx bounds every call the console makes; cancelling it stops jobs.
	Ctx    context.Context
	Client *auth0client.Client
	// Events is where the views read events: with a Store, the local
	// event store (synced in the background); else the Client.
	Events responders.EventSource
	// Writer is where writes go: the Client, or a Recorder in dry-run. It
	// alone says whether this is a dry-run (Writer.DryRun).
	Writer   auth0client.Writer
	Training bool
	// Scenario names the training scenario: the header shows it instead of
	// the sandbox's loopback address.
	Scenario string
	// Incident is the current incident id ("" until one is opened).
	Incident string
	// Calls feeds the command log (the client's Observer).
	Calls *CallFeed
	// Guard is what a bulk run never blocks: the allowlisted networks and
	// the operator's own addresses (the same flags as ip contain).
	Guard responders.Guard
	// Bulk are the bulk run's defaults, the same as ip contain's.
	Bulk responders.BulkSettings
	// StartWithFindings opens the console on the findings of this window
	// (training: what is happening comes first); 0 opens on users.
	StartWithFindings time.Duration
	// Incidents is where the journals are and which incident is current:
	// the playbook and bulk runs record into it. Without it the console
	// runs no write.
	Incidents *responders.Incidents
	// Since is how far back the attack window starts for the playbook's
	// persistence checks (default 72h).
	Since time.Duration
	// Renderer decides colours (NO_COLOR, the terminal's profile).
	Renderer *lipgloss.Renderer
	// Now is the clock (tests fix it).
	Now func() time.Time
	// Clipboard is the terminal y copies to with OSC 52 (the console's
	// output); nil: y says there is none.
	Clipboard io.Writer
}

// dryRun asks the Writer.
func (o *Options) dryRun() bool { return o.Writer != nil && o.Writer.DryRun() }

// recorder is the dry-run Writer, for the calls not made; nil when live.
func (o *Options) recorder() *auth0client.Recorder {
	r, _ := o.Writer.(*auth0client.Recorder)
	return r
}

// mode names the badge(s) the header shows.
func (o *Options) mode() responders.Mode {
	switch {
	case o.dryRun():
		return responders.ModeDryRun
	case o.Training:
		return responders.ModeTraining
	}
	return responders.ModeLive
}

// shared is what the root hands every page: size, styles, keys, options.
type shared struct {
	opts *Options
	st   styles
	keys keyMap
	ctx  context.Context
	// detections are the detection runs the pages share.
	detections detections
	// handled is what the current incident has done (lists mark it);
	// handledLoading: a read of the journal is on its way.
	handled        responders.Handled
	handledLoading bool
	// handledAny: something is handled, so lists show the handled column.
	handledAny bool
}

func (sh *shared) now() time.Time { return sh.opts.Now() }

// page is one screen of the console. Pages keep their state across
// navigation; later pages (IP, triage, bulk) plug in here.
type page interface {
	title() string
	// update handles a message; keys reach it only when no overlay is open.
	update(msg tea.Msg) tea.Cmd
	view(w, h int) string
	hints() []key.Binding
	// capturing reports an input box with focus: every key goes to it.
	capturing() bool
	// back handles esc inside the page (close a filter); false pops the page.
	back() bool
}

// Navigation and chrome messages, sent by pages.
type (
	openUserMsg struct{ id string }
	openLogsMsg struct{ ip, user string }
	containMsg  struct{ userID string }
	toastMsg    struct {
		text string
		err  bool
	}
	clearToastMsg struct{ id int }
	incidentMsg   struct{ id string }
)

func toast(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return toastMsg{text, isErr} }
}

// Model is the console's root model.
type Model struct {
	sh *shared

	width, height int
	stack         []page
	users         *usersPage
	logs          *logsPage
	triage        *triagePage
	findings      *findingsPage

	playbook *playbook
	bulk     *bulk
	palette  *palette
	help     bool
	// history are the palette's commands run before (↑/↓ in the palette).
	history []string
	askQuit bool
	showLog bool
	log     cmdlog

	toastText string
	toastErr  bool
	toastID   int

	// interrupted says what a quit left undone (a running job), for Run
	// to return.
	interrupted string
	// store is the background sync's state (eventsync.go).
	store storeFreshness
}

// InterruptedError is what Run returns when the analyst quit while a job
// ran: what is left and how to finish it. It is a cancellation (the CLI
// exits 130).
type InterruptedError struct{ Left string }

func (e *InterruptedError) Error() string { return e.Left }

// Unwrap makes the interruption a context.Canceled.
func (e *InterruptedError) Unwrap() error { return context.Canceled }

// leftNote says what quitting now leaves undone, and how to resume.
func (m *Model) leftNote() string {
	inc := m.sh.opts.Incident
	switch {
	case m.bulk != nil && m.bulk.running():
		total, finished := m.bulk.plan.Accounts(), 0
		if m.bulk.progress != nil {
			finished = m.bulk.progress.Finished
		}
		if id, _ := m.bulk.journal.incident(); id != "" {
			inc = id
		}
		return fmt.Sprintf("quit during a bulk run: %d of %s finished, %d left; :bulk in the console (or 'atoctl ip contain --resume --incident %s') finishes it",
			finished, plural(total, "account"), total-finished, inc)
	case m.playbook != nil && m.playbook.running():
		return fmt.Sprintf("quit during the playbook of %s: what was done is journaled in incident %s; C on the user again finishes it (done steps are not repeated)",
			auth0client.Clean(m.playbook.userID), inc)
	}
	return ""
}

// New builds the console.
func New(opts Options) *Model {
	if opts.Ctx == nil {
		opts.Ctx = context.Background()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Since == 0 {
		opts.Since = 72 * time.Hour
	}
	if opts.Writer == nil && opts.Client != nil {
		opts.Writer = opts.Client
	}
	if opts.Incident == "" && opts.Incidents != nil {
		opts.Incident = opts.Incidents.Current()
	}
	sh := &shared{opts: &opts, st: newStyles(opts.Renderer), keys: defaultKeys(), ctx: opts.Ctx}
	m := &Model{sh: sh, width: 80, height: 24}
	m.log = cmdlog{feed: opts.Calls, recorder: opts.recorder()}
	m.users = newUsersPage(sh)
	m.stack = []page{m.users}
	if opts.StartWithFindings > 0 {
		m.findings = newFindingsPage(sh, opts.StartWithFindings)
		m.stack = append(m.stack, m.findings)
	}
	return m
}

// Init starts listening to the command log.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.sh.opts.Calls.listen(), m.users.init(), m.checkInterruptedBulk(), m.sh.loadHandled(), m.storeState()}
	if m.findings != nil {
		cmds = append(cmds, m.findings.init())
	}
	return tea.Batch(cmds...)
}

// checkInterruptedBulk tells the analyst about a bulk run of the current
// incident that never journaled its end (a crash, a kill, a quit).
func (m *Model) checkInterruptedBulk() tea.Cmd {
	o := m.sh.opts
	if o.Incident == "" || o.Incidents == nil {
		return nil
	}
	id, store := o.Incident, o.Incidents
	return func() tea.Msg {
		recs, err := store.Load(id)
		if err != nil {
			return nil
		}
		plan, finished, err := responders.JournaledBulkPlan(recs)
		if err != nil || finished {
			return nil
		}
		return toastMsg{text: fmt.Sprintf("incident %s has an interrupted bulk run (%s): :bulk resumes it", id, strings.Join(plan.Targets, ", "))}
	}
}

// Run starts the console on the terminal and returns when the analyst quits.
//
// The console never asks the terminal for its colours: its styles are fixed
// ANSI colours (styles.go), and the binary keeps Bubble Tea's init from
// asking (internal/termquery). A style that needs the background must ask
// opts.Renderer.HasDarkBackground() here, before tea.NewProgram owns the
// terminal and the answer can no longer be read.
func Run(opts Options) error {
	m := New(opts)
	_, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(m.sh.ctx)).Run()
	if err == nil && m.interrupted == "" && m.jobRunning() {
		m.interrupted = m.leftNote() // a signal ended the program
	}
	m.stopJobs()
	if err == nil && m.interrupted != "" {
		return &InterruptedError{Left: m.interrupted}
	}
	return err
}

func (m *Model) top() page { return m.stack[len(m.stack)-1] }

// jobRunning reports a job that quitting would interrupt.
func (m *Model) jobRunning() bool {
	return m.playbook != nil && m.playbook.running() || m.bulk != nil && m.bulk.running()
}

func (m *Model) stopJobs() {
	if m.playbook != nil {
		m.playbook.abort()
	}
	if m.bulk != nil {
		m.bulk.abort()
	}
}

// modalOpen reports a playbook or bulk modal: one job at a time (they
// share the incident journal).
func (m *Model) modalOpen() bool { return m.playbook != nil || m.bulk != nil }

// Update routes a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case callMsg:
		m.log.add(msg.call)
		return m, m.sh.opts.Calls.listen()
	case toastMsg:
		m.toastID++
		m.toastText, m.toastErr = msg.text, msg.err
		id := m.toastID
		return m, tea.Tick(6*time.Second, func(time.Time) tea.Msg { return clearToastMsg{id} })
	case clearToastMsg:
		if msg.id == m.toastID {
			m.toastText = ""
		}
		return m, nil
	case incidentMsg:
		m.sh.opts.Incident = msg.id
		return m, nil
	case handledMsg:
		m.sh.handled, m.sh.handledLoading = msg.h, false
		m.sh.handledAny = len(msg.h.Networks) > 0
		for _, u := range msg.h.Users {
			m.sh.handledAny = m.sh.handledAny || u.Label() != ""
		}
		return m, nil
	case storeSyncedMsg, syncTickMsg:
		return m, m.storeUpdate(msg)
	case openUserMsg:
		if u, ok := m.top().(*userPage); ok && u.id == msg.id {
			return m, nil
		}
		return m, m.push(newUserPage(m.sh, msg.id))
	case openLogsMsg:
		return m, m.openLogs(msg.ip, msg.user)
	case openFindingMsg:
		return m, m.push(newFindingPage(m.sh, msg.f, msg.since))
	case openIPMsg:
		return m, m.openIP(msg)
	case bulkMsg:
		if m.modalOpen() {
			return m, toast("a playbook or bulk run is already open", true)
		}
		m.bulk = newBulk(m.sh, msg)
		return m, m.bulk.init()
	case containMsg:
		if m.modalOpen() {
			return m, toast("a playbook or bulk run is already open", true)
		}
		m.playbook = newPlaybook(m.sh, msg.userID)
		return m, m.playbook.init()
	case paletteRunMsg:
		return m, m.runCommand(msg)
	case tea.KeyMsg:
		return m, m.handleKeys(msg)
	}
	// Everything else is a page's or the playbook's own message (a load
	// finished, a job progressed): every open page sees it and keeps only
	// its own.
	var cmds []tea.Cmd
	if _, ok := msg.(containedMsg); ok && !m.sh.handledLoading {
		// A run changed accounts: read what the journal says now.
		if c := m.sh.loadHandled(); c != nil {
			m.sh.handledLoading = true
			cmds = append(cmds, c)
		}
	}
	if m.playbook != nil {
		cmds = append(cmds, m.playbook.update(msg))
		if m.playbook.closed {
			m.playbook.release()
			m.playbook = nil
		}
	}
	if m.bulk != nil {
		cmds = append(cmds, m.bulk.update(msg))
		m.closeBulk()
	}
	for _, p := range m.stack {
		cmds = append(cmds, p.update(msg))
	}
	if m.logs != nil && !m.inStack(m.logs) {
		cmds = append(cmds, m.logs.update(msg)) // keeps following in the background
	}
	// A detection read goes on while the analyst looks elsewhere.
	if m.triage != nil && !m.inStack(m.triage) {
		cmds = append(cmds, m.triage.update(msg))
	}
	if m.findings != nil && !m.inStack(m.findings) {
		cmds = append(cmds, m.findings.update(msg))
	}
	return m, tea.Batch(cmds...)
}

func (m *Model) inStack(p page) bool {
	for _, q := range m.stack {
		if q == p {
			return true
		}
	}
	return false
}

func (m *Model) push(p page) tea.Cmd {
	m.stack = append(m.stack, p)
	if i, ok := p.(interface{ init() tea.Cmd }); ok {
		return i.init()
	}
	return nil
}

// switchTo makes p the page on top of the users page (the console's home).
func (m *Model) switchTo(p page) tea.Cmd {
	if p == m.users {
		m.stack = []page{m.users}
		return nil
	}
	m.stack = []page{m.users}
	return m.push(p)
}

func (m *Model) openLogs(ip, user string) tea.Cmd {
	if m.logs == nil {
		m.logs = newLogsPage(m.sh)
	}
	var cmd tea.Cmd
	if ip != "" || user != "" {
		cmd = m.logs.filterBy(ip, user)
	}
	if m.inStack(m.logs) {
		for len(m.stack) > 1 && m.top() != m.logs {
			m.stack = m.stack[:len(m.stack)-1]
		}
		return cmd
	}
	m.stack = append(m.stack, m.logs)
	if m.logs.fresh() && cmd == nil {
		cmd = m.logs.init()
	}
	return cmd
}

func (m *Model) runCommand(c paletteRunMsg) tea.Cmd {
	switch c.name {
	case "q":
		return m.quit()
	case "users":
		return m.switchTo(m.users)
	case "logs":
		if m.logs == nil {
			m.logs = newLogsPage(m.sh)
		}
		m.stack = []page{m.users, m.logs}
		if c.arg != "" {
			return m.logs.filterBy(c.arg, "")
		}
		if m.logs.fresh() {
			return m.logs.init()
		}
		return nil
	case "incident":
		return m.switchTo(newIncidentPage(m.sh))
	case "posture":
		return m.switchTo(newPosturePage(m.sh))
	case "ip":
		fields := strings.Fields(c.arg)
		if len(fields) == 0 || len(fields) > 2 {
			return toast("usage: :ip ADDRESS|CIDR [WINDOW] (e.g. :ip 203.0.113.7 24h)", true)
		}
		msg := openIPMsg{target: fields[0]}
		if len(fields) == 2 {
			d, err := responders.ParseWindow(fields[1])
			if err != nil {
				return toast(err.Error(), true)
			}
			msg.window, msg.since = d, m.sh.now().Add(-d)
		}
		return m.openIP(msg)
	case "detect", "triage":
		window := defaultTriageWindow
		if c.arg != "" {
			d, err := responders.ParseWindow(c.arg)
			if err != nil {
				return toast(err.Error(), true)
			}
			window = d
		}
		if c.name == "detect" {
			if m.findings != nil && m.findings.window == window && (m.findings.loading || m.findings.findings != nil) {
				m.stack = []page{m.users, m.findings}
				return nil
			}
			m.findings = newFindingsPage(m.sh, window)
			return m.switchTo(m.findings)
		}
		if m.triage != nil && m.triage.window == window && (m.triage.loading || m.triage.res != nil) {
			m.stack = []page{m.users, m.triage}
			return nil
		}
		m.triage = newTriagePage(m.sh, window)
		return m.switchTo(m.triage)
	case "bulk":
		if c.arg != "" {
			return toast("usage: :bulk (resumes the current incident's bulk run; X on an IP or triage row starts one)", true)
		}
		if m.modalOpen() {
			return toast("a playbook or bulk run is already open", true)
		}
		m.bulk = newBulk(m.sh, bulkMsg{resume: true})
		return m.bulk.init()
	}
	return nil
}

// openIP pushes the IP page of an address or network.
func (m *Model) openIP(msg openIPMsg) tea.Cmd {
	prefix, err := responders.ParseNetwork(msg.target)
	if err != nil {
		return toast(err.Error(), true)
	}
	target := prefix.String()
	if prefix.IsSingleIP() {
		target = prefix.Addr().String()
	}
	if p, ok := m.top().(*ipPage); ok && p.target == target && p.since.Equal(msg.since) {
		return nil
	}
	return m.push(newIPPage(m.sh, target, prefix, msg.since, msg.window))
}

// closeBulk drops a closed bulk modal.
func (m *Model) closeBulk() {
	if m.bulk != nil && m.bulk.closed {
		m.bulk.release()
		m.bulk = nil
	}
}

// quit asks first while a job runs.
func (m *Model) quit() tea.Cmd {
	if m.jobRunning() {
		m.askQuit = true
		return nil
	}
	m.stopJobs()
	return tea.Quit
}

// handleKeys acts once per rune of a key message: a terminal delivers
// held or fast keys (key repeat over a slow link, tmux send-keys) as one
// message with several runes, and "jjj" must move three rows, not none.
// A bracketed paste stays whole: it is text for the box that has focus
// (a user id pasted into the confirmation).
func (m *Model) handleKeys(msg tea.KeyMsg) tea.Cmd {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste {
		return m.handleKey(msg)
	}
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		one := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}
		if r == ' ' {
			one.Type = tea.KeySpace
		}
		cmds = append(cmds, m.handleKey(one))
	}
	return tea.Sequence(cmds...)
}

func (m *Model) handleKey(msg tea.KeyMsg) tea.Cmd {
	k := m.sh.keys
	if m.askQuit {
		switch msg.String() {
		case "y", "Y":
			m.askQuit = false
			m.interrupted = m.leftNote()
			m.stopJobs()
			return tea.Quit
		case "n", "N", "esc", "enter", "q":
			m.askQuit = false
		}
		return nil
	}
	if msg.Type == tea.KeyCtrlC {
		return m.quit()
	}
	if m.help {
		if key.Matches(msg, k.Help, k.Back, k.Quit) {
			m.help = false
		}
		return nil
	}
	if m.palette != nil {
		done, cmd := m.palette.update(msg)
		if done {
			m.palette = nil
		}
		return cmd
	}
	if m.playbook != nil {
		if m.playbook.running() && key.Matches(msg, k.Quit) && !m.playbook.capturing() {
			return m.quit()
		}
		cmd := m.playbook.update(msg)
		if m.playbook.closed {
			m.playbook.release()
			m.playbook = nil
		}
		return cmd
	}
	if m.bulk != nil {
		if m.bulk.running() && key.Matches(msg, k.Quit) && !m.bulk.capturing() {
			return m.quit()
		}
		cmd := m.bulk.update(msg)
		m.closeBulk()
		return cmd
	}
	p := m.top()
	if p.capturing() {
		return p.update(msg)
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.help = true
		return nil
	case key.Matches(msg, k.Palette):
		m.palette = newPalette(&m.history)
		return nil
	case key.Matches(msg, k.CommandLog):
		m.showLog = !m.showLog
		return nil
	case key.Matches(msg, k.Copy):
		if c, ok := p.(copier); ok {
			if text, ok := c.copyText(); ok {
				return m.sh.copyCmd(text)
			}
		}
		return toast("nothing to copy here", true)
	case key.Matches(msg, k.Back):
		if p.back() {
			return nil
		}
		if len(m.stack) > 1 {
			m.stack = m.stack[:len(m.stack)-1]
		}
		return nil
	}
	return p.update(msg)
}

// View draws the whole screen: exactly height lines, none wider than width.
func (m *Model) View() string {
	w, h := max(m.width, 20), max(m.height, 6)
	st := &m.sh.st
	header := m.header(w)
	var bottom string
	switch {
	case m.palette != nil:
		bottom = m.palette.view(st, w)
	case m.toastText != "" && m.toastErr:
		bottom = st.toastError.Render(auth0client.Clean(m.toastText))
	case m.toastText != "":
		bottom = st.toastInfo.Render(auth0client.Clean(m.toastText))
	}
	var hints []key.Binding
	if m.playbook != nil {
		hints = m.playbook.hints()
	} else if m.bulk != nil {
		hints = m.bulk.hints()
	} else if m.top().capturing() {
		// Typing goes to the box: only ctrl+c quits from here.
		hints = append(m.top().hints(), m.sh.keys.ForceQuit)
	} else {
		// "? help" first, so the way to every other key always fits.
		hints = append([]key.Binding{m.sh.keys.Help}, m.top().hints()...)
		hints = append(hints, m.sh.keys.globalHints()[1:]...)
	}
	footer := st.footer.Render(hintLine(hints, w))
	bodyH := h - 3
	logH := 0
	if m.showLog {
		logH = min(max(bodyH/3, 4), bodyH-4)
		bodyH -= logH
	}
	var body string
	switch {
	case m.help:
		body = helpView(st, m.sh.keys, m.top().hints(), w)
	default:
		body = m.top().view(w, bodyH)
	}
	switch {
	case m.askQuit:
		what := "A playbook is running"
		if m.bulk != nil && m.bulk.running() {
			what = "A bulk run is running"
		}
		left := wrapLines([]string{m.leftNote()}, min(w-8, 70))
		body = overlay(body, st.modalDanger.Render(what+". Quit anyway?\nThe run stops; the journal keeps what was done.\n"+strings.Join(left, "\n")+"\n\n[y] quit   [N] keep running"), w, bodyH)
	case m.playbook != nil && !m.help:
		body = overlay(body, m.playbook.view(w-4, bodyH-2), w, bodyH)
	case m.bulk != nil && !m.help:
		body = overlay(body, m.bulk.view(w-4, bodyH-2), w, bodyH)
	}
	parts := []string{header, fitBlock(body, w, bodyH)}
	if m.showLog {
		parts = append(parts, fitBlock(m.log.view(st, w, logH), w, logH))
	}
	parts = append(parts, fitBlock(bottom, w, 1), fitBlock(footer, w, 1))
	return strings.Join(parts, "\n")
}

func (m *Model) header(w int) string {
	st := &m.sh.st
	o := m.sh.opts
	var badges []string
	if o.Training {
		badges = append(badges, st.training.Render(" TRAINING "))
	}
	if o.dryRun() {
		badges = append(badges, st.dryRun.Render(" DRY-RUN "))
	}
	if !o.Training && !o.dryRun() {
		badges = append(badges, st.live.Render(" LIVE "))
	}
	tenant := "no tenant"
	switch {
	case o.Training && o.Scenario != "":
		tenant = o.Scenario // beside the TRAINING badge; short, so 80 columns keep the breadcrumbs
	case o.Client != nil:
		tenant = o.Client.Tenant()
	}
	inc := "no incident yet"
	if o.Incident != "" {
		inc = "incident " + o.Incident
	}
	var crumbs []string
	for _, p := range m.stack {
		crumbs = append(crumbs, p.title())
	}
	line := fmt.Sprintf("atoctl %s %s │ %s │ %s%s", strings.Join(badges, " "), auth0client.Clean(tenant), inc, strings.Join(crumbs, " › "), m.freshness())
	return fitBlock(st.header.Render(line), w, 1)
}

// overlay centres a box over the body (the body is hidden behind it).
func overlay(body, box string, w, h int) string {
	_ = body
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, box)
}

// fitBlock makes s exactly h lines of at most w cells (ANSI-aware).
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
