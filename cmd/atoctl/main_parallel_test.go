package main

import (
	"flag"
	"os"
	"runtime/debug"
	"testing"
)

// testMemoryLimit is the soft memory limit of this package's tests.
const testMemoryLimit = 8 << 30

// TestMain lets more of this package's tests run at once than the default
// (GOMAXPROCS, 2 on the project's machine): most of their time is spent
// waiting on the sandbox's rate limit, not on a CPU. An explicit
// -test.parallel on the command line wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", "6"); err != nil {
			panic(err)
		}
	}
	// Six tests at once hold six training tenants: up to about 6.5 GB
	// live. Left to GOGC alone the heap then grew to twice that (13 GB
	// RSS); a soft limit makes the collector work before that. GOMEMLIMIT,
	// when set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(testMemoryLimit)
	}
	os.Exit(m.Run())
}
