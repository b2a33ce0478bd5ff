package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// pbPhase is where a playbook modal is.
type pbPhase int

const (
	pbLoading pbPhase = iota // reading the user and planning
	pbConfirm                // showing the plan, waiting for the typed id
	pbRunning                // the Runner is working; events stream in
	pbDone                   // end state and the unblock verdict
	pbFailed                 // could not plan
)

// playbook is the contain modal: the plan (every API call, persistence
// findings), the typed-id confirmation, live per-step status from the
// Runner's events, then the end state read back and the unblock verdict.
type playbook struct {
	sh     *shared
	userID string
	phase  pbPhase
	closed bool

	ctx    context.Context
	cancel context.CancelFunc

	journal journalHold // open from planning until the run ends

	runner  *responders.Runner
	target  *responders.Target
	plan    []responders.PlannedStep
	confirm *confirm
	scroll  int

	// choices are what the modal offers beyond the default playbook;
	// focus is 0 on the id box, i on the i-th offered choice.
	choices pbChoices
	focus   int
	// ticketURL is a password-change ticket the run created: a credential,
	// drawn only inside the modal (the alternate screen, never the
	// scrollback) and copied only on request.
	ticketMu  sync.Mutex
	ticketURL string

	status  map[string]responders.Event // step → latest event
	loadErr string
	result  *responders.UserResult
	end     endState
	ch      chan tea.Msg
	done    chan struct{}
	err     string
}

// endState is the user read back after the run.
type endState struct {
	blocked          bool
	sessions, tokens int
	sessErr, tokErr  string
	userErr          string
	dryRun           bool
	recordedCalls    int
	incident, head   string
}

type (
	planMsg struct {
		owner  *playbook
		runner *responders.Runner
		target *responders.Target
		plan   []responders.PlannedStep
		err    error
	}
	runEventMsg struct {
		owner *playbook
		ev    responders.Event
	}
	runDoneMsg struct {
		owner  *playbook
		result responders.UserResult
		end    endState
	}
	// containedMsg tells pages that a user's state changed.
	containedMsg struct{ userID string }
)

func newPlaybook(sh *shared, userID string) *playbook {
	ctx, cancel := context.WithCancel(sh.ctx)
	return &playbook{sh: sh, userID: userID, ctx: ctx, cancel: cancel, status: map[string]responders.Event{}}
}

// pbChoices are the contain modal's options, as contain's flags have them:
// --reset-method ticket, --steps …,mfa and --force.
type pbChoices struct {
	ticket, mfa, force bool
	// decided: the defaults were set from the persistence found (once).
	decided bool
}

// pbChoice is one offered option, explained in one line.
type pbChoice int

const (
	choiceTicket pbChoice = iota
	choiceMFA
	choiceForce
)

// playbookSteps is the playbook the console runs: the CLI's default
// (snapshot, block, revoke, reset, unblock check), with the mfa step when
// chosen.
func playbookSteps(c pbChoices) ([]responders.Step, error) {
	names := responders.DefaultSteps
	if c.mfa {
		names = append(slices.Clone(names), responders.StepMFA)
	}
	return responders.ParseSteps(names)
}

// resetMethod is contain's --reset-method for the choices.
func (c pbChoices) resetMethod() string {
	if c.ticket {
		return "ticket"
	}
	return "email"
}

