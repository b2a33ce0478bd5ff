package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

// trainingTenant serves the CLI's persisted training tenant (as the next
// command would see it) and calls its Management API over HTTP.
type trainingTenant struct {
	t     *testing.T
	base  string
	token string
}

func openTrainingTenant(t *testing.T, c *cli) *trainingTenant {
	t.Helper()
	ts, err := startTrainingSandbox(scenarios.DefaultScenario, func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.close)
	tt := &trainingTenant{t: t, base: ts.url}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {sandbox.ClientID}, "client_secret": {sandbox.ClientSecret},
		"audience": {ts.url + "/api/v2/"}}
	resp, err := http.PostForm(ts.url+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v (status %d)", err, resp.StatusCode)
	}
	tt.token = tok.AccessToken
	return tt
}

func (tt *trainingTenant) do(method, path, body string) (int, []byte) {
	tt.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, tt.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+tt.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tt.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// protectionDocuments are the four Attack Protection documents as the
// tenant sends them, byte for byte.
func protectionDocuments(t *testing.T, c *cli) map[string][]byte {
	t.Helper()
	tt := openTrainingTenant(t, c)
	out := map[string][]byte{}
	for _, f := range auth0client.AttackProtectionFeatures() {
		code, body := tt.do("GET", "/api/v2/attack-protection/"+f, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %s", f, code, body)
		}
		out[f] = body
	}
	return out
}

func sameDocuments(t *testing.T, want, got map[string][]byte) {
	t.Helper()
	for f, w := range want {
		if !bytes.Equal(w, got[f]) {
			t.Errorf("%s differs:\n before %s\n  after %s", f, w, got[f])
		}
	}
}

func TestShieldUpThenDownLeavesEveryAttackProtectionDocumentByteIdentical(t *testing.T) {
	t.Parallel()
	for _, level := range []string{responders.ShieldElevated, responders.ShieldMax} {
		t.Run(level, func(t *testing.T) {
			c := newCLI(t)
			before := protectionDocuments(t, c)
			res := c.run("--training", "shield", "up", "--level", level, "--allow", "198.51.100.7", "--yes", "--json")
			if res.code != 0 {
				t.Fatalf("shield up: exit %d: %s", res.code, res.stderr)
			}
			var out struct {
				Incident string                  `json:"incident"`
				Plan     responders.ShieldPlan   `json:"plan"`
				Result   responders.ShieldResult `json:"result"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
				t.Fatalf("shield up --json: %v\n%s", err, res.stdout)
			}
			if out.Result.Outcome != responders.Done || len(out.Plan.Changes) == 0 {
				t.Fatalf("shield up: %+v", out)
			}
			up := protectionDocuments(t, c)
			// Every planned change is on the tenant, and each is in the
			// stderr listing with its before → after.
			for _, ch := range out.Plan.Changes {
				if bytes.Equal(before[ch.Feature], up[ch.Feature]) {
					t.Errorf("%s %s planned but the document did not change", ch.Feature, ch.Field)
				}
				if !strings.Contains(res.stderr, ch.Feature+" "+ch.Field+": "+compact(ch.Before)+" → "+compact(ch.After)) {
					t.Errorf("stderr does not show %s %s before → after:\n%s", ch.Feature, ch.Field, res.stderr)
				}
			}
			if !strings.Contains(string(up[auth0client.FeatureSuspiciousIP]), "198.51.100.7") {
				t.Errorf("--allow not in the allowlist: %s", up[auth0client.FeatureSuspiciousIP])
			}
			if res := c.run("--training", "shield", "down", "--yes"); res.code != 0 {
				t.Fatalf("shield down: exit %d: %s", res.code, res.stderr)
			}
			sameDocuments(t, before, protectionDocuments(t, c))
			// The journal holds both, with the replaced values.
			recs := loadJournalOf(t, c, out.Incident)
			if len(responders.ActiveShield(recs)) != 0 {
				t.Fatalf("shield still active after down: %+v", responders.ActiveShield(recs))
			}
			if res := c.run("--training", "shield", "down", "--yes"); res.code != 0 || !strings.Contains(res.stderr, "no shield up") {
				t.Fatalf("second down: exit %d: %s", res.code, res.stderr)
			}
		})
	}
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	_ = json.Compact(&b, raw)
	return b.String()
}

func loadJournalOf(t *testing.T, c *cli, id string) []responders.Record {
	t.Helper()
	dir, err := incidentsDir(func(k string) string { return c.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	recs, err := responders.LoadJournal(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestShieldDownRefusesAFieldChangedSinceAndNamesIt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	before := protectionDocuments(t, c)
	if res := c.run("--training", "shield", "up", "--yes"); res.code != 0 {
		t.Fatalf("shield up: exit %d: %s", res.code, res.stderr)
	}
	// Someone else sets brute-force max_attempts by hand meanwhile.
	tt := openTrainingTenant(t, c)
	if code, body := tt.do("PATCH", "/api/v2/attack-protection/brute-force-protection", `{"max_attempts":7}`); code != 200 {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	changed := protectionDocuments(t, c)
	res := c.run("--training", "shield", "down", "--yes")
	if res.code == 0 {
		t.Fatalf("shield down went ahead over a field changed since:\n%s", res.stderr)
	}
	var bf map[string]any
	_ = json.Unmarshal(before[auth0client.FeatureBruteForce], &bf)
	want := "brute-force-protection max_attempts: before " + jsonText(bf["max_attempts"]) + ", ours 5, now 7"
	if !strings.Contains(res.stderr, want) {
		t.Fatalf("refusal does not name the field with before, ours, now (%q):\n%s", want, res.stderr)
	}
	// Refused as a whole: nothing was sent.
	sameDocuments(t, changed, protectionDocuments(t, c))
	// Putting our value back lets the down through, to the very values
	// from before.
	if code, body := tt.do("PATCH", "/api/v2/attack-protection/brute-force-protection", `{"max_attempts":5}`); code != 200 {
		t.Fatalf("PATCH: %d %s", code, body)
	}
	if res := c.run("--training", "shield", "down", "--yes"); res.code != 0 {
		t.Fatalf("shield down: exit %d: %s", res.code, res.stderr)
	}
	sameDocuments(t, before, protectionDocuments(t, c))
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestIncidentRollbackPutsTheShieldDown(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	before := protectionDocuments(t, c)
	res := c.run("--training", "shield", "up", "--level", "max", "--yes", "--json")
	var out struct {
		Incident string `json:"incident"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil || res.code != 0 || out.Incident == "" {
		t.Fatalf("shield up: exit %d %v: %s", res.code, err, res.stderr)
	}
	// A second shield in the same incident: rollback still puts back the
	// values from before the first.
	if res := c.run("--training", "shield", "up", "--level", "max", "--allow", "192.0.2.0/24", "--yes"); res.code != 0 {
		t.Fatalf("second shield up: exit %d: %s", res.code, res.stderr)
	}
	res = c.run("--training", "incident", "rollback", out.Incident, "--yes")
	if res.code != 0 {
		t.Fatalf("rollback: exit %d: %s", res.code, res.stderr)
	}
	sameDocuments(t, before, protectionDocuments(t, c))
	if res := c.run("--training", "incident", "rollback", out.Incident, "--yes"); res.code != 0 || !strings.Contains(res.stderr, "nothing to undo") {
		t.Fatalf("second rollback: exit %d: %s", res.code, res.stderr)
	}
}

func TestShieldBadInputAndDryRunSendNothing(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	before := protectionDocuments(t, c)
	for _, args := range [][]string{
		{"shield", "up", "--level", "extreme", "--yes"},
		{"shield", "up", "--allow", "not-an-ip", "--yes"},
		{"shield", "up"}, // not interactive, no --yes
		{"shield", "down", "--incident", "../x", "--yes"},
	} {
		res := c.run(append([]string{"--training"}, args...)...)
		if res.code != 2 || strings.Count(strings.TrimSpace(res.stderr), "\n") > 1 {
			t.Errorf("%v: exit %d, want 2 with a one-line error: %q", args, res.code, res.stderr)
		}
	}
	res := c.run("--training", "--dry-run", "shield", "up", "--level", "max")
	if res.code != 0 || !strings.Contains(res.stderr, "PATCH /api/v2/attack-protection/brute-force-protection {\"max_attempts\":3}") {
		t.Fatalf("dry-run: exit %d, no PATCH body shown:\n%s", res.code, res.stderr)
	}
	sameDocuments(t, before, protectionDocuments(t, c))
}

func TestShieldReportsFeaturesThePlanLacks(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, _ := c.againstSandbox()
	srv.Update(func(st *sandbox.State) {
		p := sandbox.DefaultPosture()
		p.BotDetection = nil // no Attack Protection add-on
		st.Posture = p
	})
	res := c.run("shield", "up", "--level", "max", "--yes")
	if res.code != 0 || !strings.Contains(res.stderr, "not available: bot-detection: the tenant's plan does not offer it") {
		t.Fatalf("exit %d:\n%s", res.code, res.stderr)
	}
	var level int
	srv.View(func(st *sandbox.State) {
		if v, ok := st.Posture.BruteForceProtection["max_attempts"].(float64); ok {
			level = int(v)
		}
	})
	if level != 3 {
		t.Fatalf("the features the plan has were not tightened: brute-force max_attempts %d", level)
	}
}
