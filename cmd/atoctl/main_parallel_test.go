package main

import (
	"flag"
	"os"
	"testing"
)

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
	os.Exit(m.Run())
}
