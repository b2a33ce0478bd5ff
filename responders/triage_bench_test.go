package responders

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/logexport"
)

// benchEvents are the export sizes of BenchmarkTriageFile:
// ATOCTL_BENCH_EVENTS (comma-separated, e.g. 1000000,4000000), else 1M.
func benchEvents(b *testing.B) []int {
	env := os.Getenv("ATOCTL_BENCH_EVENTS")
	if env == "" {
		return []int{1_000_000}
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("ATOCTL_BENCH_EVENTS=%q: want comma-separated positive event counts", env)
		}
		out = append(out, n)
	}
	return out
}

// exportFile writes the logexport.Default(n) export to dir once (reused
// when dir is ATOCTL_BENCH_DIR and the file is there) and returns its
// path, size and summary.
func exportFile(b *testing.B, dir string, n int) (string, int64, logexport.Summary) {
	b.Helper()
	cfg := logexport.Default(n)
	path := filepath.Join(dir, fmt.Sprintf("export-%d-%d.ndjson", cfg.Seed, n))
	if fi, err := os.Stat(path); err == nil {
		return path, fi.Size(), logexport.Describe(cfg)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := logexport.Write(f, cfg)
	// Write back now: the kernel flushing a fresh gigabyte during the
	// timed run would be measured as the triage's time.
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
	return path, sum.Bytes, sum
}

// run is one measured subprocess: wall time, CPU and peak RSS.
type run struct {
	wall, user, sys time.Duration
	maxRSSMiB       float64
}

func measure(b *testing.B, cmd *exec.Cmd) run {
	b.Helper()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	r := run{wall: time.Since(start), user: cmd.ProcessState.UserTime(), sys: cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSMiB = float64(ru.Maxrss) / 1024 // Linux: kilobytes
	}
	return r
}

func (r run) report(b *testing.B, events int, size int64) {
	b.ReportMetric(float64(events)/r.wall.Seconds(), "events/s")
	b.ReportMetric(float64(size)/r.wall.Seconds()/(1<<20), "MB/s")
	b.ReportMetric(float64(events)/(r.user+r.sys).Seconds(), "events/cpu-s")
	b.ReportMetric(r.maxRSSMiB, "peak-RSS-MiB")
	b.ReportMetric(float64(size)/float64(events), "B/event")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkTriageFile runs `atoctl ip triage --logs-file FILE --json` as
// a user does (the binary built here, a subprocess, its output to a file)
// on a generated export of issue 13's population (fixtures/logexport:
// 60,000 accounts, 20,000 tried from 600 addresses in three /24s, 60
// compromised), and reports events/s and MB/s of the whole process, its
// CPU and its peak RSS; beside it, the `jq | sort | uniq -c` pipeline over
// the same file. The population stays the same whatever the number of
// events, so a larger export shows that memory follows the population.
//
//	go test ./responders -run '^$' -bench TriageFile -benchtime 1x -timeout 60m
//	ATOCTL_BENCH_EVENTS=1000000,4000000 ATOCTL_BENCH_DIR=/var/tmp go test ./responders -run '^$' -bench TriageFile -benchtime 1x -timeout 60m
func BenchmarkTriageFile(b *testing.B) {
	tmp := b.TempDir()
	dir := os.Getenv("ATOCTL_BENCH_DIR")
	if dir == "" {
		dir = tmp
	}
	bin := filepath.Join(tmp, "atoctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/atoctl").CombinedOutput(); err != nil {
		b.Fatalf("build atoctl: %v\n%s", err, out)
	}
	env := append(os.Environ(), "XDG_STATE_HOME="+filepath.Join(tmp, "state"), "XDG_CACHE_HOME="+filepath.Join(tmp, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(tmp, "config"))
	jq, jqErr := exec.LookPath("jq")
	for _, n := range benchEvents(b) {
		path, size, sum := exportFile(b, dir, n)
		warmPageCache(b, path)
		b.Run(fmt.Sprintf("atoctl/events=%d", n), func(b *testing.B) {
			var last run
			for range b.N {
				out, err := os.Create(filepath.Join(tmp, "triage.json"))
				if err != nil {
					b.Fatal(err)
				}
				cmd := exec.Command(bin, "ip", "triage", "--logs-file", path, "--json")
				cmd.Env, cmd.Stdout = env, out
				last = measure(b, cmd)
				out.Close()
				checkTriageOutput(b, filepath.Join(tmp, "triage.json"), n, sum)
			}
			last.report(b, n, size)
		})
		b.Run(fmt.Sprintf("jq-sort-uniq/events=%d", n), func(b *testing.B) {
			if jqErr != nil {
				b.Logf("jq is not installed (apt-get install -y jq): no baseline measured")
				return
			}
			var last run
			for range b.N {
				last = jqPipeline(b, jq, path)
			}
			last.report(b, n, size)
		})
	}
}

// warmPageCache reads path once, so that atoctl and jq both read it from
// the page cache, as they would an export just written or read: a first
// run on an evicted export measured the disk (1M events: 6 s, about 240
// MB/s on the project's machine), not the triage.
func warmPageCache(b *testing.B, path string) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatalf("read %s: %v", path, err)
	}
}

// jqPipeline runs jq -r '.data | "\(.ip) \(.type) \(.user_id)"' FILE |
// sort | uniq -c, its three processes connected here so that each one's
// CPU and peak RSS are known: the pipeline's CPU is their sum, and so is
// its peak RSS (an upper bound: they run at the same time).
func jqPipeline(b *testing.B, jq, path string) run {
	b.Helper()
	cmds := []*exec.Cmd{
		exec.Command(jq, "-r", `.data | "\(.ip) \(.type) \(.user_id)"`, path),
		exec.Command("sort"),
		exec.Command("uniq", "-c"),
	}
	for i := 1; i < len(cmds); i++ {
		pipe, err := cmds[i-1].StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmds[i].Stdin = pipe
	}
	start := time.Now()
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			b.Fatalf("%s: %v", c.Path, err)
		}
	}
	var r run
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			b.Fatalf("%s: %v", c.Path, err)
		}
		r.user += c.ProcessState.UserTime()
		r.sys += c.ProcessState.SystemTime()
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSSMiB += float64(ru.Maxrss) / 1024
		}
	}
	r.wall = time.Since(start)
	return r
}

