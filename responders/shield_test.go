package responders

import (
	"encoding/json"
	"strings"
	"testing"
)

func shieldRecord(t *testing.T, step string, mode Mode, o Outcome, changes ...FieldChange) Record {
	t.Helper()
	ev, err := json.Marshal(ShieldEvidence{Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	return Record{Kind: KindOutcome, Step: step, Mode: mode, Outcome: o, Evidence: ev}
}

func fc(feature, field, before, after string) FieldChange {
	return FieldChange{Feature: feature, Field: field, Before: json.RawMessage(before), After: json.RawMessage(after)}
}

func TestActiveShieldKeepsTheFirstBeforeAndTheLastAfter(t *testing.T) {
	bf := "brute-force-protection"
	tests := []struct {
		name string
		recs []Record
		want []FieldChange
	}{
		{"none", nil, nil},
		{"one up", []Record{shieldRecord(t, StepShield, ModeTraining, Done, fc(bf, "max_attempts", "10", "5"))},
			[]FieldChange{fc(bf, "max_attempts", "10", "5")}},
		{"two ups: the tenant's own value stays the before",
			[]Record{shieldRecord(t, StepShield, ModeLive, Done, fc(bf, "max_attempts", "10", "5")),
				shieldRecord(t, StepShield, ModeLive, Done, fc(bf, "max_attempts", "5", "3"))},
			[]FieldChange{fc(bf, "max_attempts", "10", "3")}},
		{"up then down",
			[]Record{shieldRecord(t, StepShield, ModeLive, Done, fc(bf, "max_attempts", "10", "5")),
				shieldRecord(t, StepShieldDown, ModeLive, Done, fc(bf, "max_attempts", "5", "10"))},
			nil},
		{"dry-run and failed records change nothing",
			[]Record{shieldRecord(t, StepShield, ModeDryRun, Planned, fc(bf, "max_attempts", "10", "5")),
				shieldRecord(t, StepShield, ModeLive, Failed, fc(bf, "max_attempts", "10", "5"))},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ActiveShield(tt.recs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i].String() != tt.want[i].String() {
					t.Errorf("got %s, want %s", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestShieldRulesNeverLoosenAField(t *testing.T) {
	rules := shieldRules(nil)
	tests := []struct {
		feature, field string
		cur            any
		level          string
		tighter        bool
	}{
		{"bot-detection", "bot_detection_level", "high", ShieldElevated, false},
		{"bot-detection", "bot_detection_level", "low", ShieldElevated, true},
		{"bot-detection", "challenge_password_policy", "always", ShieldElevated, false},
		{"brute-force-protection", "max_attempts", json.Number("2"), ShieldMax, false},
		{"brute-force-protection", "max_attempts", json.Number("10"), ShieldMax, true},
		{"suspicious-ip-throttling", "stage.pre-login.rate", json.Number("9000000"), ShieldMax, false},
		{"suspicious-ip-throttling", "shields", []any{"admin_notification"}, ShieldElevated, true},
		{"suspicious-ip-throttling", "shields", []any{"block"}, ShieldElevated, false},
	}
	for _, tt := range tests {
		found := false
		for _, r := range rules {
			if r.feature != tt.feature || joinPath(r.path) != tt.field {
				continue
			}
			found = true
			if _, tighter := r.target(tt.cur, tt.level); tighter != tt.tighter {
				t.Errorf("%s %s from %v at %s: tighter=%v, want %v", tt.feature, tt.field, tt.cur, tt.level, tighter, tt.tighter)
			}
		}
		if !found {
			t.Errorf("no rule for %s %s", tt.feature, tt.field)
		}
	}
}

func joinPath(p []string) string { return strings.Join(p, ".") }

func TestBlockedFingerprintsFollowsBlocksAndReleases(t *testing.T) {
	rec := func(step string, fps ...string) Record {
		ev, _ := json.Marshal(fingerprintEvidence{fps})
		return Record{Kind: KindOutcome, Step: step, Mode: ModeTraining, Outcome: Done, Evidence: ev}
	}
	recs := []Record{rec(StepFingerprintACL, "a", "b"), rec(StepFingerprintRelease, "a"), rec(StepFingerprintACL, "c")}
	got := BlockedFingerprints(recs)
	if len(got) != 2 || got[0] != "b" || got[1] != "c" {
		t.Fatalf("got %v, want [b c]", got)
	}
}
