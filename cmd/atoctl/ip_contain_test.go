package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

type bulkJSON struct {
	Incident string   `json:"incident"`
	Plan     bulkPlan `json:"plan"`
	Results  []struct {
		UserID string `json:"user_id"`
		Error  string `json:"error"`
		Steps  []struct {
			Step, Outcome, Error string
		} `json:"steps"`
	} `json:"results"`
	ACL *struct {
		Outcome, Reason, Error string
	} `json:"acl"`
	ACLPlan *struct {
		DoesNotFit []string `json:"does_not_fit"`
	} `json:"acl_plan"`
}

func decodeBulk(t *testing.T, res result) bulkJSON {
	t.Helper()
	var b bulkJSON
	if err := json.Unmarshal([]byte(res.stdout), &b); err != nil {
		t.Fatalf("ip contain --json: %v\nstdout %.400s\nstderr %.800s", err, res.stdout, res.stderr)
	}
	return b
}

// compromisedVia lists the key's compromised users with a successful login
// from inside prefix, read from the sandbox's own logs.
func compromisedVia(srv *sandbox.Server, key *scenarios.AnswerKey, prefix netip.Prefix) []string {
	set := map[string]bool{}
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.Type != "s" || e.UserID == "" {
				continue
			}
			if a, err := netip.ParseAddr(e.IP); err == nil && prefix.Contains(a) && slices.Contains(key.Compromised, e.UserID) {
				set[e.UserID] = true
			}
		}
	})
	var out []string
	for id := range set {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// finished reports a bulk run that did everything it may: exit 0, or exit 3
// where the only failures are resets refused because the attacker changed
// the email (atoctl must not send those without --force).
// unconfirmed reports a run that left a reset sent-awaiting-confirmation
// (a kill between the journaled intent and the answer): only the analyst
// can decide to send another (--resend).
func unconfirmed(res result) bool {
	var b bulkJSON
	if json.Unmarshal([]byte(res.stdout), &b) != nil {
		return false
	}
	for _, r := range b.Results {
		for _, s := range r.Steps {
			if s.Outcome == string(responders.AwaitingConfirmation) {
				return true
			}
		}
	}
	return false
}

func finished(t *testing.T, res result) bool {
	t.Helper()
	if res.code == 0 {
		return true
	}
	if res.code != exitPartial {
		return false
	}
	var b bulkJSON
	if json.Unmarshal([]byte(res.stdout), &b) != nil || (b.ACL != nil && b.ACL.Outcome == "failed") {
		return false
	}
	for _, r := range b.Results {
		if r.Error != "" {
			return false
		}
		for _, s := range r.Steps {
			if s.Outcome == "failed" && (s.Step != "reset" || !strings.Contains(s.Error, "email was changed")) {
				return false
			}
		}
	}
	return true
}

// containedOrRefused checks the end state, allowing the attacker-email case:
// contained but no reset sent.
func containedOrRefused(t *testing.T, srv *sandbox.Server, key *scenarios.AnswerKey, user string) {
	t.Helper()
	if _, changed := key.EmailChanged[user]; !changed {
		contained(t, srv, user)
		return
	}
	if !sandboxUserBlocked(srv, user) || srv.ResetRequests(user) != 0 {
		t.Errorf("%s (attacker-changed email): blocked=%v resets=%d, want blocked and no reset", user, sandboxUserBlocked(srv, user), srv.ResetRequests(user))
	}
}

func (c *cli) bulkSandbox(opts ...sandbox.Option) (*sandbox.Server, *scenarios.AnswerKey) {
	c.t.Helper()
	srv, key := c.againstSandbox(opts...)
	c.env["AUTH0_RESET_CLIENT_ID"] = resetClientOf(srv)
	return srv, key
}

func TestIPContainContainsExactlyTheNetworksCompromisedAccountsAndBlocksThem(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.bulkSandbox()
	cidr := netip.MustParsePrefix(key.AttackerCIDRs[0])
	want := compromisedVia(srv, key, cidr)
	if len(want) == 0 {
		t.Fatal("bad fixture: no account compromised from the botnet's /24")
	}
	res := c.run("ip", "contain", cidr.String(), "--since", "72h", "--acl", "--yes", "--json")
	if !finished(t, res) {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	got := decodeBulk(t, res)
	comp := slices.Clone(got.Plan.Compromised)
	slices.Sort(comp)
	if !slices.Equal(comp, want) {
		t.Fatalf("contained %v, want the key's %v", comp, want)
	}
	for _, u := range want {
		containedOrRefused(t, srv, key, u)
	}
	probe := cidr.Addr().Next()
	if !srv.BlockedByACL(probe.String(), "authentication") {
		t.Fatalf("%s is not blocked by an ACL after --acl", probe)
	}
	if res := c.run("ip", "release", cidr.String(), "--yes"); res.code != 0 {
		t.Fatalf("release: exit %d %s", res.code, res.stderr)
	}
	if srv.BlockedByACL(probe.String(), "authentication") {
		t.Fatalf("%s still blocked after ip release", probe)
	}

	// Block again in a new incident; its rollback removes the ACL entries
	// and unblocks the accounts it blocked.
	res = c.run("ip", "contain", cidr.String(), "--since", "72h", "--acl", "--incident", "inc-rollback", "--yes", "--json")
	if !finished(t, res) || !srv.BlockedByACL(probe.String(), "authentication") {
		t.Fatalf("second contain: exit %d %s", res.code, res.stderr)
	}
	if res := c.run("incident", "rollback", "inc-rollback", "--yes"); res.code != 0 {
		t.Fatalf("rollback: exit %d %s", res.code, res.stderr)
	}
	if srv.BlockedByACL(probe.String(), "authentication") {
		t.Fatalf("%s still blocked after rollback", probe)
	}
}

func TestIPContainReportsNetworksThatDoNotFitTheACL(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.bulkSandbox()
	// 22 addresses no two of which merge: more than Auth0's 20 entries.
	var args []string
	for i := 0; len(args) < 22; i++ {
		args = append(args, fmt.Sprintf("198.51.100.%d", 2*i+1))
	}
	res := c.run(append([]string{"ip", "contain", "--acl", "--yes", "--json"}, args...)...)
	if res.code != exitPartial && res.code != exitError {
		t.Fatalf("exit %d, want a failure for what does not fit\n%s", res.code, res.stderr)
	}
	b := decodeBulk(t, res)
	if b.ACLPlan == nil || len(b.ACLPlan.DoesNotFit) != 2 {
		t.Fatalf("acl plan %+v: want 2 entries reported as not fitting", b.ACLPlan)
	}
}

// finalState is what containment leaves in the tenant, for comparisons.
type finalState struct {
	Blocked  []string
	Sessions int
	Resets   map[string]int
	ACL      []string
}

func snapshotState(srv *sandbox.Server, users []string) finalState {
	fs := finalState{Resets: map[string]int{}}
	srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.Blocked {
				fs.Blocked = append(fs.Blocked, u.UserID)
			}
		}
		for _, s := range st.Sessions {
			if slices.Contains(users, s.UserID) {
				fs.Sessions++
			}
		}
		for _, a := range st.NetworkACLs {
			fs.ACL = append(fs.ACL, a.Rule.Match.IPv4CIDRs...)
		}
	})
	for _, u := range users {
		fs.Resets[u] = srv.ResetRequests(u)
	}
	slices.Sort(fs.Blocked)
	slices.Sort(fs.ACL)
	return fs
}

