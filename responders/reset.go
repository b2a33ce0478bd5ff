package responders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// resetStep sends the real owner a way back in: a reset email (Auth0 mails
// the address on file) or a ticket URL delivered out of band.
type resetStep struct{}

func (resetStep) Name() string { return StepReset }

// sendsOnce marks the reset as a step that must not be repeated: a second
// email (or ticket) is a second live link to the account.
func (resetStep) sendsOnce() {}

func (resetStep) Plan(_ context.Context, rc *Context, t *Target) (Plan, error) {
	u := t.User
	if u.DatabaseConnection() == "" {
		return Plan{Skip: "no database identity (social or enterprise login): there is no password to reset"}, nil
	}
	if e, ok := scprSince(t, rc.started); ok {
		return Plan{AlreadyDone: true, Reason: "a reset was requested at " + e.Date.Format(time.RFC3339) + " (scpr) in this incident"}, nil
	}
	if r, ok := rc.priorOutcome(u.ID, StepReset); ok && (r.Outcome == Done || r.Outcome == AlreadyDone) {
		return Plan{AlreadyDone: true, Reason: "a reset was sent earlier in this incident"}, nil
	}
	// A send that was made, or may have been, and is not confirmed: Auth0
	// logs late, and a connection can drop after the request arrived. Look
	// for the confirmation; send again only when asked.
	if sent, ok := rc.unconfirmedSend(u.ID, StepReset); ok && !rc.Opts.Resend {
		t.sentAt = sent.Time
		what := "a reset email was sent"
		if t.ticket(rc) {
			what = "a password-change ticket may have been created (and never delivered)"
		}
		return Plan{Confirm: true, Reason: fmt.Sprintf("%s at %s (journal record %d) and is not confirmed: looking for Auth0's confirmation; --resend sends another",
			what, sent.Time.UTC().Format(time.RFC3339), sent.Seq)}, nil
	}
	var p Plan
	if t.ticket(rc) {
		p.Calls = []auth0client.Call{auth0client.CallPasswordChangeTicket(u.WriteID())}
		p.Reason = "create a password-change ticket to deliver to the owner out of band"
	} else {
		if u.Email == "" {
			return Plan{Skip: "the user has no email to send a reset to: use --reset-method ticket"}, nil
		}
		p.Calls = []auth0client.Call{auth0client.CallPasswordResetEmail(rc.resetClient(u), string(u.Key.Email), string(u.Key.Connection))}
		p.Reason = "Auth0 emails a reset link to " + u.Email
	}
	// A ticket goes to the analyst, not to the address on file: only an
	// email reset can land in the attacker's inbox.
	if f, ok := emailChangedInWindow(t); ok && !t.ticket(rc) {
		if !rc.Opts.Force {
			p.Refuse = fmt.Sprintf("the email was changed (%s at %s): a reset would go to the attacker; restore the owner's address first, use --reset-method ticket, or --force",
				f.Detail, f.At.Format(time.RFC3339))
			return p, nil
		}
		p.Reason += " (the email was changed; sending anyway: --force)"
	}
	return p, nil
}

func (resetStep) Apply(ctx context.Context, rc *Context, t *Target, _ Plan) error {
	t.sentAt = rc.Opts.now()
	if t.ticket(rc) {
		ticket, err := rc.Writer.CreatePasswordChangeTicket(ctx, t.User.WriteID(), 0)
		if err != nil || rc.dryRun() {
			return err
		}
		if rc.Opts.TicketSink == nil {
			return errors.New("the ticket was created but there is nowhere to deliver it (use --ticket-out FILE)")
		}
		if err := rc.Opts.TicketSink(t.User.ID, ticket); err != nil {
			return err
		}
		t.delivered = true
		return nil
	}
	// The tenant's own address and connection, not their display forms.
	return rc.Writer.SendPasswordResetEmail(ctx, rc.resetClient(t.User), string(t.User.Key.Email), string(t.User.Key.Connection))
}

// Verify looks for the scpr event Auth0 logs for a reset email sent at
// t.sentAt. A ticket leaves no event: its creation and delivery are the
// confirmation, and one whose answer was lost can never be confirmed.
func (resetStep) Verify(ctx context.Context, rc *Context, t *Target) error {
	if t.ticket(rc) {
		if t.delivered {
			t.verified = "ticket created and delivered out of band"
			return nil
		}
		return errors.New("a ticket whose answer was lost cannot be confirmed (it was never delivered)")
	}
	// A minute of slack: the tenant's clock and ours differ.
	since := t.sentAt.Add(-time.Minute)
	return poll(ctx, rc.Opts.VerifyTimeout, func() (bool, error) {
		logs, err := rc.Client.UserLogs(ctx, t.User.WriteID(), 0, 20)
		if err != nil {
			return false, err
		}
		for _, e := range logs {
			if e.Type == "scpr" && e.Date.After(since) {
				t.verified = "scpr event " + e.ID + " at " + e.Date.Format(time.RFC3339)
				return true, nil
			}
		}
		return false, nil
	})
}

// scprSince finds a reset request logged after since.
func scprSince(t *Target, since time.Time) (auth0client.LogEvent, bool) {
	for _, e := range t.history {
		if e.Type == "scpr" && !e.Date.Before(since) {
			return e, true
		}
	}
	return auth0client.LogEvent{}, false
}

// ticket reports whether this user's reset is a ticket: the run's method,
// or the account's own (a finding asks for a ticket where the attacker
// changed the email).
func (t *Target) ticket(rc *Context) bool {
	return cmpOr(t.resetMethod, rc.Opts.ResetMethod) == "ticket"
}

// resetClient is the application a user's reset email comes from: the
// configured one, else the one the preflight found on the user's database
// connection.
func (rc *Context) resetClient(u auth0client.User) string {
	if id := rc.Client.ResetClientID(); id != "" {
		return id
	}
	return rc.Opts.ResetClients[u.DatabaseConnection()]
}
