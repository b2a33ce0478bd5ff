package tui

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestAPageWaitingForAnotherReadHearsItsProgress: a page that asks for a
// window another page is reading repeats that read's count (it said "0
// read" for the minute the read took), and stops when the read ends or
// its context does.
func TestAPageWaitingForAnotherReadHearsItsProgress(t *testing.T) {
	r := &windowRead{done: make(chan struct{})}
	r.read.Store(1234)
	heard := make(chan int, 64)
	ended := make(chan error, 1)
	go func() { ended <- waitRead(context.Background(), r, func(n int) { heard <- n }) }()
	select {
	case n := <-heard:
		if n != 1234 {
			t.Fatalf("heard %d, want the other read's 1234", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no progress heard while waiting")
	}
	close(r.done)
	if err := <-ended; err != nil {
		t.Fatalf("the wait ended with %v when the read ended", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { ended <- waitRead(ctx, &windowRead{done: make(chan struct{})}, func(int) {}) }()
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled wait ended with %v", err)
	}
}
