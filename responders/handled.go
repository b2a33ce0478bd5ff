package responders

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
)

// Handled is what an incident's journal says the responders did: per
// account, which containment steps took effect, and which networks the
// atoctl-managed Network ACL blocks. The console marks the rows of its
// lists with it, so an analyst sees the effect of a run without a refresh.
type Handled struct {
	Users    map[string]UserHandled
	Networks []netip.Prefix
}

// UserHandled is which steps took effect for one account (done, already
// done, or — for a reset — sent and awaiting Auth0's confirmation).
type UserHandled struct {
	Blocked, Revoked, Reset, MFA bool
}

// Label is one word for the list mark: "contained" (blocked and its
// sessions revoked), "reset" (a password reset only), "blocked", or "".
func (u UserHandled) Label() string {
	switch {
	case u.Blocked && u.Revoked:
		return "contained"
	case u.Reset:
		return "reset"
	case u.Blocked:
		return "blocked"
	case u.Revoked:
		return "revoked"
	}
	return ""
}

// HandledFrom reads the live and training outcomes of a journal (dry-run
// records planned, they changed nothing), newest last.
func HandledFrom(recs []Record) Handled {
	h := Handled{Users: map[string]UserHandled{}}
	for _, r := range recs {
		if r.Kind != KindOutcome || r.Mode == ModeDryRun {
			continue
		}
		took := r.Outcome == Done || r.Outcome == AlreadyDone
		switch r.Step {
		case StepACL, StepACLRelease:
			// The ACL call carries the whole managed rule: what it blocks
			// after the call. A "did not fit" failure still applied the
			// entries that fitted.
			fitted := r.Step == StepACL && r.Outcome == Failed && strings.HasSuffix(r.Error, "did not fit")
			if took || fitted {
				if nets, ok := aclNetworks(r.Calls); ok {
					h.Networks = nets
				}
			}
			continue
		}
		if r.UserID == "" {
			continue
		}
		u := h.Users[r.UserID]
		switch r.Step {
		case StepBlock:
			u.Blocked = u.Blocked || took
		case StepUnblock:
			if took {
				u.Blocked = false
			}
		case StepRevoke:
			u.Revoked = u.Revoked || took
		case StepReset:
			u.Reset = u.Reset || took || r.Outcome == AwaitingConfirmation
		case StepMFA:
			u.MFA = u.MFA || took
		default:
			continue
		}
		h.Users[r.UserID] = u
	}
	return h
}

// aclNetworks reads the networks a managed-ACL call leaves blocked; a call
// without a rule (deleting the ACL) leaves none.
func aclNetworks(calls []Call) ([]netip.Prefix, bool) {
	if len(calls) == 0 {
		return nil, false
	}
	c := calls[len(calls)-1]
	if c.Method == "DELETE" {
		return nil, true
	}
	raw, err := json.Marshal(c.Body)
	if err != nil {
		return nil, false
	}
	var body struct {
		Rule struct {
			Match struct {
				IPv4 []string `json:"ipv4_cidrs"`
				IPv6 []string `json:"ipv6_cidrs"`
			} `json:"match"`
		} `json:"rule"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return nil, false
	}
	var out []netip.Prefix
	for _, s := range slices.Concat(body.Rule.Match.IPv4, body.Rule.Match.IPv6) {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out, true
}

// NetworkBlocked reports whether an address or network lies inside a
// network the managed ACL blocks.
func (h Handled) NetworkBlocked(target string) bool {
	p, err := parsePrefix(target)
	if err != nil {
		return false
	}
	for _, n := range h.Networks {
		if n.Bits() <= p.Bits() && n.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
