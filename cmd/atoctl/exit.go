package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// Exit codes (DESIGN.md, after restic): scripts branch on these.
const (
	exitOK          = 0
	exitError       = 1 // an error, or no target succeeded
	exitUsage       = 2 // bad input or usage: nothing was sent
	exitPartial     = 3 // some targets done, some failed
	exitCredentials = 4 // no usable credentials: none configured, no token obtained, or every call refused
	exitInterrupted = 130
)

// usageError marks bad input: the command sent nothing to the tenant.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef builds a one-line usage error: what was wrong and what to do.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// partialError reports a run where some steps (or targets) failed.
type partialError struct {
	done, failed int
}

func (e partialError) Error() string {
	return fmt.Sprintf("%d of %d steps failed (see above)", e.failed, e.done+e.failed)
}

// unconfirmedError reports sends (resets) that went out, or may have, and
// that Auth0 has not confirmed yet: not failed, not done either.
type unconfirmedError struct{ sends int }

func (e unconfirmedError) Error() string {
	return fmt.Sprintf("%d send(s) not confirmed yet (see the warnings above): run the same command again later to confirm them; --resend sends again", e.sends)
}

// notContainedError reports a contain run whose steps all worked but that
// left an attacker's way back in (a factor, an email) on some accounts.
type notContainedError struct{ users int }

func (e notContainedError) Error() string {
	return fmt.Sprintf("%d user(s) not fully contained: the attacker's way back in stays (see the warnings above)", e.users)
}

// persistenceLeft is the persistence a contain run left in place for one
// user: an MFA factor enrolled in the attack window with no mfa step done
// (or, in a dry-run, planned) to remove it, or an email the attacker
// changed where the reset failed (refused: it would have gone to them).
// Either way the account is not contained, and the run exits 3.
func persistenceLeft(r responders.UserResult, dryRun bool) []responders.Finding {
	var left []responders.Finding
	for _, f := range r.Findings {
		switch f.Kind {
		case responders.FindingMFAEnrolled:
			if !stepHandled(r, responders.StepMFA, dryRun) {
				left = append(left, f)
			}
		case responders.FindingEmailChanged:
			if slices.ContainsFunc(r.Steps, func(s responders.StepResult) bool {
				return s.Step == responders.StepReset && s.Outcome == responders.Failed
			}) {
				left = append(left, f)
			}
		}
	}
	return left
}

// stepHandled reports whether the run did the step for the user (or found
// it done), or planned it in a dry-run.
func stepHandled(r responders.UserResult, step string, dryRun bool) bool {
	return slices.ContainsFunc(r.Steps, func(s responders.StepResult) bool {
		return s.Step == step && (s.Outcome == responders.Done || s.Outcome == responders.AlreadyDone ||
			dryRun && s.Outcome == responders.Planned)
	})
}

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ue usageError
	var pe partialError
	var nc notContainedError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, auth0client.ErrNoCredentials):
		// Checked first: no credentials is 4 even where it is also a
		// configuration problem, as the README promises.
		return exitCredentials
	case errors.As(err, &ue), errors.Is(err, responders.ErrBadInput),
		errors.Is(err, auth0client.ErrConfig) && !errors.Is(err, auth0client.ErrBadCredentials):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, auth0client.ErrBadCredentials), errors.Is(err, auth0client.ErrInsufficientScope):
		return exitCredentials
	case errors.As(err, &pe):
		if pe.done == 0 {
			return exitError
		}
		return exitPartial
	case errors.As(err, &nc), errors.As(err, new(unconfirmedError)), errors.As(err, new(postureFailedError)):
		return exitPartial
	}
	return exitError
}

// hint is what to do about an error, where the kind tells us.
func hint(err error) string {
	switch {
	case errors.Is(err, auth0client.ErrInsufficientScope):
		return "grant the scope to atoctl's application (Auth0 dashboard: Applications → APIs → Auth0 Management API → Machine to Machine Applications)"
	case errors.Is(err, auth0client.ErrBadCredentials):
		return "check the domain, --client-id and the client secret or key (--client-key-file)"
	case errors.Is(err, auth0client.ErrRateLimited):
		return "the tenant is at its rate limit; retry later or lower --max-rate"
	}
	return ""
}
