package responders

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Report is what happened in one incident, built from its journal: for the
// analyst's write-up (Markdown) and for tickets and SOAR (JSON). Every text
// field is cleaned for display.
type Report struct {
	Incident  string    `json:"incident"`
	Tenant    string    `json:"tenant"`
	Mode      string    `json:"mode"` // "live", or several joined by ", " when runs mixed modes
	Operators []string  `json:"operators"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Records   int       `json:"records"`
	Head      string    `json:"head"` // hash of the last record
	// Verified says the hash chain checks out; Integrity says so in words,
	// or which record breaks it.
	Verified        bool         `json:"verified"`
	Integrity       string       `json:"integrity"`
	AwaitingUnblock []string     `json:"awaiting_unblock"` // user ids still blocked after a reset
	Users           []UserReport `json:"users"`
	Steps           []StepReport `json:"steps"` // incident-wide steps and notes (network ACLs)
}

// UserReport is one account's part of the incident.
type UserReport struct {
	UserID   string           `json:"user_id"`
	Evidence *EvidenceSummary `json:"evidence,omitempty"`
	Steps    []StepReport     `json:"steps"`
	Skipped  []Skip           `json:"skipped"`
	// AwaitingUnblock: the unblock check did not pass and nobody has
	// unblocked the user since; the owner cannot sign in after the reset.
	AwaitingUnblock bool `json:"awaiting_unblock"`
}

// StepReport is one step for one user: its intent and outcome joined.
type StepReport struct {
	Seq      int64     `json:"seq"` // the record that settled it
	Started  time.Time `json:"started,omitzero"`
	Time     time.Time `json:"time"`
	Step     string    `json:"step"`
	Mode     string    `json:"mode"`
	Operator string    `json:"operator"`
	Outcome  string    `json:"outcome"`
	Reason   string    `json:"reason,omitempty"`
	Error    string    `json:"error,omitempty"`
	Calls    []string  `json:"calls,omitempty"` // "METHOD path"; bodies stay in the journal
}

// Skip is a step that was not run, and why.
type Skip struct {
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

// EvidenceSummary counts what the snapshot saved (see Evidence).
type EvidenceSummary struct {
	Time          time.Time `json:"time"`
	Email         string    `json:"email,omitempty"`
	Name          string    `json:"name,omitempty"`
	Sessions      int       `json:"sessions"`
	RefreshTokens int       `json:"refresh_tokens"`
	AuthMethods   int       `json:"authentication_methods"`
	Logs          int       `json:"logs"`
	Notes         []string  `json:"notes,omitempty"`   // what the snapshot could not read
	Problem       string    `json:"problem,omitempty"` // evidence not in the expected shape
}

// unfinishedOutcome marks an intent with no outcome: the step was running
// when the run stopped (or still is).
const unfinishedOutcome = "unfinished"

// BuildReport summarises an incident's records (in journal order). It
// verifies the chain itself and says so in Verified/Integrity, so a report
// of a tampered journal cannot pass for a good one.
func BuildReport(recs []Record) Report {
	rep := Report{Records: len(recs), Operators: []string{}, AwaitingUnblock: []string{}, Users: []UserReport{}, Steps: []StepReport{}}
	if err := VerifyJournal(recs, ""); err != nil {
		rep.Integrity = auth0client.Clean(err.Error())
	} else {
		rep.Verified = true
		rep.Integrity = fmt.Sprintf("ok: the hash chain of %d records verifies", len(recs))
	}
	if len(recs) == 0 {
		return rep
	}
	first, last := recs[0], recs[len(recs)-1]
	rep.Incident, rep.Tenant = auth0client.Clean(first.Incident), auth0client.Clean(first.Tenant)
	rep.Start, rep.End, rep.Head = first.Time, last.Time, auth0client.Clean(last.Hash)
	var modes []string
	userIndex := map[string]int{}
	// open maps owner+step to the index of an intent awaiting its outcome.
	open := map[string]int{}
	awaiting := map[string]bool{}
	for _, r := range recs {
		if mode := auth0client.Clean(string(r.Mode)); !slices.Contains(modes, mode) {
			modes = append(modes, mode)
		}
		if op := auth0client.Clean(r.Operator); !slices.Contains(rep.Operators, op) {
			rep.Operators = append(rep.Operators, op)
		}
		steps := &rep.Steps
		var user *UserReport
		if r.UserID != "" {
			i, ok := userIndex[r.UserID]
			if !ok {
				i = len(rep.Users)
				userIndex[r.UserID] = i
				rep.Users = append(rep.Users, UserReport{UserID: auth0client.Clean(r.UserID), Steps: []StepReport{}, Skipped: []Skip{}})
			}
			user = &rep.Users[i]
			steps = &user.Steps
		}
		if user != nil && r.Step == StepSnapshot && len(r.Evidence) > 0 {
			user.Evidence = summariseEvidence(r)
		}
		key := r.UserID + "\x00" + r.Step
		switch r.Kind {
		case KindIntent:
			open[key] = len(*steps)
			*steps = append(*steps, stepFrom(r, unfinishedOutcome))
			(*steps)[len(*steps)-1].Started = r.Time
			(*steps)[len(*steps)-1].Reason = "intent recorded, no outcome: the step was running when the run stopped (or still is); check the tenant before running it again"
		case KindOutcome:
			s := stepFrom(r, auth0client.Clean(string(r.Outcome)))
			if i, ok := open[key]; ok {
				s.Started = (*steps)[i].Started
				if len(s.Calls) == 0 {
					s.Calls = (*steps)[i].Calls
				}
				(*steps)[i] = s
				delete(open, key)
			} else {
				*steps = append(*steps, s)
			}
			if user != nil {
				if r.Mode != ModeDryRun { // a dry run blocked nobody
					trackUnblock(awaiting, r)
				}
				if r.Outcome == Skipped {
					user.Skipped = append(user.Skipped, Skip{Step: s.Step, Reason: s.Reason})
				}
			}
		default:
			*steps = append(*steps, stepFrom(r, cmp.Or(auth0client.Clean(string(r.Outcome)), "note")))
		}
	}
	rep.Mode = strings.Join(modes, ", ")
	for id, a := range awaiting {
		rep.Users[userIndex[id]].AwaitingUnblock = a
	}
	for _, u := range rep.Users {
		if u.AwaitingUnblock {
			rep.AwaitingUnblock = append(rep.AwaitingUnblock, u.UserID)
		}
	}
	return rep
}

// trackUnblock follows whether a user stays blocked after the reset: a
// failed or "awaiting-unblock" unblock check starts it, a passing check or a
// done unblock ends it.
func trackUnblock(awaiting map[string]bool, r Record) {
	done := r.Outcome == Done || r.Outcome == AlreadyDone
	switch r.Step {
	case StepUnblockCheck:
		switch {
		case r.Outcome == AwaitingUnblock || r.Outcome == Failed:
			awaiting[r.UserID] = true
		case done:
			awaiting[r.UserID] = false
		}
	case StepUnblock:
		if done {
			awaiting[r.UserID] = false
		}
	}
}

func stepFrom(r Record, outcome string) StepReport {
	s := StepReport{
		Seq: r.Seq, Time: r.Time, Step: auth0client.Clean(cmp.Or(r.Step, string(r.Kind))),
		Mode: auth0client.Clean(string(r.Mode)), Operator: auth0client.Clean(r.Operator), Outcome: outcome,
		Reason: auth0client.Clean(r.Reason), Error: auth0client.Clean(r.Error),
	}
	for _, c := range r.Calls {
		s.Calls = append(s.Calls, auth0client.Clean(c.Method+" "+c.Path))
	}
	return s
}

// evidenceShape is the part of a snapshot's Evidence the report reads; it
// decodes loosely so a report still works on a journal from an older atoctl.
type evidenceShape struct {
	TakenAt       time.Time         `json:"taken_at"`
	User          *evidenceProfile  `json:"user"`
	Profile       *evidenceProfile  `json:"profile"`
	Sessions      []json.RawMessage `json:"sessions"`
	RefreshTokens []json.RawMessage `json:"refresh_tokens"`
	AuthMethods   []json.RawMessage `json:"authentication_methods"`
	Logs          []json.RawMessage `json:"logs"`
	Notes         []string          `json:"notes"`
}

type evidenceProfile struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func summariseEvidence(r Record) *EvidenceSummary {
	sum := &EvidenceSummary{Time: r.Time}
	var ev evidenceShape
	if err := json.Unmarshal(r.Evidence, &ev); err != nil {
		sum.Problem = "evidence is not in the snapshot shape: " + auth0client.Clean(err.Error())
		return sum
	}
	if !ev.TakenAt.IsZero() {
		sum.Time = ev.TakenAt.UTC()
	}
	sum.Sessions, sum.RefreshTokens, sum.AuthMethods, sum.Logs = len(ev.Sessions), len(ev.RefreshTokens), len(ev.AuthMethods), len(ev.Logs)
	if p := cmp.Or(ev.User, ev.Profile); p != nil {
		sum.Email, sum.Name = auth0client.Clean(p.Email), auth0client.Clean(p.Name)
	}
	for _, n := range ev.Notes {
		sum.Notes = append(sum.Notes, auth0client.Clean(n))
	}
	return sum
}

// Markdown renders the report for a write-up or a ticket. Tenant text is
// cleaned and its Markdown metacharacters escaped, so a hostile user name
// cannot add links, HTML, headings or table cells.
func (r Report) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Incident %s\n\n", md(r.Incident))
	if !r.Verified {
		w("> **WARNING: this journal does not verify.** %s. What follows may not be what atoctl recorded.\n\n", md(r.Integrity))
	}
	w("| | |\n|---|---|\n")
	w("| Tenant | %s |\n", md(r.Tenant))
	w("| Mode | %s |\n", md(r.Mode))
	w("| Operators | %s |\n", md(strings.Join(r.Operators, ", ")))
	w("| Started | %s |\n", mdTime(r.Start))
	w("| Last record | %s |\n", mdTime(r.End))
	w("| Records | %d |\n", r.Records)
	w("| Users | %d |\n", len(r.Users))
	w("| Integrity | %s |\n\n", md(r.Integrity))

	if len(r.AwaitingUnblock) > 0 {
		w("## Awaiting unblock\n\n")
		w("These users stay blocked after the password reset: no deployed post-change-password Action unblocks them. Once the owner has changed the password (an `scp` event), unblock them with `atoctl users unblock USER`.\n\n")
		for _, id := range r.AwaitingUnblock {
			w("- user %s\n", md(id))
		}
		w("\n")
	}

	for _, u := range r.Users {
		w("## User %s\n\n", md(u.UserID))
		if e := u.Evidence; e != nil {
			w("Snapshot at %s: profile %s, %s, %s, %s, %s.", mdTime(e.Time), profileText(e),
				plural(e.Sessions, "session"), plural(e.RefreshTokens, "refresh token"),
				plural(e.AuthMethods, "authentication method"), plural(e.Logs, "log event"))
			for _, n := range e.Notes {
				w(" Not saved: %s.", md(strings.TrimSuffix(n, ".")))
			}
			if e.Problem != "" {
				w(" Problem: %s.", md(e.Problem))
			}
			w("\n\n")
		} else {
			w("No evidence snapshot was recorded for this user.\n\n")
		}
		if u.AwaitingUnblock {
			w("**Stays blocked: awaiting unblock after the password change.**\n\n")
		}
		writeSteps(&b, u.Steps)
		if len(u.Skipped) > 0 {
			w("Skipped:\n\n")
			for _, s := range u.Skipped {
				w("- step %s: %s\n", md(s.Step), md(cmp.Or(s.Reason, "no reason recorded")))
			}
			w("\n")
		}
	}
	if len(r.Steps) > 0 {
		w("## Incident-wide steps and notes\n\n")
		writeSteps(&b, r.Steps)
	}

	w("## Verification\n\n")
	if r.Head == "" {
		w("The journal is empty: there is no head hash.\n")
		return b.String()
	}
	w("Head hash: `%s`\n\n", mdCode(r.Head))
	if ValidIncidentID(r.Incident) == nil {
		w("Verify later with: `atoctl incident verify %s --head %s`\n", r.Incident, mdCode(r.Head))
	}
	return b.String()
}

func writeSteps(b *strings.Builder, steps []StepReport) {
	if len(steps) == 0 {
		b.WriteString("No steps were recorded.\n\n")
		return
	}
	b.WriteString("| Time | Step | Outcome | Detail |\n|---|---|---|---|\n")
	for _, s := range steps {
		var detail []string
		if s.Reason != "" {
			detail = append(detail, s.Reason)
		}
		if s.Error != "" {
			detail = append(detail, "error: "+s.Error)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdTime(s.Time), md(s.Step), md(s.Outcome), md(strings.Join(detail, "; ")))
	}
	b.WriteString("\n")
}

func profileText(e *EvidenceSummary) string {
	switch {
	case e.Name != "" && e.Email != "":
		return md(e.Name) + " (" + md(e.Email) + ")"
	case e.Email != "":
		return md(e.Email)
	case e.Name != "":
		return md(e.Name)
	}
	return "without name or email"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func mdTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// md makes tenant text inert in Markdown: cleaned (one line, nothing
// hidden), every metacharacter that could open a link, image, HTML tag,
// entity, emphasis, code span, heading, math or table cell backslash-escaped,
// and bare URLs broken so renderers do not turn them into links.
func md(s string) string {
	s = auth0client.Clean(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\', '|', '*', '_', '`', '[', ']', '<', '>', '#', '&', '~', '$', '!':
			b.WriteByte('\\')
		case ':': // http://evil → http\://evil: no autolink
			if strings.HasPrefix(s[i:], "://") {
				b.WriteByte('\\')
			}
		case '.': // www.evil.com → www\.evil.com: no autolink
			if i >= 3 && strings.EqualFold(s[i-3:i], "www") {
				b.WriteByte('\\')
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// mdCode keeps text that goes inside a code span from closing it.
func mdCode(s string) string {
	return strings.ReplaceAll(auth0client.Clean(s), "`", "'")
}
