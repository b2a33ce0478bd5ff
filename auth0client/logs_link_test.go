package auth0client

import (
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

func TestNextCheckpointReadsTheLinkHeader(t *testing.T) {
	tests := []struct{ link, want string }{
		{`<https://acme.us.auth0.com/api/v2/logs?from=900200&take=100>; rel="next"`, "900200"},
		{`<https://acme.us.auth0.com/api/v2/logs?take=100&from=900201>;rel="next"`, "900201"},
		{`<https://a/api/v2/logs?from=1>; rel="prev", <https://a/api/v2/logs?from=2&take=5>; rel="next"`, "2"},
		{`<https://a/api/v2/logs?from=1>; rel="prev"`, ""},
		{``, ""},
		{`garbage`, ""},
	}
	for _, tt := range tests {
		if got := nextCheckpoint(tt.link); got != tt.want {
			t.Errorf("nextCheckpoint(%q) = %q, want %q", tt.link, got, tt.want)
		}
	}
}

// Checkpoint paging follows the next page the tenant names, to the empty
// page that ends it, and reads the tenant's whole log once.
func TestLogsAfterPageFollowsTheTenantsNextLink(t *testing.T) {
	srv, _ := startScenario(t, sandbox.WithRateLimit(0, 0))
	c := clientFor(t, srv, 0)
	var want []string
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs[len(st.Logs)-250:] {
			want = append(want, e.LogID)
		}
	})
	from := want[0]
	want = want[1:]
	var got []string
	for range 10 {
		p, err := c.LogsAfterPage(ctxT(t), from, MaxPerPage)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) == 0 {
			if p.Next != from {
				t.Errorf("empty page names %q next, want the request's own %q", p.Next, from)
			}
			break
		}
		if last := p.Events[len(p.Events)-1].ID; p.Next != last {
			t.Fatalf("Next %q, want the last event's id %q (the tenant's Link)", p.Next, last)
		}
		for _, e := range p.Events {
			got = append(got, e.ID)
		}
		from = p.Next
	}
	if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
}
