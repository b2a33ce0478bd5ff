package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

// The safety rails: nothing wider than meant, nothing sent twice, nothing
// reported that did not happen.

func TestIPContainRefusesNetworksWiderThanMeantAndSendsNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.bulkSandbox()
	for _, target := range []string{"0.0.0.0/0", "203.0.0.0/8", "200.0.0.0/5", "::/0", "2001:db8::/16"} {
		srv.ResetStats()
		res := c.run("ip", "contain", target, "--since", "1h", "--acl", "--yes")
		if res.code != exitUsage {
			t.Errorf("ip contain %s: exit %d, want 2\n%s", target, res.code, res.stderr)
		}
		oneLine(t, res.stderr)
		if n := srv.Stats().Requests; n != 0 {
			t.Errorf("ip contain %s sent %d requests, want none", target, n)
		}
	}
	// Even --allow-wide never lets /0 through.
	if res := c.run("ip", "contain", "0.0.0.0/0", "--allow-wide", "/1", "--acl", "--yes"); res.code != exitUsage {
		t.Errorf("/0 with --allow-wide: exit %d, want 2", res.code)
	}
	if res := c.run("ip", "contain", "10.0.0.0/8", "--allow-wide", "/0", "--yes"); res.code != exitUsage {
		t.Errorf("--allow-wide /0: exit %d, want 2", res.code)
	}
}

func TestIPContainBlocksAWideNetworkOnPurposeAndJournalsIt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.bulkSandbox()
	res := c.run("ip", "contain", "198.16.0.0/12", "--allow-wide", "/12", "--since", "1h", "--acl", "--incident", "inc-wide", "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "198.16.0.0/12: 1,048,576 addresses") {
		t.Errorf("the impact does not say how many addresses the network holds:\n%s", res.stderr)
	}
	var blocked []string
	srv.View(func(st *sandbox.State) {
		for _, a := range st.NetworkACLs {
			blocked = append(blocked, a.Rule.Match.IPv4CIDRs...)
		}
	})
	if !slices.Contains(blocked, "198.16.0.0/12") {
		t.Fatalf("the ACL holds %v, want 198.16.0.0/12", blocked)
	}
	recs := loadRecords(t, c, "inc-wide")
	plan, _, err := responders.JournaledBulkPlan(recs)
	if err != nil || plan.AllowWide != 12 {
		t.Fatalf("journaled plan %+v (%v): the width allowed on purpose is not recorded", plan, err)
	}
	onPurpose := false
	for _, r := range recs {
		if r.Step == responders.StepACL && r.Kind == responders.KindOutcome && strings.Contains(r.Reason, "on purpose: --allow-wide /12") {
			onPurpose = true
		}
	}
	if !onPurpose {
		t.Error("the ACL outcome does not record that the wide block was on purpose")
	}
}

