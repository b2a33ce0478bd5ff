package tui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// bulkMsg opens the bulk modal: contain what targets touched since since,
// or (resume) finish the current incident's interrupted bulk run.
type bulkMsg struct {
	targets []string
	since   time.Time
	resume  bool
	// finding, when set, is a detection finding whose response to run (its
	// accounts' own steps and its networks), instead of a discovery.
	finding *responders.AttackFinding
	// accounts, when set, are accounts marked in a list: the playbook for
	// each, through the bulk engine (no network).
	accounts []string
}

// containMarked is what C does on a list of accounts: the playbook modal
// for one, the bulk modal (the count typed back) for several marked.
func containMarked(ids []string) tea.Cmd {
	switch len(ids) {
	case 0:
		return toast("nothing selected to contain", true)
	case 1:
		id := ids[0]
		return func() tea.Msg { return containMsg{id} }
	}
	return func() tea.Msg { return bulkMsg{accounts: ids} }
}

// bkPhase is where a bulk modal is.
type bkPhase int

const (
	bkLoading bkPhase = iota // discovering the accounts, planning the ACL
	bkConfirm                // impact summary, options, the typed count
	bkRunning                // the Runner works through the phases
	bkDone                   // results, failures, the ACL outcome
	bkFailed                 // could not plan
	bkNothing                // nothing to do
)

// bulkOption is a choice offered before confirming.
type bulkOption int

const (
	optACL bulkOption = iota
	optResetMFA
	optResetTargeted
	nBulkOptions
)

// bulk is the bulk-containment modal: the impact (compromised, stopped by
// MFA, targeted; the ACL entries and whether they fit), the count typed
// back to confirm (default Cancel), a progress bar with done, failed and
// rate, the failures, cancel with a confirmation, and resume from the
// journal after a restart.
type bulk struct {
	sh       *shared
	targets  []string
	since    time.Time
	resume   bool
	finding  *responders.AttackFinding
	accounts []string
	// ticketFile is where the run's password-change tickets go.
	ticketFile string
	// resetClients is the preflight's reset route.
	resetClients map[string]string
	// finishedBefore: resume, the accounts done before the interruption.
	finishedBefore []string
	phase          bkPhase
	closed         bool

	ctx    context.Context
	cancel context.CancelFunc

	journal journalHold // open from planning until the run ends

	plan     responders.BulkPlan
	acl      *responders.ACLPlan
	aclErr   string
	loadErr  string
	finished bool // resume: the journaled run had ended

	focus   int // 0: the count box; 1..: the options
	confirm *confirm
	scroll  int

	// Running.
	st         *stream
	done       chan struct{} // closed when the run has journaled its end
	stop       chan struct{} // closed by abort: nobody reads the stream any more
	stopOnce   sync.Once
	started    time.Time
	startReq   int64
	now        time.Time // refreshed by ticks: elapsed and rate
	progress   *responders.Progress
	askCancel  bool
	cancelling bool

	// Done.
	results   []responders.UserResult
	aclResult *responders.StepResult
	incident  string
	head      string
	runErr    string
}

type (
	bulkPlannedMsg struct {
		owner    *bulk
		plan     responders.BulkPlan
		acl      *responders.ACLPlan
		aclErr   string
		finished bool
		// resetClients is the preflight's reset route.
		resetClients map[string]string
		// finishedBefore: resume, the accounts the journal shows done.
		finishedBefore []string
		err            error
	}
	bulkEventMsg struct {
		owner *bulk
		ev    responders.Event
	}
	bulkTickMsg struct{ owner *bulk }
	bulkDoneMsg struct {
		owner    *bulk
		results  []responders.UserResult
		acl      *responders.StepResult
		incident string
		head     string
		err      string
	}
)

func newBulk(sh *shared, m bulkMsg) *bulk {
	ctx, cancel := context.WithCancel(sh.ctx)
	since := m.since
	if since.IsZero() {
		since = sh.now().Add(-sh.opts.Since)
	}
	return &bulk{sh: sh, targets: m.targets, since: since, resume: m.resume, finding: m.finding, accounts: m.accounts, ctx: ctx, cancel: cancel}
}

func (b *bulk) running() bool { return b.phase == bkRunning }

