package responders

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Journal notes of a bulk run: the plan, written before anything is sent,
// so a resume finishes exactly the same work after a crash; and the end,
// so a reader can tell a finished run from an interrupted one.
const (
	NoteBulkPlan = "bulk-plan"
	NoteBulkDone = "bulk-done"
)

// ErrNoBulkPlan: the incident's journal holds no bulk run.
var ErrNoBulkPlan = errors.New("the incident has no bulk run")

// BulkPlan is what bulk discovery decided about attacking networks: the
// accounts by verdict, the networks to block and those refused.
type BulkPlan struct {
	Targets      []string  `json:"targets"`
	Since        time.Time `json:"since"`
	Compromised  []string  `json:"compromised"`
	StoppedByMFA []string  `json:"stopped_by_mfa"`
	Targeted     []string  `json:"targeted"`
	Block        []string  `json:"block,omitempty"`
	Refused      []Refusal `json:"refused,omitempty"`
	// AllowWide is the widest prefix the operator allowed on purpose
	// (--allow-wide), 0 for the default limits: journaled with the plan.
	AllowWide       int  `json:"allow_wide,omitempty"`
	ACL             bool `json:"acl"`
	ResetTargeted   bool `json:"reset_targeted"`
	ResetMFAStopped bool `json:"reset_mfa_stopped"`
	// Steps, when set, is each account's own playbook (a finding's
	// response: the mfa step where the attacker enrolled a factor, a reset
	// only for an account MFA protected); otherwise the compromised get the
	// whole playbook and the others a reset when the plan asks.
	Steps map[string][]string `json:"steps,omitempty"`
	// TicketResets are the accounts reset by a ticket, not an email (the
	// attacker changed the address).
	TicketResets []string `json:"ticket_resets,omitempty"`
	// Finding is the detection finding the plan answers, if any.
	Finding string `json:"finding,omitempty"`
}

// Accounts is how many accounts the run writes to: the compromised ones,
// and those whose reset the plan asks for.
func (p BulkPlan) Accounts() int { return len(p.StepsFor()) }

// AccountSteps is the playbook of every account the run works on, in the
// order the accounts come (compromised first).
func (p BulkPlan) AccountSteps() (ids []string, steps map[string][]string) {
	steps = map[string][]string{}
	add := func(list []string, def []string) {
		for _, id := range list {
			if _, ok := steps[id]; ok {
				continue
			}
			s := def
			if own, ok := p.Steps[id]; ok {
				s = own
			}
			if len(s) == 0 {
				continue
			}
			steps[id] = s
			ids = append(ids, id)
		}
	}
	add(p.Compromised, DefaultSteps)
	var stopped, targeted []string
	if p.ResetMFAStopped || p.Steps != nil {
		stopped = ResetSteps
	}
	if p.ResetTargeted {
		targeted = ResetSteps
	}
	if p.Steps != nil && !p.ResetTargeted {
		targeted = nil // only what the finding's own steps say
	}
	add(p.StoppedByMFA, stopped)
	add(p.Targeted, targeted)
	return ids, steps
}

// Guard is what atoctl never blocks and never takes as evidence of an
// attack: the networks the tenant allowlists (a corporate egress, partners)
// and the operator's own addresses. Both front-ends take it from the same
// flags (--allow, --operator-ip).
type Guard struct {
	Allow, Operators []netip.Prefix
}

// TriageConfig is a triage of the window since since that knows the guard.
func (g Guard) TriageConfig(since time.Time) TriageConfig {
	cfg := TriageConfig{Since: since, Allowlist: g.Allow}
	for _, op := range g.Operators {
		cfg.OperatorIPs = append(cfg.OperatorIPs, op.Addr())
	}
	return cfg
}

// BulkDiscovery is what bulk discovery looks at.
type BulkDiscovery struct {
	Targets []netip.Prefix
	Since   time.Time
	// Guard is never blocked; the operator's addresses are never evidence.
	Guard Guard
	// Client reads the events (a windowed log search per target) unless
	// Events is set (tests, exports).
	Client *auth0client.Client
	Events func(ctx context.Context, prefix netip.Prefix) ([]auth0client.LogEvent, error)
	// Read, if set, wins over Events and Client: it hands each of a
	// target's events to add as it reads them and returns how many
	// (EventSource.BulkRead: the local store's lean read).
	Read func(ctx context.Context, prefix netip.Prefix, add func(TriageEvent)) (int, error)
	// Resolve, if set, ties the user names the events give without an
	// account id (captcha failures, pwd_leak) to their accounts, as the
	// window's triage does (EventSource.BulkResolve): otherwise an account
	// tried only that way is counted as an unknown name, and a bulk run's
	// resets of the targeted would miss it.
	Resolve func(ctx context.Context, r NameResolver) error
	// Searched, if set, hears how many events each target had.
	Searched func(prefix netip.Prefix, events int)
	// AllowWide lets networks as wide as /AllowWide through the blast-radius
	// limit, on purpose (0: the limits of CheckBlastRadius).
	AllowWide int
}