// loadRecords reads an incident's journal from the test's state dir.
func loadRecords(t *testing.T, c *cli, id string) []responders.Record {
	t.Helper()
	dir, _ := incidentsDir(func(k string) string { return c.env[k] })
	recs, err := responders.LoadJournal(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestIPv6NetworksAreBlockedAndReleasedForReal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.bulkSandbox()
	res := c.run("ip", "contain", "2001:db8::/32", "--since", "1h", "--acl", "--incident", "inc-v6", "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	acl := decodeBulk(t, res).ACL
	v6 := func() (out []string) {
		srv.View(func(st *sandbox.State) {
			for _, a := range st.NetworkACLs {
				out = append(out, a.Rule.Match.IPv6CIDRs...)
			}
		})
		return out
	}
	if acl == nil || acl.Outcome != string(responders.Done) || !slices.Contains(v6(), "2001:db8::/32") {
		t.Fatalf("ACL outcome %+v, tenant's IPv6 entries %v: want done and 2001:db8::/32 blocked", acl, v6())
	}
	if res := c.run("ip", "release", "2001:db8::/32", "--incident", "inc-v6", "--yes"); res.code != 0 {
		t.Fatalf("release: exit %d\n%s", res.code, res.stderr)
	}
	if got := v6(); len(got) != 0 {
		t.Fatalf("after release the tenant still blocks %v", got)
	}
}

func TestANetworkNotBlockedIsNeverReportedBlocked(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.bulkSandbox()
	ip := strings.Split(key.AttackerCIDRs[0], "/")[0]
	// The operator's own address: discovery refuses to block it.
	res := c.run("ip", "contain", ip, "--operator-ip", ip, "--since", "72h", "--acl", "--yes", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	acl := decodeBulk(t, res).ACL
	if acl == nil || acl.Outcome == string(responders.Done) || acl.Outcome == string(responders.AlreadyDone) {
		t.Fatalf("ACL outcome %+v for a network that was not blocked", acl)
	}
	srv.View(func(st *sandbox.State) {
		if len(st.NetworkACLs) != 0 {
			t.Fatalf("the operator's address was blocked: %+v", st.NetworkACLs)
		}
	})
}

func TestAFutureOrShortWindowCannotSwitchOffTheChangedEmailGuard(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _, changed := c.containSandbox()
	var victim string
	for id := range changed {
		if victim == "" || id < victim {
			victim = id
		}
	}
	srv.ResetStats()
	res := c.run("contain", victim, "--since", "2099-01-01T00:00:00Z", "--yes")
	if res.code != exitUsage || srv.Stats().Requests != 0 {
		t.Fatalf("a --since in the future: exit %d, %d requests; want 2 and none\n%s", res.code, srv.Stats().Requests, res.stderr)
	}
	for _, since := range []string{"1m", time.Now().Add(-30 * time.Second).UTC().Format(time.RFC3339)} {
		res = c.run("contain", victim, "--since", since, "--yes", "--json")
		if got, why := decodeContain(t, res).outcome(victim, responders.StepReset); got != string(responders.Failed) || !strings.Contains(why, "email was changed") {
			t.Fatalf("--since %s: reset %s (%s), want refused for the attacker's address", since, got, why)
		}
		if n := srv.ResetRequests(victim); n != 0 {
			t.Fatalf("--since %s: %d resets sent to the attacker's address", since, n)
		}
	}
}

func TestAResetAuth0LogsLateIsNotSentTwice(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	// Auth0 ingests the scpr event later than the run waits for it.
	srv, plain, _ := c.containSandbox(sandbox.WithIngestionLag(time.Hour))
	user := plain[2]
	res := c.run("contain", user, "--incident", "inc-late", "--verify-timeout", "1s", "--yes", "--json")
	if res.code != exitPartial || !strings.Contains(res.stderr, "not confirmed") {
		t.Fatalf("first run: exit %d, want 3 saying the reset is not confirmed\n%s", res.code, res.stderr)
	}
	if got, _ := decodeContain(t, res).outcome(user, responders.StepReset); got != string(responders.AwaitingConfirmation) {
		t.Fatalf("reset outcome %q, want %q", got, responders.AwaitingConfirmation)
	}
	for range 2 {
		res = c.run("contain", user, "--incident", "inc-late", "--verify-timeout", "1s", "--yes", "--json")
		if res.code != exitPartial {
			t.Fatalf("rerun: exit %d, want 3 (still unconfirmed)\n%s", res.code, res.stderr)
		}
	}
	if n := srv.ResetRequests(user); n != 1 {
		t.Fatalf("%d reset emails after three runs, want 1", n)
	}
	res = c.run("contain", user, "--incident", "inc-late", "--verify-timeout", "1s", "--resend", "--yes")
	if n := srv.ResetRequests(user); n != 2 {
		t.Fatalf("--resend: %d reset emails, want 2\n%s", n, res.stderr)
	}
}

func TestABulkRunWithLateLogsResumesWithoutASecondReset(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.bulkSandbox(sandbox.WithIngestionLag(time.Hour))
	cidr := key.AttackerCIDRs[0]
	res := c.run("ip", "contain", cidr, "--since", "72h", "--incident", "inc-late-bulk", "--verify-timeout", "1s", "--yes", "--json")
	if res.code != exitPartial {
		t.Fatalf("exit %d, want 3 (resets unconfirmed)\n%s", res.code, res.stderr)
	}
	res = c.run("ip", "contain", "--resume", "--incident", "inc-late-bulk", "--verify-timeout", "1s", "--yes", "--json")
	if res.code != exitPartial {
		t.Fatalf("resume: exit %d, want 3\n%s", res.code, res.stderr)
	}
	for _, r := range decodeBulk(t, res).Results {
		if n := srv.ResetRequests(r.UserID); n > 1 {
			t.Errorf("%s: %d reset emails after a resume, want at most 1", r.UserID, n)
		}
	}
}

func TestATicketWhoseAnswerWasLostIsNotMintedAgain(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, plain, _ := c.containSandbox()
	user := plain[3]
	tickets := filepath.Join(t.TempDir(), "tickets.txt")
	srv.SetFaults(sandbox.Faults{ShareDropAfterWrite: 1, Seed: 1})
	args := []string{"contain", user, "--steps", "reset", "--reset-method", "ticket", "--ticket-out", tickets, "--incident", "inc-ticket", "--yes", "--json"}
	res := c.run(args...)
	if got, _ := decodeContain(t, res).outcome(user, responders.StepReset); got != string(responders.AwaitingConfirmation) || res.code != exitPartial {
		t.Fatalf("exit %d, reset %q: want 3 and %q\n%s", res.code, got, responders.AwaitingConfirmation, res.stderr)
	}
	srv.SetFaults(sandbox.Faults{})
	res = c.run(args...)
	if n := srv.TicketsCreated(user); n != 1 {
		t.Fatalf("%d tickets after a rerun, want 1 (the rerun must not mint another without --resend)\n%s", n, res.stderr)
	}
	res = c.run(append(args, "--resend")...)
	if n := srv.TicketsCreated(user); n != 2 || res.code != 0 {
		t.Fatalf("--resend: exit %d, %d tickets; want 0 and 2\n%s", res.code, n, res.stderr)
	}
	if data, err := os.ReadFile(tickets); err != nil || strings.Count(string(data), "\n") != 1 {
		t.Fatalf("ticket file: %v %q, want the one delivered ticket", err, data)
	}
}

func TestUserArgumentsThatCannotBeSeenAreRefusedBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	for _, bad := range []string{"auth0|abc\x1b[2J", "auth0|abc\u009b2J", "eve\u202emoc.elpmaxe@x.com", "user@", "@example.com", "auth0|a\u200bbc"} {
		srv.ResetStats()
		for _, args := range [][]string{{"contain", bad, "--yes"}, {"users", "show", bad}, {"users", "block", bad, "--yes"}} {
			res := c.run(args...)
			if res.code != exitUsage || srv.Stats().Requests != 0 {
				t.Errorf("%q: exit %d, %d requests; want 2 and none\n%s", args, res.code, srv.Stats().Requests, res.stderr)
			}
		}
	}
	for _, steps := range []string{"block,block", "unblock", "reset,nope"} {
		if res := c.run("contain", "auth0|abc", "--steps", steps, "--yes"); res.code != exitUsage {
			t.Errorf("--steps %s: exit %d, want 2", steps, res.code)
		}
	}
}

func TestWritesSendTheTenantsOwnTextNotItsDisplayForm(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, plain, _ := c.containSandbox()
	user := plain[4]
	hostile := "eve\x1b]52;c;aGk=\x07\u202e@example.com"
	srv.Update(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == user {
				u.Email = hostile
			}
		}
	})
	res := c.run("contain", user, "--yes")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if n := srv.ResetRequests(user); n != 1 {
		t.Fatalf("%d resets reached the owner's (hostile) address, want 1: the email was sent in its display form", n)
	}
	if strings.ContainsAny(res.stdout+res.stderr, "\x1b\x07\u202e") {
		t.Fatal("the hostile address reached the terminal raw")
	}
}