// capturing: while confirming, keys go to the count box or the options;
// none of them reaches the console.
func (b *bulk) capturing() bool { return b.phase == bkConfirm || b.askCancel }

func (b *bulk) init() tea.Cmd {
	o := b.sh.opts
	ctx, targets, since, resume, finding, accounts := b.ctx, b.targets, b.since, b.resume, b.finding, b.accounts
	return func() tea.Msg {
		m := bulkPlannedMsg{owner: b}
		j, err := b.journal.open(o.Incidents)
		if err != nil {
			m.err = err
			return m
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		if finding != nil {
			// The finding's response, as contain --finding plans it.
			if m.plan, m.err = responders.PlanFinding(*finding, since, o.Guard, o.Bulk.AllowWide); m.err != nil {
				return m
			}
		} else if len(accounts) > 0 {
			// Accounts marked by hand: the playbook for each.
			m.plan = responders.PlanAccounts(accounts, since)
		} else if resume {
			m.plan, m.finished, m.err = responders.JournaledBulkPlan(j.Records())
			if m.err == nil {
				m.finishedBefore = responders.FinishedInJournal(j.Records(), m.plan)
			}
			if errors.Is(m.err, responders.ErrNoBulkPlan) {
				m.err = fmt.Errorf("incident %s has no bulk run to resume", j.Incident())
			}
			if m.err != nil {
				return m
			}
		} else {
			prefixes, err := responders.ParseNetworks(targets)
			if err != nil {
				m.err = err
				return m
			}
			// The same discovery as ip contain: the guard's networks are
			// never blocked, the operator's addresses never evidence.
			m.plan, m.err = responders.DiscoverBulk(ctx, responders.BulkDiscovery{Targets: prefixes, Since: since, Guard: o.Guard, Client: o.Client, AllowWide: o.Bulk.AllowWide,
				Read: o.events().BulkRead(since), Resolve: o.events().BulkResolve()})
			if m.err != nil {
				return m
			}
			o.Bulk.Apply(&m.plan)
		}
		if len(m.plan.Block) > 0 {
			acl, err := responders.PlanBulkACL(ctx, o.Client, j.Incident(), m.plan)
			if err != nil {
				m.aclErr = err.Error()
				m.plan.ACL = false
			}
			m.acl = acl
		}
		// The preflight the CLI runs, before any write. The reset options
		// may be ticked later: the reset route is checked in any case.
		need := responders.PreflightNeed{Steps: responders.DefaultSteps, ResetMethod: "email", Tickets: len(m.plan.TicketResets) > 0, ACL: len(m.plan.Block) > 0}
		if ids, _ := m.plan.AccountSteps(); len(ids) > 0 {
			need.User = ids[0]
		} else if len(m.plan.StoppedByMFA) > 0 {
			need.User = m.plan.StoppedByMFA[0]
		} else if len(m.plan.Targeted) > 0 {
			need.User = m.plan.Targeted[0]
		}
		pre, err := responders.Preflight(ctx, o.Client, need)
		if err == nil {
			err = pre.Err()
		}
		m.resetClients, m.err = pre.ResetClients, err
		return m
	}
}

// release frees what a closed modal holds (not while running).
func (b *bulk) release() {
	b.journal.release()
	if b.phase != bkRunning {
		b.cancel()
		b.journal.close()
	}
}

// abort stops a run (quitting) and waits briefly for it to journal its end.
func (b *bulk) abort() {
	b.journal.release()
	b.cancel()
	if b.stop != nil {
		b.stopOnce.Do(func() { close(b.stop) })
	}
	if b.done != nil {
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
		}
	}
	b.journal.close()
}

// want is the count the analyst types: the accounts the run writes to.
func (b *bulk) want() string { return strconv.Itoa(b.plan.Accounts()) }

func (b *bulk) aclWrites() bool {
	return b.plan.ACL && b.acl != nil && b.acl.Call != nil
}

