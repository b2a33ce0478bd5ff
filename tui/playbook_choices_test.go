package tui

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

var ticketRe = regexp.MustCompile(`https://\S+/u/reset-password\?ticket=[0-9a-f]+#?`)

// For an email the attacker changed, the contain modal resets by ticket:
// the URL shows inside the console only, and y copies it (OSC 52).
func TestContainModalResetsAChangedEmailByATicketShownInTheConsole(t *testing.T) {
	tn := startTenant(t)
	var id string
	for u := range tn.key.EmailChanged {
		id = u
		break
	}
	if id == "" {
		t.Fatal("bad fixture: no account whose email the attacker changed")
	}
	o := tn.options(false)
	var clip bytes.Buffer
	o.Clipboard = &clip
	d := newDriver(t, o, 120, 40)
	d.openUser(id)
	d.keys("C")
	v := d.untilContains("Type the user id")
	for _, want := range []string{"[x] reset by ticket", "[ ] email the reset anyway"} {
		if !strings.Contains(v, want) {
			t.Errorf("the modal lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "reset would go to the attacker") {
		t.Errorf("the default plan still refuses the reset:\n%s", v)
	}
	d.keys(id, "enter")
	v = d.untilContains("End state")
	url := ticketRe.FindString(v)
	if url == "" || !strings.Contains(v, "Password-change ticket") {
		t.Fatalf("the ticket is not shown in the modal:\n%s", v)
	}
	if n := tn.srv.TicketsCreated(id); n != 1 {
		t.Errorf("%d tickets created for %s, want 1", n, id)
	}
	d.keys("y")
	d.drain(50e6)
	if want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(url)) + "\a"; clip.String() != want {
		t.Errorf("y wrote %q to the terminal, want the OSC 52 of the ticket", clip.String())
	}
	if strings.Contains(d.m.toastText, "ticket=") {
		t.Errorf("the toast shows the ticket: %q", d.m.toastText)
	}
	// The journal holds no ticket.
	raw, err := os.ReadFile(filepath.Join(tn.dir, tn.incident(t, o)+".ndjson"))
	if err != nil || len(raw) == 0 || bytes.Contains(raw, []byte("ticket=")) {
		t.Errorf("the journal (err %v, %d bytes) holds the ticket URL or nothing", err, len(raw))
	}
}

// A factor enrolled in the attack window: the mfa step is offered, on,
// and removes it.
func TestContainModalOffersTheMFAStepForAnEnrolledFactor(t *testing.T) {
	tn := startScenario(t, "mfa-fatigue")
	var id string
	var factors []string
	for u, f := range tn.key.AttackerFactors {
		if _, changed := tn.key.EmailChanged[u]; !changed {
			id, factors = u, f
			break
		}
	}
	if id == "" {
		t.Fatal("bad fixture: no account with an attacker's factor")
	}
	d := newDriver(t, tn.options(false), 120, 40)
	d.openUser(id)
	d.keys("C")
	v := d.untilContains("Type the user id")
	if !strings.Contains(v, "[x] mfa: remove the factors enrolled") || !strings.Contains(v, "[ ] reset by ticket") {
		t.Fatalf("the modal does not offer the mfa step, on:\n%s", v)
	}
	// Tab to the mfa option, space turns it off, the plan drops the step.
	d.keys("tab", "tab", " ")
	d.untilContains("[ ] mfa: remove")
	d.keys(" ")
	d.untilContains("[x] mfa: remove")
	d.keys("tab") // back to the box
	d.keys(id, "enter")
	d.untilContains("End state")
	left := 0
	tn.srv.View(func(st *sandbox.State) {
		for _, m := range st.AuthenticationMethods {
			for _, f := range factors {
				if m.ID == f {
					left++
				}
			}
		}
	})
	if left != 0 {
		t.Errorf("%d attacker factors left after the playbook with the mfa step", left)
	}
}
