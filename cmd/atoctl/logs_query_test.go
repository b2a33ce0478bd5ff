package main

import (
	"strings"
	"testing"
)

// A --q naming a field Auth0's log search does not search is bad input:
// one line naming it and what to do, exit 2, nothing sent.
func TestLogsSearchRefusesUnsearchableFieldsBeforeSending(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	for _, q := range []string{`details.error.message:wrong*`, `type:f AND location_info.country_code:RU`, `isMobile:true`} {
		srv.ResetStats()
		res := c.run("logs", "search", "--q", q)
		if res.code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %q", q, res.code, exitUsage, res.stderr)
		}
		oneLine(t, res.stderr)
		if !strings.Contains(res.stderr, "not a field Auth0's log search searches") || !strings.Contains(res.stderr, "user_name") {
			t.Errorf("%q: %q does not say what is wrong and what is searchable", q, res.stderr)
		}
		if n := srv.Stats().Requests; n != 0 {
			t.Errorf("%q: %d requests sent", q, n)
		}
	}
	// A bare term and the searchable fields go through.
	res := c.run("logs", "search", "--q", `limit_wc OR type:(f OR fp)`, "--since", "72h", "--limit", "5", "--json")
	if res.code != exitOK || strings.Count(res.stdout, "log_id") != 5 {
		t.Fatalf("bare term and group: exit %d, stderr %q, stdout %d bytes", res.code, res.stderr, len(res.stdout))
	}
}