func (b *bulk) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case bulkPlannedMsg:
		if msg.owner != b {
			return nil
		}
		if msg.err != nil {
			b.phase, b.loadErr = bkFailed, msg.err.Error()
			return nil
		}
		b.plan, b.acl, b.aclErr, b.finished, b.resetClients = msg.plan, msg.acl, msg.aclErr, msg.finished, msg.resetClients
		b.finishedBefore = msg.finishedBefore
		if b.plan.Accounts() == 0 && !b.aclWrites() && len(b.plan.StoppedByMFA)+len(b.plan.Targeted) == 0 {
			b.phase = bkNothing
		} else {
			b.phase = bkConfirm
			b.confirm = newConfirm(b.want(), "the number of accounts ("+b.want()+")")
		}
		if id, _ := b.journal.incident(); id != "" {
			return func() tea.Msg { return incidentMsg{id} }
		}
		return nil
	case bulkEventMsg:
		if msg.owner != b {
			return nil
		}
		b.count(msg.ev)
		return b.st.listen()
	case bulkTickMsg:
		if msg.owner != b || b.phase != bkRunning {
			return nil
		}
		b.now = time.Now()
		return b.tick()
	case bulkDoneMsg:
		if msg.owner != b {
			return nil
		}
		b.phase = bkDone
		b.askCancel = false
		b.now = time.Now()
		b.results, b.aclResult, b.incident, b.head, b.runErr = msg.results, msg.acl, msg.incident, msg.head, msg.err
		// The lists mark what the run did (the network block too).
		cmds := []tea.Cmd{b.st.listen(), func() tea.Msg { return containedMsg{} }}
		for _, r := range msg.results {
			id := r.UserID
			cmds = append(cmds, func() tea.Msg { return containedMsg{id} })
		}
		return tea.Batch(cmds...)
	case tea.KeyMsg:
		return b.key(msg)
	}
	return nil
}

// count folds a run's event into the progress.
func (b *bulk) count(ev responders.Event) { b.progress.Add(ev) }

func (b *bulk) tick() tea.Cmd {
	return tea.Tick(500*time.Millisecond, func(time.Time) tea.Msg { return bulkTickMsg{b} })
}

func (b *bulk) key(msg tea.KeyMsg) tea.Cmd {
	switch b.phase {
	case bkConfirm:
		return b.confirmKey(msg)
	case bkRunning:
		if b.askCancel {
			switch msg.String() {
			case "y", "Y":
				b.askCancel, b.cancelling = false, true
				b.cancel()
				return toast("cancelling: accounts in progress stop after their current step; :bulk resumes", false)
			case "n", "N", "esc", "enter":
				b.askCancel = false
			}
			return nil
		}
		if msg.Type == tea.KeyEsc && !b.cancelling {
			b.askCancel = true
		}
		return nil
	default: // loading, done, failed, nothing
		switch msg.Type {
		case tea.KeyUp:
			b.scroll = max(0, b.scroll-1)
		case tea.KeyDown:
			b.scroll++
		case tea.KeyPgUp:
			b.scroll = max(0, b.scroll-10)
		case tea.KeyPgDown:
			b.scroll += 10
		}
		if key.Matches(msg, b.sh.keys.Back, b.sh.keys.Open, b.sh.keys.Quit) {
			b.closed = true
		}
		return nil
	}
}

func (b *bulk) confirmKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyTab, tea.KeyShiftTab:
		if b.resume {
			return nil // a resume finishes the journaled plan as it was
		}
		n := int(nBulkOptions) + 1
		if b.finding != nil {
			n = 2 // a finding's resets are its own: only the network block is a choice
		}
		if len(b.accounts) > 0 {
			return nil // marked accounts: nothing to choose
		}
		if msg.Type == tea.KeyTab {
			b.focus = (b.focus + 1) % n
		} else {
			b.focus = (b.focus + n - 1) % n
		}
		return nil
	case tea.KeyPgUp:
		b.scroll = max(0, b.scroll-10)
		return nil
	case tea.KeyPgDown:
		b.scroll += 10
		return nil
	}
	if b.focus > 0 {
		// On the options: space toggles, arrows move, esc cancels; no
		// other key does anything.
		switch {
		case msg.String() == " ":
			b.toggle(bulkOption(b.focus - 1))
		}
		switch msg.Type {
		case tea.KeyUp:
			b.focus = max(1, b.focus-1)
		case tea.KeyDown:
			b.focus = min(int(nBulkOptions), b.focus+1)
		case tea.KeyEsc, tea.KeyCtrlC:
			b.closed = true
			return toast("not confirmed: nothing was changed", false)
		}
		return nil
	}
	switch msg.Type {
	case tea.KeyUp:
		b.scroll = max(0, b.scroll-1)
		return nil
	case tea.KeyDown:
		b.scroll++
		return nil
	}
	res, cmd := b.confirm.update(msg)
	switch res {
	case confirmCancelled:
		b.closed = true
		return toast("not confirmed: nothing was changed", false)
	case confirmAccepted:
		return b.start()
	}
	return cmd
}

