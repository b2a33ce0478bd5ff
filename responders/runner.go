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

// Runner applies steps to users: users in parallel (sharing the client's
// rate budget), steps in order for each user, every write journaled as an
// intent before it is sent and an outcome after it is verified.
type Runner struct {
	Client  *auth0client.Client
	Writer  auth0client.Writer
	DryRun  bool
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
	c := r.Client
	u, err := c.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	t := &Target{User: u}
	for page := 0; page < auth0client.SearchCap/auth0client.MaxPerPage; page++ {
		batch, err := c.UserLogs(ctx, userID, page, auth0client.MaxPerPage)
		if err != nil {
			return nil, err
		}
		stop := len(batch) < auth0client.MaxPerPage
		for _, e := range batch {
			if e.Date.Before(r.Opts.WindowStart) {
				stop = true
				break
			}
			t.Logs = append(t.Logs, e)
		}
		if stop {
			break
		}
	}
	methods, err := c.AuthMethods(ctx, userID)
	if err != nil {
		return nil, err
	}
	t.Findings = findPersistence(u, t.Logs, methods, r.Opts.WindowStart)
	return t, nil
}

// PlannedStep is one step's plan for a user, for confirmation screens.
type PlannedStep struct {
	Step string
	Plan Plan
	Err  error
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
	rc := &Context{Client: r.Client, Writer: r.Writer, DryRun: r.DryRun, Opts: r.Opts, started: time.Now().UTC()}
	if r.Journal != nil {
		rc.prior = r.Journal.Records()
		for _, rec := range rc.prior {
			if rec.Mode != "dry-run" {
				rc.started = rec.Time
				break
			}
		}
	}
	return rc
}

// Run contains each user and returns one result per user, in input order.
// It stops early only when the context ends or the journal cannot be
// written (an action that cannot be recorded is not taken).
func (r *Runner) Run(ctx context.Context, userIDs []string) []UserResult {
	rc := r.context()
	results := make([]UserResult, len(userIDs))
	workers := r.Workers
	if workers <= 0 {
		workers = 8
	}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(userIDs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = r.runUser(ctx, rc, userIDs[i])
			}
		}()
	}
	for i := range userIDs {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	for i, id := range userIDs {
		if results[i].UserID == "" {
			results[i] = UserResult{UserID: id, Error: "not started: " + context.Cause(ctx).Error()}
		}
	}
	return results
}

func (r *Runner) runUser(ctx context.Context, rc *Context, userID string) UserResult {
	res := UserResult{UserID: userID}
	t, err := r.Load(ctx, userID)
	if err != nil {
		res.Error = err.Error()
		r.emit(ctx, Event{UserID: userID, Outcome: Failed, Error: res.Error})
		return res
	}
	res.Email, res.Findings = t.User.Email, t.Findings
	for _, s := range r.Steps {
		if ctx.Err() != nil {
			res.Steps = append(res.Steps, StepResult{Step: s.Name(), Outcome: Failed, Error: "interrupted before this step"})
			continue
		}
		sr, err := r.runStep(ctx, rc, s, t)
		res.Steps = append(res.Steps, sr)
		if err != nil { // the journal failed: stop everything for this user
			res.Error = err.Error()
			break
		}
	}
	return res
}

// runStep plans, journals the intent, applies, verifies and journals the
// outcome of one step. The returned error is a journal failure only; step
// failures are outcomes.
func (r *Runner) runStep(ctx context.Context, rc *Context, s Step, t *Target) (StepResult, error) {
	uid := t.User.ID
	sr := StepResult{Step: s.Name()}
	t.verified = ""
	finish := func(o Outcome, reason string, stepErr error) (StepResult, error) {
		sr.Outcome, sr.Reason, sr.Evidence = o, reason, t.verified
		rec := Record{Kind: "outcome", UserID: uid, Step: s.Name(), Outcome: string(o), Reason: reason, Calls: journalCalls(sr.Calls)}
		if stepErr != nil {
			sr.Error = auth0client.Clean(stepErr.Error())
			rec.Error = sr.Error
		}
		if s.Name() == StepSnapshot && len(t.evidence) > 0 {
			rec.Evidence = t.evidence
		}
		if err := r.record(ctx, rec, Event{UserID: uid, Step: s.Name(), Outcome: o, Reason: reason, Error: sr.Error}); err != nil {
			return sr, err
		}
		return sr, nil
	}

	p, err := s.Plan(ctx, rc, t)
	if err != nil {
		return finish(Failed, "could not read the tenant to plan this step", err)
	}
	sr.Calls = p.Calls
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
	}
	if r.DryRun && len(p.Calls) > 0 {
		// Dry-run records the calls instead of sending them.
		if err := s.Apply(ctx, rc, t, p); err != nil {
			return finish(Failed, p.Reason, err)
		}
		return finish(Planned, p.Reason, nil)
	}
	// The intent is on disk before the first byte goes to Auth0, so a crash
	// mid-step leaves a record of what may have happened.
	intent := Record{Kind: "intent", UserID: uid, Step: s.Name(), Calls: journalCalls(p.Calls), Reason: p.Reason}
	if err := r.record(ctx, intent, Event{UserID: uid, Step: s.Name(), Outcome: Running, Reason: p.Reason}); err != nil {
		return sr, err
	}
	if err := s.Apply(ctx, rc, t, p); err != nil {
		return finish(Failed, p.Reason, err)
	}
	if err := s.Verify(ctx, rc, t); err != nil {
		return finish(Failed, p.Reason, fmt.Errorf("sent, but not verified: %w", err))
	}
	return finish(Done, p.Reason, nil)
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
	ev.Time = time.Now().UTC()
	r.emit(ctx, ev)
	return nil
}

func (r *Runner) emit(ctx context.Context, ev Event) {
	if r.Events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
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
