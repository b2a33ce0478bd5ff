package responders

import (
	"testing"
)

func TestHandledFromReadsWhatTookEffect(t *testing.T) {
	aclCall := Call{Method: "POST", Path: "/api/v2/network-acls", Body: map[string]any{
		"rule": map[string]any{"match": map[string]any{"ipv4_cidrs": []any{"193.42.33.0/24", "45.76.103.155/32"}}},
	}}
	recs := []Record{
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u1", Step: StepBlock, Outcome: Done},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u1", Step: StepRevoke, Outcome: AlreadyDone},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u2", Step: StepReset, Outcome: AwaitingConfirmation},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u3", Step: StepBlock, Outcome: Failed},
		{Kind: KindOutcome, Mode: ModeDryRun, UserID: "u4", Step: StepBlock, Outcome: Planned},
		{Kind: KindIntent, Mode: ModeLive, UserID: "u5", Step: StepBlock},
		{Kind: KindOutcome, Mode: ModeLive, UserID: "u6", Step: StepBlock, Outcome: Done},
		{Kind: KindOutcome, Mode: ModeLive, UserID: "u6", Step: StepUnblock, Outcome: Done},
		{Kind: KindOutcome, Mode: ModeTraining, Step: StepACL, Outcome: Failed, Error: "7 entries did not fit", Calls: []Call{aclCall}},
	}
	h := HandledFrom(recs)
	for _, tc := range []struct{ user, want string }{
		{"u1", "contained"}, {"u2", "reset"}, {"u3", ""}, {"u4", ""}, {"u5", ""}, {"u6", ""}, {"nobody", ""},
	} {
		if got := h.Users[tc.user].Label(); got != tc.want {
			t.Errorf("%s: label %q, want %q", tc.user, got, tc.want)
		}
	}
	for _, tc := range []struct {
		target string
		want   bool
	}{
		{"193.42.33.7", true}, {"193.42.33.0/25", true}, {"193.42.0.0/16", false}, {"45.76.103.155", true}, {"45.76.103.156", false}, {"nonsense", false},
	} {
		if got := h.NetworkBlocked(tc.target); got != tc.want {
			t.Errorf("NetworkBlocked(%s) = %v, want %v", tc.target, got, tc.want)
		}
	}
	// Releasing the ACL (DELETE) leaves nothing blocked.
	recs = append(recs, Record{Kind: KindOutcome, Mode: ModeTraining, Step: StepACLRelease, Outcome: Done, Calls: []Call{{Method: "DELETE", Path: "/api/v2/network-acls/x"}}})
	if h := HandledFrom(recs); len(h.Networks) != 0 {
		t.Errorf("after the release: %v still blocked", h.Networks)
	}
}

func TestFinishedInJournalSeedsAResumedProgress(t *testing.T) {
	plan := BulkPlan{Compromised: []string{"u1", "u2", "u3"}, Steps: map[string][]string{"u1": {StepBlock, StepRevoke}, "u2": {StepBlock, StepRevoke}, "u3": {StepBlock, StepRevoke}}}
	recs := []Record{
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u1", Step: StepBlock, Outcome: Done},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u1", Step: StepRevoke, Outcome: AlreadyDone},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u2", Step: StepBlock, Outcome: Done},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u2", Step: StepRevoke, Outcome: Failed},
		{Kind: KindOutcome, Mode: ModeTraining, UserID: "u3", Step: StepBlock, Outcome: Done},
	}
	got := FinishedInJournal(recs, plan)
	if len(got) != 1 || got[0] != "u1" {
		t.Fatalf("finished %v, want [u1]", got)
	}
	p := NewProgress(plan.StepsFor())
	p.Seed(got)
	// The resume re-verifies u1: not counted twice.
	p.Add(Event{UserID: "u1", Step: StepBlock, Outcome: AlreadyDone})
	p.Add(Event{UserID: "u1", Step: StepRevoke, Outcome: AlreadyDone})
	p.Add(Event{UserID: "u2", Step: StepBlock, Outcome: AlreadyDone})
	p.Add(Event{UserID: "u2", Step: StepRevoke, Outcome: Done})
	if p.Finished != 2 || p.Total != 3 {
		t.Errorf("progress %d/%d, want 2/3", p.Finished, p.Total)
	}
}
