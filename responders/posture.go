package responders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Posture: the tenant configuration that makes account takeover easy or
// hard, each check pass / warn / fail with its evidence and its fix. Reads
// only.

// PostureStatus is how a posture check came out.
type PostureStatus string

// Posture check outcomes.
const (
	PosturePass PostureStatus = "pass"
	PostureWarn PostureStatus = "warn"
	PostureFail PostureStatus = "fail"
)

// Posture check ids (stable: scripts and the README name them).
const (
	CheckUnblockAction    = "unblock-action"
	CheckBruteForce       = "brute-force-protection"
	CheckSuspiciousIP     = "suspicious-ip-throttling"
	CheckBreachedPassword = "breached-password-detection"
	CheckBotDetection     = "bot-detection"
	CheckRefreshTokens    = "refresh-tokens"
	CheckSessionLifetime  = "session-lifetime"
	CheckMFAPolicy        = "mfa-policy"
	CheckMFAFactors       = "mfa-factors"
	CheckPasswordPolicy   = "password-policy"
	CheckLegacyGrants     = "legacy-grants"
	CheckClientAuth       = "client-authentication"
	CheckLogRetention     = "log-retention"
)

// PostureCheck is one check: what it found (evidence) and what to do (fix).
// Target names the application or connection of a per-item check.
type PostureCheck struct {
	ID       string        `json:"id"`
	Target   string        `json:"target,omitempty"`
	Status   PostureStatus `json:"status"`
	Title    string        `json:"title"`
	Evidence string        `json:"evidence"`
	Fix      string        `json:"fix,omitempty"`
}

// PostureReport is every check, in a fixed order.
type PostureReport struct {
	Tenant  string         `json:"tenant"`
	Checks  []PostureCheck `json:"checks"`
	Summary map[string]int `json:"summary"` // pass, warn, fail counts
}

// Failed reports whether any check failed.
func (r PostureReport) Failed() bool { return r.Summary[string(PostureFail)] > 0 }

// Findings are the checks that did not pass.
func (r PostureReport) Findings() []PostureCheck {
	var out []PostureCheck
	for _, c := range r.Checks {
		if c.Status != PosturePass {
			out = append(out, c)
		}
	}
	return out
}

