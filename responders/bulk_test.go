package responders

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// sapiWrites are the Management API writes the sandbox logged (sapi), in
// the order it applied them: "PATCH /api/v2/users/…", …
func sapiWrites(srv *sandbox.Server, after int) []string {
	var out []string
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs[after:] {
			if e.Type != "sapi" {
				continue
			}
			req, _ := e.Details["request"].(map[string]any)
			m, _ := req["method"].(string)
			p, _ := req["path"].(string)
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	})
	return out
}

func logCount(srv *sandbox.Server) (n int) {
	srv.View(func(st *sandbox.State) { n = len(st.Logs) })
	return n
}

func TestBulkLocksTheAttackerOutFirst(t *testing.T) {
	const accounts = 6
	bt := newBulkTenant(t, accounts, 200)
	before := logCount(bt.srv)
	run := containInBulk(t, bt, []string{"198.51.100.0/24"})
	assertContained(t, bt, run)

	writes := sapiWrites(bt.srv, before)
	if len(writes) == 0 || !strings.HasPrefix(writes[0], "POST /api/v2/network-acls") {
		t.Fatalf("first write %v, want the Network ACL", writes)
	}
	lastBlock, firstRevoke := -1, -1
	for i, w := range writes {
		switch {
		case strings.HasPrefix(w, "PATCH /api/v2/users/"):
			lastBlock = i
		case strings.HasSuffix(w, "/sessions") || strings.HasSuffix(w, "/refresh-tokens"):
			if firstRevoke < 0 {
				firstRevoke = i
			}
		}
	}
	if lastBlock < 0 || firstRevoke < 0 || lastBlock > firstRevoke {
		t.Fatalf("every block must come before the first revoke; writes in order: %v", writes)
	}
	perAccount := float64(run.stats.ManagementRequests) / accounts
	if perAccount > 10 {
		t.Errorf("%.1f Management API requests per account (%v), want at most 10", perAccount, run.stats.ByRoute)
	}
	if n := run.stats.ByRoute["GET /api/v2/actions/triggers/{id}/bindings"]; n != 1 {
		t.Errorf("the unblock Action was read %d times, want once per run", n)
	}
	for _, r := range run.results {
		var steps []string
		for _, s := range r.Steps {
			steps = append(steps, s.Step+"="+string(s.Outcome))
		}
		if len(r.Steps) != len(DefaultSteps) {
			t.Errorf("%s: steps %v, want the whole playbook", r.UserID, steps)
		}
	}
}

func TestBulkResumeSendsNoSecondReset(t *testing.T) {
	bt := newBulkTenant(t, 3, 200)
	first := containInBulk(t, bt, nil)
	assertContained(t, bt, first)
	// The same plan again, as --resume runs it: every step already done.
	b := &Bulk{Client: bt.c, Writer: bt.c, Journal: bt.j, Resume: true, Opts: bt.opts(),
		Plan: BulkPlan{Since: bt.opts().WindowStart, Compromised: bt.users}}
	res, err := b.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished {
		t.Fatal("the resumed run did not finish")
	}
	for _, u := range bt.users {
		if n := bt.srv.ResetRequests(u); n != 1 {
			t.Errorf("%s: %d reset emails after the resume, want 1", u, n)
		}
	}
}

func TestRunnerContainsAnAccountNamedTwiceOnce(t *testing.T) {
	bt := newBulkTenant(t, 1, 200)
	steps, err := ParseSteps([]string{"snapshot,block,revoke,reset"})
	if err != nil {
		t.Fatal(err)
	}
	id := bt.users[0]
	r := &Runner{Client: bt.c, Writer: bt.c, Journal: bt.j, Steps: steps, Opts: bt.opts()}
	res, err := r.Run(context.Background(), []string{id, id, id})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results for one account named three times, want 1", len(res))
	}
	if n := bt.srv.ResetRequests(id); n != 1 {
		t.Fatalf("%d reset emails, want 1", n)
	}
	if n := bt.srv.Stats().ByRoute["PATCH /api/v2/users/{id}"]; n != 1 {
		t.Fatalf("%d block PATCHes, want 1", n)
	}
}

func TestRunnerRefusesToRunWithoutAJournal(t *testing.T) {
	bt := newBulkTenant(t, 1, 200)
	steps, _ := ParseSteps([]string{"block"})
	bt.srv.ResetStats()
	r := &Runner{Client: bt.c, Writer: bt.c, Steps: steps, Opts: bt.opts()}
	if _, err := r.Run(context.Background(), bt.users); !errors.Is(err, ErrNoJournal) {
		t.Fatalf("Run without a journal: %v, want ErrNoJournal", err)
	}
	b := &Bulk{Client: bt.c, Writer: bt.c, Plan: BulkPlan{Compromised: bt.users}, Opts: bt.opts()}
	if _, err := b.Run(context.Background(), nil); !errors.Is(err, ErrNoJournal) {
		t.Fatalf("Bulk without a journal: %v, want ErrNoJournal", err)
	}
	if n := bt.srv.Stats().Requests; n != 0 {
		t.Fatalf("%d requests sent without a journal, want 0", n)
	}
}

func TestParseStepsRunsInPlaybookOrder(t *testing.T) {
	cases := []struct {
		in      string
		want    string
		wantErr string
	}{
		{"reset,block", "block,reset", ""},
		{"unblock-check,reset,revoke,block,snapshot", "snapshot,block,revoke,reset,unblock-check", ""},
		{"mfa,snapshot,reset", "snapshot,mfa,reset", ""},
		{"block,block", "", "named twice"},
		{"unblock", "", "unknown step"},
		{"nope", "", "unknown step"},
		{" , ", "", "no steps"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			steps, err := ParseSteps([]string{c.in})
			if c.wantErr != "" {
				if err == nil || !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("ParseSteps(%q) = %v, want bad input %q", c.in, err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range steps {
				names = append(names, s.Name())
			}
			if got := strings.Join(names, ","); got != c.want {
				t.Fatalf("ParseSteps(%q) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

func TestProgressCountsAccountsAcrossPhases(t *testing.T) {
	plan := BulkPlan{Compromised: []string{"a", "b"}, StoppedByMFA: []string{"c"}, ResetMFAStopped: true}
	p := NewProgress(plan.StepsFor())
	if p.Total != 3 {
		t.Fatalf("total %d, want 3", p.Total)
	}
	evs := []Event{{Phase: PhaseBlock, Outcome: Running}}
	for _, u := range []string{"a", "b"} {
		evs = append(evs, Event{UserID: u, Step: StepBlock, Outcome: Running}, Event{UserID: u, Step: StepBlock, Outcome: Done})
	}
	evs = append(evs, Event{UserID: "b", Outcome: Failed, Error: "read user: not found"}) // b could not be loaded
	for _, s := range []string{StepSnapshot, StepRevoke, StepReset, StepUnblockCheck} {
		evs = append(evs, Event{UserID: "a", Step: s, Outcome: Done})
	}
	evs = append(evs, Event{UserID: "c", Step: StepReset, Outcome: Done})
	for _, ev := range evs {
		p.Add(ev)
	}
	if p.Finished != 3 || p.Failed != 1 || len(p.Failures) != 1 || p.Phase != PhaseBlock {
		t.Fatalf("progress %+v, want 3 finished, 1 failed, phase block", p)
	}
}