// toggle flips an option; the count to type changes with it, so the box is
// emptied.
func (b *bulk) toggle(o bulkOption) {
	switch o {
	case optACL:
		if b.acl == nil || b.acl.Call == nil {
			return
		}
		b.plan.ACL = !b.plan.ACL
	case optResetMFA:
		b.plan.ResetMFAStopped = !b.plan.ResetMFAStopped
	case optResetTargeted:
		b.plan.ResetTargeted = !b.plan.ResetTargeted
	}
	b.confirm = newConfirm(b.want(), "the number of accounts ("+b.want()+")")
}

// start runs the bulk engine in a goroutine; progress comes back through a
// stream re-armed by each message, and a tick refreshes the rate.
func (b *bulk) start() tea.Cmd {
	o := b.sh.opts
	b.phase = bkRunning
	b.started, b.now = time.Now(), time.Now()
	if o.Client != nil {
		b.startReq = o.Client.Stats().Requests.Load()
	}
	b.progress = responders.NewProgress(b.plan.StepsFor())
	b.progress.Seed(b.finishedBefore) // a resume continues the bar
	jw := b.journal.writer()
	acl := b.acl
	if !b.aclWrites() {
		acl = nil
	}
	run := &responders.Bulk{Client: o.Client, Writer: o.Writer, Journal: jw, Plan: b.plan, ACL: acl, Resume: b.resume,
		Workers: cmp.Or(o.Bulk.Workers, responders.DefaultBulkWorkers),
		Opts:    responders.Options{WindowStart: b.plan.Since, ResetMethod: "email", VerifyTimeout: 30 * time.Second, Now: o.Now, ResetClients: b.resetClients}}
	if id, _ := b.journal.incident(); len(b.plan.TicketResets) > 0 && o.Incidents != nil {
		// Tickets are credentials: to a 0600 file beside the journal,
		// never on the screen.
		b.ticketFile = o.Incidents.TicketFile(id)
		run.Opts.TicketSink = responders.TicketsToFile(b.ticketFile)
	}
	ctx := b.ctx
	b.done, b.stop = make(chan struct{}), make(chan struct{})
	s := &stream{ch: make(chan tea.Msg, 64)}
	b.st = s
	send := func(m tea.Msg) {
		select {
		case s.ch <- m:
		case <-ctx.Done():
		}
	}
	go func() {
		defer close(s.ch)
		done := bulkDoneMsg{owner: b}
		defer func() {
			done.incident, done.head = b.journal.incident()
			b.journal.close()
			close(b.done)
			// The end must arrive even after a cancel; only quitting
			// (abort) stops waiting for the console to read it.
			select {
			case s.ch <- done:
			case <-b.stop:
			}
		}()
		events := make(chan responders.Event, 64)
		fwd := make(chan struct{})
		go func() {
			defer close(fwd)
			for ev := range events {
				send(bulkEventMsg{b, ev})
			}
		}()
		res, err := run.Run(ctx, events)
		close(events)
		<-fwd
		done.results, done.acl = res.Results, res.ACL
		switch {
		case err != nil:
			done.err = err.Error()
		case ctx.Err() != nil:
			done.err = "cancelled: what was done is journaled; :bulk resumes the rest"
		}
	}()
	return tea.Batch(s.listen(), b.tick())
}

func (b *bulk) hints() []key.Binding {
	switch b.phase {
	case bkConfirm:
		hs := []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "press the highlighted button")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		}
		if !b.resume {
			hs = append(hs, key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "options (space toggles)")))
		}
		return hs
	case bkRunning:
		return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel the run (asks)")), b.sh.keys.Quit}
	}
	return []key.Binding{key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc/enter", "close"))}
}

