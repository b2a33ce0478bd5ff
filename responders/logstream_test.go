package responders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

const samplesPath = "../../shared/samples/auth0-log-stream-events.ndjson"

// referenceEvent decodes a line with encoding/json the way ParseLogEvent
// must read it: the envelope's data when it is an object, keys exact.
func referenceEvent(line []byte) (TriageEvent, bool) {
	// Numbers as json.Number: a valid number too large for a float64
	// (1e700) does not make the line malformed.
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if dec.Decode(&m) != nil || m == nil || dec.InputOffset() != int64(len(bytes.TrimRight(line, " \t\r\n"))) {
		return TriageEvent{}, false
	}
	ev := m
	data, envelope := m["data"].(map[string]any)
	if envelope {
		ev = data
	}
	str := func(o map[string]any, k string) string { s, _ := o[k].(string); return s }
	e := TriageEvent{LogID: str(ev, "log_id"), Type: str(ev, "type"), IP: str(ev, "ip"), UserID: str(ev, "user_id"),
		UserName: str(ev, "user_name"), Agent: AgentHash(str(ev, "user_agent"))}
	if envelope && e.LogID == "" {
		e.LogID = str(m, "log_id")
	}
	if d := str(ev, "date"); d != "" {
		if t, err := time.Parse(time.RFC3339Nano, d); err == nil {
			e.Date = t.UTC()
		}
	}
	if li, ok := ev["location_info"].(map[string]any); ok {
		e.Country = str(li, "country_code")
	}
	if det, ok := ev["details"].(map[string]any); ok {
		e.RequiresVerification = det["requiresVerification"] == true
	}
	_, hasType := ev["type"].(string)
	return e, hasType
}

func TestReadLogStreamSamples(t *testing.T) {
	raw, err := os.ReadFile(samplesPath)
	if err != nil {
		t.Fatalf("samples (../shared/samples beside the checkout): %v", err)
	}
	types := map[string]int{}
	noOuterID := 0
	stats, err := ReadLogStream(context.Background(), bytes.NewReader(raw), 0, func(e TriageEvent) error {
		types[e.Type]++
		if e.LogID == "" {
			noOuterID++
		}
		return nil
	})
	if err != nil || stats.Events != 57 || stats.Malformed != 0 || stats.Lines != 57 {
		t.Fatalf("err %v stats %+v", err, stats)
	}
	// The README's census of the file.
	for typ, n := range map[string]int{"sapi": 44, "signup_pwd_leak": 5, "gd_enrollment_complete": 3, "pwd_leak": 1, "limit_wc": 1, "gd_send_pn": 1, "ferrt": 1, "fcoa": 1} {
		if types[typ] != n {
			t.Errorf("%s: %d, want %d", typ, types[typ], n)
		}
	}
	// Every line, in both envelope forms, reads as encoding/json reads it.
	for i, line := range bytes.Split(bytes.TrimSpace(raw), []byte{'\n'}) {
		got, ok := ParseLogEvent(line)
		want, wok := referenceEvent(line)
		if !ok || !wok || got != want {
			t.Errorf("line %d:\n got %+v\nwant %+v", i+1, got, want)
		}
	}
	if noOuterID > 1 { // one enrolment event has no log_id at all
		t.Errorf("%d events without log_id", noOuterID)
	}
}

