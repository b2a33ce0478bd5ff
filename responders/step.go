package responders

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Outcome is how a step ended for one user.
type Outcome string

// Step outcomes, as the journal and the progress stream carry them.
const (
	Planned         Outcome = "planned" // dry-run: the calls were recorded, not sent
	Running         Outcome = "running"
	Done            Outcome = "done"
	AlreadyDone     Outcome = "already-done"
	Skipped         Outcome = "skipped"
	Failed          Outcome = "failed"
	AwaitingUnblock Outcome = "awaiting-unblock"
	// AwaitingConfirmation: a send that must not be repeated (a reset) was
	// made, or may have been, and Auth0 has not confirmed it yet. Later
	// runs look for the confirmation and send again only with --resend.
	AwaitingConfirmation Outcome = "sent-awaiting-confirmation"
)

// Step names, in the order DESIGN.md runs them.
const (
	StepSnapshot     = "snapshot"
	StepBlock        = "block"
	StepRevoke       = "revoke"
	StepReset        = "reset"
	StepUnblockCheck = "unblock-check"
	StepMFA          = "mfa"
	StepUnblock      = "unblock"
)

// DefaultSteps is the playbook: evidence first, block before revoke (so an
// attacker who knows the password cannot sign in again between the two).
var DefaultSteps = []string{StepSnapshot, StepBlock, StepRevoke, StepReset, StepUnblockCheck}

// Plan is what a step would do to one user, read from the tenant now.
type Plan struct {
	// Calls are the writes Apply will make (method, path, body; no secrets).
	Calls []auth0client.Call
	// AlreadyDone: the tenant is already in the step's end state.
	AlreadyDone bool
	// Skip is why the step does not apply (e.g. no database identity).
	Skip string
	// Refuse is why the step must not run without --force.
	Refuse string
	// Awaiting marks a check that passed its reads but leaves the user
	// needing an analyst (the unblock check).
	Awaiting bool
	// Confirmed marks a read-only check that passed: nothing to apply.
	Confirmed bool
	// Confirm: an earlier send is not confirmed; look for its confirmation
	// (Verify) and send nothing.
	Confirm bool
	// Reason explains the plan in a sentence (for every outcome).
	Reason string
	// items is step-private: what Apply acts on (method ids, resources).
	items []string
}

// Step is one playbook step. Plan reads; Apply writes only through the
// Writer (the dry-run seam); Verify reads the end state back.
type Step interface {
	Name() string
	Plan(ctx context.Context, rc *Context, t *Target) (Plan, error)
	Apply(ctx context.Context, rc *Context, t *Target, p Plan) error
	Verify(ctx context.Context, rc *Context, t *Target) error
}

// Context is what steps share during one run.
type Context struct {
	Client *auth0client.Client // reads
	Writer auth0client.Writer  // writes (the Client, or a dry-run Recorder)
	Opts   Options
	// prior are the journal's records from earlier runs of this incident.
	prior []Record
	// started is when this incident began (its first record), or now.
	started time.Time

	// The post-change-password bindings are the tenant's, not the user's:
	// read once per run, however many users the run contains.
	actionsOnce sync.Once
	actions     []auth0client.BoundAction
	actionsErr  error
}

// unblockActions reads the Actions bound to post-change-password, once.
func (rc *Context) unblockActions(ctx context.Context) ([]auth0client.BoundAction, error) {
	rc.actionsOnce.Do(func() {
		rc.actions, rc.actionsErr = rc.Client.TriggerActions(ctx, PostChangePasswordTrigger)
	})
	return rc.actions, rc.actionsErr
}

// Options tune the steps.
type Options struct {
	// WindowStart is the start of the attack window: persistence found
	// after it (email changed, MFA enrolled) is reported.
	WindowStart time.Time
	// ResetMethod is "email" (Auth0 emails the owner) or "ticket" (a URL to
	// deliver out of band).
	ResetMethod string
	// Force sends a reset even to an address changed in the attack window.
	Force bool
	// Resend sends a reset again after an interrupted run left it unconfirmed.
	Resend bool
	// TicketSink delivers a password-change ticket out of band (never to
	// stdout or the journal).
	TicketSink func(userID string, ticket auth0client.Secret) error
	// VerifyTimeout bounds read-back polling (revocations are asynchronous).
	VerifyTimeout time.Duration
	// Now is the clock (nil: time.Now); tests fix it.
	Now func() time.Time
	// ResetClients maps a database connection to the application its reset
	// emails come from, when none is configured (found by the preflight).
	ResetClients map[string]string
}

// now reads the run's clock.
func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// dryRun asks the Writer, the one place that knows whether writes are sent.
func (rc *Context) dryRun() bool { return rc.Writer.DryRun() }