// The blast radius atoctl accepts without being told: no network wider
// than a /16 (65,536 IPv4 addresses) or an IPv6 /32 (a large provider's
// allocation) is contained or blocked unless the operator names the width.
const (
	MaxIPv4Width = 16
	MaxIPv6Width = 32
)

// CheckBlastRadius refuses networks wider than the limits (IPv4 /16, IPv6
// /32) unless allowWide names a width at least that wide, and refuses /0
// always: one mistyped mask must not lock every customer out.
func CheckBlastRadius(targets []netip.Prefix, allowWide int) error {
	for _, t := range targets {
		limit := MaxIPv4Width
		if !t.Addr().Is4() {
			limit = MaxIPv6Width
		}
		switch {
		case t.Bits() == 0:
			return BadInput("%s is every address: atoctl never blocks /0", t)
		case t.Bits() >= limit:
		case allowWide > 0 && t.Bits() >= allowWide:
		default:
			return BadInput("%s holds %s addresses, wider than atoctl blocks without being told (/%d): check the mask, or pass --allow-wide /%d to mean it",
				t, AddressCount(t), limit, t.Bits())
		}
	}
	return nil
}

// AddressCount says how many addresses a network holds ("256", "65,536",
// "2^96").
func AddressCount(p netip.Prefix) string {
	host := p.Addr().BitLen() - p.Bits()
	if host > 32 {
		return fmt.Sprintf("2^%d", host)
	}
	n := uint64(1) << host
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// events reads one target's events in the window.
func (d BulkDiscovery) events(ctx context.Context, p netip.Prefix) ([]auth0client.LogEvent, error) {
	if d.Events != nil {
		return d.Events(ctx, p)
	}
	if d.Client == nil {
		return nil, errors.New("bulk discovery has no tenant to read")
	}
	return SearchLogs(ctx, d.Client, LogSearch{Filter: LogFilter{Network: &p}, Since: d.Since, Limit: MaxSearchLimit})
}

// read hands one target's events in the window to add.
func (d BulkDiscovery) read(ctx context.Context, p netip.Prefix, add func(TriageEvent)) (int, error) {
	if d.Read != nil {
		return d.Read(ctx, p, add)
	}
	events, err := d.events(ctx, p)
	if err != nil {
		return 0, err
	}
	for _, e := range events {
		add(TriageEventFrom(e))
	}
	return len(events), nil
}

// DiscoverBulk reads the targets' events in the window, triages them, and
// decides which networks may be blocked: never shared infrastructure (an
// address many accounts sign in from), an allowlisted network or the
// operator's own.
func DiscoverBulk(ctx context.Context, d BulkDiscovery) (BulkPlan, error) {
	if err := CheckBlastRadius(d.Targets, d.AllowWide); err != nil {
		return BulkPlan{}, err
	}
	if d.Since.After(time.Now()) {
		return BulkPlan{}, BadInput("the window starts in the future (%s): nothing can be found", d.Since.UTC().Format(time.RFC3339))
	}
	tri := NewTriage(d.Guard.TriageConfig(d.Since))
	plan := BulkPlan{Since: d.Since, AllowWide: d.AllowWide}
	for _, t := range d.Targets {
		plan.Targets = append(plan.Targets, t.String())
		n, err := d.read(ctx, t, tri.Add)
		if err != nil {
			return plan, fmt.Errorf("discover %s: %w", t, err)
		}
		if d.Searched != nil {
			d.Searched(t, n)
		}
	}
	if d.Resolve != nil {
		if err := d.Resolve(ctx, tri); err != nil {
			return plan, fmt.Errorf("discover %s: %w", strings.Join(plan.Targets, ", "), err)
		}
	}
	res := tri.Result()
	for _, a := range res.Accounts {
		switch a.Verdict {
		case VerdictCompromised:
			plan.Compromised = append(plan.Compromised, a.UserID)
		case VerdictStoppedByMFA:
			plan.StoppedByMFA = append(plan.StoppedByMFA, a.UserID)
		case VerdictTargeted:
			plan.Targeted = append(plan.Targeted, a.UserID)
		}
	}
	shared := map[string]IPLabel{}
	for _, ip := range res.IPs {
		if ip.Label.IsShared() {
			shared[ip.IP] = ip.Label
		}
	}
	for _, t := range d.Targets {
		why := ""
		for ip, label := range shared {
			if a, err := netip.ParseAddr(ip); err == nil && t.Contains(a) {
				why = fmt.Sprintf("%s is %s infrastructure (many accounts sign in from it successfully)", ip, label)
			}
		}
		for _, p := range append(append([]netip.Prefix{}, d.Guard.Allow...), d.Guard.Operators...) {
			if p.Overlaps(t) {
				why = fmt.Sprintf("overlaps %s (allowlisted or the operator's)", p)
			}
		}
		if why != "" {
			plan.Refused = append(plan.Refused, Refusal{CIDR: t.String(), Reason: why})
			continue
		}
		plan.Block = append(plan.Block, t.String())
	}
	return plan, nil
}

// JournaledBulkPlan finds the newest bulk plan of an incident and whether
// a bulk-done note follows it (the run finished).
func JournaledBulkPlan(recs []Record) (plan BulkPlan, finished bool, err error) {
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Kind != KindNote {
			continue
		}
		switch r.Step {
		case NoteBulkDone:
			finished = true
		case NoteBulkPlan:
			if err := json.Unmarshal(r.Evidence, &plan); err != nil {
				return plan, false, fmt.Errorf("the incident's bulk plan is unreadable: %w", err)
			}
			return plan, finished, nil
		}
	}
	return BulkPlan{}, false, ErrNoBulkPlan
}