// hasFinding reports persistence of a kind in the plan.
func (p *playbook) hasFinding(kind string) bool {
	if p.target == nil {
		return false
	}
	for _, f := range p.target.Findings {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// offered are the choices that apply to this user: a ticket always, the
// mfa step when a factor was enrolled in the window, and sending to a
// changed email only when the attacker changed it.
func (p *playbook) offered() []pbChoice {
	out := []pbChoice{choiceTicket}
	if p.hasFinding(responders.FindingMFAEnrolled) {
		out = append(out, choiceMFA)
	}
	if p.hasFinding(responders.FindingEmailChanged) {
		out = append(out, choiceForce)
	}
	return out
}

// toggle flips a choice (a ticket and sending to a changed address
// exclude each other) and plans again.
func (p *playbook) toggle(c pbChoice) tea.Cmd {
	switch c {
	case choiceTicket:
		p.choices.ticket = !p.choices.ticket
		if p.choices.ticket {
			p.choices.force = false
		}
	case choiceMFA:
		p.choices.mfa = !p.choices.mfa
	case choiceForce:
		p.choices.force = !p.choices.force
		if p.choices.force {
			p.choices.ticket = false
		}
	}
	p.phase = pbLoading
	return p.init()
}

// setTicket keeps the ticket the run created (the runner's TicketSink).
func (p *playbook) setTicket(url string) {
	p.ticketMu.Lock()
	p.ticketURL = url
	p.ticketMu.Unlock()
}

func (p *playbook) ticket() string {
	p.ticketMu.Lock()
	defer p.ticketMu.Unlock()
	return p.ticketURL
}

func (p *playbook) running() bool { return p.phase == pbRunning }

// capturing: in the confirm phase every key is typed into the id box.
func (p *playbook) capturing() bool { return p.phase == pbConfirm }

func (p *playbook) init() tea.Cmd {
	o := p.sh.opts
	ctx, choices := p.ctx, p.choices
	return func() tea.Msg {
		m := planMsg{owner: p}
		steps, err := playbookSteps(choices)
		if err != nil {
			m.err = err
			return m
		}
		j, err := p.journal.open(o.Incidents)
		if err != nil {
			m.err = err
			return m
		}
		m.runner = &responders.Runner{Client: o.Client, Writer: o.Writer, Journal: j, Steps: steps, Workers: 1,
			Opts: responders.Options{WindowStart: o.Now().Add(-o.Since), ResetMethod: choices.resetMethod(), Force: choices.force, VerifyTimeout: 20 * time.Second, Now: o.Now,
				// A ticket is a credential: it stays inside the console.
				TicketSink: func(_ string, t auth0client.Secret) error { p.setTicket(t.Reveal()); return nil }}}
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		m.target, m.err = m.runner.Load(ctx, p.userID)
		if m.err != nil {
			return m
		}
		// The preflight the CLI runs: a run that would fail mid-playbook
		// (a missing scope, no reset route) is refused before any write.
		names := make([]string, 0, len(steps))
		for _, s := range steps {
			names = append(names, s.Name())
		}
		pre, err := responders.Preflight(ctx, o.Client, responders.PreflightNeed{Steps: names, ResetMethod: choices.resetMethod(), Tickets: choices.ticket, User: p.userID})
		if err == nil {
			err = pre.Err()
		}
		if err != nil {
			m.err = err
			return m
		}
		m.runner.Opts.ResetClients = pre.ResetClients
		m.plan = m.runner.PlanUser(ctx, m.target)
		return m
	}
}

// release frees what the modal holds once it is closed (not running).
func (p *playbook) release() {
	p.journal.release()
	if p.phase != pbRunning {
		p.cancel()
		p.journal.close()
	}
}

// abort stops a run (quitting) and waits briefly for it to record its end.
func (p *playbook) abort() {
	p.journal.release()
	p.cancel()
	if p.done != nil {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	}
	p.journal.close()
}

func (p *playbook) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case planMsg:
		if msg.owner != p {
			return nil
		}
		if msg.err != nil {
			p.phase, p.loadErr = pbFailed, msg.err.Error()
			return nil
		}
		p.runner, p.target, p.plan = msg.runner, msg.target, msg.plan
		if !p.choices.decided {
			// The first plan sets the defaults from what it found, as a
			// finding's response does: a ticket where the attacker changed
			// the email, the mfa step where they enrolled a factor.
			p.choices.decided = true
			want := p.choices
			want.ticket = p.hasFinding(responders.FindingEmailChanged)
			want.mfa = p.hasFinding(responders.FindingMFAEnrolled)
			if want != p.choices {
				p.choices = want
				return p.init()
			}
		}
		p.phase = pbConfirm // the focus stays on the option just toggled
		p.confirm = newConfirm(p.userID, "the user id")
		if id, _ := p.journal.incident(); id != "" {
			return func() tea.Msg { return incidentMsg{id} }
		}
		return nil
	case runEventMsg:
		if msg.owner != p {
			return nil
		}
		if msg.ev.Step != "" {
			p.status[msg.ev.Step] = msg.ev
		} else if msg.ev.Error != "" {
			p.err = msg.ev.Error
		}
		return p.listen()
	case runDoneMsg:
		if msg.owner != p {
			return nil
		}
		p.phase = pbDone
		p.result, p.end = &msg.result, msg.end
		id := p.userID
		return tea.Batch(p.listen(), func() tea.Msg { return containedMsg{id} })
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

func (p *playbook) key(msg tea.KeyMsg) tea.Cmd {
	switch p.phase {
	case pbConfirm:
		switch msg.Type {
		case tea.KeyTab, tea.KeyShiftTab:
			n := len(p.offered()) + 1
			if msg.Type == tea.KeyTab {
				p.focus = (p.focus + 1) % n
			} else {
				p.focus = (p.focus + n - 1) % n
			}
			return nil
		}
		if p.focus > 0 {
			// On the options: space toggles, esc cancels; nothing else.
			switch {
			case msg.Type == tea.KeyEsc || msg.Type == tea.KeyCtrlC:
				p.closed = true
				return toast("not confirmed: nothing was changed", false)
			case msg.String() == " ":
				if off := p.offered(); p.focus-1 < len(off) {
					return p.toggle(off[p.focus-1])
				}
			}
			return nil
		}
		switch msg.Type {
		case tea.KeyUp:
			p.scroll = max(0, p.scroll-1)
			return nil
		case tea.KeyDown:
			p.scroll++
			return nil
		case tea.KeyPgUp:
			p.scroll = max(0, p.scroll-10)
			return nil
		case tea.KeyPgDown:
			p.scroll += 10
			return nil
		}
		res, cmd := p.confirm.update(msg)
		switch res {
		case confirmCancelled:
			p.closed = true
			return toast("not confirmed: nothing was changed", false)
		case confirmAccepted:
			return p.start()
		}
		return cmd
	case pbRunning:
		if msg.Type == tea.KeyEsc {
			return toast("the playbook is running; it cannot be closed until it ends (q asks to quit)", true)
		}
		return nil
	default: // loading, done, failed
		if p.phase == pbDone && key.Matches(msg, p.sh.keys.Copy) {
			if t := p.ticket(); t != "" {
				return p.sh.copySecretCmd(t, "the ticket URL")
			}
		}
		if key.Matches(msg, p.sh.keys.Back, p.sh.keys.Open, p.sh.keys.Quit) {
			p.closed = true
		}
		return nil
	}
}

// start runs the Runner in a goroutine; its events come back through ch,
// read by a listen Cmd that is re-armed after each one.
func (p *playbook) start() tea.Cmd {
	p.phase = pbRunning
	p.ch = make(chan tea.Msg, 64)
	p.done = make(chan struct{})
	r, ctx, id, c := p.runner, p.ctx, p.userID, p.sh.opts.Client
	dryRun, rec := p.sh.opts.dryRun(), p.sh.opts.recorder()
	go func() {
		defer close(p.done)
		defer close(p.ch)
		send := func(m tea.Msg) {
			select {
			case p.ch <- m:
			case <-ctx.Done():
			}
		}
		events := make(chan responders.Event, 64)
		r.Events = events
		fwd := make(chan struct{})
		go func() {
			defer close(fwd)
			for ev := range events {
				send(runEventMsg{p, ev})
			}
		}()
		results, err := r.Run(ctx, []string{id})
		if err != nil {
			results = []responders.UserResult{{UserID: id, Error: err.Error()}}
		}
		close(events)
		<-fwd
		end := endState{dryRun: dryRun}
		end.incident, end.head = p.journal.incident()
		p.journal.close()
		if rec != nil {
			end.recordedCalls = len(rec.Calls())
		}
		if ctx.Err() == nil {
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			readEndState(rctx, c, id, &end)
			cancel()
		}
		res := responders.UserResult{UserID: id}
		if len(results) > 0 {
			res = results[0]
		}
		send(runDoneMsg{p, res, end})
	}()
	return p.listen()
}

func readEndState(ctx context.Context, c *auth0client.Client, id string, end *endState) {
	if u, err := c.User(ctx, id); err != nil {
		end.userErr = err.Error()
	} else {
		end.blocked = u.Blocked
	}
	if s, err := c.Sessions(ctx, id); err != nil {
		end.sessErr = err.Error()
	} else {
		end.sessions = len(s)
	}
	if t, err := c.RefreshTokens(ctx, id); err != nil {
		end.tokErr = err.Error()
	} else {
		end.tokens = len(t)
	}
}

func (p *playbook) listen() tea.Cmd {
	ch := p.ch
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return nil
		}
		return m
	}
}

