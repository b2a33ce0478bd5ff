package responders

import (
	"fmt"
	"os"
	"testing"
)

// BenchmarkTriageResult is Result alone: the rules, verdicts, address
// reports and networks over a triage built once from a generated export of
// issue 13's population (200,000 events by default; the first of
// ATOCTL_BENCH_EVENTS otherwise, reusing ATOCTL_BENCH_DIR's export).
//
//	go test ./responders -run '^$' -bench TriageResult -benchmem
//	ATOCTL_BENCH_EVENTS=1000000 ATOCTL_BENCH_DIR=/var/tmp/bench go test ./responders -run '^$' -bench TriageResult -benchmem -timeout 30m
func BenchmarkTriageResult(b *testing.B) {
	n := 200_000
	if os.Getenv("ATOCTL_BENCH_EVENTS") != "" {
		n = benchEvents(b)[0]
	}
	dir := os.Getenv("ATOCTL_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path, _, sum := exportFile(b, dir, n)
	tr := triageExport(b, path, n)
	for _, omit := range []bool{true, false} {
		tr.cfg.OmitOrdinaryIPs = omit
		b.Run(fmt.Sprintf("events=%d/omit-ordinary=%v", n, omit), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if r := tr.Result(); r.Compromised != len(sum.Compromised) || r.StoppedByMFA != len(sum.StoppedByMFA) {
					b.Fatalf("%d compromised, %d stopped by MFA; want %d, %d", r.Compromised, r.StoppedByMFA,
						len(sum.Compromised), len(sum.StoppedByMFA))
				}
			}
		})
	}
}
