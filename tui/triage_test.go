package tui

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/responders"
)

// takeover is an attacker address from which a compromised account
// signed in, read from the sandbox's own logs.
func (tn *tenant) takeover(t *testing.T) (ip, user string) {
	t.Helper()
	tn.srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.Type == "s" && tn.key.IsAttackerIP(e.IP) && slices.Contains(tn.key.Compromised, e.UserID) {
				ip, user = e.IP, e.UserID
				return
			}
		}
	})
	if ip == "" {
		t.Fatal("bad fixture: no takeover from an attacker address")
	}
	return ip, user
}

var rowIPRe = regexp.MustCompile(`(?m)^>[ *][ !✓] (?:\s*)\d+\s+(\S+)`)

func TestTriagePageRanksTheAttackAndLabelsSharedInfrastructure(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.timeout = 2 * time.Minute // a detection read, on a shared machine
	d.keys("esc", ":", "triage 12h", "enter")
	v := d.untilContains("[1: ")
	checkScreen(t, v, 120, 40)
	golden(t, "triage_120x40", v, false)

	// The top row is an attacker address of the answer key.
	m := rowIPRe.FindStringSubmatch(v)
	if m == nil || !tn.key.IsAttackerIP(m[1]) {
		t.Errorf("the top row is not an attacker address: %v\n%s", m, v)
	}
	// Shared infrastructure is listed, labelled, and never bulk-contained.
	p := d.m.triage
	for _, shared := range tn.key.SharedIPs {
		i := slices.IndexFunc(p.ips, func(r responders.IPReport) bool { return r.IP == shared })
		if i < 0 || !p.ips[i].Label.IsShared() {
			t.Errorf("shared address %s is not labelled shared", shared)
			continue
		}
		p.ipList.cursor = i // the list is unfiltered: row i is at position i
		p.ipList.clamp()
		d.keys("X")
		if d.m.bulk != nil {
			t.Fatalf("X opened a bulk run on shared address %s", shared)
		}
		d.untilContains("does not bulk-contain it")
	}

	// o puts the addresses that took accounts over first.
	d.keys("o")
	v = d.untilContains("order: takeovers first")
	top := d.m.triage.ips[d.m.triage.currentRow()]
	if len(top.Compromised) == 0 || !tn.key.IsAttackerIP(top.IP) {
		t.Errorf("takeovers first: the top row %s took over %v", top.IP, top.Compromised)
	}
	d.keys("o")
	d.untilContains("order: by rank")

	// The networks tab, and the resized views.
	d.keys("g", "tab")
	v = d.untilContains("[2: ")
	if !strings.Contains(v, "193.42.33.0/24") && len(tn.key.AttackerCIDRs) > 0 && !strings.Contains(v, tn.key.AttackerCIDRs[0]) {
		t.Errorf("the attacker network is not listed:\n%s", v)
	}
	// The accounts tab lists every account the counts count.
	d.keys("tab")
	v = d.untilContains("[3: ")
	if got, want := d.m.triage.acctList.len(), d.m.triage.res.Compromised+d.m.triage.res.StoppedByMFA+d.m.triage.res.Targeted; got != want {
		t.Errorf("the accounts tab lists %d accounts, the counts say %d", got, want)
	}
	d.keys("tab")
	d.send(sizeMsg(80, 24))
	v = d.m.View()
	checkScreen(t, v, 80, 24)
	golden(t, "triage_80x24", v, false)

	// enter opens the top address's IP page.
	d.keys("enter")
	v = d.untilIPPage()
	if p, ok := d.m.top().(*ipPage); !ok || p.target != m[1] || !strings.HasPrefix(v[strings.Index(v, "\n")+1:], m[1]+" ·") {
		t.Errorf("enter did not open the IP page of %s:\n%s", m[1], v)
	}
}

func TestTriageStreamsProgressWithoutBlockingUpdate(t *testing.T) {
	tn := startTenant(t)
	o := tn.options(false)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	o.Ctx = ctx
	// A slow tenant: the production triage (responders.TriageTenant) takes
	// many seconds to page through the window.
	tn.srv.SetFaults(sandbox.Faults{Latency: 40 * time.Millisecond})
	d := newDriver(t, o, 120, 40)
	d.keys("esc", ":", "triage 48h", "enter")
	v := d.until("progress", regexp.MustCompile(`[1-9][0-9]* read`).MatchString)
	if !strings.Contains(v, "window 48h") {
		t.Errorf("the window is not shown:\n%s", v)
	}
	// Keys still work while the read goes on.
	d.keys("?")
	if !d.m.help {
		t.Fatal("the console does not answer keys while triage reads")
	}
	d.keys("esc")
	if p, ok := d.m.top().(*triagePage); !ok || !p.loading {
		t.Fatal("the triage finished too soon to show that keys work during the read")
	}
}

func TestPaletteRefusesABadWindowOrAddress(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 80, 24)
	for _, c := range []struct{ cmd, says string }{
		{"triage soon", `window "soon" is not a duration`},
		{"ip 999.1.1.1", `"999.1.1.1" is not an IP address`},
		{"ip", "usage: :ip"},
		{"ip 1.2.3.4 forever", `window "forever" is not`},
	} {
		d.keys("esc", ":", c.cmd, "enter")
		v := d.untilContains(c.says)
		if len(d.m.stack) != 1 {
			t.Errorf(":%s opened a page", c.cmd)
		}
		checkScreen(t, v, 80, 24)
	}
}
