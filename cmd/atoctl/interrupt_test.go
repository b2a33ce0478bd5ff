package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/responders"
)

// Ctrl+C in ip contain: one line per state, not a "not started" failure
// line per untouched account, and no raw "context canceled".
func TestIPContainInterruptedPrintsOneLinePerState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	j, err := responders.OpenJournal(dir, "inc-20261201-1200-abcd", responders.JournalMeta{Operator: "t@h", Tenant: "127.0.0.1", Mode: responders.ModeTraining})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	var results []responders.UserResult
	results = append(results,
		responders.UserResult{UserID: "auth0|done", Steps: []responders.StepResult{{Step: responders.StepBlock, Outcome: responders.Done}}},
		responders.UserResult{UserID: "auth0|failed", Steps: []responders.StepResult{{Step: responders.StepBlock, Outcome: responders.Failed, Error: "503"}}})
	for i := range 290 {
		results = append(results, responders.UserResult{UserID: fmt.Sprintf("auth0|untouched%03d", i), Error: "not started: " + context.Canceled.Error()})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	env := &environment{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	err = reportBulk(ctx, env, j, "inc-20261201-1200-abcd", bulkPlan{}, nil, nil, results, nil)
	if !errors.Is(err, context.Canceled) || exitCode(err) != exitInterrupted {
		t.Fatalf("err %v (exit %d), want an interruption (exit 130)", err, exitCode(err))
	}
	msg := err.Error()
	for _, want := range []string{"1 account done", "1 failed", "290 not started", "--resume --incident inc-20261201-1200-abcd"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the summary %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "context canceled") {
		t.Errorf("raw cancellation in the summary: %q", msg)
	}
	out := stdout.String() + stderr.String()
	if n := strings.Count(out, "untouched"); n != 0 {
		t.Errorf("%d lines name untouched accounts:\n%s", n, out)
	}
	if !strings.Contains(out, "auth0|failed") || !strings.Contains(out, "auth0|done") {
		t.Errorf("the accounts the run reached are not listed:\n%s", out)
	}
}
