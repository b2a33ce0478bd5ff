package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

// baseline is the training tenant as generated, before any change: what
// scoring compares the end state with.
type baseline struct {
	lastLogID        string
	sessions, tokens map[string]int // per user
	events           map[string]int // per source address
}

func baselineOf(st *sandbox.State) baseline {
	b := baseline{sessions: map[string]int{}, tokens: map[string]int{}, events: map[string]int{}}
	for _, s := range st.Sessions {
		b.sessions[s.UserID]++
	}
	for _, rt := range st.RefreshTokens {
		b.tokens[rt.UserID]++
	}
	for _, e := range st.Logs {
		b.events[e.IP]++
		if e.LogID > b.lastLogID {
			b.lastLogID = e.LogID
		}
	}
	return b
}

// answerKey converts the scenario's key for responders.Score.
func answerKey(k *scenarios.AnswerKey) responders.AnswerKey {
	out := responders.AnswerKey{
		Scenario: k.Scenario, Compromised: k.Compromised, StoppedByMFA: k.StoppedByMFA, Targeted: k.Targeted, Innocent: k.Innocent,
		AttackerIPs: k.AttackerIPs, AttackerCIDRs: k.AttackerCIDRs, SharedIPs: k.SharedIPs,
		EmailChanged: k.EmailChanged, AttackerFactors: k.AttackerFactors, Evidence: map[string][]responders.KeyEvent{},
	}
	for subject, evs := range k.Evidence {
		for _, e := range evs {
			out.Evidence[subject] = append(out.Evidence[subject], responders.KeyEvent{LogID: e.LogID, Date: e.Date, Type: e.Type, IP: e.IP, UserID: e.UserID})
		}
	}
	return out
}

// exercise reads what the trainee left behind: the tenant's end state next
// to its base, and the training incident's journal.
func (t *trainingSandbox) exercise(records []responders.Record) responders.Exercise {
	// The attack goes on until the exercise ends: play it up to now.
	t.srv.AdvanceLive()
	ex := responders.Exercise{Started: t.epoch, Users: map[string]responders.UserEnd{}, Networks: map[string]responders.NetworkEnd{}, Records: records,
		Now: t.srv.Now()}
	if end, ok := t.srv.LiveEnded(); ok {
		ex.Now, ex.Ended = end, true
	}
	victims := map[string]bool{}
	for _, id := range slices.Concat(t.key.Compromised, t.key.StoppedByMFA) {
		victims[id] = true
	}
	// Attacker events after the start, by source address: all that
	// reached the tenant, and those after the grace a responder had.
	live, late := map[string]int{}, map[string]int{}
	resets, changed := map[string]int{}, map[string]bool{}
	var ips []string // every source address of the base logs
	for ip := range t.base.events {
		ips = append(ips, ip)
	}
	slices.Sort(ips)
	t.srv.View(func(st *sandbox.State) {
		sessions, tokens, factors := map[string]int{}, map[string]int{}, map[string][]string{}
		for _, s := range st.Sessions {
			sessions[s.UserID]++
		}
		for _, rt := range st.RefreshTokens {
			tokens[rt.UserID]++
		}
		for _, m := range st.AuthenticationMethods {
			factors[m.UserID] = append(factors[m.UserID], m.ID)
		}
		for i := len(st.Logs) - 1; i >= 0 && st.Logs[i].LogID > t.base.lastLogID; i-- {
			e := st.Logs[i]
			if t.key.IsAttackerIP(e.IP) {
				live[e.IP]++
				if e.Date.After(t.epoch.Add(responders.BlockGrace)) {
					late[e.IP]++
				}
				if e.Type == "s" && victims[e.UserID] {
					ex.Takeovers = append(ex.Takeovers, responders.KeyEvent{LogID: e.LogID, Date: e.Date, Type: e.Type, IP: e.IP, UserID: e.UserID})
				}
			}
			switch e.Type {
			case "scpr":
				resets[e.UserID]++
			case "scp":
				changed[e.UserID] = true
			}
		}
		for _, u := range st.Users {
			database := slices.ContainsFunc(u.Identities, func(id sandbox.Identity) bool { return id.Provider == "auth0" })
			ex.Users[u.UserID] = responders.UserEnd{
				Email: u.Email, Database: database, Blocked: u.Blocked,
				Sessions: sessions[u.UserID], RefreshTokens: tokens[u.UserID],
				SessionsAtStart: t.base.sessions[u.UserID], RefreshTokensAtStart: t.base.tokens[u.UserID],
				ResetEmails: resets[u.UserID], Factors: factors[u.UserID], PasswordChanged: changed[u.UserID],
			}
		}
	})
	for _, id := range slices.Concat(t.key.Compromised, t.key.StoppedByMFA) {
		u := ex.Users[id]
		u.Tickets = t.srv.TicketsCreated(id)
		ex.Users[id] = u
	}
	slices.SortFunc(ex.Takeovers, func(a, b responders.KeyEvent) int { return strings.Compare(a.LogID, b.LogID) })
	stopped := t.srv.StoppedByACL()
	network := func(match func(netip.Addr) bool) responders.NetworkEnd {
		var ne responders.NetworkEnd
		for _, ip := range ips {
			a, err := netip.ParseAddr(ip)
			if err != nil || !match(a) {
				continue
			}
			ne.Events += t.base.events[ip]
			ne.LiveEvents += live[ip]
			ne.LateEvents += late[ip]
			ne.LiveStopped += stopped[ip]
			if t.srv.BlockedByACL(ip, "authentication") {
				ne.BlockedEvents += t.base.events[ip]
				ne.Blocked = true
			}
		}
		return ne
	}
	for _, n := range slices.Concat(t.key.AttackerIPs, t.key.SharedIPs, t.key.AttackerCIDRs) {
		if p, err := netip.ParsePrefix(n); err == nil {
			ex.Networks[n] = network(p.Contains)
		} else if a, err := netip.ParseAddr(n); err == nil {
			ex.Networks[n] = network(func(x netip.Addr) bool { return x == a })
		}
	}
	return ex
}

