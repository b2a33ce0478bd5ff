package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

type jsonEvent struct {
	ID     string `json:"log_id"`
	Type   string `json:"type"`
	IP     string `json:"ip"`
	UserID string `json:"user_id"`
}

func decodeEvents(t *testing.T, out string) []jsonEvent {
	t.Helper()
	var evs []jsonEvent
	if err := json.Unmarshal([]byte(out), &evs); err != nil {
		t.Fatalf("decode JSON output: %v\n%.300s", err, out)
	}
	return evs
}

func ids(evs []jsonEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func TestLogsSearchPastTheCapReturnsTheNewestMatchesWithoutGapsOrDuplicates(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	var want []string
	srv.View(func(st *sandbox.State) {
		cutoff := time.Now().Add(-48 * time.Hour)
		for i := len(st.Logs) - 1; i >= 0 && len(want) < 5000; i-- {
			if e := st.Logs[i]; e.Type == "f" && e.Date.After(cutoff) {
				want = append(want, e.LogID)
			}
		}
	})
	if len(want) < 5000 {
		t.Fatalf("bad fixture: only %d f events", len(want))
	}
	res := c.run("logs", "search", "--type", "f", "--since", "48h", "--limit", "5000", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	got := ids(decodeEvents(t, res.stdout))
	if !slices.Equal(got, want) {
		t.Fatalf("got %d events, want the tenant's %d newest f events in order (first diff: %v)", len(got), len(want), diffAt(got, want))
	}
}

func diffAt(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + " vs " + b[i]
		}
	}
	return "length"
}

func TestLogsSearchByCIDRReturnsExactlyTheEventsInRange(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	if len(key.AttackerCIDRs) == 0 {
		t.Fatal("scenario has no attacker CIDR")
	}
	block := netip.MustParsePrefix(key.AttackerCIDRs[0])
	lower := netip.PrefixFrom(block.Addr(), block.Bits()+1) // not octet-aligned: matched on the client only
	for _, prefix := range []netip.Prefix{block, lower} {
		t.Run(prefix.String(), func(t *testing.T) {
			var want []string
			srv.View(func(st *sandbox.State) {
				for i := len(st.Logs) - 1; i >= 0; i-- {
					if a, err := netip.ParseAddr(st.Logs[i].IP); err == nil && prefix.Contains(a) {
						want = append(want, st.Logs[i].LogID)
					}
				}
			})
			if len(want) == 0 {
				t.Fatal("bad fixture: no events in the range")
			}
			// 72h covers the whole 48 h scenario, whatever the clock did meanwhile.
			res := c.run("logs", "search", "--ip", prefix.String(), "--since", "72h", "--limit", "100000", "--json")
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			got := ids(decodeEvents(t, res.stdout))
			if !slices.Equal(got, want) {
				t.Fatalf("got %d events, want the tenant's %d in %s (first diff %s)", len(got), len(want), prefix, diffAt(got, want))
			}
		})
	}
}

func TestLogsTailFollowsNewEventsFilteredOnTheClient(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	env := &environment{stdin: strings.NewReader(""), stdout: out, stderr: errb, getenv: func(k string) string { return c.env[k] }}
	done := make(chan int, 1)
	go func() {
		done <- runEnv(ctx, env, []string{"logs", "tail", "--type", "fp", "--ip", "198.51.100.0/24", "--interval", "100ms", "--json"})
	}()
	waitFor(t, func() bool { return strings.Contains(errb.String(), "following") }, "tail to start")
	var want []string
	for i, ip := range []string{"198.51.100.7", "203.0.113.9", "198.51.100.8", "198.51.100.9"} {
		typ := "fp"
		if i == 3 {
			typ = "s" // right network, wrong type
		}
		e := srv.AppendLog(sandbox.LogEvent{Type: typ, IP: ip, Description: "Wrong email or password."})
		if typ == "fp" && strings.HasPrefix(ip, "198.51.100.") {
			want = append(want, e.LogID)
		}
	}
	waitFor(t, func() bool { return strings.Count(out.String(), "\n") >= len(want) }, "the new events")
	time.Sleep(300 * time.Millisecond) // a few more polls: nothing else may arrive
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("tail exit %d after ctrl+c, want 0: %s", code, errb.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var e jsonEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not NDJSON: %q", line)
		}
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("tail printed %v, want %v", got, want)
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a command writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
