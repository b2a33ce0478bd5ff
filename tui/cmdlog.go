package tui

import (
	"fmt"
	"strings"
	"sync/atomic"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
)

// CallFeed carries every request the client sends to the console's command
// log. Its Observe is the client's Config.Observer: it never blocks the
// caller (a full feed drops the entry and counts it).
type CallFeed struct {
	ch      chan auth0client.CallInfo
	dropped atomic.Int64
}

// NewCallFeed returns a feed with room for a burst of calls.
func NewCallFeed() *CallFeed { return &CallFeed{ch: make(chan auth0client.CallInfo, 4096)} }

// Observe records one call; pass it as auth0client.Config.Observer.
func (f *CallFeed) Observe(ci auth0client.CallInfo) {
	select {
	case f.ch <- ci:
	default:
		f.dropped.Add(1)
	}
}

// Pending is how many calls wait to be shown.
func (f *CallFeed) Pending() int { return len(f.ch) }

// callMsg is one call read from the feed.
type callMsg struct{ call auth0client.CallInfo }

// listenCalls waits for the next call; the root re-arms it after each one.
func (f *CallFeed) listen() tea.Cmd {
	if f == nil {
		return nil
	}
	return func() tea.Msg { return callMsg{<-f.ch} }
}

// cmdlogKeep bounds the command log's memory.
const cmdlogKeep = 2000

// cmdlog is the toggleable pane listing every API call the console made
// and, in dry-run, every write it did not send.
type cmdlog struct {
	calls    []auth0client.CallInfo
	feed     *CallFeed
	recorder *auth0client.Recorder
}

func (c *cmdlog) add(ci auth0client.CallInfo) {
	c.calls = append(c.calls, ci)
	if len(c.calls) > cmdlogKeep {
		c.calls = append(c.calls[:0], c.calls[len(c.calls)-cmdlogKeep:]...)
	}
}

// view draws the newest entries that fit in h lines (h includes the title).
func (c *cmdlog) view(st *styles, w, h int) string {
	var lines []string
	for _, ci := range c.calls {
		status := fmt.Sprint(ci.Status)
		if ci.Err != "" {
			status = ci.Err
		}
		retry := ""
		if ci.Attempt > 1 {
			retry = fmt.Sprintf(" (attempt %d)", ci.Attempt)
		}
		lines = append(lines, fmt.Sprintf("%s %-6s %s %s %dms%s", ci.Time.UTC().Format("15:04:05"), ci.Method,
			auth0client.Clean(ci.Path), status, ci.Duration.Milliseconds(), retry))
	}
	notSent := 0
	if c.recorder != nil {
		for _, call := range c.recorder.Calls() {
			notSent++
			lines = append(lines, "NOT SENT (dry-run) "+call.String())
		}
	}
	title := fmt.Sprintf("API calls: %d sent", len(c.calls))
	if c.recorder != nil {
		title += fmt.Sprintf(", %d writes not sent (dry-run)", notSent)
	}
	if c.feed != nil {
		if d := c.feed.dropped.Load(); d > 0 {
			title += fmt.Sprintf(", %d not shown (log overflow)", d)
		}
	}
	if len(lines) > h-1 {
		lines = lines[len(lines)-(h-1):]
	}
	var b strings.Builder
	b.WriteString(st.title.Render(strings.Repeat("─", 2) + " " + title + " "))
	for _, l := range lines {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	for i := len(lines) + 1; i < h; i++ {
		b.WriteByte('\n')
	}
	return b.String()
}
