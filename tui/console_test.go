package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// userState reads a user's blocked flag and session count from the sandbox.
func (tn *tenant) userState(id string) (blocked bool, sessions int) {
	tn.srv.View(func(st *sandbox.State) {
		for _, u := range st.Users {
			if u.UserID == id {
				blocked = u.Blocked
			}
		}
		for _, s := range st.Sessions {
			if s.UserID == id {
				sessions++
			}
		}
	})
	return blocked, sessions
}

// openUser searches for id and opens it.
func (d *driver) openUser(id string) string {
	d.t.Helper()
	for len(d.m.stack) > 1 {
		d.keys("esc")
	}
	if !d.m.users.search.Focused() {
		d.keys("s")
	}
	d.keys("ctrl+u", `user_id:"`+id+`"`, "enter")
	d.untilContains("1 users for")
	d.keys("enter")
	return d.untilContains("[1 profile]")
}

// compromised is a compromised user with sessions (the playbook's case).
func (tn *tenant) compromised(t *testing.T) string {
	for _, id := range tn.key.Compromised {
		if _, n := tn.userState(id); n > 0 {
			return id
		}
	}
	t.Fatal("bad fixture: no compromised user with sessions")
	return ""
}

func TestUsersPageSearchesTheTenantAndShowsItsUsers(t *testing.T) {
	tn := startTenant(t)
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			d := newDriver(t, tn.options(false), size[0], size[1])
			golden(t, fmt.Sprintf("users_empty_%dx%d", size[0], size[1]), d.m.View(), false)
			d.keys("email:*", "enter")
			v := d.untilContains("users for")
			var want int
			tn.srv.View(func(st *sandbox.State) {
				for _, u := range st.Users {
					if u.Email != "" {
						want++
					}
				}
			})
			if want > 1000 {
				want = 1000
			}
			if !strings.Contains(v, fmt.Sprintf("%d users for email:*", want)) {
				t.Errorf("want %d users in the status line:\n%s", want, v)
			}
			checkScreen(t, v, size[0], size[1])
			golden(t, fmt.Sprintf("users_%dx%d", size[0], size[1]), v, false)
		})
	}
}

func TestKeysTypedIntoABoxNeverTriggerActions(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	// The search box has focus on start: every letter is text.
	d.keys("Cq?:/", "ctrl+l")
	if d.quit || d.m.playbook != nil || d.m.help || d.m.palette != nil {
		t.Fatalf("a key typed into the search box acted: quit=%v playbook=%v help=%v palette=%v", d.quit, d.m.playbook != nil, d.m.help, d.m.palette != nil)
	}
	if got := d.m.users.search.Value(); got != "Cq?:/" {
		t.Errorf("search box holds %q, want %q", got, "Cq?:/")
	}
	d.keys("ctrl+u", "email:*", "enter")
	d.untilContains("users for")
	// The fuzzy filter box.
	d.keys("/", "Cq?:")
	if d.quit || d.m.playbook != nil || d.m.help || d.m.palette != nil {
		t.Fatal("a key typed into the filter box acted")
	}
	if got := d.m.users.filter.Value(); got != "Cq?:" {
		t.Errorf("filter box holds %q", got)
	}
	// The logs page's filter fields.
	d.keys("esc", ":", "logs", "enter")
	d.untilContains("events ·")
	d.keys("e", "Cqf")
	if d.quit || d.m.playbook != nil || d.m.logs.following {
		t.Fatal("a key typed into a logs filter field acted")
	}
	// The confirm box: q is a letter there too.
	d.keys("esc", "esc")
	id := tn.compromised(t)
	d.openUser(id)
	d.keys("C")
	d.untilContains("Type the user id")
	d.keys("q?:")
	if d.quit || d.m.askQuit || d.m.help || d.m.palette != nil || d.m.playbook == nil {
		t.Fatal("a key typed into the confirmation acted")
	}
}

func TestConfirmDefaultsToCancel(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	id := tn.compromised(t)
	d.openUser(id)
	d.keys("C")
	v := d.untilContains("Type the user id")
	if !strings.Contains(v, "[ Cancel ]") {
		t.Errorf("Cancel is not the highlighted button:\n%s", v)
	}
	d.keys("enter")
	v = d.untilContains("not confirmed")
	if d.m.playbook != nil {
		t.Fatal("enter on an empty confirmation did not cancel")
	}
	if blocked, _ := tn.userState(id); blocked {
		t.Fatal("the user was blocked after a cancelled confirmation")
	}
	for _, w := range tn.userWrites() {
		t.Errorf("a write reached the tenant: %s", w)
	}
}