// PlanBulkACL plans the Network ACL entries of a plan's networks.
func PlanBulkACL(ctx context.Context, c *auth0client.Client, incident string, plan BulkPlan) (*ACLPlan, error) {
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return nil, err
	}
	var block []netip.Prefix
	for _, b := range plan.Block {
		if p, err := netip.ParsePrefix(b); err == nil {
			block = append(block, p)
		}
	}
	// Discovery already refused what must not be blocked; the plan carries
	// those refusals so the outcome names them.
	p, err := PlanACL(acls, incident, block, func(netip.Prefix) string { return "" })
	if err != nil {
		return nil, err
	}
	p.Refused = append(p.Refused, plan.Refused...)
	for _, b := range block {
		if CheckBlastRadius([]netip.Prefix{b}, 0) != nil {
			p.WideOnPurpose = plan.AllowWide
		}
	}
	return &p, nil
}

// BulkSettings are the choices a bulk run offers, with one set of defaults
// for both front-ends: nothing beyond the compromised accounts unless asked.
type BulkSettings struct {
	// ACL also blocks the networks in the atoctl-managed Network ACL.
	ACL bool
	// ResetMFAStopped and ResetTargeted also send resets to those accounts.
	ResetMFAStopped, ResetTargeted bool
	// Workers is how many accounts are worked on at once.
	Workers int
	// AllowWide lets networks as wide as /AllowWide be contained and
	// blocked on purpose (0: the default blast radius).
	AllowWide int
}

// DefaultBulkWorkers is how many accounts a bulk run works on at once: enough
// to keep a paced budget busy across Auth0's latency.
const DefaultBulkWorkers = 8

// Apply copies the choices into the plan (they are journaled with it).
func (s BulkSettings) Apply(p *BulkPlan) {
	p.ACL, p.ResetMFAStopped, p.ResetTargeted = s.ACL, s.ResetMFAStopped, s.ResetTargeted
}

// Bulk phases, in the order a bulk run takes them: the attacker is locked
// out of the network and of every account before anything slower happens.
const (
	PhaseACL          = "network ACL"
	PhaseBlock        = "block"
	PhaseRevoke       = "snapshot and revoke"
	PhaseReset        = "reset"
	PhaseUnblockCheck = "unblock check"
)

// Bulk runs a bulk plan, journaled, at the shared rate budget, phase by
// phase across all accounts: the Network ACL entries first, then every
// compromised account blocked, then evidence saved and sessions and tokens
// revoked, then resets (verified with one log search for all of them),
// then the unblock Action checked once for the run.
type Bulk struct {
	Client *auth0client.Client
	Writer auth0client.Writer
	// Journal is required.
	Journal JournalWriter
	Plan    BulkPlan
	// ACL is the planned Network ACL change; applied when Plan.ACL is set.
	ACL  *ACLPlan
	Opts Options
	// Workers is how many accounts are worked on at once (default 8).
	Workers int
	// Resume: the plan is already journaled (finish an interrupted run).
	Resume bool
}