// trainingRecords reads the journal of the training incident (the current
// one, or --incident): no journal yet is no action yet.
func trainingRecords(env *environment, incident string) ([]responders.Record, string, error) {
	if incident == "" {
		incident = env.currentIncident()
	}
	if incident == "" {
		return nil, "", nil
	}
	if err := responders.ValidIncidentID(incident); err != nil {
		return nil, "", usagef("--incident: %v", err)
	}
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return nil, "", err
	}
	recs, err := responders.LoadJournal(dir, incident)
	var torn *responders.TornTailError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, incident, nil
	case errors.As(err, &torn):
		fmt.Fprintf(env.stderr, "note: incident %s: line %d is torn and ignored\n", incident, torn.Line)
	case err != nil:
		return nil, "", err
	}
	return recs, incident, nil
}

// openExercise loads the training tenant of the scenario read-only (no
// HTTP server) and the journal; it refuses when no exercise is under way.
func openExercise(ctx context.Context, env *environment, incident string) (*trainingSandbox, []responders.Record, string, error) {
	path, err := trainingStatePath(env.getenv, env.opts.scenario)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := lookupScenario(env.opts.scenario); err != nil {
		return nil, nil, "", err
	}
	if _, ok, err := sandbox.PersistedEpoch(path); err != nil {
		return nil, nil, "", fmt.Errorf("read training state %s: %w", path, err)
	} else if !ok {
		return nil, nil, "", usagef("no exercise of %s under way: 'atoctl training start --scenario %s' begins one", env.opts.scenario, env.opts.scenario)
	}
	ts, err := loadTrainingSandbox(env.opts.scenario, env.getenv, trainingOptions(ctx)...)
	if err != nil {
		return nil, nil, "", err
	}
	recs, id, err := trainingRecords(env, incident)
	if err != nil {
		ts.close()
		return nil, nil, "", err
	}
	return ts, recs, id, nil
}