// Target is one user being contained, with what the steps need to know.
type Target struct {
	User auth0client.User
	// Logs are the user's events since the attack window began, newest first.
	Logs []auth0client.LogEvent
	// history is every event of the user the tenant still keeps (up to the
	// search cap), newest first: the guards look this far back whatever
	// the window (an attacker's email change before --since still counts).
	history []auth0client.LogEvent
	// sentAt is when the reset being confirmed was sent; delivered, that a
	// ticket reached its sink.
	sentAt    time.Time
	delivered bool
	// resetMethod overrides the run's reset method for this user ("ticket").
	resetMethod string
	// Findings are signs of attacker persistence.
	Findings []Finding
	// evidence is the snapshot step's result, journaled with its outcome.
	evidence []byte
	// verified is what the last Verify read back, for the step's result.
	verified string

	// Reads shared between steps of one run, so a bulk run does not read
	// the same thing twice. loaded: User, Logs, Findings and methods are
	// read. userFresh: User is what the tenant answered during this run
	// (the block's PATCH answer counts). held: sessions and tokens as read
	// while the user was already blocked, so no new ones can have appeared.
	loaded, userFresh, held bool
	answered                *auth0client.User // the block's PATCH answer, until Verify reads it
	methods                 []auth0client.AuthMethod
	sessions                []auth0client.Session
	tokens                  []auth0client.RefreshToken
}

// StepResult is how one step went for one user.
type StepResult struct {
	Step    string             `json:"step"`
	Outcome Outcome            `json:"outcome"`
	Reason  string             `json:"reason,omitempty"`
	Error   string             `json:"error,omitempty"`
	Calls   []auth0client.Call `json:"calls,omitempty"`
	// Evidence is what the read-back found (the end state, a log id).
	Evidence string `json:"evidence,omitempty"`
}

// StepByName returns the step implementation for a name.
func StepByName(name string) (Step, error) {
	switch name {
	case StepSnapshot:
		return snapshotStep{}, nil
	case StepBlock:
		return blockStep{}, nil
	case StepRevoke:
		return revokeStep{}, nil
	case StepReset:
		return resetStep{}, nil
	case StepUnblockCheck:
		return unblockCheckStep{}, nil
	case StepMFA:
		return mfaStep{}, nil
	case StepUnblock:
		return unblockStep{}, nil
	}
	return nil, fmt.Errorf("unknown step %q: choose from snapshot, block, revoke, reset, unblock-check, mfa", auth0client.Clean(name))
}

// journalCalls converts calls for the journal.
func journalCalls(cs []auth0client.Call) []Call {
	out := make([]Call, len(cs))
	for i, c := range cs {
		out[i] = Call{Method: c.Method, Path: c.Path, Body: c.Body}
	}
	return out
}

// priorOutcome finds the newest live (not dry-run) outcome of a step for a
// user in this incident's earlier records.
func (rc *Context) priorOutcome(userID, step string) (Record, bool) {
	for i := len(rc.prior) - 1; i >= 0; i-- {
		r := rc.prior[i]
		if r.UserID == userID && r.Step == step && r.Kind == KindOutcome && r.Mode != ModeDryRun {
			return r, true
		}
	}
	return Record{}, false
}

// unconfirmedSend finds the newest live send of a step for a user whose
// outcome is awaiting confirmation, or that has no outcome at all (the
// process died between sending and recording): its intent record.
func (rc *Context) unconfirmedSend(userID, step string) (Record, bool) {
	var intent Record
	found := false
	for _, r := range rc.prior {
		if r.UserID != userID || r.Step != step || r.Mode == ModeDryRun {
			continue
		}
		switch r.Kind {
		case KindIntent:
			intent, found = r, true
		case KindOutcome:
			if r.Outcome != AwaitingConfirmation {
				found = false
			}
		}
	}
	return intent, found
}

// sendsOnce is a step whose write must not be repeated without asking.
type sendsOnce interface{ sendsOnce() }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`null`)
	}
	return b
}

// poll re-runs check until it reports done, the timeout passes or ctx ends.
func poll(ctx context.Context, timeout time.Duration, check func() (bool, error)) error {
	return pollAfter(ctx, 0, timeout, check)
}

// pollAfter is poll with a first wait: for changes Auth0 applies
// asynchronously, a read sent at once only costs budget.
func pollAfter(ctx context.Context, first, timeout time.Duration, check func() (bool, error)) error {
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	deadline := time.Now().Add(timeout)
	wait := 100 * time.Millisecond
	if first > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(first):
		}
	}
	for {
		done, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not confirmed within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, time.Second)
	}
}
