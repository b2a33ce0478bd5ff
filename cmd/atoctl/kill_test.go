package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// atoctlBinary builds the real command once per test run.
func atoctlBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "atoctl-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "atoctl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build atoctl: %v", buildErr)
	}
	return binPath
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// killAt runs the real atoctl with args and SIGKILLs it once its journal
// holds at least offset records.
func killAt(t *testing.T, c *cli, bin, journal string, offset int, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for countLines(journal) < offset && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if n := countLines(journal); n < offset {
		t.Fatalf("journal had %d records when killed, wanted ≥ %d\n%s", n, offset, stderr.String())
	}
}

// TestKilledContainResumesWithoutRepeatingVerifiedSteps SIGKILLs a real
// `atoctl contain` at several journal offsets, reruns it on the same
// incident, and checks the tenant ends contained with no step redone.
func TestKilledContainResumesWithoutRepeatingVerifiedSteps(t *testing.T) {
	t.Parallel()
	bin := atoctlBinary(t)
	for _, offset := range []int{1, 4, 9, 15} {
		t.Run("offset-"+strconv.Itoa(offset), func(t *testing.T) {
			c := newCLI(t)
			srv, compromised, _ := c.containSandbox(sandbox.WithFaults(sandbox.Faults{Latency: 40 * time.Millisecond}))
			users := compromised[:3]
			incident := "inc-kill-" + strconv.Itoa(offset)
			journal := filepath.Join(c.env["XDG_STATE_HOME"], "atoctl", "incidents", incident+".ndjson")

			killAt(t, c, bin, journal, offset, append([]string{"contain", "--yes", "--json", "--concurrency", "2", "--incident", incident}, users...)...)
			done := map[string]bool{} // user/step verified before the kill
			recs, _ := responders.LoadJournal(filepath.Dir(journal), incident)
			for _, r := range recs {
				if r.Kind == "outcome" && r.Outcome == responders.Done && r.Step != responders.StepUnblockCheck {
					done[r.UserID+"/"+r.Step] = true
				}
			}

			res := c.run(append([]string{"contain", "--yes", "--json", "--incident", incident}, users...)...)
			if res.code == exitPartial && strings.Contains(res.stdout, "--resend") {
				// Killed between a reset's intent and its confirmation: atoctl
				// will not resend on its own; the analyst asks for it.
				res = c.run(append([]string{"contain", "--yes", "--json", "--resend", "--incident", incident}, users...)...)
			}
			if res.code != 0 {
				t.Fatalf("rerun: exit %d\n%s\n%s", res.code, res.stderr, res.stdout)
			}
			out := decodeContain(t, res)
			for key := range done {
				user, step, _ := strings.Cut(key, "/")
				if got, _ := out.outcome(user, step); got != string(responders.AlreadyDone) {
					t.Errorf("%s was verified before the kill but the rerun says %s", key, got)
				}
			}
			for _, u := range users {
				contained(t, srv, u)
			}
			if res := c.run("incident", "verify", incident); res.code != 0 {
				t.Fatalf("journal does not verify after the kill: %s", res.stderr)
			}
		})
	}
}
