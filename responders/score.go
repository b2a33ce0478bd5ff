package responders

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// AnswerKey is the truth about a training scenario that scoring compares a
// response with. cmd converts the fixtures' key into it, so responders does
// not depend on the scenarios.
type AnswerKey struct {
	Scenario     string
	Compromised  []string
	StoppedByMFA []string
	Targeted     []string
	Innocent     []string
	// AttackerIPs and AttackerCIDRs are the networks to block; SharedIPs
	// must never be blocked.
	AttackerIPs   []string
	AttackerCIDRs []string
	SharedIPs     []string
	// EmailChanged maps a user id to the address the attacker set: a reset
	// email there goes to the attacker.
	EmailChanged map[string]string
	// AttackerFactors maps a user id to the MFA factors the attacker enrolled.
	AttackerFactors map[string][]string
	// Evidence maps a user id or a network to the log events that show its
	// verdict.
	Evidence map[string][]KeyEvent
}

// KeyEvent is a log event named by an answer key.
type KeyEvent struct {
	LogID  string    `json:"log_id"`
	Date   time.Time `json:"date"`
	Type   string    `json:"type"`
	IP     string    `json:"ip"`
	UserID string    `json:"user_id,omitempty"`
}

// Exercise is what a trainee left behind: the tenant's end state next to its
// start, and the journal of the training incident.
type Exercise struct {
	// Started is when the exercise began (the training state's epoch).
	Started time.Time
	// Users holds every user of the tenant, by id.
	Users map[string]UserEnd
	// Networks holds every attacker and shared network of the key, by the
	// key's spelling (an address or a CIDR).
	Networks map[string]NetworkEnd
	// Records are the journal records of the training incident.
	Records []Record
	// Now is when the exercise is scored: the clock, or its end. Zero
	// leaves the elapsed time out.
	Now time.Time
	// Ended: the exercise is over ('training end', 'training score
	// --reveal'), so the scorecard may name every account and network.
	Ended bool
	// Takeovers are the attacker's successful logins on accounts of the
	// key after the start: the live attack taking an account over again.
	Takeovers []KeyEvent
}

// UserEnd is one user at the end of an exercise, with what they had at
// its start.
type UserEnd struct {
	Email string
	// Database is true when the user has a password to reset.
	Database                              bool
	Blocked                               bool
	Sessions, RefreshTokens               int
	SessionsAtStart, RefreshTokensAtStart int
	// ResetEmails and Tickets count the resets requested since the start.
	ResetEmails, Tickets int
	// Factors are the ids of the user's authentication methods now.
	Factors []string
	// PasswordChanged: the owner completed a reset (scp) since the start,
	// which lets a post-change-password Action unblock the account.
	PasswordChanged bool
}

// NetworkEnd is how much of the attack came from a network and how much of
// that is now blocked by a Network ACL.
type NetworkEnd struct {
	Events        int
	BlockedEvents int
	// Blocked: the address, or some address of the network seen in the
	// logs, is blocked.
	Blocked bool
	// LiveEvents are the attacker events from the network that reached
	// the tenant after the start; LateEvents those of them after
	// BlockGrace; LiveStopped the attempts a Network ACL stopped.
	LiveEvents, LateEvents, LiveStopped int
}

// Rubric weights, in points out of 100; categories with nothing to do in a
// scenario drop out and the others scale up to 100. Penalties are taken
// from the result.
const (
	WeightCompromised  = 50
	WeightNetworks     = 20
	WeightStoppedByMFA = 15
	WeightTime         = 15

	PenaltyTouched       = 5  // an innocent or merely targeted account blocked or logged out
	PenaltySharedIP      = 10 // shared infrastructure blocked
	PenaltyResetAttacker = 5  // a reset email sent to the address the attacker set
	PenaltyRetakeover    = 2  // an account taken over again after the start
	PenaltyRetakeoverMax = 16
	PenaltyLateEvents    = 1 // per LateEventsUnit attacker events after BlockGrace
	PenaltyLateMax       = 10
	LateEventsUnit       = 100

	// BlockGrace is how long after the start a responder may take to block
	// the attacker's networks before the events that still reach the tenant
	// count against the score.
	BlockGrace = 15 * time.Minute

	// networksFull is the share of the attack's traffic whose blocking earns
	// full marks: Auth0's 20 entries per ACL list cannot hold every stray proxy.
	networksFull = 0.95
	timeFull     = 30 * time.Minute
	timeZero     = 4 * time.Hour
)

