package responders

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// RollbackPlan is what an incident's journal says can and cannot be undone.
type RollbackPlan struct {
	Unblock []string       // users this incident blocked and nobody unblocked since
	Release []netip.Prefix // networks this incident added to the managed ACL
	Cannot  []string       // human lines: what stays done
	Shield  []FieldChange  // Attack Protection fields this incident's shield changed (see ActiveShield)
	// Fingerprints this incident blocked in atoctl's fingerprint ACL.
	Fingerprints []string
}

// PlanRollback reads an incident's journal: only what atoctl itself did (outcome
// "done", live or training) is undone; "already-done" was not atoctl's doing.
func PlanRollback(recs []Record) RollbackPlan {
	var p RollbackPlan
	blocked := map[string]bool{}
	var order []string
	var planned []string // the newest bulk plan's networks, until its ACL write is done
	for _, r := range recs {
		if r.Kind == KindNote && r.Step == NoteBulkPlan {
			var bp BulkPlan
			if json.Unmarshal(r.Evidence, &bp) == nil && bp.ACL {
				planned = bp.Block
			}
			continue
		}
		if r.Kind == KindOutcome && r.Mode != ModeDryRun && r.Step == StepACL && r.Outcome == Done {
			for _, b := range planned {
				if pr, err := netip.ParsePrefix(b); err == nil {
					p.Release = append(p.Release, pr)
				}
			}
			planned = nil
		}
		if r.Kind != KindOutcome || r.Mode == ModeDryRun || r.Outcome != Done {
			continue
		}
		switch r.Step {
		case StepBlock:
			if !blocked[r.UserID] {
				order = append(order, r.UserID)
			}
			blocked[r.UserID] = true
		case StepUnblock:
			blocked[r.UserID] = false
		case StepRevoke:
			p.Cannot = append(p.Cannot, fmt.Sprintf("%s: sessions and refresh tokens revoked (the owner signs in again)", r.UserID))
		case StepReset:
			p.Cannot = append(p.Cannot, fmt.Sprintf("%s: password reset sent (the link stays valid until used or expired)", r.UserID))
		case StepMFA:
			p.Cannot = append(p.Cannot, fmt.Sprintf("%s: MFA factors removed / remembered browsers invalidated (the owner re-enrolls)", r.UserID))
		}
	}
	for _, id := range order {
		if blocked[id] {
			p.Unblock = append(p.Unblock, id)
		}
	}
	p.Shield = ActiveShield(recs)
	p.Fingerprints = BlockedFingerprints(recs)
	return p
}
