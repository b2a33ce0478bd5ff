package responders

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// CheckStatus is how a preflight check came out.
type CheckStatus string

// Check outcomes: a failure stops the run before its first write; a
// warning is shown with the plan.
const (
	CheckOK   CheckStatus = "ok"
	CheckWarn CheckStatus = "warn"
	CheckFail CheckStatus = "fail"
)

// Check is one preflight check: what was checked, how it came out, and
// what to do when it did not pass.
type Check struct {
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Fix    string      `json:"fix,omitempty"`
	// kind is the error a failure is: a missing scope or no credentials
	// (exit 4), a configuration to set (exit 2).
	kind error
}

// PreflightNeed is what a run is about to do.
type PreflightNeed struct {
	// Steps are the playbook steps the run takes (any account).
	Steps []string
	// ResetMethod is the run's reset method ("email" or "ticket"); Tickets
	// says some accounts get a ticket anyway (a finding's response).
	ResetMethod string
	Tickets     bool
	// ACL: the run blocks networks.
	ACL bool
	// User is an account of the run, to see whether the plan serves
	// sessions ("" skips that check).
	User string
}

// PreflightResult is every check, and the reset route it found: the
// application each database connection's reset emails come from.
type PreflightResult struct {
	Checks []Check `json:"checks"`
	// ResetClients maps a database connection to the application a reset
	// email names (client_id).
	ResetClients map[string]string `json:"reset_clients,omitempty"`
}

// Err is the first failed check as an error of its kind, or nil.
func (p PreflightResult) Err() error {
	for _, c := range p.Checks {
		if c.Status == CheckFail {
			return fmt.Errorf("preflight: %s: %s: %w (%s)", c.Name, c.Detail, c.kind, c.Fix)
		}
	}
	return nil
}

// scopesFor are the Management API scopes each step needs; a group is met
// by any of its scopes.
var scopesFor = map[string][][]string{
	"load":           {{"read:users"}, {"read:logs", "read:logs_users"}, {"read:authentication_methods"}},
	StepSnapshot:     {{"read:sessions"}, {"read:refresh_tokens"}},
	StepBlock:        {{"update:users"}},
	StepRevoke:       {{"read:sessions"}, {"delete:sessions"}, {"read:refresh_tokens"}, {"delete:refresh_tokens"}},
	StepMFA:          {{"delete:authentication_methods"}, {"update:users"}},
	StepUnblockCheck: {{"read:actions"}},
	StepUnblock:      {{"update:users"}},
	StepACL:          {{"read:network_acls"}, {"create:network_acls"}, {"update:network_acls"}},
	"ticket":         {{"create:user_tickets"}},
	StepShield:       {{"read:attack_protection"}, {"update:attack_protection"}},
	StepShieldDown:   {{"read:attack_protection"}, {"update:attack_protection"}},
}

// Preflight checks, before the first write of a run, what would otherwise
// fail in the middle of it: the token's scopes against the steps, the
// plan's features, the reset route and the unblock Action. It sends reads
// only.
func Preflight(ctx context.Context, c *auth0client.Client, need PreflightNeed) (PreflightResult, error) {
	var res PreflightResult
	add := func(ch Check) { res.Checks = append(res.Checks, ch) }

	// Scopes: from the token in use (a read fetches one if none yet).
	granted, ok := c.GrantedScopes()
	if !ok {
		if _, err := c.NetworkACLs(ctx); err != nil && !errors.Is(err, auth0client.ErrInsufficientScope) && !errors.Is(err, auth0client.ErrPlanLacksFeature) {
			return res, err
		}
		granted, ok = c.GrantedScopes()
	}
	if ok {
		if missing := missingScopes(granted, need); len(missing) > 0 {
			add(Check{Name: "scopes", Status: CheckFail, kind: auth0client.ErrInsufficientScope,
				Detail: "the token lacks " + strings.Join(missing, ", "),
				Fix:    "grant them to atoctl's application (Applications → APIs → Auth0 Management API → Machine to Machine Applications)"})
		} else {
			add(Check{Name: "scopes", Status: CheckOK, Detail: fmt.Sprintf("the token holds the %d scopes the run needs", len(requiredScopes(need)))})
		}
	} else {
		add(Check{Name: "scopes", Status: CheckWarn, Detail: "the token's scopes are not readable: a missing scope shows at the step that needs it"})
	}

	// The plan: sessions and refresh tokens are Enterprise features.
	if need.User != "" && slices.ContainsFunc(need.Steps, func(s string) bool { return s == StepRevoke || s == StepSnapshot }) {
		_, err := c.Sessions(ctx, need.User)
		switch {
		case errors.Is(err, auth0client.ErrPlanLacksFeature):
			add(Check{Name: "plan", Status: CheckWarn, Detail: "the plan lacks the sessions and refresh-token endpoints: revoke deletes the user's grants instead, and live sessions survive until they expire",
				Fix: "an Enterprise plan revokes sessions; meanwhile shorten the session lifetime (Settings → Advanced → Login Session Management)"})
		case err == nil || errors.Is(err, auth0client.ErrNotFound):
			add(Check{Name: "plan", Status: CheckOK, Detail: "sessions and refresh tokens can be read and revoked"})
		case errors.Is(err, auth0client.ErrInsufficientScope):
			// reported by the scopes check
		default:
			return res, err
		}
	}

	// The reset route: a reset email names an application enabled on the
	// user's database connection.
	if slices.Contains(need.Steps, StepReset) && need.ResetMethod != "ticket" {
		ch, clients, err := resetRoute(ctx, c)
		if err != nil {
			return res, err
		}
		res.ResetClients = clients
		add(ch)
	}

	// The unblock Action: informative, the step itself warns per account.
	if slices.Contains(need.Steps, StepUnblockCheck) {
		actions, err := c.TriggerActions(ctx, PostChangePasswordTrigger)
		switch {
		case errors.Is(err, auth0client.ErrInsufficientScope):
		case err != nil:
			return res, err
		default:
			v := unblockVerdict(actions)
			st := CheckOK
			if !v.Confirmed {
				st = CheckWarn
			}
			ch := Check{Name: "unblock action", Status: st, Detail: v.Reason}
			if !v.Confirmed {
				ch.Fix = "bind and deploy a post-change-password Action that unblocks the user (api.user… blocked: false through the Management API), or unblock owners by hand after their reset (atoctl users unblock)"
			}
			add(ch)
		}
	}
	return res, nil
}

