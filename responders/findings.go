package responders

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// SavedFindings are the findings of the last detection on a tenant, kept so
// that `contain --finding ID` acts on exactly the accounts the analyst saw
// (a live attack keeps changing them).
type SavedFindings struct {
	Tenant   string          `json:"tenant"`
	Since    time.Time       `json:"since"`
	At       time.Time       `json:"at"`
	Findings []AttackFinding `json:"findings"`
}

// SaveFindings writes findings to path (mode 0600: they name accounts).
func SaveFindings(path string, f SavedFindings) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadFinding reads the saved finding id from path.
func LoadFinding(path, id string) (AttackFinding, SavedFindings, error) {
	var saved SavedFindings
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return AttackFinding{}, saved, BadInput("no findings saved for this tenant: run 'atoctl detect' first")
	}
	if err != nil {
		return AttackFinding{}, saved, err
	}
	if err := json.Unmarshal(data, &saved); err != nil {
		return AttackFinding{}, saved, fmt.Errorf("read the saved findings %s: %w", path, err)
	}
	for _, f := range saved.Findings {
		if f.ID == id {
			return f, saved, nil
		}
	}
	var ids []string
	for _, f := range saved.Findings {
		ids = append(ids, f.ID)
	}
	return AttackFinding{}, saved, BadInput("no finding %s among the %d findings of the last detect (%s): run 'atoctl detect' again", auth0client.Clean(id), len(ids), auth0client.Clean(fmt.Sprint(ids)))
}

// PlanFinding turns a finding into a bulk plan: each account with its own
// steps and reset method, the networks blocked first (never the guarded
// ones, never wider than the blast radius without allowWide).
func PlanFinding(f AttackFinding, since time.Time, guard Guard, allowWide int) (BulkPlan, error) {
	plan := BulkPlan{Since: since, Finding: f.ID, Steps: map[string][]string{}, AllowWide: allowWide}
	for _, a := range f.Accounts {
		if a.UserID == "" {
			continue // an account known only by name: nothing to act on
		}
		switch a.Verdict {
		case VerdictCompromised:
			plan.Compromised = append(plan.Compromised, a.UserID)
		case VerdictStoppedByMFA:
			plan.StoppedByMFA = append(plan.StoppedByMFA, a.UserID)
		default:
			plan.Targeted = append(plan.Targeted, a.UserID)
		}
		steps, err := ParseSteps(a.Steps)
		if len(a.Steps) == 0 {
			steps, err = nil, nil
		}
		if err != nil {
			return plan, fmt.Errorf("finding %s: account %s: %w", f.ID, a.UserID, err)
		}
		names := make([]string, 0, len(steps))
		for _, s := range steps {
			names = append(names, s.Name())
		}
		plan.Steps[a.UserID] = names
		if a.ResetMethod == "ticket" {
			plan.TicketResets = append(plan.TicketResets, a.UserID)
		}
	}
	var nets []netip.Prefix
	for _, n := range f.Networks {
		p, err := ParseNetwork(n)
		if err != nil {
			continue
		}
		nets = append(nets, p)
	}
	if err := CheckBlastRadius(nets, allowWide); err != nil {
		return plan, err
	}
	for _, p := range nets {
		plan.Targets = append(plan.Targets, p.String())
		if slices.ContainsFunc(append(slices.Clone(guard.Allow), guard.Operators...), p.Overlaps) {
			plan.Refused = append(plan.Refused, Refusal{CIDR: p.String(), Reason: "overlaps an allowlisted network or the operator's"})
			continue
		}
		plan.Block = append(plan.Block, p.String())
	}
	plan.ACL = len(plan.Block) > 0
	return plan, nil
}