func (p *playbook) hints() []key.Binding {
	switch p.phase {
	case pbConfirm:
		return []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "press the highlighted button")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
			key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "scroll the plan")),
		}
	case pbRunning:
		return []key.Binding{p.sh.keys.Quit}
	}
	return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc/enter", "close"))}
}

// view draws the modal's box in at most w×h cells.
func (p *playbook) view(w, h int) string {
	st := &p.sh.st
	w = max(min(w, 110), 30)
	inner := w - 4
	var head []string
	mode := " LIVE "
	badge := st.live
	if p.sh.opts.dryRun() {
		mode, badge = " DRY-RUN: no write is sent ", st.dryRun
	} else if p.sh.opts.Training {
		mode, badge = " TRAINING ", st.training
	}
	title := "CONTAIN " + auth0client.Clean(p.userID)
	if p.target != nil && p.target.User.Email != "" {
		title += " <" + auth0client.Clean(p.target.User.Email) + ">"
	}
	head = append(head, badge.Render(mode)+" "+st.title.Render(title))
	var body, foot []string
	switch p.phase {
	case pbLoading:
		body = append(body, "reading the user, their logs and MFA methods, and planning …")
	case pbFailed:
		body = append(body, st.bad.Render("cannot plan: "+auth0client.Clean(p.loadErr)), "", "nothing was changed · esc closes")
	case pbConfirm:
		body = p.planLines(st)
		foot = wrapLines(p.choiceLines(st), inner)
		cf := strings.Split(p.confirm.view(st), "\n")
		if p.focus > 0 {
			cf[0] = st.dim.Render("(tab returns to the box) ") + cf[0]
		}
		foot = append(append(foot, ""), cf...)
	case pbRunning, pbDone:
		body = p.progressLines(st)
		if p.phase == pbDone {
			body = append(body, p.endLines(st)...)
			foot = []string{st.dim.Render("esc or enter closes")}
		} else {
			foot = []string{st.dim.Render("running … every step is journaled before it is sent")}
		}
	}
	body = wrapLines(body, inner)
	// The plan scrolls; the header and the confirmation stay put.
	room := max(h-2-len(head)-len(foot)-1, 1)
	if p.scroll > max(0, len(body)-room) {
		p.scroll = max(0, len(body)-room)
	}
	if len(body) > room {
		start := p.scroll
		if p.phase != pbConfirm {
			start = len(body) - room // follow the newest lines
		}
		end := min(start+room, len(body))
		more := fmt.Sprintf("(%d-%d of %d lines; ↑/↓ scroll)", start+1, end, len(body))
		body = append(body[start:end-1:end-1], st.dim.Render(more))
	}
	var lines []string
	lines = append(append(lines, head...), "")
	lines = append(lines, body...)
	if len(foot) > 0 {
		lines = append(append(lines, ""), foot...)
	}
	box := st.modalDanger
	if p.sh.opts.dryRun() || p.sh.opts.Training {
		box = st.modal
	}
	return box.Width(w - 2).Render(fitBlock(strings.Join(lines, "\n"), inner, len(lines)))
}

