package auth0client

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// change_password has a limit of its own (Auth0: 10 per address from one
// IP, then 1 a minute). The eleventh reset to one address fails at once
// with the reason and the wait, instead of holding the run for minutes;
// other addresses and the Management API are not slowed by it.
func TestResetEmailPerAddressLimitFailsFastAndSaysWhen(t *testing.T) {
	srv, _ := startScenario(t)
	c := clientFor(t, srv, 0)
	var victim, other *sandbox.User
	var conn, app string
	srv.View(func(st *sandbox.State) {
		for _, cn := range st.Connections {
			if cn.Strategy == "auth0" {
				conn, app = cn.Name, cn.EnabledClients[0]
			}
		}
		for _, u := range st.Users {
			if u.Email != "" && slices.ContainsFunc(u.Identities, func(id sandbox.Identity) bool { return id.Connection == conn }) {
				if victim == nil {
					victim = u
				} else if other == nil {
					other = u
				}
			}
		}
	})
	if victim == nil || other == nil {
		t.Fatal("scenario has no two database users")
	}
	for i := range 10 {
		if err := c.SendPasswordResetEmail(ctxT(t), app, victim.Email, conn); err != nil {
			t.Fatalf("reset %d: %v", i+1, err)
		}
	}
	start := time.Now()
	err := c.SendPasswordResetEmail(ctxT(t), app, victim.Email, conn)
	took := time.Since(start)
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("11th reset: %v, want ErrRateLimited", err)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "too_many_requests" || ae.RetryAfter < 30*time.Second || ae.RetryAfter > 61*time.Second {
		t.Fatalf("11th reset: %#v, want too_many_requests with the wait until the next allowed request", ae)
	}
	if msg := err.Error(); !strings.Contains(msg, "no email was sent") || !strings.Contains(msg, "1 a minute") {
		t.Errorf("message %q does not say what happened and when to retry", msg)
	}
	if took > 3*time.Second {
		t.Errorf("the refused reset took %s: it waited out the per-address limit", took)
	}
	if n := srv.ResetRequests(victim.UserID); n != 10 {
		t.Errorf("tenant logged %d reset requests for the address, want 10", n)
	}
	// Another address and the Management API go on at once.
	start = time.Now()
	if err := c.SendPasswordResetEmail(ctxT(t), app, other.Email, conn); err != nil {
		t.Fatalf("reset of another address: %v", err)
	}
	if _, err := c.User(ctxT(t), victim.UserID); err != nil {
		t.Fatalf("management call after the refused reset: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("calls after the refused reset took %s: the per-address limit slowed the budget", took)
	}
}