// checkTriageOutput reads the triage's JSON and checks it found the
// export's attack: every event read, its compromised and MFA-stopped
// accounts exactly, every attacker address flagged.
func checkTriageOutput(b *testing.B, path string, n int, sum logexport.Summary) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out struct {
		Events   int64 `json:"events"`
		Accounts []struct {
			UserID  string  `json:"user_id"`
			Verdict Verdict `json:"verdict"`
		} `json:"accounts"`
		IPs []struct {
			IP      string `json:"ip"`
			Flagged bool   `json:"flagged"`
		} `json:"ips"`
	}
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&out); err != nil {
		b.Fatalf("triage JSON: %v", err)
	}
	got := map[Verdict][]string{}
	for _, a := range out.Accounts {
		got[a.Verdict] = append(got[a.Verdict], a.UserID)
	}
	flagged := map[string]bool{}
	for _, ip := range out.IPs {
		if ip.Flagged {
			flagged[ip.IP] = true
		}
	}
	missing := 0
	for _, ip := range sum.AttackerIPs {
		if !flagged[ip] {
			missing++
		}
	}
	if out.Events != int64(n) || !sameSet(got[VerdictCompromised], sum.Compromised) || !sameSet(got[VerdictStoppedByMFA], sum.StoppedByMFA) ||
		missing > 0 || len(flagged) != len(sum.AttackerIPs) {
		b.Fatalf("triage of %d events: read %d, %d compromised (want %d), %d stopped by MFA (want %d), %d flagged (want %d, %d missing)",
			n, out.Events, len(got[VerdictCompromised]), len(sum.Compromised), len(got[VerdictStoppedByMFA]), len(sum.StoppedByMFA),
			len(flagged), len(sum.AttackerIPs), missing)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	in := map[string]bool{}
	for _, x := range a {
		in[x] = true
	}
	for _, x := range b {
		if !in[x] {
			return false
		}
	}
	return true
}