// userWrites lists the Management API writes the sandbox logged (sapi).
func (tn *tenant) userWrites() []string {
	var out []string
	tn.srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.Type == "sapi" {
				out = append(out, e.Description)
			}
		}
	})
	return out
}

func TestAWrongTypedIDCannotConfirm(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	id := tn.compromised(t)
	d.openUser(id)
	for _, typed := range []string{id[:len(id)-1], id + "x", strings.ToUpper(id), " " + id} {
		d.keys("C")
		d.untilContains("Type the user id")
		d.keys(typed)
		if v := d.m.View(); !strings.Contains(v, "[ Cancel ]") || strings.Contains(v, "[ Confirm ]") {
			t.Errorf("typed %q: Confirm is enabled:\n%s", typed, v)
		}
		d.keys("enter")
		d.untilContains("not confirmed")
		if d.m.playbook != nil {
			t.Fatalf("typed %q: the modal is still open", typed)
		}
	}
	if blocked, _ := tn.userState(id); blocked {
		t.Fatal("a wrong id confirmed the playbook")
	}
	if w := tn.userWrites(); len(w) > 0 {
		t.Fatalf("writes reached the tenant: %v", w)
	}
}

func TestContainRunsThePlaybookAndShowsTheVerifiedEndState(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	id := tn.compromised(t)
	golden(t, "user_profile_120x40", d.openUser(id), false)
	d.keys("3")
	golden(t, "user_sessions_120x40", d.untilContains("[3 sessions"), false)
	d.keys("C")
	golden(t, "playbook_plan_120x40", d.untilContains("Type the user id"), false)
	d.keys(id)
	if !strings.Contains(d.m.View(), "[ Confirm ]") {
		t.Fatalf("the exact id does not enable Confirm:\n%s", d.m.View())
	}
	d.keys("enter")
	v := d.untilContains("End state")
	golden(t, "playbook_done_120x40", v, true)
	blocked, sessions := tn.userState(id)
	if !blocked || sessions != 0 {
		t.Errorf("sandbox after the playbook: blocked=%v sessions=%d, want blocked and no sessions", blocked, sessions)
	}
	if !strings.Contains(v, "blocked: yes") || !strings.Contains(v, "sessions: 0") {
		t.Errorf("the end state does not show what the tenant holds:\n%s", v)
	}
	if !strings.Contains(v, "unblock check") && !strings.Contains(v, "STAYS BLOCKED") {
		t.Errorf("no unblock verdict:\n%s", v)
	}
	// The incident page shows the journal the run wrote.
	d.keys("esc", ":", "incident", "enter")
	v = d.untilContains("chain ok")
	golden(t, "incident_120x40", v, true)
	inc := tn.incident(t, *d.m.sh.opts)
	if !strings.Contains(d.m.header(120), inc) {
		t.Errorf("the header does not name the incident: %s", d.m.header(120))
	}
	// x exports the Markdown report beside the journal.
	d.keys("x")
	d.untilContains("report saved to")
	md, err := os.ReadFile(filepath.Join(tn.dir, inc+".report.md"))
	if err != nil || !strings.Contains(string(md), "# Incident "+inc) || !strings.Contains(string(md), strings.ReplaceAll(id, "|", `\|`)) {
		t.Fatalf("exported report: %v\n%.300s", err, md)
	}
}

func TestDryRunSendsNoWriteAndListsTheCallsNotMade(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(true), 120, 40)
	if h := d.m.header(120); !strings.Contains(h, "DRY-RUN") {
		t.Errorf("no DRY-RUN badge: %s", h)
	}
	id := tn.compromised(t)
	d.openUser(id)
	d.keys("C")
	d.untilContains("Type the user id")
	d.keys(id, "enter")
	v := d.untilContains("End state")
	// Planned steps are not done: no tick beside them (a read-only step,
	// the unblock check, really ran).
	planned := 0
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, " planned ") {
			planned++
			if strings.Contains(l, "✓") || !strings.Contains(l, "○") {
				t.Errorf("the dry-run modal marks a planned step as done: %s", l)
			}
		}
	}
	if planned == 0 {
		t.Errorf("no planned step in the dry-run modal:\n%s", v)
	}
	if blocked, sessions := tn.userState(id); blocked || sessions == 0 {
		t.Errorf("dry-run changed the tenant: blocked=%v sessions=%d", blocked, sessions)
	}
	if w := tn.userWrites(); len(w) > 0 {
		t.Fatalf("dry-run sent writes: %v", w)
	}
	d.keys("esc", "ctrl+l")
	v = d.m.View()
	for _, want := range []string{"NOT SENT (dry-run) PATCH /api/v2/users/", "NOT SENT (dry-run) DELETE", "GET    /api/v2/users"} {
		if !strings.Contains(v, want) {
			t.Errorf("command log lacks %q:\n%s", want, v)
		}
	}
}