type trainingScoreOptions struct {
	incident string
	reveal   bool
}

func newTrainingScoreCmd(env *environment) *cobra.Command {
	o := &trainingScoreOptions{}
	cmd := &cobra.Command{
		Use:   "score",
		Short: "Score the exercise: what was right, missed and wrong",
		Long: `Score compares the training tenant's end state and the journal of the training
incident with the scenario's answer key, and prints what was right, missed and
wrong, each with the log events (log id, type, IP) that should have led there.
--json prints the scorecard as JSON. During the exercise it names only the
accounts and networks you acted on; --reveal ends the exercise (like 'training
end', recorded in the journal) and shows everything.

` + responders.Rubric,
		Example: `  atoctl training score --scenario session-hijack
  atoctl training score --json | jq .percent
  atoctl training score --reveal`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, recs, incident, err := openExercise(cmd.Context(), env, o.incident)
			if err != nil {
				return err
			}
			defer ts.close()
			if o.reveal {
				if recs, err = endExercise(env, ts, incident, "score --reveal"); err != nil {
					return err
				}
			}
			sc := responders.Score(answerKey(ts.key), ts.exercise(recs))
			fmt.Fprintf(env.stderr, "TRAINING: scenario %s, incident %s: %.1f%%\n", ts.scenario.Name, orNone(incident), sc.Percent)
			if env.opts.json {
				return printJSON(env.stdout, sc)
			}
			return sc.WriteText(env.stdout)
		},
	}
	cmd.Flags().StringVar(&o.incident, "incident", "", "training incident to score (default: the current training incident)")
	cmd.Flags().BoolVar(&o.reveal, "reveal", false, "end the exercise (recorded in the journal) and show every account and network")
	return cmd
}

// StepTrainingEnd is the journal's name for the end of a training exercise
// ('training end', 'training score --reveal').
const StepTrainingEnd = "training-end"

// endExercise ends the exercise: the live attack stops at this moment,
// and the journal records who ended it how. It returns the journal's
// records, the end included. Ending twice keeps the first end.
func endExercise(env *environment, ts *trainingSandbox, incident, how string) ([]responders.Record, error) {
	if _, ended := ts.srv.LiveEnded(); !ended {
		if err := ts.srv.EndLive(ts.srv.Now()); err != nil {
			return nil, fmt.Errorf("end the exercise: %w", err)
		}
	}
	j, _, err := env.openIncident(incident, "127.0.0.1")
	if err != nil {
		return nil, fmt.Errorf("end the exercise: %w", err)
	}
	end, _ := ts.srv.LiveEnded()
	already := slices.ContainsFunc(j.Records(), func(r responders.Record) bool { return r.Step == StepTrainingEnd })
	if !already {
		if _, err := j.Append(responders.Record{Time: end, Kind: responders.KindNote, Step: StepTrainingEnd,
			Reason: fmt.Sprintf("exercise ended by 'training %s' %s after the start: the answers are revealed", how, end.Sub(ts.epoch).Round(time.Second))}); err != nil {
			_ = j.Close()
			return nil, fmt.Errorf("end the exercise: %w", err)
		}
	}
	recs := j.Records()
	return recs, j.Close()
}