// Posture runs every check against the tenant. A check whose data cannot
// be read for lack of a scope or a plan feature is a warning naming the
// reason; any other error ends the run.
func Posture(ctx context.Context, c *auth0client.Client) (PostureReport, error) {
	rep := PostureReport{Tenant: c.Tenant(), Summary: map[string]int{}}
	add := func(ch PostureCheck) {
		ch.Evidence = auth0client.Clean(ch.Evidence)
		ch.Target = auth0client.Clean(ch.Target)
		rep.Checks = append(rep.Checks, ch)
	}
	// unreadable turns a scope or plan error into a warning; other errors
	// are returned.
	unreadable := func(id, title, scope string, err error) (bool, error) {
		switch {
		case err == nil:
			return false, nil
		case errors.Is(err, auth0client.ErrInsufficientScope):
			add(PostureCheck{ID: id, Title: title, Status: PostureWarn, Evidence: "not readable: the token lacks " + scope, Fix: "grant " + scope + " to atoctl's application"})
			return true, nil
		case errors.Is(err, auth0client.ErrPlanLacksFeature):
			add(PostureCheck{ID: id, Title: title, Status: PostureWarn, Evidence: "the tenant's plan does not offer it", Fix: "the Attack Protection add-on (or Enterprise plan) offers it"})
			return true, nil
		}
		return true, err
	}

	// The unblock Action.
	actions, err := c.TriggerActions(ctx, PostChangePasswordTrigger)
	if skip, err := unreadable(CheckUnblockAction, "post-change-password Action unblocks", "read:actions", err); err != nil {
		return rep, err
	} else if !skip {
		v := unblockVerdict(actions)
		ch := PostureCheck{ID: CheckUnblockAction, Title: "post-change-password Action unblocks", Status: PosturePass, Evidence: v.Reason}
		if !v.Confirmed {
			ch.Status, ch.Fix = PostureFail, "deploy a post-change-password Action that unblocks the user (Management API PATCH blocked:false), or every contained owner stays blocked after the reset"
		}
		add(ch)
	}

	// Attack Protection.
	titles := map[string]string{
		auth0client.FeatureBruteForce:       "brute-force protection",
		auth0client.FeatureSuspiciousIP:     "suspicious IP throttling",
		auth0client.FeatureBreachedPassword: "breached-password detection",
		auth0client.FeatureBotDetection:     "Bot Detection",
	}
	for _, f := range []string{auth0client.FeatureBruteForce, auth0client.FeatureSuspiciousIP, auth0client.FeatureBreachedPassword, auth0client.FeatureBotDetection} {
		doc, err := c.AttackProtection(ctx, f)
		if skip, err := unreadable(f, titles[f], "read:attack_protection", err); err != nil {
			return rep, err
		} else if skip {
			continue
		}
		ch := checkProtection(f, doc)
		ch.ID, ch.Title = f, titles[f]
		add(ch)
	}

	// Applications: refresh tokens, legacy grants, client authentication.
	apps, err := c.ApplicationDocuments(ctx)
	if skip, err := unreadable(CheckLegacyGrants, "applications", "read:clients", err); err != nil {
		return rep, err
	} else if !skip {
		for _, ch := range checkApplications(apps, c.ClientID()) {
			add(ch)
		}
	}

	// Sessions.
	settings, err := c.TenantSettings(ctx)
	if skip, err := unreadable(CheckSessionLifetime, "session lifetime", "read:tenant_settings", err); err != nil {
		return rep, err
	} else if !skip {
		add(checkSessions(settings))
	}

	// MFA.
	policies, err := c.MFAPolicies(ctx)
	if skip, err := unreadable(CheckMFAPolicy, "MFA policy", "read:mfa_policies", err); err != nil {
		return rep, err
	} else if !skip {
		add(checkMFAPolicy(policies))
	}
	factors, err := c.GuardianFactors(ctx)
	if skip, err := unreadable(CheckMFAFactors, "MFA factors", "read:guardian_factors", err); err != nil {
		return rep, err
	} else if !skip {
		add(checkFactors(factors))
	}

	// Database connections: password policy.
	conns, err := c.DatabaseConnectionDocuments(ctx)
	if skip, err := unreadable(CheckPasswordPolicy, "password policy", "read:connections", err); err != nil {
		return rep, err
	} else if !skip {
		for _, conn := range conns {
			add(checkPasswordPolicy(conn))
		}
	}

	// Log retention: how far back the tenant's logs reach.
	ch, err := checkRetention(ctx, c)
	if skip, err := unreadable(CheckLogRetention, "log retention", "read:logs", err); err != nil {
		return rep, err
	} else if !skip {
		add(ch)
	}

	for _, ch := range rep.Checks {
		rep.Summary[string(ch.Status)]++
	}
	for _, s := range []PostureStatus{PosturePass, PostureWarn, PostureFail} {
		rep.Summary[string(s)] += 0
	}
	return rep, nil
}

// docString and friends read a Document's values.
func docString(d map[string]any, path ...string) string {
	v, _ := lookup(d, path)
	s, _ := v.(string)
	return s
}

func docBool(d map[string]any, path ...string) (bool, bool) {
	v, ok := lookup(d, path)
	b, isBool := v.(bool)
	return b, ok && isBool
}

func docInt(d map[string]any, path ...string) (int, bool) {
	v, ok := lookup(d, path)
	if !ok {
		return 0, false
	}
	return jsonInt(v)
}

