package responders

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// JournalWriter is what the Runner records into: *Journal.
type JournalWriter interface {
	Append(r Record) (Record, error)
	Records() []Record
}

// Event is one line of progress: which user, which step, how it went. The
// console and the CLI both consume the Runner's events.
type Event struct {
	// Phase names the bulk phase; an event with only Phase set announces
	// that the phase begins.
	Phase   string    `json:"phase,omitempty"`
	UserID  string    `json:"user_id"`
	Step    string    `json:"step"`
	Outcome Outcome   `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	Error   string    `json:"error,omitempty"`
	Time    time.Time `json:"time"`
}

// UserResult is how containment went for one user.
type UserResult struct {
	UserID   string       `json:"user_id"`
	Email    string       `json:"email,omitempty"`
	Findings []Finding    `json:"findings"`
	Steps    []StepResult `json:"steps"`
	// Error is set when the user could not be loaded at all.
	Error string `json:"error,omitempty"`
}

// Succeeded counts the steps that ended well (done, already done, skipped
// as not applicable, awaiting an analyst, or planned in a dry-run).
func (r UserResult) Succeeded() int {
	n := 0
	for _, s := range r.Steps {
		if s.Outcome != Failed {
			n++
		}
	}
	return n
}

// Unconfirmed returns a step that was sent and awaits Auth0's confirmation.
func (r UserResult) Unconfirmed() (StepResult, bool) {
	for _, s := range r.Steps {
		if s.Outcome == AwaitingConfirmation {
			return s, true
		}
	}
	return StepResult{}, false
}

// Failed reports whether anything for this user failed.
func (r UserResult) Failed() bool {
	if r.Error != "" {
		return true
	}
	for _, s := range r.Steps {
		if s.Outcome == Failed {
			return true
		}
	}
	return false
}

// ErrNoJournal: a run was asked for without an incident journal. Every
// write is journaled first, so nothing was run.
var ErrNoJournal = errors.New("no incident journal: every action is journaled, so nothing was run (open an incident first)")

// Runner applies steps to users: users in parallel (sharing the client's
// rate budget), steps in order for each user, every write journaled as an
// intent before it is sent and an outcome after it is verified. Whether
// writes are sent is the Writer's to say (a Recorder only records).
type Runner struct {
	Client *auth0client.Client
	Writer auth0client.Writer
	// Journal is required: Run refuses to start without one.
	Journal JournalWriter
	Steps   []Step
	Opts    Options
	// Workers is how many users are worked on at once (default 8).
	Workers int
	// Events, if set, receives progress; sends block, so keep it drained.
	Events chan<- Event

	mu sync.Mutex // serialises journal appends with their events
}

// Load reads what the steps need about a user: the profile, their logs
// since the attack window began, and the persistence findings.
func (r *Runner) Load(ctx context.Context, userID string) (*Target, error) {
	t := &Target{User: auth0client.User{ID: userID}}
	if err := r.load(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// load fills t, reusing what this run already read (the block's answer).
func (r *Runner) load(ctx context.Context, t *Target) error {
	if t.loaded {
		return nil
	}
	c, userID := r.Client, t.User.ID
	if !t.userFresh {
		u, err := c.User(ctx, userID)
		if err != nil {
			return err
		}
		t.User, t.userFresh = u, true
	}
	// Every event the tenant keeps for the user (Auth0 serves the newest
	// 1000), not only the window's: the guards look back that far, so a
	// short or late --since cannot hide the attacker's email change.
	t.Logs, t.history = t.Logs[:0], t.history[:0]
	for page := 0; page < auth0client.SearchCap/auth0client.MaxPerPage; page++ {
		batch, err := c.UserLogs(ctx, t.User.WriteID(), page, auth0client.MaxPerPage)
		if err != nil {
			return err
		}
		for _, e := range batch {
			t.history = append(t.history, e)
			if !e.Date.Before(r.Opts.WindowStart) {
				t.Logs = append(t.Logs, e)
			}
		}
		if len(batch) < auth0client.MaxPerPage {
			break
		}
	}
	methods, err := c.AuthMethods(ctx, t.User.WriteID())
	if err != nil {
		return err
	}
	t.methods = methods
	t.Findings = findPersistence(t.User, t.history, methods, r.Opts.WindowStart)
	t.loaded = true
	return nil
}

// PlannedStep is one step's plan for a user, for confirmation screens.
type PlannedStep struct {
	Step string
	Plan Plan
	Err  error
}

// Summary is the plan in one line, as both front-ends show it.
func (ps PlannedStep) Summary() string {
	p := ps.Plan
	switch {
	case ps.Err != nil:
		return "cannot plan: " + auth0client.Clean(ps.Err.Error())
	case p.Skip != "":
		return "skip: " + p.Skip
	case p.Refuse != "":
		return "REFUSED: " + p.Refuse
	case p.AlreadyDone:
		return "already done: " + p.Reason
	case p.Awaiting:
		return "WARNING: " + p.Reason
	}
	return p.Reason
}

// PlanUser plans every step for a loaded user without writing anything.
func (r *Runner) PlanUser(ctx context.Context, t *Target) []PlannedStep {
	rc := r.context()
	out := make([]PlannedStep, 0, len(r.Steps))
	for _, s := range r.Steps {
		p, err := s.Plan(ctx, rc, t)
		out = append(out, PlannedStep{Step: s.Name(), Plan: p, Err: err})
	}
	return out
}

func (r *Runner) context() *Context {
	rc := &Context{Client: r.Client, Writer: r.Writer, Opts: r.Opts, started: r.Opts.now()}
	if r.Journal != nil {
		rc.prior = r.Journal.Records()
		for _, rec := range rc.prior {
			if rec.Mode != ModeDryRun {
				rc.started = rec.Time
				break
			}
		}
	}
	return rc
}

// Unique drops repeated ids, keeping the first of each in order: the same
// account named twice (by email and by id, say) is contained once.
func Unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Run contains each user (once, however often it is named) and returns one
// result per user, in input order. It stops early only when the context
// ends or the journal cannot be written (an action that cannot be recorded
// is not taken).
func (r *Runner) Run(ctx context.Context, userIDs []string) ([]UserResult, error) {
	if r.Journal == nil {
		return nil, ErrNoJournal
	}
	userIDs = Unique(userIDs)
	rc := r.context()
	results := make([]UserResult, len(userIDs))
	parallel(ctx, len(userIDs), r.Workers, func(i int) {
		results[i] = r.runUser(ctx, rc, userIDs[i])
	})
	for i, id := range userIDs {
		if results[i].UserID == "" {
			results[i] = UserResult{UserID: id, Error: "not started: " + context.Cause(ctx).Error()}
		}
	}
	return results, nil
}

// parallel calls work(i) for i in [0, n) on at most workers goroutines
// (default 8), handing out no new index once ctx ends.
func parallel(ctx context.Context, n, workers int, work func(i int)) {
	if workers <= 0 {
		workers = 8
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				work(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
}

func (r *Runner) runUser(ctx context.Context, rc *Context, userID string) UserResult {
	res := UserResult{UserID: userID}
	t, err := r.Load(ctx, userID)
	if err != nil {
		res.Error = auth0client.Clean(err.Error())
		r.emit(ctx, Event{UserID: userID, Outcome: Failed, Error: res.Error})
		return res
	}
	res.Email, res.Findings = t.User.Email, t.Findings
	for _, s := range r.Steps {
		if ctx.Err() != nil {
			res.Steps = append(res.Steps, StepResult{Step: s.Name(), Outcome: Failed, Error: "interrupted before this step"})
			continue
		}
		sr, _, err := r.runStep(ctx, rc, s, t, true)
		res.Steps = append(res.Steps, sr)
		if err != nil { // the journal failed: stop everything for this user
			res.Error = err.Error()
			break
		}
	}
	return res
}

// runStep plans, journals the intent, applies, verifies and journals the
// outcome of one step. With verify false, a step that was sent comes back
// pending (no outcome yet): the caller verifies it, maybe for many users at
// once, and journals the outcome with finishStep. The returned error is a
// journal failure only; step failures are outcomes.
func (r *Runner) runStep(ctx context.Context, rc *Context, s Step, t *Target, verify bool) (sr StepResult, pending bool, err error) {
	uid := t.User.ID
	sr = StepResult{Step: s.Name()}
	t.verified = ""
	finish := func(o Outcome, reason string, stepErr error) (StepResult, bool, error) {
		sr, err := r.finishStep(ctx, s, t, sr, o, reason, stepErr)
		return sr, false, err
	}

	p, err := s.Plan(ctx, rc, t)
	if err != nil {
		return finish(Failed, "could not read the tenant to plan this step", err)
	}
	sr.Calls, sr.Reason = p.Calls, p.Reason
	switch {
	case p.Skip != "":
		return finish(Skipped, p.Skip, nil)
	case p.Refuse != "":
		return finish(Failed, "refused", errors.New(p.Refuse))
	case p.Awaiting:
		return finish(AwaitingUnblock, p.Reason, nil)
	case p.Confirmed:
		return finish(Done, p.Reason, nil)
	case p.AlreadyDone:
		return finish(AlreadyDone, p.Reason, nil)
	case p.Confirm:
		// Nothing is sent: look for the confirmation of the earlier send.
		if err := s.Verify(ctx, rc, t); err != nil {
			return finish(AwaitingConfirmation, p.Reason+": still not confirmed ("+auth0client.Clean(err.Error())+")", nil)
		}
		return finish(Done, "the earlier send is confirmed", nil)
	}
	_, once := s.(sendsOnce)
	if rc.dryRun() && len(p.Calls) > 0 {
		// Dry-run records the calls instead of sending them.
		if err := s.Apply(ctx, rc, t, p); err != nil {
			return finish(Failed, p.Reason, err)
		}
		return finish(Planned, p.Reason, nil)
	}
	// The intent is on disk before the first byte goes to Auth0, so a crash
	// mid-step leaves a record of what may have happened.
	intent := Record{Kind: KindIntent, UserID: uid, Step: s.Name(), Calls: journalCalls(p.Calls), Reason: p.Reason}
	if err := r.record(ctx, intent, Event{UserID: uid, Step: s.Name(), Outcome: Running, Reason: p.Reason}); err != nil {
		return sr, false, err
	}
	if err := s.Apply(ctx, rc, t, p); err != nil {
		if once && auth0client.MayHaveApplied(err) {
			return finish(AwaitingConfirmation, p.Reason+": the request may have reached Auth0 ("+auth0client.Clean(err.Error())+"); journaled as sent: the next run looks for the confirmation, --resend sends another", nil)
		}
		return finish(Failed, p.Reason, err)
	}
	if !verify {
		return sr, true, nil
	}
	if err := s.Verify(ctx, rc, t); err != nil {
		if once {
			return finish(AwaitingConfirmation, unconfirmedReason(p.Reason, err), nil)
		}
		return finish(Failed, p.Reason, fmt.Errorf("sent, but not verified: %w", err))
	}
	return finish(Done, p.Reason, nil)
}

// unconfirmedReason says what happened to a send Auth0 has not confirmed.
func unconfirmedReason(reason string, err error) string {
	return reason + ": sent; Auth0 has not logged the confirmation yet (" + auth0client.Clean(err.Error()) +
		"; it ingests logs late): the next run looks for it, --resend sends another"
}

// finishStep journals a step's outcome and reports it.
func (r *Runner) finishStep(ctx context.Context, s Step, t *Target, sr StepResult, o Outcome, reason string, stepErr error) (StepResult, error) {
	uid := t.User.ID
	sr.Outcome, sr.Reason, sr.Evidence = o, reason, t.verified
	rec := Record{Kind: KindOutcome, UserID: uid, Step: s.Name(), Outcome: o, Reason: reason, Calls: journalCalls(sr.Calls)}
	if stepErr != nil {
		sr.Error = auth0client.Clean(stepErr.Error())
		rec.Error = sr.Error
	}
	if s.Name() == StepSnapshot && len(t.evidence) > 0 {
		rec.Evidence = t.evidence
	}
	err := r.record(ctx, rec, Event{UserID: uid, Step: s.Name(), Outcome: o, Reason: reason, Error: sr.Error})
	return sr, err
}

// record appends to the journal (if any) and reports the event.
func (r *Runner) record(ctx context.Context, rec Record, ev Event) error {
	r.mu.Lock()
	if r.Journal != nil {
		_, err := r.Journal.Append(rec)
		if errors.Is(err, ErrSecretInRecord) {
			// Tenant text (an attacker's email in a reset body, say) can look
			// like a secret. Refusing would stop containment of this user, so
			// the look-alike is elided and the record written.
			_, err = r.Journal.Append(redactRecord(rec))
		}
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("journal: %w", err)
		}
	}
	r.mu.Unlock()
	ev.Time = r.Opts.now()
	r.emit(ctx, ev)
	return nil
}

func (r *Runner) emit(ctx context.Context, ev Event) {
	if r.Events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = r.Opts.now()
	}
	select {
	case r.Events <- ev:
	case <-ctx.Done():
	}
}

// redactRecord elides every secret-looking string in a record's text.
func redactRecord(rec Record) Record {
	str := func(s string) string {
		v, _ := redactValue(s)
		return v.(string)
	}
	rec.Reason, rec.Error = str(rec.Reason), str(rec.Error)
	calls := make([]Call, len(rec.Calls))
	for i, c := range rec.Calls {
		c.Path = str(c.Path)
		if c.Body != nil {
			v, _ := redactValue(map[string]any(c.Body))
			c.Body, _ = v.(map[string]any)
		}
		calls[i] = c
	}
	rec.Calls = calls
	return rec
}
