package tui

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// epoch is the scenario's "now" in every test: views are reproducible.
var epoch = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// tenant is a training scenario served over loopback, and the real client
// talking to it.
type tenant struct {
	srv    *sandbox.Server
	key    *scenarios.AnswerKey
	client *auth0client.Client
	feed   *CallFeed
	dir    string // incident journals
}

func startTenant(t testing.TB) *tenant {
	t.Helper()
	return startScenario(t, scenarios.DefaultScenario)
}

// startScenario serves a named training scenario.
func startScenario(t testing.TB, name string) *tenant {
	t.Helper()
	sc, ok := scenarios.Get(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	st, key := sc.Generate(sc.DefaultSeed, epoch)
	srv := sandbox.New(st, sandbox.WithRateLimit(0, 0), sandbox.WithRevokeDelay(0))
	url, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	base, err := auth0client.ParseDomain(url)
	if err != nil {
		t.Fatal(err)
	}
	var resetClient string
	srv.View(func(st *sandbox.State) {
		for _, c := range st.Connections {
			if c.Strategy == "auth0" && len(c.EnabledClients) > 0 {
				resetClient = c.EnabledClients[0]
				return
			}
		}
	})
	feed := NewCallFeed()
	c, err := auth0client.New(auth0client.Config{BaseURL: base, ClientID: sandbox.ClientID,
		ClientSecret: auth0client.NewSecret(sandbox.ClientSecret), ResetClientID: resetClient, Observer: feed.Observe})
	if err != nil {
		t.Fatal(err)
	}
	return &tenant{srv: srv, key: key, client: c, feed: feed, dir: t.TempDir()}
}

// asciiRenderer renders with no colour at all: golden files are plain text.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// options are the console's options against the tenant, as cmd builds them
// (a training journal in a temp dir; a Recorder when dryRun).
func (tn *tenant) options(dryRun bool) Options {
	o := Options{Ctx: context.Background(), Client: tn.client, Writer: tn.client, Training: !dryRun,
		Calls: tn.feed, Renderer: asciiRenderer(), Now: func() time.Time { return epoch }, Since: 72 * time.Hour}
	mode := responders.ModeTraining
	if dryRun {
		rec := &auth0client.Recorder{ResetClientID: tn.client.ResetClientID()}
		o.Writer, mode = rec, responders.ModeDryRun
	}
	// A fresh incident store: the first run opens an incident (dated by
	// the test clock) and later consoles find it as the current one.
	o.Incidents = &responders.Incidents{Dir: tn.dir, CurrentFile: filepath.Join(tn.dir, "current-incident"), Now: o.Now,
		Meta: responders.JournalMeta{Operator: "test@host", Tenant: tn.client.Tenant(), Mode: mode}}
	return o
}

// incident is the id of the incident the console journals into (after a
// run has opened it).
func (tn *tenant) incident(t testing.TB, o Options) string {
	t.Helper()
	id := o.Incidents.Current()
	if id == "" {
		t.Fatal("no incident was opened")
	}
	return id
}

// driver runs the console's model the way bubbletea does: messages go to
// Update one at a time, Cmds run in goroutines and their messages come back.
type driver struct {
	t    testing.TB
	m    *Model
	msgs chan tea.Msg
	quit bool
	// timeout bounds each wait (default 15 s): a whole-window detection
	// on a busy machine needs more.
	timeout time.Duration
}

func newDriver(t testing.TB, o Options, w, h int) *driver {
	d := &driver{t: t, m: New(o), msgs: make(chan tea.Msg, 1024)}
	d.run(d.m.Init())
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		if msg := cmd(); msg != nil {
			d.msgs <- msg
		}
	}()
}

func (d *driver) send(msg tea.Msg) {
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
		return
	case tea.QuitMsg:
		d.quit = true
		return
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// keys sends key presses: named keys ("enter", "esc", "tab", "up",
// "down", "ctrl+c") or text, one rune per press.
func (d *driver) keys(keys ...string) {
	named := map[string]tea.KeyType{"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "up": tea.KeyUp,
		"down": tea.KeyDown, "ctrl+c": tea.KeyCtrlC, "ctrl+l": tea.KeyCtrlL, "backspace": tea.KeyBackspace, "shift+tab": tea.KeyShiftTab, "ctrl+u": tea.KeyCtrlU}
	for _, k := range keys {
		if kt, ok := named[k]; ok {
			d.send(tea.KeyMsg{Type: kt})
			d.drain(0)
			continue
		}
		for _, r := range k {
			d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			d.drain(0)
		}
	}
}

// drain handles the messages that arrive within idle of each other.
func (d *driver) drain(idle time.Duration) {
	for {
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(idle):
			return
		}
	}
}

// until handles messages until the view satisfies ok (or fails the test).
func (d *driver) until(what string, ok func(view string) bool) string {
	d.t.Helper()
	wait := d.timeout
	if wait == 0 {
		wait = 15 * time.Second
	}
	deadline := time.After(wait)
	for {
		v := d.m.View()
		if ok(v) {
			d.drain(50 * time.Millisecond)
			return d.m.View()
		}
		select {
		case msg := <-d.msgs:
			d.send(msg)
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			d.t.Fatalf("timed out waiting for %s; the screen:\n%s", what, v)
		}
	}
}

// untilIPPage waits for an IP page on top with its events read (another
// page's "accounts:" must not pass for it).
func (d *driver) untilIPPage() string {
	d.t.Helper()
	return d.until("the IP page", func(string) bool {
		p, ok := d.m.top().(*ipPage)
		return ok && !p.loading
	})
}

func (d *driver) untilContains(s string) string {
	d.t.Helper()
	return d.until(strings.TrimSpace(s), func(v string) bool { return strings.Contains(v, s) })
}

var (
	portRe = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	timeRe = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	headRe = regexp.MustCompile(`head [0-9a-f]{16}`)
	// incidentRe is an incident id: its last four characters are random.
	incidentRe = regexp.MustCompile(`(inc-\d{8}-\d{4}-)[0-9a-f]{4}`)
)

// golden compares a settled view with testdata/NAME.golden (-update
// rewrites it). The sandbox's port is masked; so are journal times and
// hashes when volatile is set (the journal stamps records with the wall clock).
func golden(t *testing.T, name, view string, volatile bool) {
	t.Helper()
	view = portRe.ReplaceAllString(view, "127.0.0.1:PORT")
	view = incidentRe.ReplaceAllString(view, "${1}abcd") // the id's random part
	if volatile {
		view = timeRe.ReplaceAllString(view, "YYYY-MM-DD hh:mm:ss")
		view = headRe.ReplaceAllString(view, "head HASH")
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(view), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui/ -update)", err)
	}
	if string(want) != view {
		t.Errorf("%s differs from the golden file (go test ./tui/ -run %s -update to accept):\n--- got\n%s\n--- want\n%s", name, t.Name(), view, want)
	}
}

// checkScreen fails on anything that would let tenant text act on the
// terminal: a control byte other than newline, DEL, C1 controls or bidi
// overrides, and lines wider or more numerous than the screen.
func checkScreen(t *testing.T, view string, w, h int) {
	t.Helper()
	for i, r := range view {
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200b:
			t.Fatalf("raw control character %U at byte %d: %q", r, i, view[max(0, i-40):min(len(view), i+40)])
		}
	}
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for _, l := range lines {
		if lipgloss.Width(l) > w {
			t.Errorf("line wider than %d: %q", w, l)
		}
	}
}
