package responders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Journal notes of a bulk run: the plan, written before anything is sent,
// so a resume finishes exactly the same work after a crash; and the end,
// so a reader can tell a finished run from an interrupted one.
const (
	NoteBulkPlan = "bulk-plan"
	NoteBulkDone = "bulk-done"
)

// ErrNoBulkPlan: the incident's journal holds no bulk run.
var ErrNoBulkPlan = errors.New("the incident has no bulk run")

// BulkPlan is what bulk discovery decided about attacking networks: the
// accounts by verdict, the networks to block and those refused.
type BulkPlan struct {
	Targets         []string  `json:"targets"`
	Since           time.Time `json:"since"`
	Compromised     []string  `json:"compromised"`
	StoppedByMFA    []string  `json:"stopped_by_mfa"`
	Targeted        []string  `json:"targeted"`
	Block           []string  `json:"block,omitempty"`
	Refused         []Refusal `json:"refused,omitempty"`
	ACL             bool      `json:"acl"`
	ResetTargeted   bool      `json:"reset_targeted"`
	ResetMFAStopped bool      `json:"reset_mfa_stopped"`
}

// Accounts is how many accounts the run writes to: the compromised ones,
// and those whose reset the plan asks for.
func (p BulkPlan) Accounts() int {
	n := len(p.Compromised)
	if p.ResetMFAStopped {
		n += len(p.StoppedByMFA)
	}
	if p.ResetTargeted {
		n += len(p.Targeted)
	}
	return n
}

// BulkDiscovery is what bulk discovery looks at.
type BulkDiscovery struct {
	Targets []netip.Prefix
	Since   time.Time
	// Allow and Operators are never blocked; operators are never evidence.
	Allow, Operators []netip.Prefix
	// Events returns the tenant's events from inside prefix since Since.
	Events func(ctx context.Context, prefix netip.Prefix) ([]auth0client.LogEvent, error)
}

// DiscoverBulk reads the targets' events in the window, triages them, and
// decides which networks may be blocked: never shared infrastructure (an
// address many accounts sign in from), an allowlisted network or the
// operator's own.
func DiscoverBulk(ctx context.Context, d BulkDiscovery) (BulkPlan, error) {
	cfg := TriageConfig{Since: d.Since, Allowlist: d.Allow}
	for _, op := range d.Operators {
		cfg.OperatorIPs = append(cfg.OperatorIPs, op.Addr())
	}
	tri := NewTriage(cfg)
	plan := BulkPlan{Since: d.Since}
	for _, t := range d.Targets {
		plan.Targets = append(plan.Targets, t.String())
		events, err := d.Events(ctx, t)
		if err != nil {
			return plan, fmt.Errorf("discover %s: %w", t, err)
		}
		for _, e := range events {
			tri.Add(TriageEventFrom(e))
		}
	}
	res := tri.Result()
	for _, a := range res.Accounts {
		switch a.Verdict {
		case VerdictCompromised:
			plan.Compromised = append(plan.Compromised, a.UserID)
		case VerdictStoppedByMFA:
			plan.StoppedByMFA = append(plan.StoppedByMFA, a.UserID)
		case VerdictTargeted:
			plan.Targeted = append(plan.Targeted, a.UserID)
		}
	}
	shared := map[string]IPLabel{}
	for _, ip := range res.IPs {
		if ip.Label.IsShared() {
			shared[ip.IP] = ip.Label
		}
	}
	for _, t := range d.Targets {
		why := ""
		for ip, label := range shared {
			if a, err := netip.ParseAddr(ip); err == nil && t.Contains(a) {
				why = fmt.Sprintf("%s is %s infrastructure (many accounts sign in from it successfully)", ip, label)
			}
		}
		for _, p := range append(append([]netip.Prefix{}, d.Allow...), d.Operators...) {
			if p.Overlaps(t) {
				why = fmt.Sprintf("overlaps %s (allowlisted or the operator's)", p)
			}
		}
		if why != "" {
			plan.Refused = append(plan.Refused, Refusal{CIDR: t.String(), Reason: why})
			continue
		}
		plan.Block = append(plan.Block, t.String())
	}
	return plan, nil
}

