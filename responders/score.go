package responders

import (
	"cmp"
	"fmt"
	"io"
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
blocked; -5 for each reset email sent to an address the attacker set.`

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

// Scorecard is the result of scoring an exercise.
type Scorecard struct {
	Scenario   string          `json:"scenario"`
	Percent    float64         `json:"percent"`
	Categories []CategoryScore `json:"categories"`
	Penalty    float64         `json:"penalty"`
	Started    time.Time       `json:"started"`
	// ContainedAt is when the last compromised account was contained,
	// absent while any is not.
	ContainedAt    *time.Time  `json:"contained_at,omitempty"`
	ContainedAfter string      `json:"contained_after,omitempty"`
	Items          []ScoreItem `json:"items"`
}

// Score compares an exercise with the answer key.
func Score(key AnswerKey, ex Exercise) Scorecard {
	sc := Scorecard{Scenario: key.Scenario, Started: ex.Started, Items: []ScoreItem{}}
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
	return sc
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
	fmt.Fprintf(&b, "Score: %.1f%%  (scenario %s, started %s)\n", sc.Percent, sc.Scenario, sc.Started.UTC().Format(time.RFC3339))
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
