package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/responders"
)

// A journal cut at a record boundary has a valid chain: only the head a
// report printed can show that records are missing. Without --head, verify
// must not let "ok" read as "complete".
func TestIncidentVerifyWithoutHeadSaysItCannotSeeACutTail(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	data, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if err := os.WriteFile(j.Path(), []byte(strings.Join(lines[:3], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	recs, err := responders.LoadJournal(filepath.Dir(j.Path()), "inc-a")
	if err != nil || len(recs) != 3 {
		t.Fatalf("cut journal: %d records, %v", len(recs), err)
	}
	cutHead := recs[2].Hash

	res := c.run("incident", "verify", "inc-a")
	want := "chain ok: 3 records, head " + cutHead + "; without --head atoctl cannot tell whether records were removed from the end: " +
		"compare with the head printed when the incident's commands ran (atoctl incident verify inc-a --head HASH)\n"
	if res.code != 0 || res.stdout != want {
		t.Fatalf("verify of a cut journal without --head: exit %d:\n got %q\nwant %q\n%s", res.code, res.stdout, want, res.stderr)
	}
	js := c.run("incident", "verify", "inc-a", "--json")
	var vr verifyResult
	if err := json.Unmarshal([]byte(js.stdout), &vr); err != nil || js.code != 0 {
		t.Fatalf("verify --json without --head: exit %d, %v: %s", js.code, err, js.stderr)
	}
	if !vr.OK || vr.HeadChecked || vr.Records != 3 || vr.Head != cutHead || !strings.Contains(vr.Note, "cannot tell whether records were removed from the end") {
		t.Fatalf("verify --json without --head: %+v", vr)
	}

	// The head printed before the cut still catches it.
	res = c.run("incident", "verify", "inc-a", "--head", j.Head())
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "cut from the end") {
		t.Fatalf("verify of a cut journal with --head: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
	res = c.run("incident", "verify", "inc-a", "--head", cutHead, "--json")
	vr = verifyResult{}
	if err := json.Unmarshal([]byte(res.stdout), &vr); err != nil || res.code != 0 || !vr.OK || !vr.HeadChecked || vr.Note != "" {
		t.Fatalf("verify --json with the matching head: exit %d, %v: %+v", res.code, err, vr)
	}
}

func TestIncidentVerifyRefusesAnEmptiedJournal(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	if err := os.Truncate(j.Path(), 0); err != nil {
		t.Fatal(err)
	}
	wantErr := "incident inc-a has no records: the journal is empty or was emptied; nothing can be verified"
	res := c.run("incident", "verify", "inc-a")
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, wantErr) || strings.Count(res.stderr, "\n") != 1 {
		t.Fatalf("verify of an emptied journal: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
	res = c.run("incident", "verify", "inc-a", "--json")
	var vr verifyResult
	if err := json.Unmarshal([]byte(res.stdout), &vr); err != nil || res.code != 1 || vr.OK || vr.Records != 0 || vr.Problem != wantErr {
		t.Fatalf("verify --json of an emptied journal: exit %d, %v: %+v", res.code, err, vr)
	}
	res = c.run("incident", "verify", "inc-a", "--head", j.Head())
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "the journal is empty, but head "+j.Head()+" was expected") {
		t.Fatalf("verify of an emptied journal with --head: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
	// A journal that never existed is not "ok" either.
	res = c.run("incident", "verify", "inc-missing")
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "incident inc-missing not found") {
		t.Fatalf("verify of a missing incident: exit %d: %q %q", res.code, res.stdout, res.stderr)
	}
}

func TestIncidentVerifyRefusesAJournalCopiedUnderAnotherName(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	j := writeIncident(t, c, "inc-a")
	data, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(j.Path()), "inc-b.ndjson"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	want := "inc-b.ndjson holds records of incident inc-a: it was copied or renamed"
	for _, args := range [][]string{{}, {"--head", j.Head()}} {
		res := c.run(append([]string{"incident", "verify", "inc-b"}, args...)...)
		if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, want) || strings.Count(res.stderr, "\n") != 1 {
			t.Fatalf("verify %v of a copied journal: exit %d: %q %q", args, res.code, res.stdout, res.stderr)
		}
		res = c.run(append([]string{"incident", "verify", "inc-b", "--json"}, args...)...)
		var vr verifyResult
		if err := json.Unmarshal([]byte(res.stdout), &vr); err != nil || res.code != 1 || vr.OK || vr.Incident != "inc-b" || !strings.Contains(vr.Problem, want) {
			t.Fatalf("verify --json %v of a copied journal: exit %d, %v: %+v", args, res.code, err, vr)
		}
	}
	// The original still verifies.
	if res := c.run("incident", "verify", "inc-a", "--head", j.Head()); res.code != 0 {
		t.Fatalf("verify of the original: exit %d: %s", res.code, res.stderr)
	}
}
