package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

// simClock is a simulated clock for the training sandbox: it stands still
// unless advanced, or runs speed times faster than the wall clock.
type simClock struct {
	mu    sync.Mutex
	t     time.Time
	wall  time.Time
	speed float64
}

func newSimClock(t time.Time) *simClock { return &simClock{t: t} }

func (c *simClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.speed == 0 {
		return c.t
	}
	return c.t.Add(time.Duration(float64(time.Since(c.wall)) * c.speed))
}

func (c *simClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// run makes the clock run speed times faster than the wall clock from now
// on (0 stops it).
func (c *simClock) run(speed float64) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.wall, c.speed = now, time.Now(), speed
}

// startExercise starts a training exercise of scenario and returns its
// answer key and epoch.
func startExercise(t *testing.T, c *cli, scenario string) (*scenarios.AnswerKey, time.Time) {
	t.Helper()
	if res := c.trun("training", "start", "--scenario", scenario); res.code != 0 {
		t.Fatalf("training start: exit %d: %s", res.code, res.stderr)
	}
	ts, err := loadTrainingSandbox(scenario, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	return ts.key, ts.epoch
}

// logsAfter reads every event after the checkpoint from, as `logs tail` and
// the console's follow do.
func logsAfter(t *testing.T, client *auth0client.Client, from string) []auth0client.LogEvent {
	t.Helper()
	var out []auth0client.LogEvent
	for {
		batch, err := client.LogsAfter(context.Background(), from, auth0client.MaxPerPage)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, batch...)
		if len(batch) < auth0client.MaxPerPage {
			return out
		}
		from = batch[len(batch)-1].ID
	}
}

func newestLogID(t *testing.T, client *auth0client.Client) string {
	t.Helper()
	newest, err := client.SearchLogs(context.Background(), auth0client.LogQuery{PerPage: 1})
	if err != nil || len(newest) == 0 {
		t.Fatalf("newest log: %v", err)
	}
	return newest[0].ID
}

