package tui

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

// openBulk opens ip's page and presses X; it returns the modal's view once
// the plan is shown.
func (d *driver) openBulk(ip string) string {
	d.t.Helper()
	d.keys("esc", ":", "ip "+ip, "enter")
	d.untilContains("accounts:")
	d.keys("X")
	return d.untilContains("Type the number of accounts (")
}

// contained reports whether a user is blocked and holds no session or
// refresh token, read from the sandbox.
func (tn *tenant) contained(id string) bool {
	ok := false
	tn.srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == id {
				ok = u.Blocked
			}
		}
		for _, s := range st.Sessions {
			if s.UserID == id {
				ok = false
			}
		}
		for _, r := range st.RefreshTokens {
			if r.UserID == id {
				ok = false
			}
		}
	})
	return ok
}

// blockedByACL reports whether a Network ACL of the sandbox blocks ip.
func (tn *tenant) blockedByACL(ip string) bool {
	a := netip.MustParseAddr(ip)
	found := false
	tn.srv.View(func(st *sandbox.State) {
		for _, acl := range st.NetworkACLs {
			if acl.Rule.Match == nil || !acl.Rule.Action.Block {
				continue
			}
			for _, c := range acl.Rule.Match.IPv4CIDRs {
				if p, err := netip.ParsePrefix(c); err == nil && p.Contains(a) {
					found = true
				}
			}
		}
	})
	return found
}

var countRe = regexp.MustCompile(`Type the number of accounts \((\d+)\)`)

// enableACL ticks "block the networks" on the bulk modal's options (off by
// default, as in ip contain) and returns to the count box.
func (d *driver) enableACL() string {
	d.t.Helper()
	d.keys("tab", " ", "tab", "tab", "tab")
	return d.untilContains("[x] block the networks")
}

// volatileRun masks what a run's timing changes: rate and elapsed time.
var volatileRun = regexp.MustCompile(`\d+\.\d req/s · \d+s *│`)

func TestBulkNeedsTheExactCountAndContainsWhatTheIPTouched(t *testing.T) {
	tn := startTenant(t)
	ip, user := tn.takeover(t)
	d := newDriver(t, tn.options(false), 120, 40)
	v := d.openBulk(ip)
	if !strings.Contains(v, "[ ] block the networks") || !strings.Contains(v, "[ ] reset the") {
		t.Errorf("the ACL and the extra resets must be off by default, as in ip contain:\n%s", v)
	}
	v = d.enableACL()
	checkScreen(t, v, 120, 40)
	golden(t, "bulk_plan_120x40", v, false)
	if !strings.Contains(v, "[ Cancel ]") || strings.Contains(v, "[ Confirm ]") {
		t.Fatalf("Cancel is not the default:\n%s", v)
	}
	for _, want := range []string{"compromised", user, "network ACL: add " + ip + "/32", "fits (", "POST /api/v2/network-acls"} {
		if !strings.Contains(v, want) {
			t.Errorf("the impact summary lacks %q:\n%s", want, v)
		}
	}
	n, _ := strconv.Atoi(countRe.FindStringSubmatch(v)[1])
	want := strconv.Itoa(n)

	// enter on an empty box cancels; so do wrong counts.
	d.keys("enter")
	d.untilContains("not confirmed")
	if d.m.bulk != nil {
		t.Fatal("enter on an empty count did not cancel")
	}
	for _, typed := range []string{strconv.Itoa(n + 1), "0" + want, " " + want, want + "0"} {
		d.keys("X")
		d.untilContains("Type the number of accounts (")
		d.enableACL()
		d.keys(typed)
		if v := d.m.View(); strings.Contains(v, "[ Confirm ]") {
			t.Errorf("typed %q: Confirm is enabled", typed)
		}
		d.keys("enter")
		d.untilContains("not confirmed")
	}
	if w := tn.userWrites(); len(w) > 0 {
		t.Fatalf("a cancelled bulk run wrote: %v", w)
	}

	// Keys typed into the count box or on the options never act.
	d.keys("X")
	d.untilContains("Type the number of accounts (")
	d.enableACL()
	d.keys("q?:CXjg/")
	if d.quit || d.m.askQuit || d.m.help || d.m.palette != nil || d.m.bulk == nil || d.m.playbook != nil {
		t.Fatal("a key typed into the count box acted")
	}
	d.keys("tab", "q?:CX", "down", "down")
	if d.quit || d.m.help || d.m.palette != nil || d.m.bulk == nil {
		t.Fatal("a key typed on the options acted")
	}
	// space toggles the targeted resets: the count to type changes.
	d.send(keyMsg(" "))
	if got := countRe.FindStringSubmatch(d.m.View()); got == nil || got[1] == want {
		t.Errorf("toggling the targeted resets did not change the count: %v", got)
	}
	d.send(keyMsg(" "))
	d.keys("tab", "ctrl+u", want)
	if !strings.Contains(d.m.View(), "[ Confirm ]") {
		t.Fatalf("the exact count does not enable Confirm:\n%s", d.m.View())
	}
	d.keys("enter")
	v = d.until("the end of the run", func(v string) bool { return strings.Contains(v, "esc or enter closes") })
	checkScreen(t, v, 120, 40)
	d.m.toastText = "" // the earlier cancellations' toast may still show
	golden(t, "bulk_done_120x40", volatileRun.ReplaceAllString(d.m.View(), "R req/s · Ts │"), true)
	if !strings.Contains(v, fmt.Sprintf("%d/%d accounts", n, n)) {
		t.Errorf("the progress does not end at %d/%d:\n%s", n, n, v)
	}
	if !tn.contained(user) {
		t.Errorf("%s is not contained in the sandbox", user)
	}
	if !tn.blockedByACL(ip) {
		t.Errorf("%s is not blocked by a Network ACL", ip)
	}
	// The journal holds the plan and the end.
	recs, err := responders.LoadJournal(tn.dir, tn.incident(t, *d.m.sh.opts))
	if err != nil {
		t.Fatal(err)
	}
	plan, finished, err := responders.JournaledBulkPlan(recs)
	if err != nil || !finished || plan.Accounts() != n {
		t.Errorf("journal: plan %+v finished=%v err=%v", plan, finished, err)
	}
}

