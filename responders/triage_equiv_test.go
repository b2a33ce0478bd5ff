package responders

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/logexport"
)

// referenceLogEvent decodes one export line the slow, obvious way:
// encoding/json into a generic value, then the project's log event (as
// auth0client builds it from the Management API's), which
// TriageEventFrom converts. A line is an event when it is one JSON object
// (the envelope's data when that is an object) with a string "type".
func referenceLogEvent(line []byte) (auth0client.LogEvent, bool) {
	var top map[string]any
	if json.Unmarshal(line, &top) != nil || top == nil {
		return auth0client.LogEvent{}, false
	}
	ev := top
	data, envelope := top["data"].(map[string]any)
	if envelope {
		ev = data
	}
	str := func(o map[string]any, k string) string { s, _ := o[k].(string); return s }
	typ, ok := ev["type"].(string)
	if !ok {
		return auth0client.LogEvent{}, false
	}
	e := auth0client.LogEvent{ID: str(ev, "log_id"), Type: typ, IP: str(ev, "ip"), UserID: str(ev, "user_id"),
		UserName: str(ev, "user_name"), UserAgent: str(ev, "user_agent")}
	if envelope && e.ID == "" {
		e.ID = str(top, "log_id")
	}
	if d, err := time.Parse(time.RFC3339Nano, str(ev, "date")); err == nil {
		e.Date = d.UTC()
	}
	if li, ok := ev["location_info"].(map[string]any); ok {
		e.Country = str(li, "country_code")
	}
	e.Details, _ = ev["details"].(map[string]any)
	return e, true
}

// TestTriageFastPathEqualsReferenceDecode: the log-stream reader's triage
// (hand-written scanner, parallel parsers, one folding goroutine) equals
// the triage of the same export decoded with encoding/json and added one
// event at a time, on a generated export of which a third of the lines
// are odd: escapes (\u0000, \", unicode, invalid UTF-8), nulls, numbers
// and objects where strings belong, missing fields, fields in any order,
// nested objects holding "ip", plain events without the envelope, and
// malformed lines.
func TestTriageFastPathEqualsReferenceDecode(t *testing.T) {
	cfg := logexport.Config{Seed: 7, Events: 30_000, Accounts: 3_000, Targeted: 900, Compromised: 12, StoppedByMFA: 8,
		UnknownNames: 300, Bots: 60, BotsPerAccount: 3, AttackShare: 0.45,
		Start: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), Span: 6 * time.Hour, Odd: 0.33}
	var buf bytes.Buffer
	if _, err := logexport.Write(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	export := buf.Bytes()

	ref := NewTriage(TriageConfig{})
	var lines, blank, malformed int64
	for line := range bytes.Lines(export) {
		line = bytes.TrimSuffix(line, []byte{'\n'})
		lines++
		if len(bytes.Trim(line, " \t\r")) == 0 {
			blank++
			continue
		}
		e, ok := referenceLogEvent(line)
		if !ok {
			malformed++
			continue
		}
		ref.Add(TriageEventFrom(e))
	}
	want := ref.Result()
	if malformed == 0 || blank == 0 || want.Compromised == 0 || want.StoppedByMFA == 0 || want.Targeted == 0 {
		t.Fatalf("the export does not exercise the reader: %d malformed, %d blank, verdicts %d/%d/%d",
			malformed, blank, want.Compromised, want.StoppedByMFA, want.Targeted)
	}

	for _, opts := range []LogStreamOptions{{}, {Workers: 2, ChunkBytes: 64 << 10}, {Workers: 3, ChunkBytes: 4 << 10}, {Workers: 1}} {
		fast, stats, err := TriageLogStream(context.Background(), bytes.NewReader(export), TriageConfig{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Lines != lines || stats.Blank != blank || stats.Malformed != malformed || stats.Events != lines-blank-malformed {
			t.Errorf("opts %+v: stats %+v, want %d lines, %d blank, %d malformed", opts, stats, lines, blank, malformed)
		}
		if got := fast.Result(); !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("opts %+v: triage differs from the reference decode (%d vs %d bytes of JSON)\n got %.600s\nwant %.600s", opts, len(g), len(w), g, w)
		}
		if got, want := fast.UnresolvedNames(), ref.UnresolvedNames(); !reflect.DeepEqual(got, want) {
			t.Errorf("opts %+v: unresolved names %d, want %d", opts, len(got), len(want))
		}
	}
	// Events added after a parallel read (whose shares merged without
	// indexing their addresses and pairs) land where sequential adds do.
	more := cfg
	more.Seed, more.Events, more.Odd = 8, 3_000, 0
	var moreBuf bytes.Buffer
	if _, err := logexport.Write(&moreBuf, more); err != nil {
		t.Fatal(err)
	}
	fast, _, err := TriageLogStream(context.Background(), bytes.NewReader(export), TriageConfig{}, LogStreamOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(moreBuf.Bytes()) {
		if e, ok := referenceLogEvent(bytes.TrimSuffix(line, []byte{'\n'})); ok {
			fast.Add(TriageEventFrom(e))
			ref.Add(TriageEventFrom(e))
		}
	}
	if got, want := fast.Result(), ref.Result(); !reflect.DeepEqual(got, want) {
		t.Errorf("events added after a parallel read: triage differs from the reference (%d vs %d accounts, %d vs %d addresses)",
			len(got.Accounts), len(want.Accounts), len(got.IPs), len(want.IPs))
	}

	// The same population without the odd lines: its attack exactly.
	cfg.Odd = 0
	buf.Reset()
	sum, err := logexport.Write(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr, _, err := TriageLogStream(context.Background(), &buf, TriageConfig{}, LogStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := verdicts(tr.Result())
	if !sameStrings(got[VerdictCompromised], sum.Compromised) || !sameStrings(got[VerdictStoppedByMFA], sum.StoppedByMFA) {
		t.Errorf("clean export: compromised %v, want %v; stopped by MFA %v, want %v", got[VerdictCompromised], sum.Compromised,
			got[VerdictStoppedByMFA], sum.StoppedByMFA)
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