// BulkResult is how a bulk run went.
type BulkResult struct {
	Results []UserResult `json:"results"`
	// ACL is the Network ACL step's result, if the plan asked for one.
	ACL *StepResult `json:"acl,omitempty"`
	// Finished: the run reached its end and journaled it.
	Finished bool `json:"finished"`
}

// StepsFor is how many step outcomes each account of the plan gets: what a
// progress display counts to tell an account finished.
func (p BulkPlan) StepsFor() map[string]int {
	_, steps := p.AccountSteps()
	out := make(map[string]int, len(steps))
	for id, s := range steps {
		out[id] = len(s)
	}
	return out
}

// account is one account's state through a bulk run.
type account struct {
	t      *Target
	res    UserResult
	failed bool // could not be loaded: no further step
}

// Run runs the plan. events (if not nil) receive progress, phase changes
// as events with only Phase set, and must be drained. The error is a
// journal failure (nothing more is sent) or ErrNoJournal.
func (b *Bulk) Run(ctx context.Context, events chan<- Event) (BulkResult, error) {
	var out BulkResult
	if b.Journal == nil {
		return out, ErrNoJournal
	}
	if !b.Resume {
		if err := b.RecordPlan(); err != nil {
			return out, err
		}
	}
	workers := cmp.Or(b.Workers, DefaultBulkWorkers)
	r := &Runner{Client: b.Client, Writer: b.Writer, Journal: b.Journal, Opts: b.Opts, Workers: workers, Events: events}
	rc := r.context()
	phase := func(name string) { r.emit(ctx, Event{Phase: name, Outcome: Running}) }

	all, plays := b.Plan.AccountSteps()
	accounts := make(map[string]*account, len(all))
	for _, id := range all {
		accounts[id] = &account{t: &Target{User: auth0client.User{ID: id}}, res: UserResult{UserID: id}}
		if slices.Contains(b.Plan.TicketResets, id) {
			accounts[id].t.resetMethod = "ticket"
		}
	}
	// with are the accounts whose playbook holds any of the steps.
	with := func(names ...string) []string {
		var out []string
		for _, id := range all {
			if slices.ContainsFunc(plays[id], func(s string) bool { return slices.Contains(names, s) }) {
				out = append(out, id)
			}
		}
		return out
	}
	has := func(id, step string) bool { return slices.Contains(plays[id], step) }
	var jerr error // the first journal failure stops the run
	var mu sync.Mutex
	journalFailed := func(err error) bool {
		if err == nil {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if jerr == nil {
			jerr = err
		}
		return true
	}
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return jerr != nil || ctx.Err() != nil
	}
	// step runs s for a; a step sent but left to verify later comes back.
	step := func(a *account, s Step, verify bool) (StepResult, bool) {
		sr, pending, err := r.runStep(ctx, rc, s, a.t, verify)
		if !pending {
			a.res.Steps = append(a.res.Steps, sr)
		}
		return sr, !journalFailed(err) && pending
	}
	each := func(ids []string, work func(a *account)) {
		parallel(ctx, len(ids), workers, func(i int) {
			if a := accounts[ids[i]]; !a.failed && !stopped() {
				work(a)
			}
		})
	}
	load := func(a *account) bool {
		if err := r.load(ctx, a.t); err != nil {
			a.failed, a.res.Error = true, auth0client.Clean(err.Error())
			r.emit(ctx, Event{UserID: a.t.User.ID, Outcome: Failed, Error: a.res.Error})
			return false
		}
		a.res.Email, a.res.Findings = a.t.User.Email, a.t.Findings
		return true
	}

	// 1. The networks, so no new attempt gets through while accounts are
	// being worked on.
	if b.Plan.ACL && b.ACL != nil && !stopped() {
		phase(PhaseACL)
		sr := ApplyACL(ctx, b.Client, b.Writer, b.Journal, *b.ACL)
		out.ACL = &sr
		r.emit(ctx, Event{Step: StepACL, Outcome: sr.Outcome, Reason: sr.Reason, Error: sr.Error})
	}
	// 2. Every account to block, blocked: one write each, verified from
	// Auth0's answer, so the lockout takes accounts ÷ budget.
	if blocks := with(StepBlock); len(blocks) > 0 && !stopped() {
		phase(PhaseBlock)
		block, _ := StepByName(StepBlock)
		each(blocks, func(a *account) { step(a, block, true) })
	}
	// 3. Evidence, then revoke (and the attacker's factor): the snapshot's
	// reads (taken while blocked) are the revoke's plan.
	if held := with(StepSnapshot, StepRevoke, StepMFA); len(held) > 0 && !stopped() {
		phase(PhaseRevoke)
		each(held, func(a *account) {
			if !load(a) {
				return
			}
			for _, name := range []string{StepSnapshot, StepRevoke, StepMFA} {
				if has(a.t.User.ID, name) && !stopped() {
					s, _ := StepByName(name)
					step(a, s, true)
				}
			}
		})
	}
	// 4. Resets, sent first and confirmed together.
	if resets := with(StepReset); len(resets) > 0 && !stopped() {
		phase(PhaseReset)
		reset, _ := StepByName(StepReset)
		var pending []sentReset
		each(resets, func(a *account) {
			if !load(a) {
				return
			}
			if sr, sent := step(a, reset, false); sent {
				mu.Lock()
				pending = append(pending, sentReset{a, sr})
				mu.Unlock()
			}
		})
		if len(pending) > 0 && !stopped() {
			b.verifyResets(ctx, r, rc, reset, pending, journalFailed)
		}
	}
	// 5. The unblock check: one read of the tenant's Actions for the run.
	if checks := with(StepUnblockCheck); len(checks) > 0 && !stopped() {
		phase(PhaseUnblockCheck)
		check, _ := StepByName(StepUnblockCheck)
		each(checks, func(a *account) { step(a, check, true) })
	}

	for _, id := range all {
		a := accounts[id]
		if a.res.Error == "" && len(a.res.Steps) == 0 && ctx.Err() != nil {
			a.res.Error = "not started: " + context.Cause(ctx).Error()
		}
		out.Results = append(out.Results, a.res)
	}
	if jerr != nil {
		return out, jerr
	}
	if ctx.Err() == nil {
		if err := b.RecordDone(out.Results); err != nil {
			return out, err
		}
		out.Finished = true
	}
	return out, nil
}