func TestQuitOrEscDuringABulkRunAsksFirst(t *testing.T) {
	tn := startTenant(t)
	ip, _ := tn.takeover(t)
	d := newDriver(t, tn.options(false), 120, 40)
	v := d.openBulk(ip)
	d.keys(countRe.FindStringSubmatch(v)[1])
	// Sent without handling the run's messages: it is certainly running.
	d.send(keyMsg("enter"))
	if !d.m.jobRunning() {
		t.Fatal("the bulk run is not running after confirmation")
	}
	for _, k := range []string{"q", "ctrl+c"} {
		d.send(keyMsg(k))
		if d.quit || !d.m.askQuit || !strings.Contains(d.m.View(), "A bulk run is running. Quit anyway?") {
			t.Fatalf("%s during a bulk run did not ask first:\n%s", k, d.m.View())
		}
		d.send(keyMsg("n"))
		if d.m.askQuit || d.quit {
			t.Fatal("n did not keep the run going")
		}
	}
	// esc asks before cancelling; n keeps it going.
	d.send(keyMsg("esc"))
	if !d.m.bulk.askCancel || !strings.Contains(d.m.View(), "Cancel the bulk run?") {
		t.Fatalf("esc during a run did not ask:\n%s", d.m.View())
	}
	d.send(keyMsg("n"))
	if d.m.bulk.askCancel || d.m.bulk.ctx.Err() != nil {
		t.Fatal("n cancelled the run")
	}
	d.send(keyMsg("q"))
	if v := d.m.View(); !strings.Contains(v, "left; :bulk") {
		t.Errorf("the quit question does not say what is left:\n%s", v)
	}
	_, cmd := d.m.Update(keyMsg("y"))
	if cmd == nil || fmt.Sprint(cmd()) != fmt.Sprint(teaQuit()) {
		t.Fatal("y did not quit")
	}
	// Run returns what is left and how to finish it (not a silent exit 0).
	if !strings.Contains(d.m.interrupted, "quit during a bulk run") || !strings.Contains(d.m.interrupted, "ip contain --resume --incident inc-") {
		t.Errorf("quitting says %q", d.m.interrupted)
	}
	d.m.stopJobs()
	if d.m.bulk.ctx.Err() == nil {
		t.Error("quitting did not stop the run")
	}
}