func TestQuitWhileThePlaybookRunsAsksFirst(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	id := tn.compromised(t)
	d.openUser(id)
	d.keys("C")
	d.untilContains("Type the user id")
	d.keys(id)
	// Sent without handling the run's messages in between: the run is
	// certainly still going when q arrives.
	d.send(keyMsg("enter"))
	if !d.m.jobRunning() {
		t.Fatal("the playbook is not running after confirmation")
	}
	for _, k := range []string{"q", "ctrl+c"} {
		d.send(keyMsg(k))
		if d.quit || !d.m.askQuit || !strings.Contains(d.m.View(), "Quit anyway?") {
			t.Fatalf("%s during a run did not ask first", k)
		}
		d.send(keyMsg("n"))
		if d.m.askQuit || d.quit {
			t.Fatalf("n did not keep the run going")
		}
	}
	d.send(keyMsg("q"))
	_, cmd := d.m.Update(keyMsg("y"))
	if cmd == nil || fmt.Sprint(cmd()) != fmt.Sprint(teaQuit()) {
		t.Fatal("y did not quit")
	}
	if d.m.playbook != nil && d.m.playbook.ctx.Err() == nil {
		t.Error("quitting did not stop the run")
	}
	// Run returns what is left and how to finish it (not a silent exit 0).
	if !strings.Contains(d.m.interrupted, "quit during the playbook of "+id) || !strings.Contains(d.m.interrupted, "C on the user again") {
		t.Errorf("quitting says %q", d.m.interrupted)
	}
}

func TestQuitWithoutAJobQuitsAtOnce(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 80, 24)
	d.keys("esc", "q")
	d.drain(50e6)
	if !d.quit {
		t.Fatal("q on the list did not quit")
	}
}

func TestHostileTextRendersWithVisibleMarkers(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	var q []string
	for _, id := range tn.key.Hostile {
		q = append(q, `user_id:"`+id+`"`)
	}
	d.keys(strings.Join(q, " OR "), "enter")
	list := d.untilContains(fmt.Sprintf("%d users for", len(tn.key.Hostile)))
	checkScreen(t, list, 120, 40)
	all := list
	for _, id := range tn.key.Hostile {
		v := d.openUser(id)
		checkScreen(t, v, 120, 40)
		all += v
		d.keys("2")
		v = d.untilContains("[2 logs")
		checkScreen(t, v, 120, 40)
		d.keys("esc")
	}
	for _, marker := range []string{"^[", "⟨U+202E⟩", "^@", "⟨U+200B⟩"} {
		if !strings.Contains(all, marker) {
			t.Errorf("no %q marker on any screen of the hostile users", marker)
		}
	}
	golden(t, "users_hostile_120x40", list, false)
}

func TestResizeReflowsEveryPage(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.keys("email:*", "enter")
	d.untilContains("users for")
	d.keys(":", "logs", "enter")
	d.untilContains("events ·")
	golden(t, "logs_120x40", d.m.View(), false)
	for _, size := range [][2]int{{80, 24}, {60, 20}, {200, 50}, {80, 24}} {
		d.send(sizeMsg(size[0], size[1]))
		checkScreen(t, d.m.View(), size[0], size[1])
	}
	golden(t, "logs_80x24", d.m.View(), false)
	d.keys("?")
	golden(t, "help_80x24", d.m.View(), false)
	d.keys("esc", "esc")
	checkScreen(t, d.m.View(), 80, 24)
}

func TestThePlaybookRunsNoWriteWithoutAnIncidentJournal(t *testing.T) {
	tn := startTenant(t)
	o := tn.options(false)
	o.Incidents = nil // cmd failed to give one: nothing may be written unrecorded
	d := newDriver(t, o, 120, 40)
	id := tn.compromised(t)
	d.openUser(id)
	d.keys("C")
	v := d.untilContains("no incident journal")
	if strings.Contains(v, "Type the user id") {
		t.Fatalf("the playbook offers to run without a journal:\n%s", v)
	}
	ip, _ := tn.takeover(t)
	d.keys("esc", "esc", ":", "ip "+ip, "enter")
	d.untilContains("accounts:")
	d.keys("X")
	d.untilContains("no incident journal")
	if w := tn.userWrites(); len(w) > 0 {
		t.Fatalf("writes without a journal: %v", w)
	}
}