func newTrainingEndCmd(env *environment) *cobra.Command {
	var incident string
	cmd := &cobra.Command{
		Use:   "end",
		Short: "End the exercise: the attack stops, and the score shows everything",
		Long: `End stops the exercise of the scenario: the live attack stops, the end is
recorded in the training incident's journal, and the scorecard, now naming
every account and network of the attack, is printed (--json for JSON). After
the end, 'training score' and 'training debrief' show everything.`,
		Example: `  atoctl training end
  atoctl training end --scenario mfa-fatigue --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ts, _, id, err := openExercise(cmd.Context(), env, incident)
			if err != nil {
				return err
			}
			defer ts.close()
			recs, err := endExercise(env, ts, id, "end")
			if err != nil {
				return err
			}
			sc := responders.Score(answerKey(ts.key), ts.exercise(recs))
			fmt.Fprintf(env.stderr, "TRAINING: scenario %s ended, incident %s: %.1f%%\n", ts.scenario.Name, orNone(id), sc.Percent)
			if env.opts.json {
				return printJSON(env.stdout, sc)
			}
			return sc.WriteText(env.stdout)
		},
	}
	cmd.Flags().StringVar(&incident, "incident", "", "training incident of the exercise (default: the current training incident)")
	return cmd
}

func orNone(s string) string {
	if s == "" {
		return "(none yet)"
	}
	return s
}

type trainingDebriefOptions struct {
	incident string
	format   string
}

func newTrainingDebriefCmd(env *environment) *cobra.Command {
	o := &trainingDebriefOptions{}
	cmd := &cobra.Command{
		Use:   "debrief",
		Short: "Your actions from the journal beside the attack's timeline",
		Long: `Debrief tells the exercise in time order: the attack's milestones (from the
answer key, with their log events) and every step you took (from the journal of
the training incident), then, for each compromised account, how long the
attacker had it before you contained it, and the score. --format md writes
Markdown for a post-incident review.`,
		Example: `  atoctl training debrief --scenario mfa-fatigue
  atoctl training debrief --format md > debrief.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.format != "text" && o.format != "md" {
				return usagef("--format is text or md, not %q", auth0client.Clean(o.format))
			}
			ts, recs, incident, err := openExercise(cmd.Context(), env, o.incident)
			if err != nil {
				return err
			}
			defer ts.close()
			ex := ts.exercise(recs)
			sc := responders.Score(answerKey(ts.key), ex)
			fmt.Fprintf(env.stderr, "TRAINING: debrief of scenario %s, incident %s\n", ts.scenario.Name, orNone(incident))
			return writeDebrief(env, ts, ex, sc, o.format == "md")
		},
	}
	cmd.Flags().StringVar(&o.incident, "incident", "", "training incident to debrief (default: the current training incident)")
	cmd.Flags().StringVar(&o.format, "format", "text", "text or md (Markdown)")
	return cmd
}

// debriefLine is one moment of the exercise.
type debriefLine struct {
	at         time.Time
	side, what string
	ref        string // log id or journal record
}

