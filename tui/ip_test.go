package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

func TestIPPageShowsEventsFailuresOverTimeAndVerdicts(t *testing.T) {
	tn := startTenant(t)
	ip, user := tn.takeover(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.keys("esc", ":", "ip "+ip, "enter")
	v := d.untilContains("accounts:")
	checkScreen(t, v, 120, 40)
	golden(t, "ip_120x40", v, false)

	// Events by type match the sandbox's own count for the address.
	var events int
	tn.srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.IP == ip && !e.Date.Before(epoch.Add(-72*3600e9)) {
				events++
			}
		}
	})
	if p := d.m.top().(*ipPage); p.events != events {
		t.Errorf("the page read %d events of %s, the sandbox holds %d", p.events, ip, events)
	}
	for _, want := range []string{"ATTACKER", "failures │", "COMPROMISED", user} {
		if !strings.Contains(v, want) {
			t.Errorf("the IP page lacks %q:\n%s", want, v)
		}
	}
	d.send(sizeMsg(80, 24))
	v = d.m.View()
	checkScreen(t, v, 80, 24)
	golden(t, "ip_80x24", v, false)
	if !strings.Contains(v, "failures │") || !strings.Contains(v, "accounts:") {
		t.Errorf("80x24 loses the sparkline or the verdicts:\n%s", v)
	}

	// enter on the compromised account opens its user page.
	d.keys("g", "enter")
	d.untilContains("[1 profile]")
	if u, ok := d.m.top().(*userPage); !ok || u.id != user {
		t.Errorf("enter did not open %s", user)
	}
}

func TestIPPageOpensFromALogOrSessionRow(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	id := tn.compromised(t)
	d.openUser(id)
	d.keys("3")
	d.untilContains("[3 sessions")
	u := d.m.top().(*userPage)
	want := u.sessions[0].Device.LastIP
	d.keys("i")
	v := d.untilContains("accounts:")
	if !strings.Contains(v, "ip "+want) {
		t.Errorf("i on a session row did not open the IP page of %s:\n%s", want, v)
	}
	// And from the logs page.
	d.keys(":", "logs", "enter")
	d.untilContains("events ·")
	ev, _ := d.m.logs.selected()
	d.keys("i")
	v = d.untilContains("accounts:")
	if !strings.Contains(v, "ip "+ev.IP) {
		t.Errorf("i on a log row did not open the IP page of %s:\n%s", ev.IP, v)
	}
}

func TestHostileTextOnTheIPPageRendersWithVisibleMarkers(t *testing.T) {
	tn := startTenant(t)
	// The address of a hostile log event that names a user.
	var ip string
	tn.srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if slices.Contains(tn.key.HostileLogs, e.LogID) && e.IP != "" && e.UserName != "" && strings.ContainsAny(e.UserName, "\x1b\u202e\x00\u200b") {
				ip = e.IP
				return
			}
		}
	})
	if ip == "" {
		t.Fatal("bad fixture: the scenario has no hostile user name on an addressed event")
	}
	d := newDriver(t, tn.options(false), 120, 40)
	d.keys("esc", ":", "ip "+ip+" 7d", "enter")
	v := d.untilContains("accounts:")
	checkScreen(t, v, 120, 40)
	d.send(sizeMsg(80, 24))
	checkScreen(t, d.m.View(), 80, 24)
}
