package responders

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestIncidentsRememberTheCurrentOneAndNeverMixTenants(t *testing.T) {
	dir := t.TempDir()
	now := func() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }
	acme := Incidents{Dir: dir, CurrentFile: filepath.Join(dir, "current"), Now: now,
		Meta: JournalMeta{Operator: "a@h", Tenant: "acme.eu.auth0.com", Mode: ModeLive}}
	if acme.Current() != "" {
		t.Fatal("a fresh store has a current incident")
	}
	j, err := acme.Open("")
	if err != nil {
		t.Fatal(err)
	}
	first := j.Incident()
	if _, err := j.Append(Record{Kind: KindNote, Reason: "opened"}); err != nil {
		t.Fatal(err)
	}
	_ = j.Close()
	if acme.Current() != first {
		t.Fatalf("current %q, want the incident just opened %q", acme.Current(), first)
	}
	if j, err = acme.Open(""); err != nil || j.Incident() != first {
		t.Fatalf("reopening the current incident gave %v, %v", j, err)
	}
	_ = j.Close()

	// Another tenant on the same machine does not journal into acme's.
	other := acme
	other.Meta.Tenant = "other.us.auth0.com"
	j, err = other.Open("")
	if err != nil {
		t.Fatal(err)
	}
	if j.Incident() == first {
		t.Fatal("another tenant's records went into acme's incident")
	}
	_ = j.Close()
	if _, err := other.Open(first); err == nil {
		t.Fatal("naming another tenant's incident explicitly was accepted")
	}

	path, err := acme.SaveReport(first, "# report\n")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("report %s: %v %v, want mode 0600", path, fi, err)
	}
	if _, err := acme.SaveReport("../escape", "x"); err == nil {
		t.Fatal("a report outside the incidents directory was written")
	}
}