// view draws the modal's box in at most w×h cells.
func (b *bulk) view(w, h int) string {
	st := &b.sh.st
	w = max(min(w, 110), 30)
	inner := w - 4
	mode, badge := " LIVE ", st.live
	if b.sh.opts.dryRun() {
		mode, badge = " DRY-RUN: no write is sent ", st.dryRun
	} else if b.sh.opts.Training {
		mode, badge = " TRAINING ", st.training
	}
	what := "BULK CONTAIN " + auth0client.Clean(strings.Join(b.targets, ", "))
	if b.finding != nil {
		what = "RESPOND TO " + b.finding.ID
	}
	if len(b.accounts) > 0 {
		what = "CONTAIN " + strings.ToUpper(plural(len(b.accounts), "marked account"))
	}
	if b.resume {
		what = "RESUME BULK RUN"
		if len(b.plan.Targets) > 0 {
			what += " " + auth0client.Clean(strings.Join(b.plan.Targets, ", "))
		}
	}
	head := []string{badge.Render(mode) + " " + st.title.Render(what)}
	var body, foot []string
	switch b.phase {
	case bkLoading:
		if b.finding != nil {
			body = append(body, "planning the response of "+b.finding.ID+" …")
		} else if len(b.accounts) > 0 {
			body = append(body, "planning the playbook of "+plural(len(b.accounts), "account")+" …")
		} else if b.resume {
			body = append(body, "reading the incident's journal …")
		} else {
			body = append(body, "reading the events of "+auth0client.Clean(strings.Join(b.targets, ", "))+" since "+fmtTime(b.since)+" and triaging them …")
		}
	case bkFailed:
		body = append(body, st.bad.Render("cannot plan: "+auth0client.Clean(b.loadErr)), "", "nothing was changed · esc closes")
	case bkNothing:
		body = append(body, b.impactLines(st)...)
		body = append(body, "", "nothing to contain: no account was compromised or had its password found from here, and no network to block · esc closes")
	case bkConfirm:
		// The plan scrolls; the options and the confirmation stay put.
		body = append(body, b.impactLines(st)...)
		foot = wrapLines(b.optionLines(st), inner)
		cf := strings.Split(b.confirm.view(st), "\n")
		if b.focus > 0 {
			cf[0] = st.dim.Render("(tab returns to the box) ") + cf[0]
		}
		foot = append(append(foot, ""), cf...)
	case bkRunning, bkDone:
		body = b.progressLines(st, inner)
		if b.phase == bkDone {
			body = append(body, b.doneLines(st)...)
			foot = []string{st.dim.Render("esc or enter closes")}
		} else if b.askCancel {
			foot = wrapLines([]string{st.bad.Render("Cancel the bulk run?") + " Accounts in progress stop after their current step; the journal keeps what was done and :bulk resumes the rest.",
				st.bad.Render("[y] cancel the run   [N] keep running")}, inner)
		} else if b.cancelling {
			foot = []string{st.warn.Render("cancelling … waiting for the accounts in progress")}
		} else {
			foot = []string{st.dim.Render("running … each write is journaled first · esc cancels (asks)")}
		}
	}
	body = wrapLines(body, inner)
	room := max(h-2-len(head)-len(foot)-2, 1)
	if b.scroll > max(0, len(body)-room) {
		b.scroll = max(0, len(body)-room)
	}
	if len(body) > room {
		start := b.scroll
		if b.phase == bkRunning {
			start = 0 // the bar and counts on top; failures cut at the end
		}
		end := min(start+room, len(body))
		more := fmt.Sprintf("(%d-%d of %d lines; ↑/↓ pgup/pgdn scroll)", start+1, end, len(body))
		body = append(body[start:end-1:end-1], st.dim.Render(more))
	}
	lines := append(append([]string{}, head...), "")
	lines = append(lines, body...)
	if len(foot) > 0 {
		lines = append(append(lines, ""), foot...)
	}
	box := st.modalDanger
	if b.sh.opts.dryRun() || b.sh.opts.Training {
		box = st.modal
	}
	return box.Width(w - 2).Render(fitBlock(strings.Join(lines, "\n"), inner, len(lines)))
}

