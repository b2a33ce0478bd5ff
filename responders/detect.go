package responders

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// AttackKind names an account-takeover attack of the seed guide.
type AttackKind string

// The attacks atoctl detects, after the Auth0 Detection Catalog.
const (
	AttackCredentialStuffing AttackKind = "credential-stuffing"
	AttackMFABombing         AttackKind = "mfa-bombing"
	AttackBreachedPassword   AttackKind = "breached-password"
	AttackRefreshTokenTheft  AttackKind = "refresh-token-theft"
	AttackSessionHijack      AttackKind = "session-hijack"
	AttackSignupFraud        AttackKind = "signup-fraud"
)

// Confidence says how sure a finding is; its reasons say why.
type Confidence string

// Confidence levels.
const (
	ConfidenceHigh   Confidence = "high"
	ConfidenceMedium Confidence = "medium"
	ConfidenceLow    Confidence = "low"
)

// AttackFinding is one attack seen in the events (a finding of detection;
// not to be confused with Finding, a sign of persistence on one account): what is happening, to which
// accounts, from which networks, the evidence, and the response.
type AttackFinding struct {
	// ID is stable for the same attack in the same data: kind and a hash
	// of the accounts and networks ("mfa-bombing-3f9a1c").
	ID    string     `json:"id"`
	Kind  AttackKind `json:"kind"`
	Title string     `json:"title"`
	// Severity ranks findings, most urgent first (0–100): accounts taken
	// over weigh most.
	Severity   int             `json:"severity"`
	Confidence Confidence      `json:"confidence"`
	Reasons    []string        `json:"reasons"`
	Accounts   []AttackAccount `json:"accounts"`
	// Networks are the attacker's addresses or CIDRs to block (never shared
	// infrastructure), busiest first.
	Networks []string `json:"networks,omitempty"`
	// Evidence are log ids that show the attack (a sample, oldest first).
	Evidence []string  `json:"evidence"`
	First    time.Time `json:"first,omitzero"`
	Last     time.Time `json:"last,omitzero"`
	// Response is the recommended response in words; the accounts' Steps
	// and the Networks are the same response as actions.
	Response string `json:"response"`
}

// AttackAccount is one account of a finding and what to do about it.
type AttackAccount struct {
	UserID   string  `json:"user_id"`
	UserName string  `json:"user_name,omitempty"`
	Verdict  Verdict `json:"verdict"`
	// Evidence are the log ids that put the account in the finding.
	Evidence []string `json:"evidence"`
	// Steps is the recommended playbook for the account, in playbook order
	// (empty: watch only).
	Steps []string `json:"steps,omitempty"`
	// ResetMethod is "ticket" when an email reset is unsafe (the attacker
	// changed the address), else "" (email).
	ResetMethod string `json:"reset_method,omitempty"`
}

// Count returns how many accounts of the finding have the verdict.
func (f AttackFinding) Count(v Verdict) int {
	n := 0
	for _, a := range f.Accounts {
		if a.Verdict == v {
			n++
		}
	}
	return n
}

// Detector finds one kind of attack in a stream of log events. It is fed
// every event of the window, in any order, then asked for its findings; it
// must not hold more than it needs per account and per address.
type Detector interface {
	Kind() AttackKind
	Add(e auth0client.LogEvent)
	Findings() []AttackFinding
}

// SessionAware is a detector that also reads sessions and refresh tokens
// (where session hijacking and token theft live). It names the accounts it
// wants to see; the caller reads them and hands them over.
type SessionAware interface {
	Detector
	SessionCandidates() []string
	AddSessions(userID string, sessions []auth0client.Session, tokens []auth0client.RefreshToken)
}

// Playbook responses, for the detectors' recommended steps.
var (
	// ContainSteps is the whole playbook for a taken-over account.
	ContainSteps = []string{StepSnapshot, StepBlock, StepRevoke, StepReset, StepUnblockCheck}
	// ContainWithMFASteps also removes the factor the attacker enrolled.
	ContainWithMFASteps = []string{StepSnapshot, StepBlock, StepRevoke, StepMFA, StepReset, StepUnblockCheck}
	// ResetSteps is for an account whose password the attacker knows but
	// that was not taken over.
	ResetSteps = []string{StepReset}
)

// FindingID builds a finding's stable id from its kind, accounts and
// networks.
func FindingID(kind AttackKind, accounts []AttackAccount, networks []string) string {
	ids := make([]string, 0, len(accounts)+len(networks))
	for _, a := range accounts {
		ids = append(ids, a.UserID)
	}
	slices.Sort(ids)
	nets := slices.Sorted(slices.Values(networks))
	sum := sha256.Sum256([]byte(string(kind) + "\x00" + strings.Join(ids, "\x00") + "\x00" + strings.Join(nets, "\x00")))
	return string(kind) + "-" + hex.EncodeToString(sum[:3])
}

// SortFindings orders findings most urgent first: severity, then the
// number of compromised accounts, then the id (stable output).
func SortFindings(fs []AttackFinding) {
	slices.SortStableFunc(fs, func(a, b AttackFinding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Count(VerdictCompromised), a.Count(VerdictCompromised)), strings.Compare(a.ID, b.ID))
	})
}
