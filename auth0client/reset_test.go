package auth0client

import "testing"

func TestUnblocksUserReadsCodeNotCommentsOrStrings(t *testing.T) {
	tests := []struct {
		name string
		code string
		want bool
	}{
		{"management update", "await management.users.update({ id: event.user.user_id }, { blocked: false });", true},
		{"quoted key", `await mgmt.users.update({id}, {"blocked": false})`, true},
		{"line comment", "// TODO: send { blocked: false }\nconsole.log(event.user.user_id);", false},
		{"block comment", "/* { blocked: false } */ api.user.setAppMetadata('x', 1);", false},
		{"string", `console.log("blocked: false is what we want")`, false},
		{"template", "console.log(`blocked: false`)", false},
		{"blocked true", "await management.users.update({ id }, { blocked: true });", false},
		{"nothing", "exports.onExecutePostChangePassword = async (event, api) => {};", false},
		{"unterminated comment", "/* blocked: false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnblocksUser(tt.code); got != tt.want {
				t.Errorf("UnblocksUser(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}