// JournaledBulkPlan finds the newest bulk plan of an incident and whether
// a bulk-done note follows it (the run finished).
func JournaledBulkPlan(recs []Record) (plan BulkPlan, finished bool, err error) {
	for i := len(recs) - 1; i >= 0; i-- {
		r := recs[i]
		if r.Kind != KindNote {
			continue
		}
		switch r.Step {
		case NoteBulkDone:
			finished = true
		case NoteBulkPlan:
			if err := json.Unmarshal(r.Evidence, &plan); err != nil {
				return plan, false, fmt.Errorf("the incident's bulk plan is unreadable: %w", err)
			}
			return plan, finished, nil
		}
	}
	return BulkPlan{}, false, ErrNoBulkPlan
}

// PlanBulkACL plans the Network ACL entries of a plan's networks.
func PlanBulkACL(ctx context.Context, c *auth0client.Client, incident string, plan BulkPlan) (*ACLPlan, error) {
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return nil, err
	}
	var block []netip.Prefix
	for _, b := range plan.Block {
		if p, err := netip.ParsePrefix(b); err == nil {
			block = append(block, p)
		}
	}
	// Discovery already refused what must not be blocked.
	p, err := PlanACL(acls, incident, block, func(netip.Prefix) string { return "" })
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Bulk runs a bulk plan: the playbook on the compromised accounts, resets
// for the others when the plan asks, at the shared rate budget, journaled.
// The CLI and the console drive it phase by phase, each with its progress.
type Bulk struct {
	Client  *auth0client.Client
	Writer  auth0client.Writer
	DryRun  bool
	Journal JournalWriter
	Plan    BulkPlan
	Opts    Options
	// Workers is how many accounts are worked on at once (default 8).
	Workers int
}

// BulkPhase is one pass of a bulk run: the same steps on a list of users.
type BulkPhase struct {
	Name  string
	Users []string
	Steps []string
}

// Phases are the passes the plan asks for, in order, empty ones left out.
func (b *Bulk) Phases() []BulkPhase {
	p := b.Plan
	var out []BulkPhase
	add := func(name string, users, steps []string) {
		if len(users) > 0 {
			out = append(out, BulkPhase{Name: name, Users: users, Steps: steps})
		}
	}
	add("contain compromised", p.Compromised, DefaultSteps)
	if p.ResetMFAStopped {
		add("reset stopped by MFA", p.StoppedByMFA, []string{StepReset})
	}
	if p.ResetTargeted {
		add("reset targeted", p.Targeted, []string{StepReset})
	}
	return out
}

// RecordPlan journals the plan before anything is sent.
func (b *Bulk) RecordPlan() error {
	ev, err := json.Marshal(b.Plan)
	if err != nil {
		return err
	}
	if _, err := b.Journal.Append(Record{Kind: KindNote, Step: NoteBulkPlan, Reason: "bulk containment targets", Evidence: ev}); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// RecordDone journals that the run reached its end (failures included).
func (b *Bulk) RecordDone(results []UserResult) error {
	failed := 0
	for _, r := range results {
		if r.Failed() {
			failed++
		}
	}
	reason := fmt.Sprintf("bulk run ended: %d accounts, %d with failures", len(results), failed)
	if _, err := b.Journal.Append(Record{Kind: KindNote, Step: NoteBulkDone, Reason: reason}); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// RunPhase runs one phase; events (if not nil) receive its progress and
// must be drained.
func (b *Bulk) RunPhase(ctx context.Context, ph BulkPhase, events chan<- Event) ([]UserResult, error) {
	var steps []Step
	for _, n := range ph.Steps {
		s, err := StepByName(n)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	r := &Runner{Client: b.Client, Writer: b.Writer, DryRun: b.DryRun, Journal: b.Journal, Steps: steps, Opts: b.Opts, Workers: b.Workers, Events: events}
	return r.Run(ctx, ph.Users), nil
}