func writeDebrief(env *environment, ts *trainingSandbox, ex responders.Exercise, sc responders.Scorecard, md bool) error {
	var lines []debriefLine
	// The attack's side names the answers: only once the exercise is over.
	if sc.Revealed {
		for _, m := range ts.key.Timeline {
			lines = append(lines, debriefLine{at: m.Date, side: "attack", what: m.What, ref: m.LogID + " " + m.Type + " " + m.IP})
		}
		for _, e := range ex.Takeovers {
			lines = append(lines, debriefLine{at: e.Date, side: "attack", what: fmt.Sprintf("account %s taken over again from %s (the live attack)", e.UserID, e.IP), ref: e.LogID + " " + e.Type + " " + e.IP})
		}
	}
	for _, r := range ex.Records {
		if r.Mode != responders.ModeTraining || r.Time.Before(ts.epoch) || r.Kind == responders.KindIntent {
			continue
		}
		what := r.Step
		if r.UserID != "" {
			what += " " + r.UserID
		}
		if r.Outcome != "" {
			what += ": " + string(r.Outcome)
		}
		if r.Reason != "" {
			what += " (" + r.Reason + ")"
		}
		if r.Error != "" {
			what += " error: " + r.Error
		}
		lines = append(lines, debriefLine{at: r.Time, side: "you", what: what, ref: fmt.Sprintf("journal #%d", r.Seq)})
	}
	slices.SortStableFunc(lines, func(a, b debriefLine) int { return a.at.Compare(b.at) })
	rel := func(t time.Time) string {
		d := t.Sub(ts.epoch).Round(time.Second)
		if d < 0 {
			return "-" + (-d).String()
		}
		return "+" + d.String()
	}

	var b strings.Builder
	clean := auth0client.Clean
	cell := func(s string) string { return strings.ReplaceAll(clean(s), "|", `\|`) }
	if md {
		fmt.Fprintf(&b, "# Training debrief: %s\n\n", cell(ts.scenario.Title))
		fmt.Fprintf(&b, "Scenario `%s`, started %s. Score **%.1f%%**.\n\n", ts.scenario.Name, ts.epoch.Format(time.RFC3339), sc.Percent)
		b.WriteString("| time (UTC) | from start | side | what | evidence |\n|---|---|---|---|---|\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", l.at.UTC().Format("2006-01-02 15:04:05"), rel(l.at), l.side, cell(l.what), cell(l.ref))
		}
	} else {
		fmt.Fprintf(&b, "Training debrief: %s (scenario %s, started %s), score %.1f%%\n\n", clean(ts.scenario.Title), ts.scenario.Name, ts.epoch.Format(time.RFC3339), sc.Percent)
		for _, l := range lines {
			fmt.Fprintf(&b, "%s  %-9s %-6s %s  [%s]\n", l.at.UTC().Format("2006-01-02 15:04:05"), rel(l.at), l.side, clean(l.what), clean(l.ref))
		}
	}
	if !sc.Revealed {
		note := "The exercise is under way: the attack's timeline and the exposure of each account are shown after 'atoctl training end'.\n"
		if md {
			b.WriteString("\n" + note + "\n## Score\n\n```\n")
		} else {
			b.WriteString("\n" + note + "\n")
		}
		if err := sc.WriteText(&b); err != nil {
			return err
		}
		if md {
			b.WriteString("```\n")
		}
		_, err := fmt.Fprint(env.stdout, b.String())
		return err
	}
	// Exposure: from the attacker's first successful login on an account to
	// the first run that left it fully contained.
	key := answerKey(ts.key)
	if md {
		b.WriteString("\n## Exposure of the compromised accounts\n\n| account | attacker since | contained | exposure |\n|---|---|---|---|\n")
	} else {
		b.WriteString("\nExposure of the compromised accounts:\n")
	}
	for _, id := range ts.key.Compromised {
		evs := ts.key.Evidence[id]
		if len(evs) == 0 {
			continue
		}
		since := firstSuccess(evs)
		contained, exposure := "not yet", "still open"
		for _, it := range sc.Items {
			if it.Category == "compromised" && it.Subject == id && it.Verdict == responders.ScoreRight {
				if at, ok := responders.ContainedAt(key, ex, id); ok {
					contained, exposure = at.UTC().Format("2006-01-02 15:04:05"), at.Sub(since).Round(time.Minute).String()
				}
			}
		}
		if md {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(id), since.UTC().Format("2006-01-02 15:04:05"), contained, exposure)
		} else {
			fmt.Fprintf(&b, "  %-40s attacker since %s, contained %s (%s)\n", clean(id), since.UTC().Format("2006-01-02 15:04:05"), contained, exposure)
		}
	}
	if md {
		b.WriteString("\n## Score\n\n```\n")
	} else {
		b.WriteString("\n")
	}
	if err := sc.WriteText(&b); err != nil {
		return err
	}
	if md {
		b.WriteString("```\n")
	}
	_, err := fmt.Fprint(env.stdout, b.String())
	return err
}

// successTypes are the log types of an attacker using an account: a login,
// a silent authentication, a token exchange, an email change.
var successTypes = map[string]bool{"s": true, "ssa": true, "sertft": true, "seacft": true, "seccft": true, "sce": true}

// firstSuccess is when the attacker first got into the account: its first
// successful event, not its first failed attempt.
func firstSuccess(evs []scenarios.Evidence) time.Time {
	for _, e := range evs {
		if successTypes[e.Type] {
			return e.Date
		}
	}
	return evs[0].Date
}