// triageExport triages the export at path, which holds n events.
func triageExport(b *testing.B, path string, n int) *Triage {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	tr, stats, err := TriageLogStream(context.Background(), f, TriageConfig{}, LogStreamOptions{})
	if err != nil || stats.Events != int64(n) {
		b.Fatalf("err %v stats %+v", err, stats)
	}
	return tr
}

// BenchmarkTriageLogStream is the engine alone, in process, on a smaller
// export of the same population (no file, no subprocess): for profiling.
//
//	go test ./responders -run '^$' -bench TriageLogStream -benchtime 1x -cpuprofile cpu.out
func BenchmarkTriageLogStream(b *testing.B) {
	n := 200_000
	path, size, sum := exportFile(b, b.TempDir(), n)
	for range b.N {
		if r := triageExport(b, path, n).Result(); r.Compromised != len(sum.Compromised) {
			b.Fatalf("%d compromised, want %d", r.Compromised, len(sum.Compromised))
		}
	}
	b.SetBytes(size)
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseLogEvent is the scanner alone, one goroutine, on lines of
// the benchmark export held in memory: its MB/s is what one core parses.
//
//	go test ./responders -run '^$' -bench ParseLogEvent
func BenchmarkParseLogEvent(b *testing.B) {
	lines, size := parseBenchLines()
	b.SetBytes(size / int64(len(lines)))
	b.ResetTimer()
	var f eventFields
	for i := range b.N {
		if !f.parseLine(lines[i%len(lines)]) {
			b.Fatalf("line %d: not an event", i%len(lines))
		}
	}
}

// parseBenchLines are BenchmarkParseLogEvent's lines, generated once per
// test binary so that every run of the benchmark measures the same work.
var parseBenchLines = sync.OnceValues(func() ([][]byte, int64) {
	var buf bytes.Buffer
	if _, err := logexport.Write(&buf, logexport.Default(20_000)); err != nil {
		panic(err)
	}
	return bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), []byte{'\n'}), int64(buf.Len())
})

// BenchmarkTriageFold is the fold alone, one goroutine: events of the
// benchmark population, parsed and hashed beforehand, added to one triage
// in batches as TriageLogStream's folders add a block's share (about 370
// events). Its figure is mostly memory latency: each event reads its
// pair, address and account. ATOCTL_BENCH_FOLD_EVENTS sets the number
// (default 1,000,000).
//
//	go test ./responders -run '^$' -bench TriageFold -benchtime 3x
func BenchmarkTriageFold(b *testing.B) {
	n := 1_000_000
	if env := os.Getenv("ATOCTL_BENCH_FOLD_EVENTS"); env != "" {
		v, err := strconv.Atoi(env)
		if err != nil || v <= 0 {
			b.Fatalf("ATOCTL_BENCH_FOLD_EVENTS=%q: want a positive count", env)
		}
		n = v
	}
	seeds := newTriageSeeds()
	events := make([]rawEvent, 0, n)
	pr, pw := io.Pipe()
	go func() { _, err := logexport.Write(pw, logexport.Default(n)); pw.CloseWithError(err) }()
	if _, err := ReadLogStream(context.Background(), pr, 0, func(e TriageEvent) error {
		keys, _ := seeds.keysOf([]byte(e.IP), []byte(e.UserID), []byte(e.UserName), nil)
		events = append(events, rawEvent{keys: keys, logID: []byte(e.LogID), ip: []byte(e.IP), userID: []byte(e.UserID),
			userName: []byte(e.UserName), country: []byte(e.Country), date: e.Date, agent: e.Agent,
			slot: uint8(eventSlot(e.Type, e.RequiresVerification))})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	const batch = 370
	b.ResetTimer()
	for range b.N {
		t := newTriage(TriageConfig{}, seeds)
		for i := 0; i < len(events); i += batch {
			t.foldBatch(events[i:min(i+batch, len(events))])
		}
		if t.Events() != int64(n) {
			b.Fatalf("%d events folded, want %d", t.Events(), n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/event")
}
