package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

// The console end to end, the way an analyst drives it: the real binary in
// a real terminal (tmux) against the persisted training tenant, at 120×40
// and 80×24. It searches a compromised user, opens their sessions, contains
// them with the typed id, opens triage, and bulk-contains the top attacker
// address — asserting on the captured screens, then on the training
// tenant's state read back after the console has quit.

// tmuxTerm is one console running in a private tmux server.
type tmuxTerm struct {
	t      *testing.T
	socket string
	w, h   int
	last   string
}

func (tm *tmuxTerm) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color") // CI may have none
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// screen is the visible pane as text.
func (tm *tmuxTerm) screen() string {
	out, err := tm.tmux("capture-pane", "-p", "-t", "console")
	if err != nil {
		return tm.last
	}
	tm.last = out
	return out
}

// waitFor polls the screen until ok holds, for at most timeout.
func (tm *tmuxTerm) waitFor(what string, timeout time.Duration, ok func(string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(timeout)
	prev := ""
	for {
		// A screen counts once two captures agree: the console redraws
		// changed lines only, and a capture can land between two writes.
		s := tm.screen()
		if ok(s) && s == prev {
			return s
		}
		prev = s
		if time.Now().After(deadline) {
			tm.t.Fatalf("%dx%d: timed out after %s waiting for %s; the screen:\n%s", tm.w, tm.h, timeout, what, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (tm *tmuxTerm) waitText(text string, timeout time.Duration) string {
	tm.t.Helper()
	return tm.waitFor(strconv.Quote(text), timeout, func(s string) bool { return strings.Contains(s, text) })
}

// key presses one named key (Enter, Escape, …).
func (tm *tmuxTerm) key(k string) {
	tm.t.Helper()
	if out, err := tm.tmux("send-keys", "-t", "console", k); err != nil {
		tm.t.Fatalf("send-keys %s: %v %s", k, err, out)
	}
	time.Sleep(30 * time.Millisecond)
}

// typeText types text one key at a time: the console reads a burst of runes
// arriving together as one key press (a paste).
func (tm *tmuxTerm) typeText(text string) {
	tm.t.Helper()
	for _, r := range text {
		if out, err := tm.tmux("send-keys", "-t", "console", "-l", string(r)); err != nil {
			tm.t.Fatalf("send-keys %q: %v %s", r, err, out)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func startConsole(t *testing.T, bin, stateDir string, w, h int) *tmuxTerm {
	t.Helper()
	tm := &tmuxTerm{t: t, socket: fmt.Sprintf("atoctl-test-%d-%dx%d", os.Getpid(), w, h), w: w, h: h}
	cmd := fmt.Sprintf("env XDG_STATE_HOME=%s HOME=%s TERM=xterm-256color %s --training", stateDir, stateDir, bin)
	if out, err := tm.tmux("-f", "/dev/null", "new-session", "-d", "-s", "console", "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), cmd,
		";", "set-option", "-t", "console", "remain-on-exit", "on"); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	t.Cleanup(func() { _, _ = tm.tmux("kill-server") })
	return tm
}

// paneDead reports whether the console has exited.
func (tm *tmuxTerm) paneDead() bool {
	out, err := tm.tmux("display-message", "-p", "-t", "console", "#{pane_dead}")
	return err != nil || strings.TrimSpace(out) == "1"
}

func TestConsoleInTmuxPlaysTheCredentialStuffingExercise(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed: the scripted console test needs it (.ci/run installs it)")
	}
	bin := atoctlBinary(t)
	var mu sync.Mutex
	ends := map[string]consoleEnd{}
	t.Run("sizes", func(t *testing.T) {
		for _, size := range [][2]int{{120, 40}, {80, 24}} {
			name := fmt.Sprintf("%dx%d", size[0], size[1])
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				end := runConsoleScript(t, bin, size[0], size[1])
				mu.Lock()
				ends[name] = end
				mu.Unlock()
			})
		}
	})
	// Both sizes reach the same end state: the same accounts contained,
	// the same networks blocked, the same score.
	a, b := ends["120x40"], ends["80x24"]
	if a.percent == 0 || b.percent == 0 {
		return // a size failed and said why
	}
	if !slices.Equal(a.contained, b.contained) || !slices.Equal(a.blocked, b.blocked) || a.percent != b.percent {
		t.Errorf("the two sizes end differently:\n120x40: %.1f%% contained %v blocked %v\n80x24:  %.1f%% contained %v blocked %v",
			a.percent, a.contained, a.blocked, b.percent, b.contained, b.blocked)
	}
}

// consoleEnd is what a console run left in the training tenant.
type consoleEnd struct {
	percent   float64
	contained []string // accounts blocked with no session or refresh token left
	blocked   []string // networks in a blocking Network ACL
}

// runConsoleScript plays the exercise the way a trainee does, with nothing
// but the console: the findings it opens on, "/" to find the credential
// stuffing, X to run its response with the count typed back, the handled
// accounts marked on the finding's page, the journal on :incident, then q.
// The training score must reach 95%.
func runConsoleScript(t *testing.T, bin string, w, h int) consoleEnd {
	start := time.Now()
	stateDir := t.TempDir()
	getenv := func(k string) string {
		switch k {
		case "XDG_STATE_HOME", "HOME":
			return stateDir
		}
		return ""
	}
	// Create the training tenant (its epoch persisted).
	ts, err := startTrainingSandbox(defaultScenario, getenv)
	if err != nil {
		t.Fatal(err)
	}
	ts.close()

	tm := startConsole(t, bin, stateDir, w, h)

	// 1. Training opens on the findings of two days. The detection reads
	// two days of events at the training tenant's 16 requests/s: up to a
	// couple of minutes here, with the other size reading too.
	tm.waitFor("the findings", 240*time.Second, func(s string) bool {
		return strings.Contains(s, "credential-stuffing-") && strings.Contains(s, "FINDING")
	})
	// 2. Find the credential stuffing with the filter, and open it.
	tm.typeText("/")
	tm.typeText("credential-stuffing")
	tm.key("Enter")
	s := tm.waitFor("the filtered findings", 10*time.Second, func(s string) bool {
		return strings.Contains(s, "/credential-stuffing · 1 of ")
	})
	// The hint line names the finding in full (the column cuts it).
	var m string
	if sm := regexp.MustCompile(`response of (credential-stuffing-[0-9a-f]+)`).FindStringSubmatch(s); sm != nil {
		m = sm[1]
	}
	if m == "" {
		t.Fatalf("no credential-stuffing finding on the screen:\n%s", s)
	}
	tm.key("Enter")
	// (the breadcrumb naming it is cut at 80 columns)
	tm.waitText("X runs the response", 10*time.Second)

	// 3. Run its response: X, the count typed back, enter.
	tm.typeText("X")
	s = tm.waitText("Type the number of accounts (", 60*time.Second)
	if !strings.Contains(s, "[ Cancel ]") {
		t.Errorf("Cancel is not the default:\n%s", s)
	}
	if !strings.Contains(s, "[x] block the networks") {
		t.Errorf("a finding's response blocks its networks (as contain --finding):\n%s", s)
	}
	n := regexp.MustCompile(`Type the number of accounts \((\d+)\)`).FindStringSubmatch(s)
	if n == nil || n[1] == "0" {
		t.Fatalf("no accounts to contain for %s:\n%s", m, s)
	}
	tm.typeText(n[1])
	tm.waitText("[ Confirm ]", 10*time.Second)
	tm.key("Enter")
	s = tm.waitFor("the end of the run", 180*time.Second, func(s string) bool {
		return strings.Contains(s, "esc or enter closes")
	})
	if strings.Contains(s, "cancelled") || strings.Contains(s, "FAILED") {
		t.Errorf("the response did not run through:\n%s", s)
	}
	tm.key("Escape")
	// 4. The finding's accounts are marked handled without a refresh.
	s = tm.waitText("contained", 10*time.Second)
	if !strings.Contains(s, "✓ COMPROMISED") {
		t.Errorf("the finding's page does not tick the handled accounts:\n%s", s)
	}

	// 5. Quit (no job runs: at once).
	tm.typeText("q")
	tm.waitFor("the console to exit", 15*time.Second, func(string) bool { return tm.paneDead() })
	_, _ = tm.tmux("kill-server")

	// The exercise, scored as `atoctl training score` scores it.
	dir, err := incidentsDir(getenv)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("want one incident journal, found %v", files)
	}
	recs, err := responders.LoadJournal(dir, strings.TrimSuffix(filepath.Base(files[0]), ".ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err = loadTrainingSandbox(defaultScenario, getenv)
	if err != nil {
		t.Fatal(err)
	}
	defer ts.close()
	sc := responders.Score(answerKey(ts.key), ts.exercise(recs))
	if sc.Percent < 95 {
		var b strings.Builder
		_ = sc.WriteText(&b)
		t.Errorf("%dx%d: training score %.1f%%, want at least 95%%:\n%s", w, h, sc.Percent, b.String())
	}
	end := consoleEnd{percent: sc.Percent}
	ts.srv.View(func(st *sandbox.State) {
		holds := map[string]int{}
		for _, x := range st.Sessions {
			holds[x.UserID]++
		}
		for _, x := range st.RefreshTokens {
			holds[x.UserID]++
		}
		for _, u := range st.Users {
			if u.Blocked && holds[u.UserID] == 0 {
				end.contained = append(end.contained, u.UserID)
			}
		}
		for _, a := range st.NetworkACLs {
			if a.Rule.Match != nil && a.Rule.Action.Block {
				end.blocked = append(end.blocked, a.Rule.Match.IPv4CIDRs...)
			}
		}
	})
	slices.Sort(end.contained)
	slices.Sort(end.blocked)
	for _, id := range ts.key.Compromised {
		if !slices.Contains(end.contained, id) {
			t.Errorf("%s (compromised) is not contained after the console", id)
		}
	}
	t.Logf("%dx%d: %s, score %.1f%%, %d contained, %d networks blocked", w, h, time.Since(start).Round(time.Second), sc.Percent, len(end.contained), len(end.blocked))
	return end
}
