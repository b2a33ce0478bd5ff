package tui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/responders"
)

// TestEveryCountOpensTheListItCounts: the findings, triage and IP pages
// count accounts; each count equals the list it opens, and the IP page
// agrees with the triage it was opened from.
func TestEveryCountOpensTheListItCounts(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.timeout = 2 * time.Minute
	d.keys("esc", ":", "detect 48h", "enter")
	v := d.until("the findings", func(v string) bool { return strings.Contains(v, "finding") && strings.Contains(v, "events ·") })
	fp := d.m.findings
	if len(fp.findings) == 0 {
		t.Fatalf("no finding on the credential-stuffing tenant:\n%s", v)
	}
	for i, f := range fp.findings {
		d.keys("g")
		for range i {
			d.keys("j")
		}
		d.keys("enter")
		d.untilContains("finding " + f.ID)
		p, ok := d.m.top().(*findingPage)
		if !ok {
			t.Fatalf("enter did not open finding %s", f.ID)
		}
		counted := f.Count(responders.VerdictCompromised) + f.Count(responders.VerdictStoppedByMFA) + f.Count(responders.VerdictTargeted)
		if p.accts.len() != counted || counted != len(f.Accounts) {
			t.Errorf("finding %s counts %d accounts, its page lists %d", f.ID, counted, p.accts.len())
		}
		d.keys("esc")
	}

	// The triage of the same window: its accounts tab lists what it counts,
	// and an address's page counts what the triage row says.
	d.keys(":", "triage 48h", "enter")
	d.untilContains("[1: ")
	tr := d.m.triage
	if got := tr.acctList.len(); got != tr.res.Compromised+tr.res.StoppedByMFA+tr.res.Targeted {
		t.Errorf("triage counts %d accounts, lists %d", tr.res.Compromised+tr.res.StoppedByMFA+tr.res.Targeted, got)
	}
	for i, ip := range tr.ips {
		if len(ip.Compromised) == 0 {
			continue
		}
		d.keys("g")
		for range i {
			d.keys("j")
		}
		d.keys("enter")
		// The triage's own header says "accounts:" too.
		v := d.untilIPPage()
		page := d.m.top().(*ipPage)
		if page.res.Compromised < len(ip.Compromised) || !strings.Contains(v, strconv.Itoa(page.res.Compromised)+" compromised") {
			t.Errorf("%s: the triage row says %d compromised, its page %d:\n%s", ip.IP, len(ip.Compromised), page.res.Compromised, v)
		}
		if page.accts.len() != page.res.Compromised+page.res.StoppedByMFA+page.res.Targeted {
			t.Errorf("%s: the IP page counts %d accounts and lists %d", ip.IP, page.res.Compromised+page.res.StoppedByMFA+page.res.Targeted, page.accts.len())
		}
		d.keys("esc")
	}
}

func TestAFindingsResponseRunsFromTheConsole(t *testing.T) {
	tn := startTenant(t)
	d := newDriver(t, tn.options(false), 120, 40)
	d.timeout = 2 * time.Minute
	d.keys("esc", ":", "detect 48h", "enter")
	d.until("the findings", func(v string) bool { return strings.Contains(v, "events ·") })
	f := d.m.findings.findings[0]
	d.keys("g", "X")
	v := d.untilContains("Type the number of accounts (")
	if !strings.Contains(v, "RESPOND TO "+f.ID) || !strings.Contains(v, "[x] block the networks") {
		t.Fatalf("the response modal does not name the finding or plan its network block:\n%s", v)
	}
	d.keys(countRe.FindStringSubmatch(v)[1], "enter")
	d.until("the end of the run", func(v string) bool { return strings.Contains(v, "esc or enter closes") })
	for _, a := range f.Accounts {
		if a.Verdict == responders.VerdictCompromised && a.ResetMethod == "" && !tn.contained(a.UserID) {
			t.Errorf("%s is not contained after the finding's response", a.UserID)
		}
	}
	if len(f.Networks) > 0 && !tn.blockedByACL(strings.TrimSuffix(strings.Split(f.Networks[0], "/")[0], "")) {
		t.Errorf("the finding's first network %s is not blocked", f.Networks[0])
	}
}