func (b *bulk) impactLines(st *styles) []string {
	p := b.plan
	var out []string
	if b.resume {
		state := "was interrupted"
		if b.finished {
			state = "had ended; running it again only verifies (every step is idempotent)"
		}
		what := strings.Join(p.Targets, ", ")
		if what == "" {
			what = plural(p.Accounts(), "account")
		}
		out = append(out, fmt.Sprintf("The journaled run of %s %s.", auth0client.Clean(what), state))
		if !b.finished {
			n := len(b.finishedBefore)
			out = append(out, fmt.Sprintf("%d of %s finished before it stopped: %d left (the finished ones are only verified again).", n, plural(p.Accounts(), "account"), p.Accounts()-n))
		}
	}
	var sizes []string
	for _, t := range p.Targets {
		if pr, err := netip.ParsePrefix(t); err == nil && !pr.IsSingleIP() {
			sizes = append(sizes, t+" holds "+responders.AddressCount(pr)+" addresses")
		}
	}
	if len(sizes) > 0 {
		out = append(out, strings.Join(sizes, " · "))
	}
	out = append(out, fmt.Sprintf("Impact since %s: %s compromised · %d stopped by MFA · %d targeted",
		fmtTime(p.Since), st.bad.Render(strconv.Itoa(len(p.Compromised))), len(p.StoppedByMFA), len(p.Targeted)))
	// Each account with its own steps (a finding's mfa step, a ticket).
	ids, steps := p.AccountSteps()
	byPlay := map[string][]string{}
	var plays []string
	for _, id := range ids {
		play := strings.Join(steps[id], ", ")
		if slices.Contains(p.TicketResets, id) {
			play += " (reset by ticket)"
		}
		if _, ok := byPlay[play]; !ok {
			plays = append(plays, play)
		}
		byPlay[play] = append(byPlay[play], id)
	}
	for _, play := range plays {
		users, more := byPlay[play], ""
		if len(users) > 20 {
			users, more = users[:20], fmt.Sprintf(" and %d more", len(users)-20)
		}
		out = append(out, "  "+play+": "+auth0client.Clean(strings.Join(users, ", "))+more)
	}
	for _, r := range p.Refused {
		out = append(out, st.warn.Render("  not blocking "+r.CIDR+": "+auth0client.Clean(r.Reason)))
	}
	switch {
	case b.aclErr != "":
		out = append(out, st.bad.Render("  network ACL: cannot plan: "+auth0client.Clean(b.aclErr)))
	case b.acl == nil:
	case b.acl.Call == nil:
		out = append(out, "  network ACL: "+auth0client.Clean(strings.Join(p.Block, ", "))+" already blocked")
	default:
		a := b.acl
		where := "the atoctl-managed ACL"
		if a.Existing == nil {
			where = fmt.Sprintf("a new atoctl-managed ACL (priority %d)", a.Want.Priority)
		}
		fits := st.good.Render(fmt.Sprintf("fits (%d of %d entries)", len(a.Want.IPv4CIDRs), auth0client.MaxACLEntries))
		if !a.Fits() {
			fits = st.bad.Render(fmt.Sprintf("%d DO NOT FIT (Auth0 allows %d per list): %s", len(a.DoesNotFit), auth0client.MaxACLEntries, strings.Join(a.DoesNotFit, ", ")))
		}
		out = append(out, fmt.Sprintf("  network ACL: add %s to %s · %s", strings.Join(a.Added, ", "), where, fits))
		out = append(out, "      "+a.Call.String())
	}
	return out
}

func (b *bulk) optionLines(st *styles) []string {
	p := b.plan
	check := func(on bool) string {
		if on {
			return "[x]"
		}
		return "[ ]"
	}
	aclText := "block the networks in the Network ACL"
	if b.acl == nil || b.acl.Call == nil {
		aclText += " (nothing to add)"
	}
	opts := []string{
		check(b.aclWrites()) + " " + aclText,
		check(p.ResetMFAStopped) + fmt.Sprintf(" reset the %d stopped by MFA (password known)", len(p.StoppedByMFA)),
		check(p.ResetTargeted) + fmt.Sprintf(" reset the %d targeted", len(p.Targeted)),
	}
	if b.finding != nil {
		opts = opts[:1]
	}
	if len(b.accounts) > 0 {
		opts = opts[:0]
	}
	if b.resume {
		opts = opts[:0]
		if b.aclWrites() {
			opts = append(opts, "[x] "+aclText)
		}
	}
	out := []string{st.bold.Render(fmt.Sprintf("The run writes to %s:", plural(p.Accounts(), "account")))}
	for i, o := range opts {
		cur := "  "
		if b.focus == i+1 {
			cur = "> "
			o = st.bold.Render(o)
		}
		out = append(out, cur+o)
	}
	return out
}