// TestTrainingLiveAttackKeepsComingUntilTheACLBlocksIt starts an exercise
// on a simulated clock: a minute later the checkpoint (what `logs tail` and
// the console's follow read) has new attacker events; `logs tail` itself
// prints them; after the attacker's networks are blocked in Network ACLs,
// ten more minutes bring no attacker event and the sandbox counts what the
// ACLs stopped.
func TestTrainingLiveAttackKeepsComingUntilTheACLBlocksIt(t *testing.T) {
	t.Parallel()
	name := scenarios.DefaultScenario
	c := newCLI(t)
	key, epoch := startExercise(t, c, name)
	clk := newSimClock(epoch)
	opts := []sandbox.Option{sandbox.WithRateLimit(0, 0), sandbox.WithRevokeDelay(0), sandbox.WithClock(clk.now)}
	ts, err := startTrainingSandbox(name, func(k string) string { return c.env[k] }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	client := trainingClient(t, ts)

	from := newestLogID(t, client)
	if got := logsAfter(t, client, from); len(got) != 0 {
		t.Fatalf("at the start, %d events after the newest: %+v", len(got), got[0])
	}
	clk.advance(time.Minute)
	events := logsAfter(t, client, from)
	attack := 0
	for _, e := range events {
		if e.Date.Before(epoch) || e.Date.After(epoch.Add(time.Minute)) {
			t.Errorf("live event %s dated %s, outside the minute after the start %s", e.ID, e.Date, epoch)
		}
		if key.IsAttackerIP(e.IP) {
			attack++
		}
	}
	if attack < 3 {
		t.Fatalf("a minute after the start, %d new attacker events (of %d)", attack, len(events))
	}

	// `logs tail` as a user runs it, on a clock running 120 times faster
	// than the wall clock (a five-second slot of the attack every ~42 ms),
	// until it has printed a few events (or a minute has passed: a busy
	// machine takes seconds to build the training tenant).
	clk.run(120)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	out := &linesWriter{want: 5, done: cancel}
	var errb bytes.Buffer
	env := &environment{stdin: strings.NewReader(""), stdout: out, stderr: &errb, getenv: func(k string) string { return c.env[k] }}
	code := runEnv(withTrainingOptions(ctx, opts...), env, []string{"--training", "logs", "tail", "--type", "f,fp,fu", "--interval", "100ms", "--json"})
	cancel()
	clk.run(0)
	tailed := 0
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var e auth0client.LogEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("logs tail --json line: %v: %.200s", err, sc.Text())
		}
		if !key.IsAttackerIP(e.IP) || !strings.HasPrefix(e.Type, "f") || !e.Date.After(epoch) {
			t.Errorf("logs tail --type f,fp,fu printed %s %s from %s at %s", e.ID, e.Type, e.IP, e.Date)
		}
		tailed++
	}
	if tailed < out.want {
		t.Fatalf("logs tail printed %d attack events in a minute: exit %d, stderr %s", tailed, code, errb.String())
	}

	// Block every attacker network: the botnet's CIDRs and the single
	// addresses, 20 entries per ACL.
	nets := append(append([]string{}, key.AttackerCIDRs...), key.AttackerIPs...)
	for i := 0; i < len(nets); i += auth0client.MaxACLEntries {
		part := nets[i:min(len(nets), i+auth0client.MaxACLEntries)]
		if _, err := client.CreateNetworkACL(context.Background(), auth0client.NetworkACL{Description: "live test", Active: true,
			Priority: 10 + i/auth0client.MaxACLEntries, Action: "block", Scope: "authentication", IPv4CIDRs: part}); err != nil {
			t.Fatalf("create ACL: %v", err)
		}
	}
	from = newestLogID(t, client)
	clk.advance(10 * time.Minute)
	for _, e := range logsAfter(t, client, from) {
		if key.IsAttackerIP(e.IP) {
			t.Errorf("after the ACL, attacker event %s %s from %s at %s", e.ID, e.Type, e.IP, e.Date)
		}
	}
	stopped := 0
	for ip, n := range ts.srv.StoppedByACL() {
		if !key.IsAttackerIP(ip) {
			t.Errorf("the ACL stopped %d attempts from %s, not an attacker address", n, ip)
		}
		stopped += n
	}
	if stopped < 10 {
		t.Errorf("in ten minutes the ACLs stopped %d attacker attempts", stopped)
	}
}

// TestTrainingWaitingAnHourCostsNewTakeovers plays the same exercise twice
// on a simulated clock: containing two minutes after the start scores 100%;
// containing after an hour of doing nothing scores less, and the scorecard
// names why: the accounts taken over again meanwhile, and the attack
// traffic that kept reaching the tenant.
func TestTrainingWaitingAnHourCostsNewTakeovers(t *testing.T) {
	t.Parallel()
	name := scenarios.DefaultScenario
	play := func(wait time.Duration) responders.Scorecard {
		c := newCLI(t)
		key, epoch := startExercise(t, c, name)
		clk := newSimClock(epoch.Add(wait))
		c.sandboxOpts = []sandbox.Option{sandbox.WithClock(clk.now)}
		playIdeal(t, c, name, key)
		return score(t, c, name)
	}
	atOnce, late := play(2*time.Minute), play(time.Hour)
	if atOnce.Percent != 100 {
		t.Errorf("containing at once scores %.1f%%: wrong %v, missed %v", atOnce.Percent, subjects(atOnce, responders.ScoreWrong), subjects(atOnce, responders.ScoreMissed))
	}
	if late.Percent >= atOnce.Percent {
		t.Fatalf("containing after an hour scores %.1f%%, at once %.1f%%", late.Percent, atOnce.Percent)
	}
	retaken := 0
	for _, it := range late.Items {
		if it.Category == "retakeover" {
			retaken++
			if it.Verdict != responders.ScoreWrong || it.Points >= 0 || !strings.Contains(it.What, "taken over again after the start") || len(it.Evidence) == 0 {
				t.Errorf("retakeover item %+v", it)
			}
			for _, e := range it.Evidence {
				if e.Type != "s" || e.UserID != it.Subject || e.Date.Before(late.Started) {
					t.Errorf("retakeover %s: evidence %+v is not a login after the start", it.Subject, e)
				}
			}
		}
	}
	if retaken == 0 {
		t.Errorf("after an hour, no account taken over again: %+v", late.Items)
	}
	if !slices.ContainsFunc(late.Items, func(it responders.ScoreItem) bool { return it.Category == "late-events" && it.Points < 0 }) {
		t.Errorf("after an hour, the attack traffic that reached the tenant costs nothing")
	}
	t.Logf("contained at once: %.1f%%; after an hour: %.1f%% (%d accounts taken over again, penalty %.1f)", atOnce.Percent, late.Percent, retaken, late.Penalty)
}