func TestIPContainUnderFaultsEndsVerifiedWithoutDuplicateResets(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.bulkSandbox()
	cidr := key.AttackerCIDRs[0]
	srv.SetFaults(sandbox.Faults{Share429: 0.10, Share5xx: 0.05, ShareDropBefore: 0.01, ShareDropAfterWrite: 0.05, Seed: 5})
	res := c.run("ip", "contain", cidr, "--since", "72h", "--acl", "--incident", "inc-faults", "--yes", "--json")
	for attempt := 0; !finished(t, res) && attempt < 4; attempt++ {
		res = c.run("ip", "contain", "--resume", "--incident", "inc-faults", "--yes", "--json")
	}
	if !finished(t, res) {
		t.Fatalf("not finished under faults: exit %d\n%s", res.code, res.stderr)
	}
	srv.SetFaults(sandbox.Faults{})
	for _, u := range compromisedVia(srv, key, netip.MustParsePrefix(cidr)) {
		containedOrRefused(t, srv, key, u)
	}
	if res := c.run("incident", "verify", "inc-faults"); res.code != 0 {
		t.Fatalf("journal: %s", res.stderr)
	}
}

func TestKilledIPContainResumesToTheSameEndState(t *testing.T) {
	t.Parallel()
	bin := atoctlBinary(t)
	// The uninterrupted run, for reference.
	ref := newCLI(t)
	refSrv, key := ref.bulkSandbox()
	cidr := key.AttackerCIDRs[0]
	users := compromisedVia(refSrv, key, netip.MustParsePrefix(cidr))
	if res := ref.run("ip", "contain", cidr, "--since", "72h", "--acl", "--yes", "--json"); !finished(t, res) {
		t.Fatalf("reference run: %d %s", res.code, res.stderr)
	}
	want := snapshotState(refSrv, users)

	for _, offset := range []int{2, 7, 15, 30} {
		t.Run("offset-"+strconv.Itoa(offset), func(t *testing.T) {
			c := newCLI(t)
			srv, _ := c.bulkSandbox(sandbox.WithFaults(sandbox.Faults{Latency: 30 * time.Millisecond}))
			incident := "inc-bulk-kill-" + strconv.Itoa(offset)
			journal := filepath.Join(c.env["XDG_STATE_HOME"], "atoctl", "incidents", incident+".ndjson")
			killAt(t, c, bin, journal, offset, "ip", "contain", cidr, "--since", "72h", "--acl", "--yes", "--json", "--incident", incident)
			res := c.run("ip", "contain", "--resume", "--incident", incident, "--yes", "--json")
			if !finished(t, res) || unconfirmed(res) {
				// A reset interrupted mid-flight is not resent on its own:
				// the analyst asks for it.
				res = c.run("ip", "contain", "--resume", "--resend", "--incident", incident, "--yes", "--json")
			}
			if !finished(t, res) {
				t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
			}
			got := snapshotState(srv, users)
			if !slices.Equal(got.Blocked, want.Blocked) || got.Sessions != want.Sessions || !slices.Equal(got.ACL, want.ACL) {
				t.Fatalf("end state after kill+resume %+v, uninterrupted %+v", got, want)
			}
			for _, u := range users {
				if got.Resets[u] != want.Resets[u] {
					t.Errorf("%s: %d resets after kill+resume, %d uninterrupted", u, got.Resets[u], want.Resets[u])
				}
			}
			if r := c.run("incident", "verify", incident); r.code != 0 {
				t.Fatalf("journal: %s", r.stderr)
			}
		})
	}
}
