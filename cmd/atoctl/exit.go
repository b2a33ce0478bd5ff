package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/atoctl/atoctl/auth0client"
)

// Exit codes (DESIGN.md, after restic): scripts branch on these.
const (
	exitOK          = 0
	exitError       = 1 // an error, or no target succeeded
	exitUsage       = 2 // bad input or usage: nothing was sent
	exitPartial     = 3 // some targets done, some failed
	exitCredentials = 4 // no token could be obtained, or every call was refused
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

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ue usageError
	var pe partialError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, auth0client.ErrConfig) && !errors.Is(err, auth0client.ErrBadCredentials):
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
	}
	return exitError
}

// hint is what to do about an error, where the kind tells us.
func hint(err error) string {
	switch {
	case errors.Is(err, auth0client.ErrInsufficientScope):
		return "grant the scope to atoctl's application (Auth0 dashboard: Applications → APIs → Auth0 Management API → Machine to Machine Applications)"
	case errors.Is(err, auth0client.ErrBadCredentials):
		return "check the domain, --client-id and the client secret"
	case errors.Is(err, auth0client.ErrRateLimited):
		return "the tenant is at its rate limit; retry later or lower --max-rate"
	}
	return ""
}