// Rubric is the scoring rubric as the help and the README publish it.
const Rubric = `Scoring rubric (100 points; a category with nothing to do in a scenario drops out
and the others scale up):
  50  compromised accounts contained, shared equally between them; for each:
        blocked (x2), sessions revoked, refresh tokens revoked, password reset
        requested (a ticket, not an email, when the attacker changed the email),
        unblock path confirmed (unblock-check), attacker MFA factors removed
        (when the attacker enrolled one)
  20  attacker networks blocked in a Network ACL, by share of the attack's events;
        full marks from 95% (an ACL list holds 20 entries)
  15  accounts stopped by MFA: password reset requested
  15  time from the start to the last compromised account contained: full within
        30 min, nothing after 4 h or while any account is not contained
Penalties: -5 for each innocent or merely targeted account blocked or with sessions
or refresh tokens revoked; -10 for each shared address (carrier NAT, app backend)
blocked; -5 for each reset email sent to an address the attacker set; -2 for each
time the attacker took an account over again after the start (at most -16);
-1 per 100 attacker events that reached the tenant more than 15 min after the
start, from networks not yet blocked (at most -10).
During the exercise the score shows the categories, the counts and the time
elapsed, and names only the accounts and networks you acted on; 'training end'
(or 'training score --reveal') ends the exercise and shows everything.`

// Verdicts of a scorecard item.
const (
	ScoreRight  = "right"
	ScoreMissed = "missed"
	ScoreWrong  = "wrong"
)

// ScoreItem is one thing the trainee got right, missed or got wrong, with the
// log events that should have led there.
type ScoreItem struct {
	Verdict  string     `json:"verdict"`
	Category string     `json:"category"`
	Subject  string     `json:"subject"`
	What     string     `json:"what"`
	Points   float64    `json:"points"`
	Evidence []KeyEvent `json:"evidence,omitempty"`
}

// CategoryScore is one line of the rubric for this exercise.
type CategoryScore struct {
	Name    string  `json:"name"`
	Weight  float64 `json:"weight"`
	Earned  float64 `json:"earned"`
	Applies bool    `json:"applies"`
}

// CategoryCount counts a category's items by verdict: what was contained
// (right), missed, and wrongly touched.
type CategoryCount struct {
	Category string `json:"category"`
	Right    int    `json:"right"`
	Missed   int    `json:"missed"`
	Wrong    int    `json:"wrong"`
}

// Scorecard is the result of scoring an exercise.
type Scorecard struct {
	Scenario   string          `json:"scenario"`
	Percent    float64         `json:"percent"`
	Categories []CategoryScore `json:"categories"`
	Counts     []CategoryCount `json:"counts"`
	Penalty    float64         `json:"penalty"`
	Started    time.Time       `json:"started"`
	// Elapsed is the time from the start to the scoring (or the end).
	Elapsed string `json:"elapsed,omitempty"`
	// Revealed: the exercise is over and every item is shown. Otherwise
	// Hidden items, about accounts and networks the responder has not
	// acted on, are counted but not shown.
	Revealed bool `json:"revealed"`
	Hidden   int  `json:"hidden,omitempty"`
	// ContainedAt is when the last compromised account was contained,
	// absent while any is not.
	ContainedAt    *time.Time  `json:"contained_at,omitempty"`
	ContainedAfter string      `json:"contained_after,omitempty"`
	Items          []ScoreItem `json:"items"`
}

