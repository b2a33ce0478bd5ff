package responders

import "testing"

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
