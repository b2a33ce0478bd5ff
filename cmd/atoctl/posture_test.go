package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

// postureJSON is the documented --json form (README: "Posture"); decoding
// refuses any field the README does not list.
type postureJSON struct {
	Tenant string `json:"tenant"`
	Checks []struct {
		ID       string `json:"id"`
		Target   string `json:"target"`
		Status   string `json:"status"`
		Title    string `json:"title"`
		Evidence string `json:"evidence"`
		Fix      string `json:"fix"`
	} `json:"checks"`
	Summary map[string]int `json:"summary"`
}

var documentedChecks = []string{
	responders.CheckUnblockAction, responders.CheckBruteForce, responders.CheckSuspiciousIP, responders.CheckBreachedPassword,
	responders.CheckBotDetection, responders.CheckRefreshTokens, responders.CheckSessionLifetime, responders.CheckMFAPolicy,
	responders.CheckMFAFactors, responders.CheckPasswordPolicy, responders.CheckLegacyGrants, responders.CheckClientAuth, responders.CheckLogRetention,
}

func decodePosture(t *testing.T, out string) postureJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var p postureJSON
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("posture --json is not the documented form: %v\n%s", err, out)
	}
	return p
}

func TestPostureOfEachScenarioListsItsPlantedWeaknessesAndNothingElse(t *testing.T) {
	t.Parallel()
	for _, name := range scenarios.Names() {
		t.Run(name, func(t *testing.T) {
			c := newCLI(t)
			ts, err := loadTrainingSandbox(name, func(k string) string { return c.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			want := ts.key.Posture
			_ = ts.srv.Close()
			if len(want) == 0 {
				t.Fatalf("scenario %s has no planted posture weakness", name)
			}
			res := c.run("--training", "--scenario", name, "posture", "--json")
			p := decodePosture(t, res.stdout)
			var got []scenarios.Weakness
			fails := 0
			for _, ch := range p.Checks {
				if !slices.Contains(documentedChecks, ch.ID) {
					t.Errorf("check id %q is not documented", ch.ID)
				}
				if ch.Status == "pass" {
					continue
				}
				if ch.Fix == "" || ch.Evidence == "" {
					t.Errorf("%s %s: a finding without evidence or fix: %+v", ch.ID, ch.Target, ch)
				}
				fails += map[bool]int{true: 1}[ch.Status == "fail"]
				got = append(got, scenarios.Weakness{Check: ch.ID, Target: ch.Target, Status: ch.Status})
			}
			key := func(w scenarios.Weakness) string { return w.Check + "|" + w.Target + "|" + w.Status }
			gotK, wantK := sortedKeys(got, key), sortedKeys(want, key)
			if !slices.Equal(gotK, wantK) {
				t.Fatalf("posture findings:\n got %q\nwant %q", gotK, wantK)
			}
			wantCode := 0
			if fails > 0 {
				wantCode = 3
			}
			if res.code != wantCode || p.Summary["fail"] != fails {
				t.Fatalf("exit %d (want %d), summary %v: %s", res.code, wantCode, p.Summary, res.stderr)
			}
		})
	}
}

func sortedKeys[T any](ws []T, key func(T) string) []string {
	var out []string
	for _, w := range ws {
		out = append(out, key(w))
	}
	slices.Sort(out)
	return out
}

func TestPostureOfAWellConfiguredTenantPassesAndIsStable(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	// The default scenario without its planted weaknesses.
	srv.Update(func(st *sandbox.State) {
		st.Posture = sandbox.DefaultPosture()
		for _, cl := range st.Clients {
			if cl.Name == "Acme Shop Mobile" {
				cl.Settings["grant_types"] = []any{"authorization_code", "refresh_token"}
			}
		}
	})
	first := c.run("posture", "--json")
	p := decodePosture(t, first.stdout)
	if first.code != 0 || p.Summary["fail"] != 0 || p.Summary["warn"] != 0 {
		t.Fatalf("exit %d, summary %v:\n%s", first.code, p.Summary, first.stdout)
	}
	if second := c.run("posture", "--json"); !bytes.Equal([]byte(first.stdout), []byte(second.stdout)) {
		t.Fatalf("two runs differ:\n%s\n%s", first.stdout, second.stdout)
	}
	// Text form: one row per check, tenant text cleaned.
	srv.Update(func(st *sandbox.State) {
		for _, cl := range st.Clients {
			if cl.Name == "Acme Shop Mobile" {
				cl.Name = "Evil\x1b[2J app"
				cl.Settings["grant_types"] = []any{"password"}
			}
		}
	})
	res := c.run("posture")
	if res.code != 3 || strings.Contains(res.stdout, "\x1b") || !strings.Contains(res.stdout, "Evil^[[2J app") {
		t.Fatalf("exit %d, want 3 and cleaned text:\n%q", res.code, res.stdout)
	}
}