func (p *playbook) planLines(st *styles) []string {
	var out []string
	if len(p.target.Findings) > 0 {
		out = append(out, st.warn.Render("Persistence found (the attacker may have a way back in):"))
		for _, f := range p.target.Findings {
			out = append(out, "  ! "+f.Kind+": "+auth0client.Clean(f.Detail))
		}
	} else {
		out = append(out, "No persistence found since "+fmtTime(p.sh.now().Add(-p.sh.opts.Since))+" (email, phone, MFA, linked identities).")
	}
	out = append(out, "", st.bold.Render("The plan, in order (every API call):"))
	for _, ps := range p.plan {
		out = append(out, fmt.Sprintf("  %-14s %s", ps.Step, auth0client.Clean(ps.Summary())))
		for _, c := range ps.Plan.Calls {
			out = append(out, "      "+c.String())
		}
	}
	return out
}

func outcomeMark(o responders.Outcome) string {
	switch o {
	case responders.Done, responders.AlreadyDone:
		return "✓"
	case responders.Planned:
		// Dry-run: the calls were recorded, not made. A tick would claim
		// the step is done.
		return "○"
	case responders.Skipped:
		return "-"
	case responders.Failed:
		return "✗"
	case responders.AwaitingUnblock, responders.AwaitingConfirmation:
		return "!"
	case responders.Running:
		return "…"
	}
	return " "
}

