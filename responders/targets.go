package responders

import (
	"context"
	"fmt"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// ResolveUser finds the one account arg names: a user id, or an email that
// exactly one account has. An email shared by several accounts is bad input
// that lists them, never a guess.
func ResolveUser(ctx context.Context, c *auth0client.Client, arg string) (auth0client.User, error) {
	if err := ValidUserArg(arg); err != nil {
		return auth0client.User{}, err
	}
	arg = strings.TrimSpace(arg)
	if strings.Contains(arg, "@") && !strings.Contains(arg, "|") {
		// Auth0 stores emails lower-case and matches them exactly: the
		// analyst's Alice@Example.com is alice@example.com there.
		users, err := c.UsersByEmail(ctx, strings.ToLower(arg))
		if err != nil {
			return auth0client.User{}, err
		}
		switch len(users) {
		case 0:
			return auth0client.User{}, fmt.Errorf("no user has the email %s: %w", auth0client.Clean(arg), auth0client.ErrNotFound)
		case 1:
			return users[0], nil
		}
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		return auth0client.User{}, BadInput("%d accounts have the email %s: %s; give the user id", len(users), auth0client.Clean(arg), auth0client.Clean(strings.Join(ids, ", ")))
	}
	return c.User(ctx, arg)
}

// ResolveTargets resolves every argument to a user id and returns each
// account once, in the order first named: an account named by its email and
// by its id is contained once, not twice in parallel.
func ResolveTargets(ctx context.Context, c *auth0client.Client, args []string) ([]string, error) {
	for _, a := range args {
		if err := ValidUserArg(a); err != nil {
			return nil, err
		}
	}
	ids := make([]string, 0, len(args))
	for _, a := range args {
		u, err := ResolveUser(ctx, c, a)
		if err != nil {
			return nil, err
		}
		ids = append(ids, u.ID)
	}
	return Unique(ids), nil
}

// ParseSteps reads a list of step names into the steps to run, in the
// playbook's order whatever order they were given in (a reset never runs
// before the block), each once. Only the playbook's steps are accepted.
func ParseSteps(names []string) ([]Step, error) {
	want := map[string]bool{}
	for _, item := range names {
		for _, n := range strings.Split(item, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			if !isPlaybookStep(n) {
				return nil, BadInput("unknown step %q: choose from %s", auth0client.Clean(n), strings.Join(PlaybookOrder, ", "))
			}
			if want[n] {
				return nil, BadInput("step %q is named twice", n)
			}
			want[n] = true
		}
	}
	if len(want) == 0 {
		return nil, BadInput("no steps given: choose from %s", strings.Join(PlaybookOrder, ", "))
	}
	var out []Step
	for _, n := range PlaybookOrder {
		if want[n] {
			s, err := StepByName(n)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// PlaybookOrder is every playbook step in the order they run: evidence
// first, block before revoke, the optional MFA clean-up before the reset
// (the attacker's factor goes before the owner is invited back).
var PlaybookOrder = []string{StepSnapshot, StepBlock, StepRevoke, StepMFA, StepReset, StepUnblockCheck}

func isPlaybookStep(n string) bool {
	for _, s := range PlaybookOrder {
		if s == n {
			return true
		}
	}
	return false
}
