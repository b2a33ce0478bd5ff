package responders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/atoctl/atoctl/auth0client"
)

// Shields up: tighten the tenant's Attack Protection while an attack is on
// (Bot Detection, suspicious IP throttling, breached-password detection,
// brute-force protection), journal the values it replaced, and put exactly
// those values back afterwards (shield down, incident rollback), refusing
// when someone changed a field since.

// StepShield and StepShieldDown are the journal's names for the shield.
const (
	StepShield     = "shield"
	StepShieldDown = "shield-down"
)

// Shield levels.
const (
	ShieldElevated = "elevated"
	ShieldMax      = "max"
)

// ValidShieldLevel checks a --level value.
func ValidShieldLevel(level string) error {
	if level == ShieldElevated || level == ShieldMax {
		return nil
	}
	return fmt.Errorf("unknown shield level %q: use %s or %s", auth0client.Clean(level), ShieldElevated, ShieldMax)
}

// FieldChange is one setting of one feature: its value before the shield,
// the shield's value, and (when checked) the tenant's value now. Values are
// JSON exactly as Auth0 sent them.
type FieldChange struct {
	Feature string          `json:"feature"`
	Field   string          `json:"field"` // dotted path: stage.pre-login.max_attempts
	Before  json.RawMessage `json:"before"`
	After   json.RawMessage `json:"after"`
	Now     json.RawMessage `json:"now,omitempty"`
}

// String is the change on one line, cleaned: feature.field: before → after.
func (f FieldChange) String() string {
	s := fmt.Sprintf("%s %s: %s → %s", f.Feature, f.Field, compactJSON(f.Before), compactJSON(f.After))
	if f.Now != nil {
		s += " (now " + compactJSON(f.Now) + ")"
	}
	return auth0client.Clean(s)
}