// verifyResets confirms the sent resets: a ticket by its creation, a reset
// email by the scpr event Auth0 logs for it, looked for with one log search
// for every user at once (polled while events are still arriving).
// sentReset is a reset sent and not yet confirmed.
type sentReset struct {
	a  *account
	sr StepResult
}

func (b *Bulk) verifyResets(ctx context.Context, r *Runner, rc *Context, reset Step, pending []sentReset, journalFailed func(error) bool) {
	confirmed := map[string]auth0client.LogEvent{}
	var verr error
	emails := slices.ContainsFunc(pending, func(p sentReset) bool { return !p.a.t.ticket(rc) })
	if emails {
		since := rc.Opts.now().Add(-time.Minute)
		verr = poll(ctx, rc.Opts.VerifyTimeout, func() (bool, error) {
			evs, err := SearchLogs(ctx, b.Client, LogSearch{Filter: LogFilter{Types: []string{"scpr"}}, Since: since, Limit: MaxSearchLimit})
			if err != nil {
				return false, err
			}
			for _, e := range evs {
				if _, ok := confirmed[e.UserID]; !ok {
					confirmed[e.UserID] = e
				}
			}
			for _, p := range pending {
				if _, ok := confirmed[p.a.t.User.ID]; !ok && !p.a.t.ticket(rc) {
					return false, nil
				}
			}
			return true, nil
		})
	}
	for _, p := range pending {
		a := p.a
		var stepErr error
		if a.t.ticket(rc) {
			stepErr = reset.Verify(ctx, rc, a.t)
		} else if e, ok := confirmed[a.t.User.ID]; ok {
			a.t.verified = "scpr event " + e.ID + " at " + e.Date.Format(time.RFC3339)
		} else {
			stepErr = cmp.Or(verr, errors.New("no scpr event yet"))
		}
		o, reason := Done, p.sr.Reason
		if stepErr != nil {
			o, reason = AwaitingConfirmation, unconfirmedReason(reason, stepErr)
		}
		sr, err := r.finishStep(ctx, reset, a.t, p.sr, o, reason, nil)
		a.res.Steps = append(a.res.Steps, sr)
		if journalFailed(err) {
			return
		}
	}
}

// RecordPlan journals the plan before anything is sent.
func (b *Bulk) RecordPlan() error {
	ev, err := json.Marshal(b.Plan)
	if err != nil {
		return err
	}
	if _, err := b.Journal.Append(Record{Kind: KindNote, Step: NoteBulkPlan, Reason: "bulk containment targets", Evidence: ev}); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// RecordDone journals that the run reached its end (failures included).
func (b *Bulk) RecordDone(results []UserResult) error {
	failed := 0
	for _, r := range results {
		if r.Failed() {
			failed++
		}
	}
	reason := fmt.Sprintf("bulk run ended: %d accounts, %d with failures", len(results), failed)
	if _, err := b.Journal.Append(Record{Kind: KindNote, Step: NoteBulkDone, Reason: reason}); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}