// TestTrainingScoreUnderWayNamesOnlyWhatTheJournalTouched contains one
// account and blocks one attacker address twenty simulated minutes into an
// exercise: `training score --json` then names no account or address of
// the answer key that the journal has not touched; after `training end` the
// scorecard names every attacked account and attacker network, and the
// debrief shows the end.
func TestTrainingScoreUnderWayNamesOnlyWhatTheJournalTouched(t *testing.T) {
	t.Parallel()
	name := scenarios.DefaultScenario
	c := newCLI(t)
	key, epoch := startExercise(t, c, name)
	clk := newSimClock(epoch.Add(20 * time.Minute))
	c.sandboxOpts = []sandbox.Option{sandbox.WithClock(clk.now)}
	base := []string{"--training", "--scenario", name}
	victim, addr := key.Compromised[len(key.Compromised)-1], key.AttackerIPs[0]
	if res := c.trun(append(base, "contain", victim, "--since", "72h", "--yes")...); res.code != 0 {
		t.Fatalf("contain: exit %d: %s", res.code, res.stderr)
	}
	if res := c.trun(append(base, "ip", "contain", addr, "--since", "72h", "--acl", "--yes")...); res.code != 0 && res.code != exitPartial {
		t.Fatalf("ip contain: exit %d: %s", res.code, res.stderr)
	}

	dir, err := incidentsDir(func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "current-incident.training."+name))
	if err != nil {
		t.Fatalf("current incident: %v", err)
	}
	recs, err := responders.LoadJournal(dir, strings.TrimSpace(string(cur)))
	if err != nil {
		t.Fatal(err)
	}
	touched := map[string]bool{addr: true}
	for _, r := range recs {
		touched[r.UserID] = true
	}
	if !touched[victim] {
		t.Fatalf("the journal does not name the contained account %s", victim)
	}

	res := c.trun("training", "score", "--scenario", name, "--json")
	if res.code != 0 {
		t.Fatalf("training score: exit %d: %s", res.code, res.stderr)
	}
	var sc responders.Scorecard
	if err := json.Unmarshal([]byte(res.stdout), &sc); err != nil {
		t.Fatal(err)
	}
	if sc.Revealed || sc.Hidden == 0 || sc.Elapsed != "20m0s" || len(sc.Counts) == 0 {
		t.Errorf("under way: revealed %v, hidden %d, elapsed %q, counts %+v", sc.Revealed, sc.Hidden, sc.Elapsed, sc.Counts)
	}
	if !strings.Contains(res.stdout, victim) {
		t.Errorf("the score does not name the account contained, %s", victim)
	}
	secret := slices.Concat(key.Compromised, key.StoppedByMFA, key.Targeted, key.Innocent, key.AttackerIPs, key.AttackerCIDRs, key.SharedIPs)
	for _, s := range secret {
		if !touched[s] && strings.Contains(res.stdout, `"`+s+`"`) || !touched[s] && strings.Contains(res.stdout, s+" ") {
			t.Errorf("mid-exercise score names %s, which the journal never touched", s)
		}
	}
	text := c.trun("training", "score", "--scenario", name)
	if !strings.Contains(text.stdout, "under way") || !strings.Contains(text.stdout, "20m0s elapsed") {
		t.Errorf("training score text under way:\n%s", text.stdout)
	}

	res = c.trun("training", "end", "--scenario", name, "--json")
	if res.code != 0 {
		t.Fatalf("training end: exit %d: %s", res.code, res.stderr)
	}
	var end responders.Scorecard
	if err := json.Unmarshal([]byte(res.stdout), &end); err != nil {
		t.Fatal(err)
	}
	if !end.Revealed || end.Hidden != 0 {
		t.Errorf("after the end: revealed %v, hidden %d", end.Revealed, end.Hidden)
	}
	for _, s := range slices.Concat(key.Compromised, key.StoppedByMFA, key.AttackerCIDRs) {
		if !strings.Contains(res.stdout, `"`+s+`"`) {
			t.Errorf("after the end, the score does not name %s", s)
		}
	}
	for _, ip := range key.AttackerIPs {
		if len(key.Evidence[ip]) > 0 && !strings.Contains(res.stdout, `"`+ip+`"`) {
			t.Errorf("after the end, the score does not name attacker address %s", ip)
		}
	}
	// Later scores stay revealed; the debrief shows the end and the attack.
	if again := score(t, c, name); !again.Revealed {
		t.Errorf("score after the end is not revealed")
	}
	deb := c.trun("training", "debrief", "--scenario", name)
	if !strings.Contains(deb.stdout, StepTrainingEnd) || !strings.Contains(deb.stdout, " attack ") {
		t.Errorf("debrief after the end:\n%.2000s", deb.stdout)
	}
}