func docStrings(d map[string]any, path ...string) []string {
	v, _ := lookup(d, path)
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func docNumber(d map[string]any, path ...string) (float64, bool) {
	v, ok := lookup(d, path)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// checkProtection judges one Attack Protection feature's document.
func checkProtection(feature string, d auth0client.Document) PostureCheck {
	ch := PostureCheck{Status: PosturePass}
	var ev []string
	fail := func(fix string) { ch.Status, ch.Fix = PostureFail, fix }
	warn := func(fix string) {
		if ch.Status == PosturePass {
			ch.Status, ch.Fix = PostureWarn, fix
		}
	}
	shields := docStrings(d, "shields")
	if feature != auth0client.FeatureBotDetection {
		en, _ := docBool(d, "enabled")
		ev = append(ev, fmt.Sprintf("enabled %t, shields [%s]", en, strings.Join(shields, " ")))
		switch {
		case !en:
			fail("enable it (Security → Attack Protection), or run 'atoctl shield up' during an attack")
		case !slices.Contains(shields, "block"):
			fail("add the block shield: notifications alone stop nothing")
		}
	}
	switch feature {
	case auth0client.FeatureBruteForce:
		n, _ := docInt(d, "max_attempts")
		ev = append(ev, fmt.Sprintf("mode %s, max_attempts %d", docString(d, "mode"), n))
		if n > 10 {
			warn("lower max_attempts to 10 or fewer (Auth0's default is 10)")
		}
	case auth0client.FeatureSuspiciousIP:
		n, _ := docInt(d, "stage", "pre-login", "max_attempts")
		r, _ := docInt(d, "stage", "pre-login", "rate")
		ev = append(ev, fmt.Sprintf("pre-login max_attempts %d, rate %d ms", n, r))
		if n > 100 {
			warn("lower pre-login max_attempts to 100 or fewer (Auth0's default)")
		}
	case auth0client.FeatureBreachedPassword:
		ev = append(ev, "method "+docString(d, "method"))
		for _, st := range []string{"pre-user-registration", "pre-change-password"} {
			s := docStrings(d, "stage", st, "shields")
			ev = append(ev, fmt.Sprintf("%s [%s]", st, strings.Join(s, " ")))
			if !slices.Contains(s, "block") {
				warn("block breached passwords at " + st + " too, or an attacker's reset can set a leaked password")
			}
		}
	case auth0client.FeatureBotDetection:
		level := docString(d, "bot_detection_level")
		pol := docString(d, "challenge_password_policy")
		mon, _ := docBool(d, "monitoring_mode_enabled")
		ev = append(ev, fmt.Sprintf("level %s, password challenge %s, monitoring mode %t", level, pol, mon))
		switch {
		case pol == "never":
			fail("challenge password logins when risky at least (challenge_password_policy when_risky)")
		case mon:
			warn("turn monitoring mode off: it only logs bots")
		case level == "low":
			warn("raise the level to medium (Auth0's default) or high")
		}
	}
	ch.Evidence = strings.Join(ev, "; ")
	return ch
}

// Refresh-token lifetimes past these are warned about (seconds).
const (
	maxRefreshIdle     = 30 * 24 * 3600
	maxRefreshLifetime = 90 * 24 * 3600
)

// checkApplications judges each application's grants, refresh tokens and
// client authentication; self (atoctl's own application) is left to
// 'atoctl doctor'.
func checkApplications(apps []auth0client.Document, self string) []PostureCheck {
	var refresh, legacy, auth []PostureCheck
	for _, a := range apps {
		id := docString(a, "client_id")
		if id == self && self != "" {
			continue
		}
		name := docString(a, "name")
		target := name + " (" + id + ")"
		typ := docString(a, "app_type")
		grants := docStrings(a, "grant_types")
		var bad []string
		for _, g := range grants {
			if g == "password" || g == "http://auth0.com/oauth/grant-type/password-realm" || g == "implicit" {
				bad = append(bad, g)
			}
		}
		if len(bad) > 0 {
			legacy = append(legacy, PostureCheck{ID: CheckLegacyGrants, Target: target, Status: PostureFail, Title: "no Resource Owner Password or implicit grant",
				Evidence: "grant_types include " + strings.Join(bad, ", ") + ": passwords can be tried against the token endpoint outside the login page (ROPG), or tokens ride in URLs (implicit)",
				Fix:      "remove these grant types (Applications → Advanced → Grant Types); use authorization code with PKCE"})
		}
		if slices.Contains(grants, "refresh_token") {
			refresh = append(refresh, checkRefreshToken(a, target, typ))
		}
		if typ == "regular_web" || typ == "non_interactive" {
			auth = append(auth, checkClientAuth(a, target))
		}
	}
	if len(legacy) == 0 {
		legacy = []PostureCheck{{ID: CheckLegacyGrants, Status: PosturePass, Title: "no Resource Owner Password or implicit grant",
			Evidence: fmt.Sprintf("no application of %d has the password, password-realm or implicit grant", len(apps))}}
	}
	return append(append(refresh, legacy...), auth...)
}

func checkRefreshToken(a auth0client.Document, target, typ string) PostureCheck {
	ch := PostureCheck{ID: CheckRefreshTokens, Target: target, Status: PosturePass, Title: "refresh-token rotation and lifetimes"}
	rot := docString(a, "refresh_token", "rotation_type")
	exp := docString(a, "refresh_token", "expiration_type")
	life, _ := docInt(a, "refresh_token", "token_lifetime")
	idle, _ := docInt(a, "refresh_token", "idle_token_lifetime")
	infLife, _ := docBool(a, "refresh_token", "infinite_token_lifetime")
	infIdle, _ := docBool(a, "refresh_token", "infinite_idle_token_lifetime")
	ch.Evidence = fmt.Sprintf("%s: rotation %s, expiration %s, lifetime %s, idle %s", typ, orDash(rot), orDash(exp), lifetime(life, infLife), lifetime(idle, infIdle))
	public := typ == "spa" || typ == "native"
	switch {
	case rot != "rotating" && public:
		ch.Status, ch.Fix = PostureFail, "turn on refresh-token rotation: a token stolen from a device is otherwise usable until it expires, and reuse is never detected"
	case rot != "rotating":
		ch.Status, ch.Fix = PostureWarn, "turn on refresh-token rotation (reuse detection revokes a stolen token family)"
	case exp != "expiring" || infLife || infIdle || life > maxRefreshLifetime || idle > maxRefreshIdle:
		ch.Status, ch.Fix = PostureWarn, "make refresh tokens expire: absolute lifetime 90 days or less, idle 30 days or less"
	}
	return ch
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func lifetime(sec int, infinite bool) string {
	if infinite {
		return "infinite"
	}
	return (time.Duration(sec) * time.Second).String()
}

func checkClientAuth(a auth0client.Document, target string) PostureCheck {
	ch := PostureCheck{ID: CheckClientAuth, Target: target, Status: PosturePass, Title: "client authentication"}
	method := docString(a, "token_endpoint_auth_method")
	var strong []string
	for _, m := range []string{"private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"} {
		if v, ok := lookup(a, []string{"client_authentication_methods", m}); ok && v != nil {
			strong = append(strong, m)
		}
	}
	switch {
	case len(strong) > 0:
		ch.Evidence = "authenticates with " + strings.Join(strong, ", ")
	case method == "client_secret_post" || method == "client_secret_basic":
		ch.Status = PostureWarn
		ch.Evidence = "authenticates with a shared client secret (" + method + ")"
		ch.Fix = "use private key JWT or mTLS (Applications → Credentials): a leaked secret mints tokens"
	default:
		ch.Evidence = "token endpoint authentication " + orDash(method)
	}
	return ch
}

// Session lifetimes past these are warned about (hours).
const (
	maxSessionHours = 7 * 24
	maxIdleHours    = 3 * 24
)

func checkSessions(d auth0client.Document) PostureCheck {
	ch := PostureCheck{ID: CheckSessionLifetime, Title: "session lifetime and idle timeout", Status: PosturePass}
	life, okL := docNumber(d, "session_lifetime")
	idle, okI := docNumber(d, "idle_session_lifetime")
	ch.Evidence = fmt.Sprintf("session lifetime %s h, idle timeout %s h", num(life, okL), num(idle, okI))
	if life > maxSessionHours || idle > maxIdleHours {
		ch.Status = PostureWarn
		ch.Fix = fmt.Sprintf("shorten them (Settings → Advanced → Login Session Management): at most %d h and %d h idle, so a hijacked session dies sooner", maxSessionHours, maxIdleHours)
	}
	return ch
}

func num(f float64, ok bool) string {
	if !ok {
		return "(default)"
	}
	return fmt.Sprintf("%g", f)
}

func checkMFAPolicy(policies []string) PostureCheck {
	ch := PostureCheck{ID: CheckMFAPolicy, Title: "MFA policy", Status: PosturePass, Evidence: "policy [" + strings.Join(policies, " ") + "]"}
	if len(policies) == 0 {
		ch.Status = PostureWarn
		ch.Evidence = "no MFA policy: MFA only where an Action asks for it"
		ch.Fix = "require MFA for all applications, or adaptive MFA (Security → Multi-factor Auth → Require Multi-factor Auth)"
	}
	return ch
}

func checkFactors(factors []auth0client.GuardianFactor) PostureCheck {
	ch := PostureCheck{ID: CheckMFAFactors, Title: "MFA factors", Status: PosturePass}
	var on []string
	for _, f := range factors {
		if f.Enabled && f.Name != "recovery-code" {
			on = append(on, f.Name)
		}
	}
	ch.Evidence = "enabled: " + orDash(strings.Join(on, ", "))
	switch {
	case len(on) == 0:
		ch.Status, ch.Fix = PostureFail, "enable a factor (Security → Multi-factor Auth): WebAuthn or OTP"
	case len(on) == 1 && on[0] == "sms":
		ch.Status, ch.Fix = PostureWarn, "SMS is the only factor: SIM swaps and phishing beat it; enable WebAuthn, OTP or push"
	}
	return ch
}

func checkPasswordPolicy(conn auth0client.Document) PostureCheck {
	name := docString(conn, "name")
	ch := PostureCheck{ID: CheckPasswordPolicy, Target: name, Title: "password policy", Status: PosturePass}
	pol := docString(conn, "options", "passwordPolicy")
	dict, _ := docBool(conn, "options", "password_dictionary", "enable")
	bfp, bfpSet := docBool(conn, "options", "brute_force_protection")
	ch.Evidence = fmt.Sprintf("policy %s, dictionary %t, brute-force protection %s", orDash(pol), dict, map[bool]string{true: fmt.Sprint(bfp), false: "(default)"}[bfpSet])
	switch {
	case bfpSet && !bfp:
		ch.Status, ch.Fix = PostureFail, "turn brute_force_protection back on for this connection"
	case pol == "" || pol == "none" || pol == "low":
		ch.Status, ch.Fix = PostureFail, "raise the password policy to good or excellent (Authentication → Database → Password Policy)"
	case pol == "fair":
		ch.Status, ch.Fix = PostureWarn, "raise the password policy to good or excellent"
	}
	return ch
}

// minRetentionDays: logs reaching back less than this look like the Free
// plan's one day (Auth0 keeps 1 day on Free, 5 on Essentials, 10 on
// Professional, 30 on Enterprise): an attack that began yesterday morning
// is already out of sight.
const minRetentionDays = 1.5

func checkRetention(ctx context.Context, c *auth0client.Client) (PostureCheck, error) {
	ch := PostureCheck{ID: CheckLogRetention, Title: "log retention", Status: PosturePass}
	oldest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1, Ascending: true})
	if err != nil {
		return ch, err
	}
	newest, err := c.SearchLogs(ctx, auth0client.LogQuery{PerPage: 1})
	if err != nil {
		return ch, err
	}
	if len(oldest) == 0 || len(newest) == 0 {
		ch.Status, ch.Evidence = PostureWarn, "the tenant serves no log events"
		ch.Fix = "stream logs to a SIEM (Monitoring → Streams): Auth0 keeps them 1 to 30 days by plan"
		return ch, nil
	}
	days := newest[0].Date.Sub(oldest[0].Date).Hours() / 24
	ch.Evidence = fmt.Sprintf("logs reach back %.1f days (oldest %s): the plan keeps at least that (Free 1 day, Essentials 5, Professional 10, Enterprise 30)", days, oldest[0].Date.UTC().Format("2006-01-02 15:04Z"))
	if days < minRetentionDays {
		ch.Status = PostureWarn
		ch.Fix = "stream logs to a SIEM (Monitoring → Streams) to investigate further back than the plan keeps"
	}
	return ch, nil
}
