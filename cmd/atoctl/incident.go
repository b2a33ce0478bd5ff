package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// incidentsDir is where incident journals live:
// $XDG_STATE_HOME/atoctl/incidents, else ~/.local/state/atoctl/incidents.
func incidentsDir(getenv func(string) string) (string, error) {
	base := getenv("XDG_STATE_HOME")
	// The XDG spec says a relative path is invalid and must be ignored.
	if !filepath.IsAbs(base) {
		home := getenv("HOME")
		if home == "" {
			return "", usagef("cannot place incident journals: set XDG_STATE_HOME or HOME")
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "atoctl", "incidents"), nil
}

func newIncidentCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "incident",
		Short: "List, show, verify and report incident journals",
		Long: `Every containment is journaled: one hash-chained record per step intent and
outcome, in $XDG_STATE_HOME/atoctl/incidents/ID.ndjson (mode 0600). These
commands read journals; they never contact a tenant. A report prints the
journal's head hash: keep it with the ticket, and 'incident verify ID --head
HASH' later proves the journal was not cut or rewritten since.`,
		Example: `  atoctl incident list
  atoctl incident show inc-20261127-1220-7f3a
  atoctl incident report inc-20261127-1220-7f3a --format json > inc-20261127-1220-7f3a.json
  atoctl incident verify inc-20261127-1220-7f3a --head "$(jq -r .head inc-20261127-1220-7f3a.json)"`,
	}
	cmd.AddCommand(newIncidentListCmd(env), newIncidentShowCmd(env), newIncidentVerifyCmd(env),
		newIncidentReportCmd(env), newIncidentRollbackCmd(env))
	return cmd
}

// incidentNoArgs is cobra.NoArgs with a usage error (exit 2).
func incidentNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q; see '%s --help'", cmd.CommandPath(), auth0client.Clean(args[0]), cmd.CommandPath())
	}
	return nil
}

func newIncidentListCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the incidents journaled on this machine, newest first",
		Long: `List every incident journal with its time span, mode, tenant, number of users
and records, head hash, and whether its hash chain verifies.`,
		Example: `  atoctl incident list
  atoctl incident list --json | jq -r '.[] | select(.problem) | .id'`,
		Args: incidentNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runIncidentList(env)
		},
	}
}

func runIncidentList(env *environment) error {
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return err
	}
	list, err := responders.ListIncidents(dir)
	if err != nil {
		return err
	}
	if env.opts.json {
		return printJSON(env.stdout, nonNil(list))
	}
	if len(list) == 0 && env.stdoutTTY {
		fmt.Fprintf(env.stderr, "no incidents in %s\n", dir)
	}
	t := &table{header: []string{"id", "started", "last", "mode", "tenant", "users", "records", "head", "integrity"}}
	for _, s := range list {
		head := s.Head
		if env.stdoutTTY && len(head) > 12 {
			head = head[:12] // enough to tell apart; --json and TSV carry it whole
		}
		t.add(s.ID, fmtTime(s.First), fmtTime(s.Last), string(s.Mode), s.Tenant, strconv.Itoa(s.Users), strconv.Itoa(s.Records), head, integrityText(s.Problem))
	}
	return t.print(env.stdout, env.stdoutTTY)
}

func integrityText(problem string) string {
	if problem == "" {
		return "ok"
	}
	return problem
}

// loadIncident validates id (exit 2 before touching anything) and reads its
// journal. A torn final line is reported on stderr and otherwise ignored:
// the records before it are intact.
func loadIncident(env *environment, id string) ([]responders.Record, error) {
	if err := responders.ValidIncidentID(id); err != nil {
		return nil, usagef("%v", err)
	}
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return nil, err
	}
	recs, err := responders.LoadJournal(dir, id)
	var torn *responders.TornTailError
	switch {
	case errors.As(err, &torn):
		fmt.Fprintf(env.stderr, "note: incident %s: line %d is torn (an interrupted write) and ignored; it was never acknowledged, and the next atoctl run on this incident removes it\n", id, torn.Line)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w (see 'atoctl incident list')", err)
	case err != nil:
		return nil, err
	}
	return recs, nil
}

func journalHead(recs []responders.Record) string {
	if len(recs) == 0 {
		return ""
	}
	return recs[len(recs)-1].Hash
}