func TestReadLogStreamCountsMalformedLines(t *testing.T) {
	in := strings.Join([]string{
		`{"log_id":"1","data":{"type":"f","ip":"203.0.113.5","date":"2025-10-01T05:39:16.467Z"}}`,
		`not json`,
		`{"type":"fp","ip":"203.0.113.5"`, // truncated
		``,
		`[]`,
		`{"ip":"203.0.113.5"}`, // no type
		"{\"type\":\"s\",\"ip\":\"203.0.113.6\"}\r",
		`{"type":"s"} trailing`,
		`{"type":"s","user_name":"a\u0000b\ud800"}`,
		`{"data":{"type":"limit_wc","user_name":"bob"},"log_id":"outer"}`,
	}, "\n")
	var got []TriageEvent
	stats, err := ReadLogStream(context.Background(), strings.NewReader(in), 0, func(e TriageEvent) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Lines != 10 || stats.Events != 4 || stats.Blank != 1 || stats.Malformed != 5 {
		t.Fatalf("stats %+v", stats)
	}
	if want := []int64{2, 3, 5, 6, 8}; !equalInts(stats.MalformedLines, want) {
		t.Errorf("malformed lines %v, want %v", stats.MalformedLines, want)
	}
	if got[0].LogID != "1" || got[0].Date.IsZero() || got[1].IP != "203.0.113.6" || got[2].UserName != "a\x00b\uFFFD" || got[3].LogID != "outer" {
		t.Errorf("events %+v", got)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReadLogStreamHugeLines(t *testing.T) {
	huge := "Mozilla/5.0 \x1b[2J" + strings.Repeat("A\u200b", 1<<19) // over 1 MB
	line := func(typ, ua string) string {
		b, _ := json.Marshal(map[string]any{"log_id": "x", "data": map[string]any{"type": typ, "ip": "203.0.113.5", "user_agent": ua}})
		return string(b)
	}
	in := line("f", "ok") + "\n" + line("fp", huge) + "\n" + line("s", "ok")
	for _, opts := range []LogStreamOptions{{ChunkBytes: 64 << 10, Workers: 2}, {ChunkBytes: 4 << 20, Workers: 1}} {
		tr, stats, err := TriageLogStream(context.Background(), strings.NewReader(in), TriageConfig{}, opts)
		if err != nil || stats.Events != 3 || stats.Malformed != 0 {
			t.Fatalf("opts %+v: err %v stats %+v", opts, err, stats)
		}
		if r := tr.Result(); r.IPs[0].Failures != 2 || r.IPs[0].Successes != 1 {
			t.Errorf("result %+v", r.IPs[0])
		}
	}
	e, ok := ParseLogEvent([]byte(line("fp", huge)))
	if !ok || e.Agent != AgentHash(huge) {
		t.Error("huge user agent not hashed")
	}
	// Over the line cap: skipped as malformed, its neighbours kept.
	tr, stats, err := TriageLogStream(context.Background(), strings.NewReader(in), TriageConfig{},
		LogStreamOptions{ChunkBytes: 16 << 10, MaxLineBytes: 256 << 10})
	if err != nil || stats.Events != 2 || stats.Malformed != 1 || !equalInts(stats.MalformedLines, []int64{2}) || stats.Lines != 3 {
		t.Fatalf("err %v stats %+v", err, stats)
	}
	if tr.Result().IPs[0].Successes != 1 {
		t.Error("line after the over-long one lost")
	}
}

func TestReadLogStreamLimit(t *testing.T) {
	in := strings.Repeat(`{"type":"f","ip":"203.0.113.5"}`+"\n", 10)
	for _, limit := range []int64{1, 3, 10, 11} {
		n := 0
		stats, err := ReadLogStream(context.Background(), strings.NewReader(in), limit, func(TriageEvent) error { n++; return nil })
		want := min(int(limit), 10)
		if err != nil || n != want || stats.Limited != (limit < 10) {
			t.Errorf("limit %d: %d events, stats %+v, err %v", limit, n, stats, err)
		}
	}
}

func TestParseAuth0TimeAgreesWithTimeParse(t *testing.T) {
	for _, s := range []string{"2025-10-03T14:09:32.149Z", "2024-02-29T23:59:59.999Z", "2025-02-29T00:00:00.000Z",
		"2025-13-01T00:00:00.000Z", "2025-10-03T24:00:00.000Z", "2025-10-03T14:09:32Z", "2025-10-03T14:09:32.149+02:00", "garbage", ""} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			want = time.Time{}
		}
		if got := parseAuth0Time([]byte(s)); !got.Equal(want) {
			t.Errorf("%q: got %v, want %v", s, got, want)
		}
	}
	// Every day of every month (and the days past their ends) of years
	// around the calendar's corners, at a few times of day.
	for _, year := range []int{0, 1, 4, 99, 100, 400, 1582, 1899, 1900, 1969, 1970, 1999, 2000, 2024, 2025, 2026, 2100, 2400, 9999} {
		for month := 1; month <= 12; month++ {
			for day := 1; day <= 31; day++ {
				for _, hms := range []string{"00:00:00.000", "13:07:59.123", "23:59:59.999"} {
					s := fmt.Sprintf("%04d-%02d-%02dT%sZ", year, month, day, hms)
					want, err := time.Parse(time.RFC3339Nano, s)
					if err != nil {
						want = time.Time{}
					}
					if got := parseAuth0Time([]byte(s)); !got.Equal(want) || got.Location() != time.UTC {
						t.Fatalf("%q: got %v, want %v", s, got, want)
					}
				}
			}
		}
	}
}

func FuzzReadLogStream(f *testing.F) {
	if raw, err := os.ReadFile(samplesPath); err == nil {
		for _, line := range bytes.Split(raw, []byte{'\n'})[:8] {
			f.Add(line)
		}
	}
	for _, s := range []string{
		`{"type":"f","ip":"1.2.3.4","date":"2025-10-03T14:09:32.149Z","user_name":"a\"b"}`,
		`{"data":{"type":"pla","details":{"requiresVerification":true}},"log_id":"9"}` + "\n\n" + `{"type":"s"}`,
		`{"type":"s","type":1,"location_info":{"country_code":"RO"},"log\u005fid":"x"}`,
		`{"type":"s","data":[1,2,{"a":null}],"ip":"\ud83d\ude00"}`,
		"{\"type\":\"s\",\"user_name\":\"\xff\"}",
		`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]`, `{"type":"s"`, `{"a":-0.5e+3,"type":"x"}`,
		// Spaces outside strings, where they may and may not be.
		` { "data" : { "type" : "s" , "ip" : "1" , "details" : { "requiresVerification" : true } } } `,
		`{"type":"s","n":[1 2]}`, `{"type":"s","n":- 1}`, `{"type":"s","n":12345678901234567890.5e-7}`,
		`{"type":"s","location_info":{"country_code":"RO","country_code":7,"x":{}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lines := bytes.Split(in, []byte{'\n'})
		events := int64(0)
		for _, line := range lines {
			got, ok := ParseLogEvent(line)
			if !ok {
				continue
			}
			events++
			if !json.Valid(line) {
				t.Fatalf("accepted invalid JSON %q", line)
			}
			want, wok := referenceEvent(line)
			if !wok || got != want {
				t.Fatalf("%q:\n got %+v\nwant %+v", line, got, want)
			}
		}
		stats, err := ReadLogStream(context.Background(), bytes.NewReader(in), 0, func(TriageEvent) error { return nil })
		if err != nil || stats.Events != events || stats.Events+stats.Blank+stats.Malformed != stats.Lines {
			t.Fatalf("stats %+v (events %d), err %v", stats, events, err)
		}
		_, pstats, err := TriageLogStream(context.Background(), bytes.NewReader(in), TriageConfig{}, LogStreamOptions{Workers: 2, ChunkBytes: 16})
		if err != nil || pstats.Events != stats.Events || pstats.Malformed != stats.Malformed || pstats.Lines != stats.Lines {
			t.Fatalf("parallel stats %+v, sequential %+v", pstats, stats)
		}
	})
}

// FuzzQuoteMasks checks quoteMasks (AVX2 on amd64) against
// quoteMasksGeneric on any bytes.
func FuzzQuoteMasks(f *testing.F) {
	f.Add([]byte(`{"a":"b\\"c","d":[1,2,{"e":null}]}` + strings.Repeat(`"x" `, 40)))
	f.Add(bytes.Repeat([]byte{'"', 0x1f, 0x80, '\\', ' ', 0x7f, 0xff}, 30))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := len(b) / 64
		for _, inString := range []bool{false, true} {
			got, want := make([]uint64, n), make([]uint64, n)
			gf, wf := quoteMasks(b, got, inString), quoteMasksGeneric(b, want, inString)
			if gf != wf || !slices.Equal(got, want) {
				t.Fatalf("in string %v: flags %b masks %x, want %b %x", inString, gf, got, wf, want)
			}
		}
		// A line's flags: spaces outside its strings, wherever they are.
		var f eventFields
		if _, compact, ok := f.quoteMasks(b); ok {
			spaced, in := false, false
			for _, c := range b {
				switch {
				case c == '"':
					in = !in
				case c == ' ' && !in:
					spaced = true
				}
			}
			if compact == spaced {
				t.Fatalf("compact %v, but spaces outside strings: %v", compact, spaced)
			}
		}
	})
}

// TestFastPathTakesExportLines: the lines of a generated export, and the
// same lines with spaces, CRLF-free non-ASCII text and the envelope
// removed, are read by the fast path (a regression that sent them to the
// general scanner would only show as a slower triage), and read alike.
func TestFastPathTakesExportLines(t *testing.T) {
	lines, _ := parseBenchLines()
	variants := []func([]byte) []byte{
		func(l []byte) []byte { return l },
		func(l []byte) []byte { return bytes.ReplaceAll(l, []byte(`":`), []byte(`" : `)) },
		func(l []byte) []byte {
			return bytes.Replace(l, []byte(`"country_code"`), []byte(`"city":"Zürich – Genève","country_code"`), 1)
		},
		func(l []byte) []byte {
			i := bytes.Index(l, []byte(`"data":`))
			return l[i+len(`"data":`) : len(l)-1]
		},
	}
	for v, variant := range variants {
		for i, line := range lines[:500] {
			line = variant(slices.Clone(line))
			var fast eventFields
			if !fast.parseClean(line) {
				t.Fatalf("variant %d, line %d: not read by the fast path: %s", v, i, line)
			}
			got, _ := ParseLogEvent(line)
			want, ok := referenceEvent(line)
			if !ok || got != want {
				t.Fatalf("variant %d, line %d:\n got %+v\nwant %+v", v, i, got, want)
			}
		}
	}
}

// TestMalformedLineNumbersAcrossBlocks: line numbers are counted per block
// and shifted when the blocks' stats merge in order, and over-long lines
// travel as blocks of their own: the numbers reported must be the input's,
// whatever the block size and the number of workers, from both readers.
func TestMalformedLineNumbersAcrossBlocks(t *testing.T) {
	good := `{"type":"f","ip":"203.0.113.5","user_name":"a@example.com"}`
	long := `{"type":"f","ip":"203.0.113.5","user_agent":"` + strings.Repeat("x", 5000) + `"}`
	var lines []string
	var want []int64
	for i := 1; i <= 400; i++ {
		switch {
		case i == 1 || i == 2 || i%97 == 0 || i == 400: // over-long, two in a row, the last at the end
			lines = append(lines, long)
			want = append(want, int64(i))
		case i%31 == 0:
			lines = append(lines, `{"type":`)
			want = append(want, int64(i))
		case i%50 == 0:
			lines = append(lines, "")
		default:
			lines = append(lines, good)
		}
	}
	in := strings.Join(lines, "\n")
	slices.Sort(want)
	want = want[:maxReportedLines]
	for _, opts := range []LogStreamOptions{{ChunkBytes: 4 << 10, MaxLineBytes: 4 << 10, Workers: 3}, {ChunkBytes: 1 << 10, MaxLineBytes: 2 << 10, Workers: 1}} {
		_, stats, err := TriageLogStream(context.Background(), strings.NewReader(in), TriageConfig{}, opts)
		if err != nil || stats.Lines != 400 || !slices.Equal(stats.MalformedLines, want) {
			t.Fatalf("opts %+v: err %v lines %d malformed %v, want %v", opts, err, stats.Lines, stats.MalformedLines, want)
		}
	}
	// ReadLogStream reads with the default line cap: make the long lines
	// malformed JSON-wise instead, and check the numbering alone.
	stats, err := ReadLogStream(context.Background(), strings.NewReader(strings.ReplaceAll(in, long, `{"type":1}`)), 0,
		func(TriageEvent) error { return nil })
	if err != nil || stats.Lines != 400 || !slices.Equal(stats.MalformedLines, want) {
		t.Fatalf("ReadLogStream: err %v lines %d malformed %v, want %v", err, stats.Lines, stats.MalformedLines, want)
	}
}