func (b *bulk) progressLines(st *styles, w int) []string {
	total := b.plan.Accounts()
	elapsed := b.now.Sub(b.started)
	rate := 0.0
	if o := b.sh.opts; o.Client != nil && elapsed > 0 {
		rate = float64(o.Client.Stats().Requests.Load()-b.startReq) / elapsed.Seconds()
	}
	pr := b.progress
	if pr == nil {
		pr = responders.NewProgress(b.plan.StepsFor())
	}
	counts := fmt.Sprintf("%d/%d accounts · %d done · %d failed · %.1f req/s · %s", pr.Finished, total,
		pr.Finished-pr.Failed, pr.Failed, rate, elapsed.Round(time.Second))
	barW := max(min(w-len(counts)-4, 40), 8)
	filled := 0
	if total > 0 {
		filled = barW * pr.Finished / total
	} else if b.phase == bkDone {
		filled = barW
	}
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat(".", barW-filled) + "]"
	out := []string{bar + " " + counts}
	if b.phase == bkRunning && pr.Phase != "" {
		out = append(out, "now: "+pr.Phase)
	}
	if len(pr.Failures) > 0 {
		out = append(out, st.bad.Render(fmt.Sprintf("failures (%d):", len(pr.Failures))))
		for _, f := range pr.Failures {
			out = append(out, st.bad.Render("  ✗ "+auth0client.Clean(f)))
		}
	}
	return out
}

func (b *bulk) doneLines(st *styles) []string {
	compromised := map[string]bool{}
	for _, id := range b.plan.Compromised {
		compromised[id] = true
	}
	contained, reset, failed := 0, 0, 0
	for _, r := range b.results {
		switch {
		case r.Failed():
			failed++
		case compromised[r.UserID]:
			contained++
		default:
			reset++
		}
	}
	out := []string{""}
	summary := fmt.Sprintf("%d contained (playbook), %d reset", contained, reset)
	switch {
	case b.runErr != "":
		out = append(out, st.warn.Render(auth0client.Clean(b.runErr)), "  so far: "+summary+fmt.Sprintf(", %d failed", failed))
	case b.sh.opts.dryRun():
		out = append(out, st.warn.Render(fmt.Sprintf("DRY-RUN: %d accounts planned, no write was sent (ctrl+l shows the calls not made)", contained+reset)))
	case failed > 0:
		out = append(out, st.bad.Render(fmt.Sprintf("PARTIAL: %s; %d with a failed step (listed above)", summary, failed)))
	default:
		out = append(out, st.good.Render("done: "+summary+"; every step verified"))
	}
	if a := b.aclResult; a != nil {
		line := fmt.Sprintf("  network ACL: %s %s", a.Outcome, auth0client.Clean(a.Reason))
		if a.Error != "" {
			line = st.bad.Render(line + ": " + auth0client.Clean(a.Error))
		}
		out = append(out, line)
	}
	if b.ticketFile != "" {
		out = append(out, "password-change tickets (credentials: deliver them to the owners) are in "+auth0client.Clean(b.ticketFile))
	}
	if b.incident != "" {
		head := b.head
		if len(head) > 16 {
			head = head[:16]
		}
		out = append(out, fmt.Sprintf("journaled in incident %s (head %s); :incident shows it", b.incident, head))
	}
	for _, r := range b.results {
		res, detail := "reset", ""
		switch {
		case r.Failed():
			res = "FAILED"
			var steps []string
			for _, s := range r.Steps {
				if s.Outcome == responders.Failed {
					steps = append(steps, s.Step)
				}
			}
			if len(steps) > 0 && len(steps) < len(r.Steps) {
				detail = " (" + strings.Join(steps, ", ") + " failed; the other steps done)"
			}
		case compromised[r.UserID]:
			res = "contained"
		}
		out = append(out, fmt.Sprintf("  %-9s %s%s", res, auth0client.Clean(r.UserID), detail))
	}
	return out
}