// Score compares an exercise with the answer key.
func Score(key AnswerKey, ex Exercise) Scorecard {
	sc := Scorecard{Scenario: key.Scenario, Started: ex.Started, Items: []ScoreItem{}, Revealed: ex.Ended}
	if !ex.Now.IsZero() {
		sc.Elapsed = ex.Now.Sub(ex.Started).Round(time.Second).String()
	}
	recs := slices.DeleteFunc(slices.Clone(ex.Records), func(r Record) bool {
		return r.Mode != ModeTraining || r.Time.Before(ex.Started)
	})
	add := func(f ScoreItem) { sc.Items = append(sc.Items, f) }

	// Compromised accounts, step by step.
	comp := CategoryScore{Name: "compromised accounts contained", Weight: WeightCompromised, Applies: len(key.Compromised) > 0}
	var containedAt time.Time
	allContained := comp.Applies
	for _, id := range key.Compromised {
		u := ex.Users[id]
		checks := containmentChecks(key, id, u, recs)
		total, got := 0.0, 0.0
		var missing, done []string
		for _, c := range checks {
			total += c.weight
			if c.ok {
				got += c.weight
				done = append(done, c.name)
			} else {
				missing = append(missing, c.name+" ("+c.why+")")
			}
		}
		share := WeightCompromised / float64(len(key.Compromised))
		pts := share * got / total
		comp.Earned += pts
		f := ScoreItem{Category: "compromised", Subject: id, Points: round(pts), Evidence: key.Evidence[id]}
		if len(missing) == 0 {
			f.Verdict, f.What = ScoreRight, "compromised account fully contained: "+strings.Join(done, ", ")
			if at, ok := containedTime(id, key, recs); ok && at.After(containedAt) {
				containedAt = at
			}
		} else {
			allContained = false
			f.Verdict, f.What = ScoreMissed, "compromised account not fully contained: missing "+strings.Join(missing, "; ")
		}
		add(f)
	}

	// Attacker networks, by share of the attack's events.
	nets := CategoryScore{Name: "attacker networks blocked", Weight: WeightNetworks}
	events, blocked := 0, 0
	for _, n := range slices.Concat(key.AttackerCIDRs, key.AttackerIPs) {
		ne := ex.Networks[n]
		events += ne.Events
		blocked += ne.BlockedEvents
		f := ScoreItem{Category: "network", Subject: n, Evidence: key.Evidence[n]}
		switch {
		case ne.Events == 0:
			continue
		case ne.BlockedEvents >= ne.Events:
			f.Verdict, f.What = ScoreRight, fmt.Sprintf("attacker network blocked (%d attack events)", ne.Events)
			if ne.LiveStopped > 0 {
				f.What += fmt.Sprintf("; %d attempts since stopped by the Network ACL", ne.LiveStopped)
			}
		case ne.BlockedEvents > 0:
			f.Verdict, f.What = ScoreMissed, fmt.Sprintf("attacker network partly blocked (%d of %d attack events)", ne.BlockedEvents, ne.Events)
		default:
			f.Verdict, f.What = ScoreMissed, fmt.Sprintf("attacker network not blocked (%d attack events)", ne.Events)
		}
		add(f)
	}
	if events > 0 {
		nets.Applies = true
		nets.Earned = WeightNetworks * math.Min(1, float64(blocked)/float64(events)/networksFull)
	}

	// Accounts stopped by MFA: their password is known.
	mfa := CategoryScore{Name: "accounts stopped by MFA reset", Weight: WeightStoppedByMFA, Applies: len(key.StoppedByMFA) > 0}
	for _, id := range key.StoppedByMFA {
		u := ex.Users[id]
		f := ScoreItem{Category: "stopped-by-mfa", Subject: id, Evidence: key.Evidence[id]}
		switch {
		case !u.Database:
			pts := WeightStoppedByMFA / float64(len(key.StoppedByMFA))
			mfa.Earned += pts
			f.Verdict, f.What, f.Points = ScoreRight, "stopped by MFA; no password to reset (no database identity)", round(pts)
		case u.ResetEmails+u.Tickets > 0:
			pts := WeightStoppedByMFA / float64(len(key.StoppedByMFA))
			mfa.Earned += pts
			f.Verdict, f.What, f.Points = ScoreRight, "stopped by MFA with the right password: reset requested", round(pts)
		default:
			f.Verdict, f.What = ScoreMissed, "stopped by MFA with the right password: the attacker knows it, and no reset was requested"
		}
		add(f)
	}

	// Time to containment.
	tm := CategoryScore{Name: "time to containment", Weight: WeightTime, Applies: comp.Applies}
	if allContained && !containedAt.IsZero() {
		after := containedAt.Sub(ex.Started)
		sc.ContainedAt, sc.ContainedAfter = &containedAt, after.Round(time.Second).String()
		switch {
		case after <= timeFull:
			tm.Earned = WeightTime
		case after < timeZero:
			tm.Earned = WeightTime * float64(timeZero-after) / float64(timeZero-timeFull)
		}
		verdict := ScoreRight
		if after > timeFull {
			verdict = ScoreMissed
		}
		add(ScoreItem{Verdict: verdict, Category: "time", Subject: "containment", Points: round(tm.Earned),
			What: fmt.Sprintf("every compromised account contained %s after the start", sc.ContainedAfter)})
	} else if comp.Applies {
		add(ScoreItem{Verdict: ScoreMissed, Category: "time", Subject: "containment", What: "not every compromised account is contained yet"})
	}

	// What should have been left alone.
	attacked := map[string]string{}
	for _, id := range key.Compromised {
		attacked[id] = "compromised"
	}
	for _, id := range key.StoppedByMFA {
		attacked[id] = "stopped-by-mfa"
	}
	targeted := map[string]bool{}
	for _, id := range key.Targeted {
		targeted[id] = true
	}
	ids := make([]string, 0, len(ex.Users))
	for id := range ex.Users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u := ex.Users[id]
		if attacked[id] != "" {
			continue
		}
		var harm []string
		if u.Blocked {
			harm = append(harm, "blocked")
		}
		if u.SessionsAtStart > 0 && u.Sessions < u.SessionsAtStart {
			harm = append(harm, "sessions revoked")
		}
		if u.RefreshTokensAtStart > 0 && u.RefreshTokens < u.RefreshTokensAtStart {
			harm = append(harm, "refresh tokens revoked")
		}
		if len(harm) == 0 {
			continue
		}
		sc.Penalty += PenaltyTouched
		f := ScoreItem{Verdict: ScoreWrong, Subject: id, Points: -PenaltyTouched}
		if targeted[id] {
			f.Category = "targeted"
			f.What = "false positive: only targeted (failed attempts, the attacker never got in), yet " + strings.Join(harm, ", ")
			f.Evidence = key.Evidence[id]
		} else {
			f.Category = "innocent"
			f.What = "false positive: no event from an attacker address, yet " + strings.Join(harm, ", ")
		}
		add(f)
	}
	for _, ip := range key.SharedIPs {
		if ex.Networks[ip].Blocked {
			sc.Penalty += PenaltySharedIP
			add(ScoreItem{Verdict: ScoreWrong, Category: "shared", Subject: ip, Points: -PenaltySharedIP,
				What: "shared infrastructure blocked: many customers sign in from this address successfully"})
		}
	}
	for id, email := range key.EmailChanged {
		if u := ex.Users[id]; u.ResetEmails > 0 && strings.EqualFold(u.Email, email) {
			sc.Penalty += PenaltyResetAttacker
			add(ScoreItem{Verdict: ScoreWrong, Category: "compromised", Subject: id, Points: -PenaltyResetAttacker, Evidence: key.Evidence[id],
				What: "reset email sent to " + auth0client.Clean(email) + ", the address the attacker set"})
		}
	}

	sc.Penalty += livePenalties(key, ex, add)

	sc.Categories = []CategoryScore{comp, nets, mfa, tm}
	avail, earned := 0.0, 0.0
	for i, c := range sc.Categories {
		sc.Categories[i].Earned = round(c.Earned)
		if c.Applies {
			avail += c.Weight
			earned += c.Earned
		}
	}
	if avail > 0 {
		sc.Percent = round(math.Max(0, 100*earned/avail-sc.Penalty))
	}
	order := map[string]int{ScoreWrong: 0, ScoreMissed: 1, ScoreRight: 2}
	slices.SortStableFunc(sc.Items, func(a, b ScoreItem) int {
		return cmp.Or(cmp.Compare(order[a.Verdict], order[b.Verdict]), cmp.Compare(a.Category, b.Category), cmp.Compare(a.Subject, b.Subject))
	})
	sc.Counts = countItems(sc.Items)
	if !sc.Revealed {
		sc.hide(Touched(ex.Records, ex.Started))
	}
	return sc
}

