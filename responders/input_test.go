package responders

import (
	"errors"
	"testing"
	"time"
)

func TestUserQueryTurnsBareInputIntoSafeQueries(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice@example.com", `email:"alice@example.com"`},
		{`evil"@x.com`, `email:"evil\"@x.com"`},
		{"auth0|abc123", `user_id:"auth0|abc123"`},
		{"jo", "name:jo* OR email:jo* OR nickname:jo*"},
		{"Jo Smith", `name:"Jo Smith"`},
		{"-jo", `name:"-jo"`},
		{"email:*@example.com AND blocked:true", "email:*@example.com AND blocked:true"},
	}
	for _, tt := range tests {
		got, err := UserQuery(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("UserQuery(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestValidUserArgRefusesWhatCannotNameAnAccount(t *testing.T) {
	for _, bad := range []string{
		"", "user@", "@example.com", "alice", "a b@example.com", "a@b@c.com",
		"auth0|", "|abc", "auth0|ab/../x",
		"auth0|abc\x1b[31m", "auth0|abc\u009b2J", "alice\u202e@example.com", "auth0|a\u200bbc", "bob\x00@example.com",
	} {
		if err := ValidUserArg(bad); err == nil || !errors.Is(err, ErrBadInput) {
			t.Errorf("ValidUserArg(%q) = %v, want bad input", bad, err)
		}
	}
	for _, ok := range []string{"alice@example.com", "auth0|65f0c2a1b3d4e5f6a7b8c9d0", "google-oauth2|1234", " bob@example.org "} {
		if err := ValidUserArg(ok); err != nil {
			t.Errorf("ValidUserArg(%q) = %v, want ok", ok, err)
		}
	}
}

func TestParseSinceRefusesAWindowInTheFuture(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	if _, err := ParseSince("2099-01-01T00:00:00Z", now); !errors.Is(err, ErrBadInput) {
		t.Fatalf("a future --since: %v, want bad input", err)
	}
	if got, err := ParseSince("2026-11-27T11:00:00Z", now); err != nil || !got.Equal(now.Add(-time.Hour)) {
		t.Fatalf("a past --since: %v, %v", got, err)
	}
}
