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

func (resetStep) Plan(_ context.Context, rc *Context, t *Target) (Plan, error) {
	u := t.User
	conn := u.DatabaseConnection()
	if conn == "" {
		return Plan{Skip: "no database identity (social or enterprise login): there is no password to reset"}, nil
	}
	if e, ok := scprSince(t, rc.started); ok {
		return Plan{AlreadyDone: true, Reason: "a reset was requested at " + e.Date.Format(time.RFC3339) + " (scpr) in this incident"}, nil
	}
	if r, ok := rc.priorOutcome(u.ID, StepReset); ok && (r.Outcome == Done || r.Outcome == AlreadyDone) {
		return Plan{AlreadyDone: true, Reason: "a reset was sent earlier in this incident"}, nil
	}
	if r, ok := rc.priorIntentWithoutOutcome(u.ID, StepReset); ok && !rc.Opts.Resend {
		return Plan{Refuse: fmt.Sprintf("a reset was being sent when an earlier run stopped (journal record %d) and is not confirmed; an owner may already have a link: rerun with --resend to send another", r.Seq)}, nil
	}
	var p Plan
	if rc.Opts.ResetMethod == "ticket" {
		p.Calls = []auth0client.Call{auth0client.CallPasswordChangeTicket(u.ID)}
		p.Reason = "create a password-change ticket to deliver to the owner out of band"
	} else {
		if u.Email == "" {
			return Plan{Skip: "the user has no email to send a reset to: use --reset-method ticket"}, nil
		}
		p.Calls = []auth0client.Call{auth0client.CallPasswordResetEmail(rc.Client.ResetClientID(), u.Email, conn)}
		p.Reason = "Auth0 emails a reset link to " + u.Email
	}
	// A ticket goes to the analyst, not to the address on file: only an
	// email reset can land in the attacker's inbox.
	if f, ok := emailChangedInWindow(t); ok && rc.Opts.ResetMethod != "ticket" {
		if !rc.Opts.Force {
			p.Refuse = fmt.Sprintf("the email was changed in the attack window (%s at %s): a reset would go to the attacker; restore the owner's address first, or use --force",
				f.Detail, f.At.Format(time.RFC3339))
			return p, nil
		}
		p.Reason += " (the email was changed in the attack window; sending anyway: --force)"
	}
	return p, nil
}

func (resetStep) Apply(ctx context.Context, rc *Context, t *Target, _ Plan) error {
	if rc.Opts.ResetMethod == "ticket" {
		ticket, err := rc.Writer.CreatePasswordChangeTicket(ctx, t.User.ID, 0)
		if err != nil || rc.dryRun() {
			return err
		}
		if rc.Opts.TicketSink == nil {
			return errors.New("the ticket was created but there is nowhere to deliver it (use --ticket-out FILE)")
		}
		return rc.Opts.TicketSink(t.User.ID, ticket)
	}
	return rc.Writer.SendPasswordResetEmail(ctx, t.User.Email, t.User.DatabaseConnection())
}

// Verify looks for the scpr event Auth0 logs for a reset email. A ticket
// leaves no event: its creation is the confirmation.
func (resetStep) Verify(ctx context.Context, rc *Context, t *Target) error {
	if rc.Opts.ResetMethod == "ticket" {
		t.verified = "ticket created and delivered out of band"
		return nil
	}
	since := rc.Opts.now().Add(-time.Minute)
	return poll(ctx, rc.Opts.VerifyTimeout, func() (bool, error) {
		logs, err := rc.Client.UserLogs(ctx, t.User.ID, 0, 20)
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
	for _, e := range t.Logs {
		if e.Type == "scpr" && !e.Date.Before(since) {
			return e, true
		}
	}
	return auth0client.LogEvent{}, false
}