// TestTrainingDryRunsStayOutOfTheExercise: a dry run during an exercise is
// journaled apart from the exercise's incident, so the exercise's journal,
// its report's mode and its score are those of the real actions only.
func TestTrainingDryRunsStayOutOfTheExercise(t *testing.T) {
	t.Parallel()
	name := scenarios.DefaultScenario
	c := newCLI(t)
	key, _ := startExercise(t, c, name)
	base := []string{"--training", "--scenario", name}
	var plain []string // accounts the plain playbook contains
	for _, id := range key.Compromised {
		if key.EmailChanged[id] == "" && len(key.AttackerFactors[id]) == 0 {
			plain = append(plain, id)
		}
	}
	victim := plain[0]
	if res := c.trun(append(base, "contain", victim, "--since", "72h", "--dry-run")...); res.code != 0 {
		t.Fatalf("contain --dry-run: exit %d: %s", res.code, res.stderr)
	}
	if res := c.trun(append(base, "contain", plain[1], "--since", "72h", "--yes")...); res.code != 0 {
		t.Fatalf("contain: exit %d: %s", res.code, res.stderr)
	}
	dir, err := incidentsDir(func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	read := func(file string) (string, []responders.Record) {
		t.Helper()
		id, err := os.ReadFile(filepath.Join(filepath.Dir(dir), file))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		recs, err := responders.LoadJournal(dir, strings.TrimSpace(string(id)))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(id)), recs
	}
	exID, exRecs := read("current-incident.training." + name)
	dryID, dryRecs := read("current-incident.training." + name + ".dry-run")
	if exID == dryID {
		t.Fatalf("the dry run journaled into the exercise's incident %s", exID)
	}
	for _, r := range exRecs {
		if r.Mode != responders.ModeTraining || r.UserID == victim {
			t.Errorf("exercise journal holds a dry-run record: %+v", r)
		}
	}
	if !slices.ContainsFunc(dryRecs, func(r responders.Record) bool { return r.UserID == victim && r.Mode == responders.ModeDryRun }) {
		t.Errorf("the dry run's own incident does not hold its plan")
	}
	res := c.trun("--training", "--scenario", name, "incident", "report", exID, "--format", "json")
	var rep struct {
		Mode string `json:"mode"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || rep.Mode != "training" {
		t.Errorf("the exercise's report: mode %q (%v), want training\n%s", rep.Mode, err, res.stderr)
	}
	sc := score(t, c, name)
	for _, it := range sc.Items {
		if it.Subject == victim && it.Category == "compromised" && it.Verdict == responders.ScoreRight {
			t.Errorf("the dry run counted as containing %s", victim)
		}
	}
}

// TestTrainingDebriefExposureRunsFromTheFirstSuccessToTheFirstContainment
// contains an account, then runs the playbook on it again: after the end,
// the debrief's exposure starts at the attacker's first successful login
// (not an earlier failed attempt) and ends at the first run that left the
// account fully contained (not the re-run).
func TestTrainingDebriefExposureRunsFromTheFirstSuccessToTheFirstContainment(t *testing.T) {
	t.Parallel()
	name := scenarios.DefaultScenario
	c := newCLI(t)
	key, _ := startExercise(t, c, name)
	victim := ""
	for _, id := range key.Compromised {
		evs := key.Evidence[id]
		if key.EmailChanged[id] == "" && len(key.AttackerFactors[id]) == 0 && (victim == "" || evs[0].Type != "s") {
			victim = id
		}
	}
	var success time.Time
	for _, e := range key.Evidence[victim] {
		if e.Type == "s" {
			success = e.Date
			break
		}
	}
	if success.IsZero() {
		t.Fatalf("no attacker login in the evidence of %s: %+v", victim, key.Evidence[victim])
	}
	base := []string{"--training", "--scenario", name, "contain", victim, "--since", "72h", "--yes"}
	if res := c.trun(base...); res.code != 0 {
		t.Fatalf("contain: exit %d: %s", res.code, res.stderr)
	}
	time.Sleep(1100 * time.Millisecond) // the re-run a second later, as the debrief prints seconds
	if res := c.trun(base...); res.code != 0 {
		t.Fatalf("contain again: exit %d: %s", res.code, res.stderr)
	}
	if res := c.trun("training", "end", "--scenario", name); res.code != 0 {
		t.Fatalf("training end: exit %d: %s", res.code, res.stderr)
	}
	dir, err := incidentsDir(func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	id, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "current-incident.training."+name))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := responders.LoadJournal(dir, strings.TrimSpace(string(id)))
	if err != nil {
		t.Fatal(err)
	}
	// The first run's last containment step, read from the journal.
	first := map[string]time.Time{}
	var rerun time.Time
	for _, r := range recs {
		if r.UserID != victim || r.Kind != responders.KindOutcome || r.Step == responders.StepSnapshot {
			continue
		}
		if _, ok := first[r.Step]; !ok {
			first[r.Step] = r.Time
		} else if r.Time.After(rerun) {
			rerun = r.Time
		}
	}
	var contained time.Time
	for _, at := range first {
		if at.After(contained) {
			contained = at
		}
	}
	const layout = "2006-01-02 15:04:05"
	if contained.UTC().Format(layout) == rerun.UTC().Format(layout) {
		t.Fatalf("the re-run at %s is not apart from the first containment %s", rerun, contained)
	}
	deb := c.trun("training", "debrief", "--scenario", name)
	want := fmt.Sprintf("attacker since %s, contained %s (%s)", success.UTC().Format(layout), contained.UTC().Format(layout),
		contained.Sub(success).Round(time.Minute))
	line := ""
	for _, l := range strings.Split(deb.stdout, "\n") {
		if strings.Contains(l, victim) && strings.Contains(l, "attacker since") {
			line = l
		}
	}
	if !strings.Contains(line, want) {
		t.Errorf("exposure of %s:\n got %q\nwant %q", victim, strings.TrimSpace(line), want)
	}
}

// linesWriter collects a command's output and calls done once it holds
// want lines.
type linesWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want int
	done func()
}

func (w *linesWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if bytes.Count(w.buf.Bytes(), []byte("\n")) >= w.want {
		w.done()
	}
	return n, err
}

func (w *linesWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