// timelineEntry is one journal record as `incident show` prints it: the
// evidence is summarised (it stays in the journal), call bodies too.
type timelineEntry struct {
	Seq           int64     `json:"seq"`
	Time          time.Time `json:"time"`
	Mode          string    `json:"mode"`
	Operator      string    `json:"operator"`
	Kind          string    `json:"kind"`
	UserID        string    `json:"user_id,omitempty"`
	Step          string    `json:"step,omitempty"`
	Outcome       string    `json:"outcome,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Error         string    `json:"error,omitempty"`
	Calls         []string  `json:"calls,omitempty"` // "METHOD path"
	EvidenceBytes int       `json:"evidence_bytes,omitempty"`
	Hash          string    `json:"hash"`
}

// incidentTimeline is `incident show --json`.
type incidentTimeline struct {
	Incident  string          `json:"incident"`
	Path      string          `json:"path"`
	Tenant    string          `json:"tenant"`
	Records   int             `json:"records"`
	Head      string          `json:"head"`
	Verified  bool            `json:"verified"`
	Integrity string          `json:"integrity"`
	Timeline  []timelineEntry `json:"timeline"`
}

func newIncidentShowCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident's timeline: every intent, outcome and note",
		Long: `Show prints the journal record by record: when, in which mode, which user and
step, the API calls an intent announced, and how each step ended. The
evidence a snapshot saved stays in the journal file (its path is in --json).
A journal that does not verify is shown, with a warning, and exits 1.`,
		Example: `  atoctl incident show inc-20261127-1220-7f3a
  atoctl incident show inc-20261127-1220-7f3a --json | jq '.timeline[] | select(.outcome == "failed")'`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIncidentShow(env, args[0])
		},
	}
}

func runIncidentShow(env *environment, id string) error {
	recs, err := loadIncident(env, id)
	if err != nil {
		return err
	}
	dir, _ := incidentsDir(env.getenv)
	verr := responders.VerifyIncident(id, recs, "")
	tl := incidentTimeline{Incident: id, Path: filepath.Join(dir, id+".ndjson"), Records: len(recs),
		Head: journalHead(recs), Verified: verr == nil, Integrity: "ok", Timeline: []timelineEntry{}}
	if verr != nil {
		tl.Integrity = auth0client.Clean(verr.Error())
	}
	if len(recs) > 0 {
		tl.Tenant = auth0client.Clean(recs[0].Tenant)
	}
	for _, r := range recs {
		e := timelineEntry{Seq: r.Seq, Time: r.Time, Mode: string(r.Mode), Operator: r.Operator, Kind: string(r.Kind), UserID: r.UserID,
			Step: r.Step, Outcome: string(r.Outcome), Reason: r.Reason, Error: r.Error, EvidenceBytes: len(r.Evidence), Hash: r.Hash}
		for _, c := range r.Calls {
			e.Calls = append(e.Calls, c.Method+" "+c.Path)
		}
		tl.Timeline = append(tl.Timeline, cleanTimelineEntry(e))
	}
	if env.opts.json {
		if err := printJSON(env.stdout, tl); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(env.stderr, "incident %s: %d records, tenant %s, head %s\n", id, len(recs), tl.Tenant, tl.Head)
		t := &table{header: []string{"seq", "time", "mode", "kind", "user", "step", "outcome", "detail"}}
		for _, e := range tl.Timeline {
			t.add(strconv.FormatInt(e.Seq, 10), fmtTime(e.Time), e.Mode, e.Kind, e.UserID, e.Step, e.Outcome, timelineDetail(e))
		}
		if err := t.print(env.stdout, env.stdoutTTY); err != nil {
			return err
		}
	}
	if verr != nil {
		return fmt.Errorf("incident %s: %w", id, verr)
	}
	return nil
}

// cleanTimelineEntry makes every tenant-derived string safe for any output
// form: JSON escapes control characters but not bidi overrides.
func cleanTimelineEntry(e timelineEntry) timelineEntry {
	for _, s := range []*string{&e.Mode, &e.Operator, &e.Kind, &e.UserID, &e.Step, &e.Outcome, &e.Reason, &e.Error, &e.Hash} {
		*s = auth0client.Clean(*s)
	}
	for i := range e.Calls {
		e.Calls[i] = auth0client.Clean(e.Calls[i])
	}
	return e
}

// timelineDetail is the one cell that says what a record means.
func timelineDetail(e timelineEntry) string {
	var parts []string
	if len(e.Calls) > 0 {
		parts = append(parts, strings.Join(e.Calls, ", "))
	}
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if e.Error != "" {
		parts = append(parts, "error: "+e.Error)
	}
	if e.EvidenceBytes > 0 {
		parts = append(parts, fmt.Sprintf("evidence saved (%d bytes)", e.EvidenceBytes))
	}
	return strings.Join(parts, "; ")
}

// incidentVerifyOptions are the inputs of `incident verify`.
type incidentVerifyOptions struct {
	head string
}

// verifyResult is `incident verify --json`.
type verifyResult struct {
	Incident string `json:"incident"`
	OK       bool   `json:"ok"`
	Records  int    `json:"records"`
	Head     string `json:"head"`
	Expected string `json:"expected_head,omitempty"`
	// HeadChecked says the head was compared with one a report printed
	// (--head): only then are records cut from the end detected.
	HeadChecked bool   `json:"head_checked"`
	Note        string `json:"note,omitempty"` // what an ok without --head cannot tell
	Seq         int    `json:"seq,omitempty"`  // the record that breaks the chain
	Problem     string `json:"problem,omitempty"`
}

var headHashRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

func newIncidentVerifyCmd(env *environment) *cobra.Command {
	o := &incidentVerifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify ID",
		Short: "Check an incident journal's hash chain (and its head)",
		Long: `Verify recomputes every record's hash and checks the chain: sequence numbers,
links, hashes. An edited, removed, inserted or reordered record fails, and so
do an empty journal and a journal copied or renamed from another incident.
Without --head a journal cut at a record boundary still has a valid chain:
verify says "chain ok: N records, head HASH; without --head atoctl cannot
tell whether records were removed from the end ...". With --head (the hash a
report printed) it also fails when records were cut from the end, when the
journal was rewritten into a new consistent chain, and when records were
appended after that head, and says "ok: N records, head HASH". Exit 0: the
chain verifies; exit 1: what breaks it, in one line.`,
		Example: `  atoctl incident verify inc-20261127-1220-7f3a
  atoctl incident verify inc-20261127-1220-7f3a --head "$(jq -r .head inc-20261127-1220-7f3a.json)"
  atoctl incident verify inc-20261127-1220-7f3a --json`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIncidentVerify(env, args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.head, "head", "", "the head hash a report printed: also detects a cut or rewritten journal")
	return cmd
}

func runIncidentVerify(env *environment, id string, o *incidentVerifyOptions) error {
	if err := responders.ValidIncidentID(id); err != nil {
		return usagef("%v", err)
	}
	want := strings.ToLower(strings.TrimSpace(o.head))
	if want != "" && !headHashRe.MatchString(want) {
		return usagef("--head %q is not a head hash: give the 64 hex digits a report printed", auth0client.Clean(o.head))
	}
	recs, err := loadIncident(env, id)
	if err != nil {
		return err
	}
	res := verifyResult{Incident: id, OK: true, Records: len(recs), Head: journalHead(recs), Expected: want, HeadChecked: want != ""}
	verr := responders.VerifyIncident(id, recs, want)
	if verr != nil {
		res.OK, res.Problem = false, auth0client.Clean(verr.Error())
		var ve *responders.VerifyError
		if errors.As(verr, &ve) {
			res.Seq = ve.Seq
		}
	} else if want == "" {
		// A journal cut at a record boundary still has a valid chain: only
		// the head printed when the commands ran can show the cut.
		res.Note = fmt.Sprintf("without --head atoctl cannot tell whether records were removed from the end: compare with the head printed when the incident's commands ran (atoctl incident verify %s --head HASH)", id)
	}
	if env.opts.json {
		if err := printJSON(env.stdout, res); err != nil {
			return err
		}
	} else if verr == nil && want == "" {
		fmt.Fprintf(env.stdout, "chain ok: %d records, head %s; %s\n", res.Records, res.Head, res.Note)
	} else if verr == nil {
		fmt.Fprintf(env.stdout, "ok: %d records, head %s\n", res.Records, res.Head)
	}
	switch {
	case errors.Is(verr, responders.ErrEmptyJournal):
		return verr // it names the incident already
	case verr != nil:
		return fmt.Errorf("incident %s: %w", id, verr)
	}
	return nil
}

// incidentReportOptions are the inputs of `incident report`.
type incidentReportOptions struct {
	format string
}

func newIncidentReportCmd(env *environment) *cobra.Command {
	o := &incidentReportOptions{}
	cmd := &cobra.Command{
		Use:   "report ID",
		Short: "Write an incident report (Markdown or JSON) from its journal",
		Long: `Report summarises an incident for the write-up: tenant, mode, operators, time