func compactJSON(raw json.RawMessage) string {
	if raw == nil {
		return "(absent)"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Unavailable is a feature the shield could not read, and why (the plan
// lacks it, a scope is missing): reported, not failed.
type Unavailable struct {
	Feature string `json:"feature"`
	Reason  string `json:"reason"`
}

// ShieldPlan is what shield up or down would change.
type ShieldPlan struct {
	// Direction is "up" or "down"; Level the shield level (up).
	Direction string `json:"direction"`
	Level     string `json:"level,omitempty"`
	// Changes are the fields the PATCHes change, before → after.
	Changes []FieldChange `json:"changes"`
	// Kept are fields the shield manages that are already at least as
	// tight as the level asks (up), or already back (down): not sent.
	Kept []FieldChange `json:"kept,omitempty"`
	// Conflicts (down) are fields changed by someone else since the shield
	// went up: before, ours and now. Any conflict refuses the whole down.
	Conflicts []FieldChange `json:"conflicts,omitempty"`
	// Unavailable features are reported, not failed.
	Unavailable []Unavailable `json:"unavailable,omitempty"`
	// Calls are the PATCHes, one per feature, in order.
	Calls []auth0client.Call `json:"calls"`
}

// Refused is the conflicts as an error naming each field, or nil.
func (p ShieldPlan) Refused() error {
	if len(p.Conflicts) == 0 {
		return nil
	}
	var lines []string
	for _, c := range p.Conflicts {
		lines = append(lines, fmt.Sprintf("%s %s: before %s, ours %s, now %s", c.Feature, c.Field, compactJSON(c.Before), compactJSON(c.After), compactJSON(c.Now)))
	}
	return fmt.Errorf("%w: %s", ErrShieldConflict, auth0client.Clean(strings.Join(lines, "; ")))
}

// ErrShieldConflict: a field the shield set was changed since by someone
// else; shield down refuses rather than overwrite their value.
var ErrShieldConflict = errors.New("changed since the shield went up, not restoring (set it by hand, or run shield down again after putting our value back)")

// shieldRule is one field the shield tightens: target returns the value for
// the level and whether it is tighter than cur.
type shieldRule struct {
	feature string
	path    []string
	target  func(cur any, level string) (any, bool)
}

var challengeOrder = []string{"never", "when_risky", "always"}

func shieldRules(allow []string) []shieldRule {
	byLevel := func(elevated, max any) func(string) any {
		return func(l string) any {
			if l == ShieldMax {
				return max
			}
			return elevated
		}
	}
	ordered := func(order []string, want func(string) any) func(any, string) (any, bool) {
		return func(cur any, l string) (any, bool) {
			w := want(l).(string)
			s, _ := cur.(string)
			return w, slices.Index(order, s) < slices.Index(order, w)
		}
	}
	is := func(v any) func(any, string) (any, bool) {
		return func(cur any, _ string) (any, bool) { return v, cur != v }
	}
	// atMost lowers a number (attempts); atLeast raises one (the refill
	// interval in ms: higher regains attempts more slowly).
	atMost := func(want func(string) any) func(any, string) (any, bool) {
		return func(cur any, l string) (any, bool) {
			w := want(l).(int)
			n, ok := jsonInt(cur)
			return json.Number(strconv.Itoa(w)), !ok || n > w
		}
	}
	atLeast := func(want func(string) any) func(any, string) (any, bool) {
		return func(cur any, l string) (any, bool) {
			w := want(l).(int)
			n, ok := jsonInt(cur)
			return json.Number(strconv.Itoa(w)), !ok || n < w
		}
	}
	contains := func(entries ...string) func(any, string) (any, bool) {
		return func(cur any, _ string) (any, bool) {
			list, _ := cur.([]any)
			out := slices.Clone(list)
			for _, e := range entries {
				if !slices.Contains(out, any(e)) {
					out = append(out, e)
				}
			}
			return out, len(out) != len(list)
		}
	}
	const bot, sip, bpd, bfp = auth0client.FeatureBotDetection, auth0client.FeatureSuspiciousIP, auth0client.FeatureBreachedPassword, auth0client.FeatureBruteForce
	rules := []shieldRule{
		{bot, []string{"bot_detection_level"}, ordered([]string{"low", "medium", "high"}, byLevel("medium", "high"))},
		{bot, []string{"challenge_password_policy"}, ordered(challengeOrder, byLevel("when_risky", "always"))},
		{bot, []string{"challenge_passwordless_policy"}, ordered(challengeOrder, byLevel("when_risky", "always"))},
		{bot, []string{"challenge_password_reset_policy"}, ordered(challengeOrder, byLevel("when_risky", "always"))},
		{bot, []string{"monitoring_mode_enabled"}, is(false)},
		{sip, []string{"enabled"}, is(true)},
		{sip, []string{"shields"}, contains("block")},
		{sip, []string{"stage", "pre-login", "max_attempts"}, atMost(byLevel(50, 10))},
		{sip, []string{"stage", "pre-login", "rate"}, atLeast(byLevel(1728000, 8640000))},
		{sip, []string{"stage", "pre-user-registration", "max_attempts"}, atMost(byLevel(25, 10))},
		{bpd, []string{"enabled"}, is(true)},
		{bpd, []string{"shields"}, contains("block")},
		{bpd, []string{"stage", "pre-user-registration", "shields"}, contains("block")},
		{bpd, []string{"stage", "pre-change-password", "shields"}, contains("block")},
		{bfp, []string{"enabled"}, is(true)},
		{bfp, []string{"shields"}, contains("block")},
		{bfp, []string{"max_attempts"}, atMost(byLevel(5, 3))},
	}
	if len(allow) > 0 {
		// Lower thresholds throttle busy good addresses sooner (the
		// operator's office, an app backend): the analyst allowlists them.
		rules = append(rules, shieldRule{sip, []string{"allowlist"}, contains(allow...)})
	}
	return rules
}

// jsonInt reads an integer from a decoded JSON value.
func jsonInt(v any) (int, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.Atoi(n.String())
		return i, err == nil
	case float64:
		return int(n), n == float64(int(n))
	}
	return 0, false
}

// lookup reads the value at path in doc.
func lookup(doc map[string]any, path []string) (any, bool) {
	var cur any = doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// setPath sets path in doc, creating objects on the way.
func setPath(doc map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := doc[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			doc[p] = next
		}
		doc = next
	}
	doc[path[len(path)-1]] = v
}

func mustRaw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

func decodeRaw(raw json.RawMessage) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

func sameJSON(a, b json.RawMessage) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return bytes.Equal(mustRaw(decodeRaw(a)), mustRaw(decodeRaw(b)))
}

// readProtection reads every Attack Protection feature; a feature the plan
// lacks or the token may not read is reported in unavailable.
func readProtection(ctx context.Context, c *auth0client.Client) (map[string]auth0client.Document, []Unavailable, error) {
	docs := map[string]auth0client.Document{}
	var un []Unavailable
	for _, f := range auth0client.AttackProtectionFeatures() {
		d, err := c.AttackProtection(ctx, f)
		switch {
		case errors.Is(err, auth0client.ErrPlanLacksFeature):
			un = append(un, Unavailable{Feature: f, Reason: "the tenant's plan does not offer it"})
		case errors.Is(err, auth0client.ErrInsufficientScope):
			un = append(un, Unavailable{Feature: f, Reason: "the token lacks read:attack_protection"})
		case err != nil:
			return nil, nil, err
		default:
			docs[f] = d
		}
	}
	return docs, un, nil
}

// PlanShieldUp reads the tenant's Attack Protection and plans the PATCHes
// that bring every field to the level (never loosening one already
// tighter). allow are addresses to add to the suspicious IP throttling
// allowlist while the thresholds are low.
func PlanShieldUp(ctx context.Context, c *auth0client.Client, level string, allow []netip.Prefix) (ShieldPlan, error) {
	if err := ValidShieldLevel(level); err != nil {
		return ShieldPlan{}, err
	}
	p := ShieldPlan{Direction: "up", Level: level}
	docs, un, err := readProtection(ctx, c)
	if err != nil {
		return p, err
	}
	p.Unavailable = un
	var allowS []string
	for _, a := range allow {
		if a.IsSingleIP() {
			allowS = append(allowS, a.Addr().String())
		} else {
			allowS = append(allowS, a.String())
		}
	}
	bodies := map[string]auth0client.Document{}
	for _, r := range shieldRules(allowS) {
		doc, ok := docs[r.feature]
		if !ok {
			continue
		}
		cur, present := lookup(doc, r.path)
		if !present {
			// A field the tenant does not send is not the shield's to add:
			// it could not be put back as it was.
			continue
		}
		want, tighter := r.target(cur, level)
		fc := FieldChange{Feature: r.feature, Field: strings.Join(r.path, "."), Before: mustRaw(cur), After: mustRaw(want)}
		if !tighter {
			fc.After = fc.Before
			p.Kept = append(p.Kept, fc)
			continue
		}
		p.Changes = append(p.Changes, fc)
		if bodies[r.feature] == nil {
			bodies[r.feature] = auth0client.Document{}
		}
		setPath(bodies[r.feature], r.path, want)
	}
	p.Calls = shieldCalls(bodies)
	return p, nil
}

func shieldCalls(bodies map[string]auth0client.Document) []auth0client.Call {
	var calls []auth0client.Call
	for _, f := range auth0client.AttackProtectionFeatures() {
		if b, ok := bodies[f]; ok {
			calls = append(calls, auth0client.CallUpdateAttackProtection(f, b))
		}
	}
	return calls
}

// ShieldEvidence is what a shield record carries: the level and every
// field changed, with the value it replaced.
type ShieldEvidence struct {
	Level   string        `json:"level,omitempty"`
	Changes []FieldChange `json:"changes"`
}

// ActiveShield reads an incident's journal: the fields its shields changed
// and no shield down restored since, each with the value it had before the
// first shield (Before) and the one the last shield set (After).
func ActiveShield(recs []Record) []FieldChange {
	var order []string
	active := map[string]FieldChange{}
	for _, r := range recs {
		if r.Kind != KindOutcome || r.Mode == ModeDryRun || r.Outcome != Done || (r.Step != StepShield && r.Step != StepShieldDown) {
			continue
		}
		var ev ShieldEvidence
		if json.Unmarshal(r.Evidence, &ev) != nil {
			continue
		}
		for _, c := range ev.Changes {
			key := c.Feature + " " + c.Field
			if r.Step == StepShieldDown {
				delete(active, key)
				continue
			}
			if prev, ok := active[key]; ok {
				c.Before = prev.Before // the first shield's before is the tenant's own value
			} else {
				order = append(order, key)
			}
			active[key] = c
		}
	}
	var out []FieldChange
	for _, k := range order {
		if c, ok := active[k]; ok {
			out = append(out, c)
		}
	}
	return out
}

// PlanShieldDown plans putting back the values the incident's shields
// replaced (recs: its journal). A field someone changed since is a
// conflict (see Refused); a field already back is kept.
func PlanShieldDown(ctx context.Context, c *auth0client.Client, recs []Record) (ShieldPlan, error) {
	p := ShieldPlan{Direction: "down"}
	active := ActiveShield(recs)
	if len(active) == 0 {
		return p, nil
	}
	docs, un, err := readProtection(ctx, c)
	if err != nil {
		return p, err
	}
	p.Unavailable = un
	bodies := map[string]auth0client.Document{}
	for _, fc := range active {
		doc, ok := docs[fc.Feature]
		if !ok {
			continue
		}
		path := strings.Split(fc.Field, ".")
		cur, present := lookup(doc, path)
		if present {
			fc.Now = mustRaw(cur)
		}
		switch {
		case present && sameJSON(fc.Now, fc.Before):
			p.Kept = append(p.Kept, fc)
		case !present || !sameJSON(fc.Now, fc.After):
			p.Conflicts = append(p.Conflicts, fc)
		default:
			// Restoring: the change runs ours → before.
			p.Changes = append(p.Changes, FieldChange{Feature: fc.Feature, Field: fc.Field, Before: fc.After, After: fc.Before})
			if bodies[fc.Feature] == nil {
				bodies[fc.Feature] = auth0client.Document{}
			}
			setPath(bodies[fc.Feature], path, decodeRaw(fc.Before))
		}
	}
	p.Calls = shieldCalls(bodies)
	return p, nil
}

// ShieldResult is how applying a shield plan went.
type ShieldResult struct {
	Outcome Outcome            `json:"outcome"`
	Reason  string             `json:"reason,omitempty"`
	Error   string             `json:"error,omitempty"`
	Calls   []auth0client.Call `json:"calls,omitempty"`
}

// ApplyShield sends the plan's PATCHes through the Writer, journaled (the
// intent with the values being replaced before the first PATCH, the
// outcome after), then reads the settings back. A down plan with conflicts
// is refused and sends nothing.
func ApplyShield(ctx context.Context, c *auth0client.Client, w auth0client.Writer, j JournalWriter, p ShieldPlan) (ShieldResult, error) {
	res := ShieldResult{Calls: p.Calls}
	if j == nil {
		return res, ErrNoJournal
	}
	step := StepShield
	if p.Direction == "down" {
		step = StepShieldDown
	}
	if err := p.Refused(); err != nil {
		res.Outcome, res.Error = Failed, err.Error()
		return res, err
	}
	var lines []string
	for _, ch := range p.Changes {
		lines = append(lines, ch.String())
	}
	res.Reason = strings.Join(lines, "; ")
	if len(p.Calls) == 0 {
		res.Outcome = AlreadyDone
		res.Reason = "every field the shield manages is already where it should be"
		return res, nil
	}
	ev, err := json.Marshal(ShieldEvidence{Level: p.Level, Changes: p.Changes})
	if err != nil {
		return res, err
	}
	journal := func(kind RecordKind, o Outcome, e error) error {
		return appendStepRecord(j, Record{Kind: kind, Step: step, Calls: journalCalls(p.Calls), Reason: res.Reason, Evidence: ev}, o, e)
	}
	send := func() error {
		for _, call := range p.Calls {
			feature := strings.TrimPrefix(call.Path, "/api/v2/attack-protection/")
			if err := w.UpdateAttackProtection(ctx, feature, auth0client.Document(call.Body)); err != nil {
				return err
			}
		}
		return nil
	}
	if w.DryRun() {
		err := send()
		res.Outcome = Planned
		return res, errors.Join(err, journal(KindOutcome, Planned, err))
	}
	if err := journal(KindIntent, "", nil); err != nil {
		return res, err // not journaled, not sent
	}
	if err := send(); err != nil {
		// Some PATCHes may have landed: the outcome is failed, and the
		// intent holds the values to put back by hand.
		res.Outcome, res.Error = Failed, auth0client.Clean(err.Error())
		return res, errors.Join(err, journal(KindOutcome, Failed, err))
	}
	// Read back: every field holds the value sent.
	docs, _, err := readProtection(ctx, c)
	if err == nil {
		for _, ch := range p.Changes {
			got, _ := lookup(docs[ch.Feature], strings.Split(ch.Field, "."))
			if !sameJSON(mustRaw(got), ch.After) {
				err = fmt.Errorf("sent, but %s %s reads back %s", ch.Feature, ch.Field, compactJSON(mustRaw(got)))
				break
			}
		}
	}
	if err != nil {
		res.Outcome, res.Error = Failed, auth0client.Clean(err.Error())
		return res, errors.Join(err, journal(KindOutcome, Failed, err))
	}
	res.Outcome = Done
	return res, journal(KindOutcome, Done, nil)
}

// ShieldStatus is the tenant's Attack Protection as the shield sees it:
// every managed field now, and what an incident's shields changed.
type ShieldStatus struct {
	Fields      []FieldChange `json:"fields"` // Before unset; Now = the tenant's value
	Active      []FieldChange `json:"active,omitempty"`
	Unavailable []Unavailable `json:"unavailable,omitempty"`
}

// ReadShieldStatus reads the managed fields and the incident's active shield.
func ReadShieldStatus(ctx context.Context, c *auth0client.Client, recs []Record) (ShieldStatus, error) {
	docs, un, err := readProtection(ctx, c)
	if err != nil {
		return ShieldStatus{}, err
	}
	st := ShieldStatus{Unavailable: un, Active: ActiveShield(recs)}
	seen := map[string]bool{}
	for _, r := range shieldRules([]string{"-"}) {
		doc, ok := docs[r.feature]
		if !ok {
			continue
		}
		key := r.feature + " " + strings.Join(r.path, ".")
		if seen[key] {
			continue
		}
		seen[key] = true
		if v, ok := lookup(doc, r.path); ok {
			st.Fields = append(st.Fields, FieldChange{Feature: r.feature, Field: strings.Join(r.path, "."), Now: mustRaw(v)})
		}
	}
	return st, nil
}