// livePenalties scores what the live attack did after the start: accounts
// taken over again, and attacker events that reached the tenant after
// BlockGrace from networks not yet blocked.
func livePenalties(key AnswerKey, ex Exercise, add func(ScoreItem)) float64 {
	total := 0.0
	byUser := map[string][]KeyEvent{}
	for _, e := range ex.Takeovers {
		byUser[e.UserID] = append(byUser[e.UserID], e)
	}
	retake := 0.0
	for _, id := range slices.Sorted(maps.Keys(byUser)) {
		evs := byUser[id]
		pts := math.Min(PenaltyRetakeover*float64(len(evs)), PenaltyRetakeoverMax-retake)
		retake += pts
		add(ScoreItem{Verdict: ScoreWrong, Category: "retakeover", Subject: id, Points: -pts, Evidence: evs,
			What: fmt.Sprintf("taken over again after the start: %d new successful attacker logins, the first %s after the start (the account was not blocked and its password not changed)",
				len(evs), evs[0].Date.Sub(ex.Started).Round(time.Second))})
	}
	total += retake
	late := 0
	for _, n := range slices.Concat(key.AttackerCIDRs, key.AttackerIPs) {
		late += ex.Networks[n].LateEvents
	}
	if late > 0 {
		pts := math.Min(PenaltyLateEvents*math.Floor(float64(late)/LateEventsUnit), PenaltyLateMax)
		total += pts
		add(ScoreItem{Verdict: ScoreWrong, Category: "late-events", Subject: "attack traffic", Points: -pts,
			What: fmt.Sprintf("%d attacker events reached the tenant more than %s after the start, from networks not yet blocked in a Network ACL", late, BlockGrace)})
	}
	return total
}