func (p *playbook) progressLines(st *styles) []string {
	var out []string
	for _, ps := range p.plan {
		ev, ok := p.status[ps.Step]
		if !ok {
			out = append(out, fmt.Sprintf("  %s %-14s %s", "·", ps.Step, "waiting"))
			continue
		}
		line := fmt.Sprintf("  %s %-14s %-16s %s", outcomeMark(ev.Outcome), ps.Step, ev.Outcome, auth0client.Clean(ev.Reason))
		if ev.Error != "" {
			line = st.bad.Render(fmt.Sprintf("  %s %-14s %-16s %s", outcomeMark(ev.Outcome), ps.Step, ev.Outcome, auth0client.Clean(ev.Error)))
		} else if ev.Outcome == responders.AwaitingUnblock {
			line = st.warn.Render(line)
		}
		out = append(out, line)
	}
	if p.err != "" {
		out = append(out, st.bad.Render("error: "+auth0client.Clean(p.err)))
	}
	return out
}

func (p *playbook) endLines(st *styles) []string {
	e := p.end
	var out []string
	out = append(out, "", st.bold.Render("End state (read back from the tenant):"))
	if e.userErr != "" {
		out = append(out, st.bad.Render("  user: "+auth0client.Clean(e.userErr)))
	} else {
		out = append(out, fmt.Sprintf("  blocked: %s", yesNo(e.blocked)))
	}
	if e.sessErr != "" {
		out = append(out, "  sessions: "+auth0client.Clean(e.sessErr))
	} else {
		out = append(out, fmt.Sprintf("  sessions: %d", e.sessions))
	}
	if e.tokErr != "" {
		out = append(out, "  refresh tokens: "+auth0client.Clean(e.tokErr))
	} else {
		out = append(out, fmt.Sprintf("  refresh tokens: %d", e.tokens))
	}
	if e.dryRun {
		out = append(out, st.warn.Render(fmt.Sprintf("  DRY-RUN: no write was sent (%d calls recorded this session; ctrl+l shows them)", e.recordedCalls)))
	}
	// The unblock verdict: will the owner be able to sign in after the reset?
	for _, s := range p.result.Steps {
		if s.Step != responders.StepUnblockCheck {
			continue
		}
		switch s.Outcome {
		case responders.AwaitingUnblock:
			out = append(out, "", st.bad.Render("! THE USER STAYS BLOCKED AFTER THE RESET: "+auth0client.Clean(s.Reason)),
				st.bad.Render("  unblock them (atoctl users unblock) once the password change (scp) shows in their logs"))
		case responders.Failed:
			out = append(out, "", st.bad.Render("unblock check failed: "+auth0client.Clean(s.Error)))
		default:
			out = append(out, "", st.good.Render("unblock check: "+auth0client.Clean(s.Reason)))
		}
	}
	if p.result.Error != "" {
		out = append(out, st.bad.Render("error: "+auth0client.Clean(p.result.Error)))
	}
	if t := p.ticket(); t != "" {
		// Inside the modal only: the console runs on the alternate screen,
		// so the URL never reaches the terminal's scrollback.
		out = append(out, "", st.warn.Render("Password-change ticket (a credential: give it to the owner out of band; y copies it):"), "  "+auth0client.Clean(t))
	}
	if e.incident != "" {
		head := e.head
		if len(head) > 16 {
			head = head[:16]
		}
		out = append(out, "", fmt.Sprintf("journaled in incident %s (head %s); :incident shows it", e.incident, head))
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// wrapLines wraps each line to w cells (continuations indented), so a long
// reason or request body is read whole rather than cut.
func wrapLines(lines []string, w int) []string {
	var out []string
	for _, l := range lines {
		if ansi.StringWidth(l) <= w {
			out = append(out, l)
			continue
		}
		for i, part := range strings.Split(ansi.Wrap(l, w-4, " /,"), "\n") {
			if i > 0 {
				part = "    " + part
			}
			out = append(out, part)
		}
	}
	return out
}

// choiceLines are the modal's options, each explained in one line.
func (p *playbook) choiceLines(st *styles) []string {
	check := func(on bool) string {
		if on {
			return "[x] "
		}
		return "[ ] "
	}
	out := []string{st.bold.Render("Options (tab, space toggles):")}
	for i, c := range p.offered() {
		var line string
		switch c {
		case choiceTicket:
			line = check(p.choices.ticket) + "reset by ticket: a password-change URL shown here only (y copies it), for you to give the owner; no email is sent"
		case choiceMFA:
			line = check(p.choices.mfa) + "mfa: remove the factors enrolled in the attack window and forget remembered browsers"
		case choiceForce:
			line = check(p.choices.force) + "email the reset anyway to the changed address (contain --force): it may be the attacker's; a ticket is safer"
		}
		cur := "  "
		if p.focus == i+1 {
			cur, line = "> ", st.bold.Render(line)
		}
		out = append(out, cur+line)
	}
	return out
}