span, then per user the evidence snapshot, every step with its outcome and
reason, what was skipped and why, and who stays blocked awaiting an unblock.
It ends with the journal's head hash and the command that verifies it later.
Tenant text is cleaned and Markdown-escaped. A journal that does not verify
is reported with a warning and exits 1.`,
		Example: `  atoctl incident report inc-20261127-1220-7f3a > inc-20261127-1220-7f3a.md
  atoctl incident report inc-20261127-1220-7f3a --format json | jq .awaiting_unblock`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env.opts.json {
				if cmd.Flags().Changed("format") && o.format != "json" {
					return usagef("--json and --format %s disagree: give one", auth0client.Clean(o.format))
				}
				o.format = "json"
			}
			return runIncidentReport(env, args[0], o)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "md", "md (Markdown) or json")
	return cmd
}

func runIncidentReport(env *environment, id string, o *incidentReportOptions) error {
	if o.format != "md" && o.format != "json" {
		return usagef("--format %q: choose md or json", auth0client.Clean(o.format))
	}
	recs, err := loadIncident(env, id)
	if err != nil {
		return err
	}
	rep := responders.BuildReport(recs)
	if o.format == "json" {
		err = printJSON(env.stdout, rep)
	} else {
		_, err = fmt.Fprint(env.stdout, rep.Markdown())
	}
	if err != nil {
		return err
	}
	if !rep.Verified {
		return fmt.Errorf("incident %s: the report is of a journal that does not verify: %s", id, rep.Integrity)
	}
	return nil
}