// requiredScopes are the scope groups the run needs.
func requiredScopes(need PreflightNeed) [][]string {
	groups := slices.Clone(scopesFor["load"])
	for _, s := range need.Steps {
		groups = append(groups, scopesFor[s]...)
	}
	if need.ACL {
		groups = append(groups, scopesFor[StepACL]...)
	}
	if slices.Contains(need.Steps, StepReset) && (need.ResetMethod == "ticket" || need.Tickets) {
		groups = append(groups, scopesFor["ticket"]...)
	}
	return groups
}

// missingScopes names, once each, the groups the granted scopes miss.
func missingScopes(granted []string, need PreflightNeed) []string {
	var out []string
	for _, g := range requiredScopes(need) {
		if slices.ContainsFunc(g, func(s string) bool { return slices.Contains(granted, s) }) {
			continue
		}
		name := strings.Join(g, " or ")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// resetRoute finds the application reset emails come from: the configured
// reset_client_id, else, per database connection, an interactive
// application enabled on it.
func resetRoute(ctx context.Context, c *auth0client.Client) (Check, map[string]string, error) {
	configured := c.ResetClientID()
	conns, err := c.DatabaseConnections(ctx)
	if errors.Is(err, auth0client.ErrInsufficientScope) {
		if configured != "" {
			return Check{Name: "reset route", Status: CheckOK, Detail: "reset emails come from the configured application " + configured + " (its connections are not readable: read:connections)"}, nil, nil
		}
		return Check{Name: "reset route", Status: CheckFail, kind: auth0client.ErrConfig,
			Detail: "no reset application is configured, and the connections are not readable to find one",
			Fix:    "set reset_client_id in the profile (or AUTH0_RESET_CLIENT_ID) to an application enabled on the database connection, grant read:connections and read:clients, or use --reset-method ticket"}, nil, nil
	}
	if err != nil {
		return Check{}, nil, err
	}
	if configured != "" {
		for _, conn := range conns {
			if !slices.Contains(conn.EnabledClients, configured) {
				return Check{Name: "reset route", Status: CheckFail, kind: auth0client.ErrConfig,
					Detail: fmt.Sprintf("the configured reset application %s is not enabled on the %s connection: Auth0 would refuse the reset emails", configured, conn.Name),
					Fix:    "enable it on the connection (Authentication → Database → Applications), or set reset_client_id to one that is"}, nil, nil
			}
		}
		return Check{Name: "reset route", Status: CheckOK, Detail: "reset emails come from the configured application " + configured}, nil, nil
	}
	apps, err := c.Applications(ctx)
	if errors.Is(err, auth0client.ErrInsufficientScope) {
		apps, err = nil, nil // the connection's first enabled application it is
	}
	if err != nil {
		return Check{}, nil, err
	}
	interactive := map[string]auth0client.Application{}
	for _, a := range apps {
		if a.Interactive() {
			interactive[a.ID] = a
		}
	}
	routes := map[string]string{}
	var found, missing []string
	for _, conn := range conns {
		for _, id := range conn.EnabledClients {
			if _, ok := interactive[id]; ok || apps == nil {
				routes[conn.Name] = id
				name := id
				if a, ok := interactive[id]; ok && a.Name != "" {
					name = fmt.Sprintf("%s (%s)", a.Name, id)
				}
				found = append(found, conn.Name+" → "+name)
				break
			}
		}
		if _, ok := routes[conn.Name]; !ok {
			missing = append(missing, conn.Name)
		}
	}
	if len(missing) > 0 {
		return Check{Name: "reset route", Status: CheckFail, kind: auth0client.ErrConfig,
			Detail: "no interactive application is enabled on the " + strings.Join(missing, ", ") + " connection: a reset email cannot be sent",
			Fix:    "set reset_client_id to an application enabled on the connection, enable one, or use --reset-method ticket"}, routes, nil
	}
	return Check{Name: "reset route", Status: CheckOK, Detail: "reset emails come from the application the tenant enables on each database connection: " + strings.Join(found, "; ")}, routes, nil
}