func countItems(items []ScoreItem) []CategoryCount {
	var out []CategoryCount
	for _, it := range items {
		i := slices.IndexFunc(out, func(c CategoryCount) bool { return c.Category == it.Category })
		if i < 0 {
			out = append(out, CategoryCount{Category: it.Category})
			i = len(out) - 1
		}
		switch it.Verdict {
		case ScoreRight:
			out[i].Right++
		case ScoreMissed:
			out[i].Missed++
		case ScoreWrong:
			out[i].Wrong++
		}
	}
	slices.SortFunc(out, func(a, b CategoryCount) int { return cmp.Compare(a.Category, b.Category) })
	return out
}

// neutralSubjects name no account or network.
var neutralSubjects = map[string]bool{"containment": true, "attack traffic": true}

// hide keeps the items about what the responder acted on (and those that
// name nothing), without their evidence (attacker events name addresses),
// and counts the others.
func (sc *Scorecard) hide(touched map[string]bool) {
	kept := sc.Items[:0]
	for _, it := range sc.Items {
		if !neutralSubjects[it.Subject] && !touched[it.Subject] {
			sc.Hidden++
			continue
		}
		it.Evidence = nil
		kept = append(kept, it)
	}
	sc.Items = kept
}

// Touched is every account id and every address or network the training
// journal shows the responder acting on since start: the users of its
// records, and the addresses in its ACL calls and reasons. Dry runs act on
// nothing.
func Touched(recs []Record, start time.Time) map[string]bool {
	out := map[string]bool{}
	for _, r := range recs {
		if r.Mode != ModeTraining || r.Time.Before(start) {
			continue
		}
		if r.UserID != "" {
			out[r.UserID] = true
		}
		if r.Step != StepACL && r.Step != StepACLRelease {
			continue
		}
		text := r.Reason
		for _, c := range r.Calls {
			if b, err := json.Marshal(c.Body); err == nil {
				text += " " + string(b)
			}
		}
		for _, tok := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(" ,;\"()[]{}:", r) }) {
			out[tok] = true
		}
	}
	return out
}

func round(x float64) float64 { return math.Round(x*10) / 10 }

// check is one step of containing one account.
type check struct {
	name, why string
	weight    float64
	ok        bool
}

// containmentChecks reads one compromised account's end state and journal.
func containmentChecks(key AnswerKey, id string, u UserEnd, recs []Record) []check {
	journaled := func(step string) bool {
		for _, r := range recs {
			if r.UserID == id && r.Step == step && r.Kind == KindOutcome &&
				(r.Outcome == Done || r.Outcome == AlreadyDone || r.Outcome == AwaitingUnblock) {
				return true
			}
		}
		return false
	}
	// An account that had nothing to revoke still needs the revoke step
	// run: the responder cannot know that without looking.
	revoked := func(left, atStart int, what string) check {
		c := check{name: what + " revoked", weight: 1, ok: left == 0 && (atStart > 0 || journaled(StepRevoke))}
		if left > 0 {
			c.why = fmt.Sprintf("%d %s remain", left, what)
		} else {
			c.why = "the revoke step was not run"
		}
		return c
	}
	cs := []check{
		// Blocked now, or blocked by the trainee and then unblocked by the
		// Action when the owner completed the reset: the intended end.
		{name: "blocked", why: "the account is not blocked", weight: 2, ok: u.Blocked || (u.PasswordChanged && journaled(StepBlock))},
		revoked(u.Sessions, u.SessionsAtStart, "sessions"),
		revoked(u.RefreshTokens, u.RefreshTokensAtStart, "refresh tokens"),
	}
	if u.Database {
		c := check{name: "password reset", why: "no reset requested", weight: 1, ok: u.ResetEmails+u.Tickets > 0}
		if email, changed := key.EmailChanged[id]; changed && strings.EqualFold(u.Email, email) {
			c.ok = u.Tickets > 0
			c.why = "the attacker changed the email: restore it or deliver a ticket out of band"
		}
		cs = append(cs, c)
	}
	cs = append(cs, check{name: "unblock path confirmed", why: "no unblock-check in the journal", weight: 1, ok: journaled(StepUnblockCheck)})
	if factors := key.AttackerFactors[id]; len(factors) > 0 {
		left := 0
		for _, f := range factors {
			if slices.Contains(u.Factors, f) {
				left++
			}
		}
		cs = append(cs, check{name: "attacker MFA factor removed", why: fmt.Sprintf("%d attacker factors still enrolled (run the mfa step)", left), weight: 1, ok: left == 0})
	}
	return cs
}