func TestACancelledBulkRunResumesAfterARestart(t *testing.T) {
	tn := startTenant(t)
	ip, user := tn.takeover(t)
	o := tn.options(false)
	d := newDriver(t, o, 120, 40)
	d.openBulk(ip)
	v := d.enableACL()
	n := countRe.FindStringSubmatch(v)[1]
	d.keys(n)
	d.send(keyMsg("enter"))
	// Cancel at once: y to "Cancel the bulk run?".
	d.send(keyMsg("esc"))
	d.send(keyMsg("y"))
	v = d.until("the cancelled run's end", func(v string) bool { return strings.Contains(v, "esc or enter closes") })
	if !strings.Contains(v, "cancelled") {
		t.Fatalf("the run does not say it was cancelled:\n%s", v)
	}
	recs, _ := responders.LoadJournal(tn.dir, tn.incident(t, o))
	if _, finished, err := responders.JournaledBulkPlan(recs); err != nil || finished {
		t.Fatalf("the journal does not hold an unfinished run: finished=%v err=%v", finished, err)
	}
	d.keys("esc", "q")

	// A new console on the same incident says so, and :bulk finishes it.
	// (the store remembers the current incident, as cmd's does)
	d = newDriver(t, o, 80, 24)
	d.untilContains("interrupted bulk run")
	d.keys("esc", ":", "bulk", "enter")
	v = d.untilContains("Type the number of accounts (")
	checkScreen(t, v, 80, 24)
	golden(t, "bulk_resume_80x24", v, false)
	if !strings.Contains(v, "RESUME BULK RUN "+ip) || !strings.Contains(v, "was interrupted") || !strings.Contains(v, " left (") {
		t.Errorf("the resume modal does not name the run:\n%s", v)
	}
	d.keys(countRe.FindStringSubmatch(v)[1], "enter")
	v = d.until("the resumed run's end", func(v string) bool { return strings.Contains(v, "esc or enter closes") })
	checkScreen(t, v, 80, 24)
	if !tn.contained(user) || !tn.blockedByACL(ip) {
		t.Errorf("after the resume: %s contained=%v, %s blocked=%v\n%s", user, tn.contained(user), ip, tn.blockedByACL(ip), v)
	}
	recs, _ = responders.LoadJournal(tn.dir, tn.incident(t, o))
	if _, finished, _ := responders.JournaledBulkPlan(recs); !finished {
		t.Error("the resumed run did not journal its end")
	}
}

func TestDryRunBulkSendsNoWrite(t *testing.T) {
	tn := startTenant(t)
	ip, user := tn.takeover(t)
	d := newDriver(t, tn.options(true), 120, 40)
	d.openBulk(ip)
	v := d.enableACL()
	if !strings.Contains(v, "DRY-RUN: no write is sent") {
		t.Errorf("the modal does not say dry-run:\n%s", v)
	}
	d.keys(countRe.FindStringSubmatch(v)[1], "enter")
	v = d.until("the end of the run", func(v string) bool { return strings.Contains(v, "esc or enter closes") })
	if !strings.Contains(v, "DRY-RUN:") {
		t.Errorf("the end does not say nothing was sent:\n%s", v)
	}
	if w := tn.userWrites(); len(w) > 0 {
		t.Fatalf("dry-run sent writes: %v", w)
	}
	if tn.contained(user) || tn.blockedByACL(ip) {
		t.Fatal("dry-run changed the tenant")
	}
	d.keys("esc", "ctrl+l")
	if v := d.m.View(); !strings.Contains(v, "NOT SENT (dry-run) POST /api/v2/network-acls") {
		t.Errorf("the command log does not list the ACL write not made:\n%s", v)
	}
}

func TestBulkNeverBlocksTheGuardedNetworksAsIPContain(t *testing.T) {
	tn := startTenant(t)
	ip, _ := tn.takeover(t)
	network := netip.MustParsePrefix(ip + "/24").Masked()
	for _, c := range []struct {
		name  string
		guard responders.Guard
	}{
		{"allowlisted", responders.Guard{Allow: []netip.Prefix{network}}},
		{"operator", responders.Guard{Operators: []netip.Prefix{netip.MustParsePrefix(ip + "/32")}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := tn.options(false)
			o.Guard = c.guard
			d := newDriver(t, o, 120, 40)
			d.keys("esc", ":", "ip "+ip, "enter")
			d.untilContains("accounts:")
			d.keys("X")
			v := d.until("the plan", func(v string) bool {
				return strings.Contains(v, "Type the number of accounts (") || strings.Contains(v, "nothing to contain")
			})
			if !strings.Contains(v, "not blocking "+ip+"/32") || strings.Contains(v, "POST /api/v2/network-acls") {
				t.Fatalf("the console plans to block a guarded network:\n%s", v)
			}
			// ip contain's discovery, the same function with the same guard,
			// refuses it the same way.
			since := d.m.bulk.since
			plan, err := responders.DiscoverBulk(o.Ctx, responders.BulkDiscovery{Targets: []netip.Prefix{netip.MustParsePrefix(ip + "/32")},
				Since: since, Guard: c.guard, Client: tn.client})
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.Block) != 0 || len(plan.Refused) != 1 || fmt.Sprint(plan.Compromised) != fmt.Sprint(d.m.bulk.plan.Compromised) {
				t.Fatalf("ip contain plans %+v, the console %+v", plan, d.m.bulk.plan)
			}
			if strings.Contains(v, "Type the number") {
				d.keys("tab", " ") // the ACL option cannot be ticked
				if strings.Contains(d.m.View(), "[x] block the networks") {
					t.Fatalf("the ACL option was ticked for a guarded network:\n%s", d.m.View())
				}
			}
			d.keys("esc", "esc")
			if tn.blockedByACL(ip) {
				t.Fatal("the guarded address was blocked")
			}
		})
	}
}
