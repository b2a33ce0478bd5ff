package responders

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// A reset Auth0 refuses with change_password's per-address limit (10 to one
// address from one IP, then 1 a minute) is a failed step that says no email
// went out and when to retry, journaled as failed (so the next run sends
// it), without holding the other accounts of the run.
func TestResetRefusedByTheAddressLimitIsJournaledAsFailed(t *testing.T) {
	bt := newBulkTenant(t, 2, 0)
	victim := bt.users[0]
	var email, conn, app string
	bt.srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == victim {
				email, conn = u.Email, u.Identities[0].Connection
			}
		}
		for _, c := range st.Connections {
			if c.Name == conn {
				app = c.EnabledClients[0]
			}
		}
	})
	// Someone (the attacker, or an earlier run) used up the address's burst.
	for range 10 {
		if err := bt.c.SendPasswordResetEmail(context.Background(), app, email, conn); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	plan := BulkPlan{Since: bt.opts().WindowStart, Compromised: bt.users}
	b := &Bulk{Client: bt.c, Writer: bt.c, Journal: bt.j, Plan: plan, Opts: bt.opts(), Workers: DefaultBulkWorkers}
	res, err := b.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Errorf("the run took %s: it waited out the per-address limit", took)
	}
	for _, r := range res.Results {
		var reset *StepResult
		for i := range r.Steps {
			if r.Steps[i].Step == StepReset {
				reset = &r.Steps[i]
			}
		}
		if reset == nil {
			t.Fatalf("%s: no reset step in %+v", r.UserID, r.Steps)
		}
		if r.UserID != victim {
			if reset.Outcome != Done {
				t.Errorf("%s (not limited): reset %s %s", r.UserID, reset.Outcome, reset.Error)
			}
			continue
		}
		if reset.Outcome != Failed || !strings.Contains(reset.Error, "no email was sent") || !strings.Contains(reset.Error, "again in") {
			t.Errorf("limited reset: %s %q, want failed saying no email was sent and when to retry", reset.Outcome, reset.Error)
		}
	}
	if n := bt.srv.ResetRequests(victim); n != 10 {
		t.Errorf("%d reset requests logged for the limited address, want the 10 before the run", n)
	}
	recs, err := LoadJournal(bt.journal, "inc-bulk")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range recs {
		if rec.Kind == KindOutcome && rec.UserID == victim && rec.Step == StepReset {
			found = rec.Outcome == Failed && strings.Contains(rec.Error, "no email was sent")
		}
	}
	if !found {
		t.Error("the journal does not hold the refused reset as failed with its reason")
	}
}