// ContainedAt is when the training journal first left a compromised
// account fully contained: the first successful outcome of each of its
// containment steps, the latest of those (a later re-run changes nothing).
func ContainedAt(key AnswerKey, ex Exercise, id string) (time.Time, bool) {
	recs := slices.DeleteFunc(slices.Clone(ex.Records), func(r Record) bool {
		return r.Mode != ModeTraining || r.Time.Before(ex.Started)
	})
	return containedTime(id, key, recs)
}

// containedTime is when the journal shows the last containment step of an
// account done: the first successful outcome of each step, the latest of those.
func containedTime(id string, key AnswerKey, recs []Record) (time.Time, bool) {
	steps := []string{StepBlock, StepRevoke, StepReset, StepUnblockCheck}
	if len(key.AttackerFactors[id]) > 0 {
		steps = append(steps, StepMFA)
	}
	var last time.Time
	found := false
	for _, step := range steps {
		for _, r := range recs {
			if r.UserID == id && r.Step == step && r.Kind == KindOutcome && r.Outcome != Failed && r.Outcome != Planned {
				if r.Time.After(last) {
					last = r.Time
				}
				found = true
				break
			}
		}
	}
	return last, found
}

// WriteText prints the scorecard for a terminal or a file: the score, the
// rubric lines, then what was wrong, missed and right, each with the log
// events that should have led there.
func (sc Scorecard) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Score: %.1f%%  (scenario %s, started %s", sc.Percent, sc.Scenario, sc.Started.UTC().Format(time.RFC3339))
	if sc.Elapsed != "" {
		fmt.Fprintf(&b, ", %s elapsed", sc.Elapsed)
	}
	b.WriteString(")\n")
	for _, c := range sc.Categories {
		if !c.Applies {
			fmt.Fprintf(&b, "  %-34s    -  (nothing to do in this scenario)\n", c.Name)
			continue
		}
		fmt.Fprintf(&b, "  %-34s %5.1f / %g\n", c.Name, c.Earned, c.Weight)
	}
	if sc.Penalty > 0 {
		fmt.Fprintf(&b, "  %-34s %5.1f\n", "penalties", -sc.Penalty)
	}
	if sc.ContainedAfter != "" {
		fmt.Fprintf(&b, "Contained %s after the start.\n", sc.ContainedAfter)
	}
	if len(sc.Counts) > 0 {
		b.WriteString("Counts (right / missed / wrong):\n")
		for _, c := range sc.Counts {
			fmt.Fprintf(&b, "  %-34s %3d / %3d / %3d\n", c.Category, c.Right, c.Missed, c.Wrong)
		}
	}
	if !sc.Revealed {
		fmt.Fprintf(&b, "The exercise is under way: %d items about accounts and networks you have not acted on are counted above, not named. 'atoctl training end' ends it and shows everything.\n", sc.Hidden)
	}
	for _, verdict := range []string{ScoreWrong, ScoreMissed, ScoreRight} {
		title := map[string]string{ScoreWrong: "Wrong", ScoreMissed: "Missed", ScoreRight: "Right"}[verdict]
		n := 0
		for _, f := range sc.Items {
			if f.Verdict != verdict {
				continue
			}
			if n == 0 {
				fmt.Fprintf(&b, "\n%s:\n", title)
			}
			n++
			fmt.Fprintf(&b, "  - %s %s: %s\n", f.Category, auth0client.Clean(f.Subject), auth0client.Clean(f.What))
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "      %s  %-22s %-8s %s\n", e.Date.UTC().Format(time.RFC3339), auth0client.Clean(e.Type), auth0client.Clean(e.IP), auth0client.Clean(e.LogID))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
