package responders

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var journalTestMeta = JournalMeta{Operator: "alice@soc-laptop", Tenant: "acme.eu.auth0.com", Mode: ModeLive}

// journalClock is a deterministic clock: one second per call from t0.
func journalClock(t0 time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)-1) * time.Second) }
}

var journalT0 = time.Date(2026, 11, 27, 12, 20, 0, 0, time.UTC)

func openTestJournal(t *testing.T, dir, id string) *Journal {
	t.Helper()
	j, err := OpenJournal(dir, id, journalTestMeta)
	if err != nil {
		t.Fatal(err)
	}
	j.now = journalClock(journalT0)
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func journalAppend(t *testing.T, j *Journal, r Record) Record {
	t.Helper()
	out, err := j.Append(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// journalSampleRecords is a short playbook run for one user.
func journalSampleRecords() []Record {
	return []Record{
		{Kind: KindIntent, UserID: "auth0|u1", Step: "snapshot", Calls: []Call{{Method: "GET", Path: "/api/v2/users/auth0%7Cu1"}}},
		{Kind: KindOutcome, UserID: "auth0|u1", Step: "snapshot", Outcome: "done", Evidence: json.RawMessage(`{"profile": {"email": "a@example.com", "name": "A <b>&"}, "sessions": [{"id": "s1"}], "logs": []}`)},
		{Kind: KindIntent, UserID: "auth0|u1", Step: "block", Calls: []Call{{Method: "PATCH", Path: "/api/v2/users/auth0%7Cu1", Body: map[string]any{"blocked": true}}}},
		{Kind: KindOutcome, UserID: "auth0|u1", Step: "block", Outcome: "done"},
		{Kind: KindIntent, UserID: "auth0|u1", Step: "reset", Calls: []Call{{Method: "POST", Path: "/dbconnections/change_password", Body: map[string]any{"client_id": "abc", "email": "a@example.com", "connection": "Username-Password-Authentication", "n": 3}}}},
		{Kind: KindOutcome, UserID: "auth0|u1", Step: "reset", Outcome: "done"},
		{Kind: KindNote, Reason: "operator note: attacker IP 203.0.113.7"},
	}
}

func journalWriteSample(t *testing.T, dir, id string) *Journal {
	t.Helper()
	j := openTestJournal(t, dir, id)
	for _, r := range journalSampleRecords() {
		journalAppend(t, j, r)
	}
	return j
}

func TestJournalAppendThenLoadRoundTrips(t *testing.T) {
	dir := t.TempDir()
	j := journalWriteSample(t, dir, "inc-1")
	written := j.Records()
	head := j.Head()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := LoadJournal(dir, "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, written) {
		t.Fatalf("loaded records differ from written ones:\n got %+v\nwant %+v", got, written)
	}
	if err := VerifyJournal(got, head); err != nil {
		t.Fatal(err)
	}
	r := got[2]
	if r.Seq != 3 || r.Incident != "inc-1" || r.Operator != journalTestMeta.Operator || r.Tenant != journalTestMeta.Tenant || r.Mode != ModeLive ||
		r.Prev != got[1].Hash || !r.Time.Equal(journalT0.Add(2*time.Second)) || r.Time.Location() != time.UTC {
		t.Fatalf("Append did not fill the record: %+v", r)
	}
	if got[0].Prev != "" || len(head) != 64 || head != got[len(got)-1].Hash {
		t.Fatalf("chain ends wrong: first prev %q, head %q", got[0].Prev, head)
	}
	if j.Path() != filepath.Join(dir, "inc-1.ndjson") {
		t.Fatalf("Path() = %s", j.Path())
	}
}

func TestJournalEachAppendedLineIsOnDiskAndParses(t *testing.T) {
	dir := t.TempDir()
	j := openTestJournal(t, dir, "inc-1")
	for i, r := range journalSampleRecords() {
		journalAppend(t, j, r)
		// Read the file as another process would, after each Append returned.
		b, err := os.ReadFile(j.Path())
		if err != nil {
			t.Fatal(err)
		}
		recs, err := ReadJournal(bytes.NewReader(b))
		if err != nil || len(recs) != i+1 {
			t.Fatalf("after append %d: %d records, err %v", i+1, len(recs), err)
		}
		if bytes.Count(b, []byte("\n")) != i+1 || !bytes.HasSuffix(b, []byte("\n")) {
			t.Fatalf("after append %d the file is not one record per line:\n%s", i+1, b)
		}
	}
}

func TestJournalConcurrentAppendsKeepAValidChain(t *testing.T) {
	dir := t.TempDir()
	j := openTestJournal(t, dir, "inc-1")
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				_, err := j.Append(Record{Kind: KindOutcome, UserID: fmt.Sprintf("auth0|w%d", w), Step: "block", Outcome: "done", Reason: fmt.Sprint(i)})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := LoadJournal(dir, "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != workers*each {
		t.Fatalf("%d records on disk, want %d", len(recs), workers*each)
	}
	if err := VerifyJournal(recs, j.Head()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(recs, j.Records()) {
		t.Fatal("records on disk differ from the journal's own")
	}
}

func TestJournalFileIsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "atoctl", "incidents")
	j := journalWriteSample(t, dir, "inc-1")
	for path, want := range map[string]os.FileMode{j.Path(): 0o600, dir: 0o700} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s has mode %v, want %v", path, st.Mode().Perm(), want)
		}
	}
}

func TestJournalOpenFixesAWorldReadableFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inc-1.ndjson")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(path, 0o644)
	openTestJournal(t, dir, "inc-1")
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after open, want 0600", st.Mode().Perm())
	}
}

func TestJournalSecondOpenIsRefusedWhileLocked(t *testing.T) {
	dir := t.TempDir()
	j := journalWriteSample(t, dir, "inc-1")
	_, err := OpenJournal(dir, "inc-1", journalTestMeta)
	if !errors.Is(err, ErrJournalLocked) || !strings.Contains(err.Error(), "incident inc-1 is open in another atoctl process") {
		t.Fatalf("second open: %v", err)
	}
	// Readers are never blocked.
	if recs, err := LoadJournal(dir, "inc-1"); err != nil || len(recs) != len(journalSampleRecords()) {
		t.Fatalf("LoadJournal while locked: %d records, %v", len(recs), err)
	}
	head := j.Head()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j2 := openTestJournal(t, dir, "inc-1")
	r := journalAppend(t, j2, Record{Kind: KindNote, Reason: "resumed"})
	if r.Seq != int64(len(journalSampleRecords())+1) || r.Prev != head {
		t.Fatalf("reopened journal does not continue the chain: seq %d prev %s (head was %s)", r.Seq, r.Prev, head)
	}
	if _, err := j.Append(Record{Kind: KindNote}); err == nil {
		t.Fatal("append to a closed journal succeeded")
	}
}

func TestOpenJournalRefusesABrokenChainAndAnotherTenant(t *testing.T) {
	dir := t.TempDir()
	journalWriteSample(t, dir, "inc-1").Close()
	other := journalTestMeta
	other.Tenant = "evil.auth0.com"
	if _, err := OpenJournal(dir, "inc-1", other); !errors.Is(err, ErrOtherTenant) || !strings.Contains(err.Error(), "belongs to tenant acme.eu.auth0.com") {
		t.Fatalf("open for another tenant: %v", err)
	}
	// The training sandbox listens on a new loopback port every command.
	train := JournalMeta{Operator: "t", Tenant: "127.0.0.1:40001", Mode: ModeTraining}
	j, err := OpenJournal(dir, "inc-train", train)
	if err != nil {
		t.Fatal(err)
	}
	journalAppend(t, j, Record{Kind: KindNote})
	j.Close()
	train.Tenant = "127.0.0.1:40002"
	if j, err = OpenJournal(dir, "inc-train", train); err != nil {
		t.Fatalf("reopen a training incident on another port: %v", err)
	}
	j.Close()
	if _, err := OpenJournal(dir, "inc-train", journalTestMeta); !errors.Is(err, ErrOtherTenant) {
		t.Fatalf("a live tenant journaled into a training incident: %v", err)
	}
	path := filepath.Join(dir, "inc-1.ndjson")
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, bytes.Replace(b, []byte(`"outcome":"done"`), []byte(`"outcome":"failed"`), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = OpenJournal(dir, "inc-1", journalTestMeta)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Seq != 2 {
		t.Fatalf("open of an edited journal: %v", err)
	}
	if _, err := OpenJournal(dir, "inc-1", JournalMeta{Mode: "yolo"}); err == nil {
		t.Fatal("open with an unknown mode succeeded")
	}
}

// journalLines writes the sample journal and returns its lines and head.
func journalLines(t *testing.T) ([]string, string) {
	t.Helper()
	dir := t.TempDir()
	j := journalWriteSample(t, dir, "inc-1")
	b, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(b), "\n"), "\n"), j.Head()
}

func journalRehash(t *testing.T, recs []Record) {
	t.Helper()
	prev := ""
	for i := range recs {
		recs[i].Seq = int64(i + 1)
		recs[i].Prev = prev
		h, err := hashRecord(recs[i])
		if err != nil {
			t.Fatal(err)
		}
		recs[i].Hash = h
		prev = h
	}
}

func TestVerifyJournalDetectsTampering(t *testing.T) {
	lines, head := journalLines(t)
	join := func(ls ...string) string {
		s := strings.Join(ls, "")
		if !strings.HasSuffix(s, "\n") {
			s += "\n"
		}
		return s
	}
	for _, tc := range []struct {
		name     string
		journal  string
		rewrite  func([]Record) // applied after parsing, then the chain is re-hashed
		head     string
		wantSeq  int
		wantText string // "" means it verifies
	}{
		{name: "untouched", journal: join(lines...), head: head},
		{name: "edited field", journal: join(lines[0], lines[1], lines[2], strings.Replace(lines[3], `"outcome":"done"`, `"outcome":"skipped"`, 1), lines[4], lines[5], lines[6]),
			wantSeq: 4, wantText: "hash mismatch"},
		{name: "removed record", journal: join(lines[0], lines[1], lines[3], lines[4], lines[5], lines[6]), wantSeq: 3, wantText: "has seq 4"},
		{name: "swapped records", journal: join(lines[0], lines[1], lines[3], lines[2], lines[4], lines[5], lines[6]), wantSeq: 3, wantText: "reordered"},
		{name: "truncated tail without head", journal: join(lines[:5]...)},
		{name: "truncated tail with head", journal: join(lines[:5]...), head: head, wantText: "cut from the end"},
		{name: "rewritten chain without head", journal: join(lines...), rewrite: func(r []Record) { r[3].Outcome = "skipped" }},
		{name: "rewritten chain with head", journal: join(lines...), rewrite: func(r []Record) { r[3].Outcome = "skipped" }, head: head, wantText: "rewritten"},
		{name: "head of an earlier record", journal: join(lines...), head: journalHashAt(t, lines, 4), wantText: "is record 5, but 2 records follow it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ReadJournal(strings.NewReader(tc.journal))
			if err != nil {
				t.Fatal(err)
			}
			if tc.rewrite != nil {
				tc.rewrite(recs)
				journalRehash(t, recs)
			}
			err = VerifyJournal(recs, tc.head)
			if tc.wantText == "" {
				if err != nil {
					t.Fatalf("want ok, got %v", err)
				}
				return
			}
			var ve *VerifyError
			if !errors.As(err, &ve) || ve.Seq != tc.wantSeq || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("got %v, want record %d: %q", err, tc.wantSeq, tc.wantText)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
}

// VerifyIncident checks a journal as the journal of one incident: it must
// hold records, and records of that incident, not a copy of another's.
func TestVerifyIncidentRefusesAnEmptyOrCopiedJournal(t *testing.T) {
	dir := t.TempDir()
	j := journalWriteSample(t, dir, "inc-1")
	head := j.Head()
	j.Close()
	recs, err := LoadJournal(dir, "inc-1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(j.Path())
	if err := os.WriteFile(filepath.Join(dir, "inc-2.ndjson"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	copied, err := LoadJournal(dir, "inc-2")
	if err != nil {
		t.Fatal(err)
	}
	edited := slices.Clone(recs)
	edited[3].Outcome = "skipped"
	for _, tc := range []struct {
		name      string
		incident  string
		recs      []Record
		head      string
		wantEmpty bool
		wantSeq   int
		wantText  string // "" means it verifies
	}{
		{name: "its own journal", incident: "inc-1", recs: recs},
		{name: "its own journal with head", incident: "inc-1", recs: recs, head: head},
		{name: "cut at a record boundary, no head", incident: "inc-1", recs: recs[:5]},
		{name: "cut at a record boundary, with head", incident: "inc-1", recs: recs[:5], head: head, wantText: "cut from the end"},
		{name: "edited record", incident: "inc-1", recs: edited, wantSeq: 4, wantText: "hash mismatch"},
		{name: "empty", incident: "inc-1", wantEmpty: true, wantText: "incident inc-1 has no records: the journal is empty or was emptied; nothing can be verified"},
		{name: "empty with head", incident: "inc-1", head: head, wantText: "the journal is empty, but head " + head + " was expected"},
		{name: "copied", incident: "inc-2", recs: copied, wantText: "inc-2.ndjson holds records of incident inc-1: it was copied or renamed"},
		{name: "copied with its head", incident: "inc-2", recs: copied, head: head, wantText: "inc-2.ndjson holds records of incident inc-1: it was copied or renamed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyIncident(tc.incident, tc.recs, tc.head)
			if tc.wantText == "" {
				if err != nil {
					t.Fatalf("want ok, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantText) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want %q", err, tc.wantText)
			}
			if errors.Is(err, ErrEmptyJournal) != tc.wantEmpty {
				t.Fatalf("errors.Is(%v, ErrEmptyJournal) = %v", err, !tc.wantEmpty)
			}
			var ve *VerifyError
			if !tc.wantEmpty && (!errors.As(err, &ve) || ve.Seq != tc.wantSeq) {
				t.Fatalf("got %v, want a *VerifyError for record %d", err, tc.wantSeq)
			}
		})
	}
}

func journalHashAt(t *testing.T, lines []string, i int) string {
	t.Helper()
	var r Record
	if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
		t.Fatal(err)
	}
	return r.Hash
}

func TestReadJournalReportsATornTailAndOpenCutsIt(t *testing.T) {
	dir := t.TempDir()
	j := journalWriteSample(t, dir, "inc-1")
	j.Close()
	path := filepath.Join(dir, "inc-1.ndjson")
	intact, _ := os.ReadFile(path)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":8,"time":"2026-11-27T12:21:00Z","incident":"inc-1","oper`)
	f.Close()

	recs, err := LoadJournal(dir, "inc-1")
	var torn *TornTailError
	if !errors.Is(err, ErrTornTail) || !errors.As(err, &torn) {
		t.Fatalf("want a torn tail, got %v", err)
	}
	if torn.Line != 8 || torn.Offset != int64(len(intact)) || len(recs) != 7 {
		t.Fatalf("torn tail at line %d offset %d with %d records; want line 8 offset %d with 7", torn.Line, torn.Offset, len(recs), len(intact))
	}
	if err := VerifyJournal(recs, ""); err != nil {
		t.Fatal(err)
	}

	j2 := openTestJournal(t, dir, "inc-1")
	recs = j2.Records()
	if len(recs) != 8 || recs[7].Kind != KindNote || !strings.Contains(recs[7].Reason, "torn final line") {
		t.Fatalf("open did not cut and note the torn line: %+v", recs[len(recs)-1])
	}
	j2.Close()
	if recs, err := LoadJournal(dir, "inc-1"); err != nil || VerifyJournal(recs, j2.Head()) != nil {
		t.Fatalf("journal after the cut: %v", err)
	}
}

func TestReadJournalNamesTheBadLine(t *testing.T) {
	lines, _ := journalLines(t)
	for name, bad := range map[string]string{
		"garbage":       "not json\n",
		"empty":         "\n",
		"unknown field": strings.Replace(lines[1], `{"seq":2,`, `{"seq":2,"x":1,`, 1),
		"duplicate key": strings.Replace(lines[1], `{"seq":2,`, `{"seq":2,"seq":2,`, 1),
		"reformatted":   strings.Replace(lines[1], `"seq":2`, `"seq": 2`, 1),
		"crlf":          strings.TrimSuffix(lines[1], "\n") + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ReadJournal(strings.NewReader(lines[0] + bad + lines[2]))
			if err == nil || errors.Is(err, ErrTornTail) || !strings.HasPrefix(err.Error(), "line 2: ") {
				t.Fatalf("got %v, want an error naming line 2", err)
			}
		})
	}
}

func TestAppendRefusesSecrets(t *testing.T) {
	for name, r := range map[string]Record{
		"ticket URL in reason":   {Kind: KindOutcome, Step: "reset", Outcome: "done", Reason: "ticket https://acme.eu.auth0.com/lo/reset?ticket=AbC123#"},
		"password in body":       {Kind: KindIntent, Step: "reset", Calls: []Call{{Method: "PATCH", Path: "/api/v2/users/x", Body: map[string]any{"password": "hunter2"}}}},
		"PASSWORD as a number":   {Kind: KindIntent, Step: "reset", Calls: []Call{{Method: "PATCH", Path: "/api/v2/users/x", Body: map[string]any{"Password": 1234}}}},
		"access token in a path": {Kind: KindIntent, Calls: []Call{{Method: "GET", Path: "/userinfo?access_token=eyJ"}}},
		"client secret key":      {Kind: KindIntent, Calls: []Call{{Method: "POST", Path: "/oauth/token", Body: map[string]any{"client_secret": "s"}}}},
		"bearer header in error": {Kind: KindOutcome, Outcome: "failed", Error: "401 with Authorization: Bearer eyJhbGci"},
		"private key in error":   {Kind: KindOutcome, Outcome: "failed", Error: "bad key -----BEGIN RSA PRIVATE KEY-----\nMIIEow"},
		"client assertion":       {Kind: KindIntent, Calls: []Call{{Method: "POST", Path: "/oauth/token", Body: map[string]any{"client_assertion": "eyJ"}}}},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			j := openTestJournal(t, dir, "inc-1")
			journalAppend(t, j, Record{Kind: KindNote, Reason: "start"})
			if _, err := j.Append(r); !errors.Is(err, ErrSecretInRecord) {
				t.Fatalf("Append: %v, want ErrSecretInRecord", err)
			}
			if recs, err := LoadJournal(dir, "inc-1"); err != nil || len(recs) != 1 {
				t.Fatalf("a refused record reached the file: %d records, %v", len(recs), err)
			}
			// The journal stays usable.
			journalAppend(t, j, Record{Kind: KindNote, Reason: "after"})
		})
	}
	j := openTestJournal(t, t.TempDir(), "inc-2")
	journalAppend(t, j, Record{Kind: KindIntent, Step: "reset", Calls: []Call{{Method: "POST", Path: "/api/v2/tickets/password-change", Body: map[string]any{"user_id": "auth0|x", "password": Elided}}}})
}

// Evidence is tenant text: an attacker who puts "Bearer " in a User-Agent
// must not be able to stop the snapshot (and so the containment) of a user.
func TestAppendElidesSecretLookingTenantTextInEvidence(t *testing.T) {
	j := openTestJournal(t, t.TempDir(), "inc-1")
	ev := json.RawMessage(`{"user":{"name":"Bearer x","logins_count":12345678901234567890},` +
		`"logs":[{"user_agent":"curl ticket\u003dabc","details":{"access_token":"eyJ","password":"hunter2","ok":"fine"}}]}`)
	r := journalAppend(t, j, Record{Kind: KindOutcome, Step: "snapshot", Outcome: "done", Evidence: ev})
	got := string(r.Evidence)
	for _, leak := range []string{"Bearer", "ticket", "access_token", "hunter2"} {
		if strings.Contains(got, leak) {
			t.Errorf("evidence keeps %q: %s", leak, got)
		}
	}
	if !strings.Contains(got, redactedSecret) || !strings.Contains(got, `"ok":"fine"`) || !strings.Contains(got, "12345678901234567890") {
		t.Errorf("evidence was not elided in place: %s", got)
	}
	b, _ := os.ReadFile(j.Path())
	if strings.Contains(string(b), "hunter2") || strings.Contains(string(b), "Bearer") {
		t.Fatalf("a secret reached the file: %s", b)
	}
	clean := json.RawMessage(`{"user":{"name":"Alice"},"logs":[]}`)
	if r := journalAppend(t, j, Record{Kind: KindOutcome, Step: "snapshot", Evidence: clean}); string(r.Evidence) != string(clean) {
		t.Fatalf("clean evidence changed: %s", r.Evidence)
	}
}

func TestIncidentIDs(t *testing.T) {
	for id, ok := range map[string]bool{
		"inc-20261127-1220-7f3a": true, "A": true, "a.b_c-d": true, strings.Repeat("x", 64): true,
		"": false, ".hidden": false, "-x": false, "../etc/passwd": false, "a/b": false, "a b": false,
		strings.Repeat("x", 65): false, "inc\x1b[31m": false, "é": false,
	} {
		if err := ValidIncidentID(id); (err == nil) != ok {
			t.Errorf("ValidIncidentID(%q) = %v", id, err)
		} else if err != nil && (!errors.Is(err, ErrBadIncidentID) || strings.ContainsAny(err.Error(), "\n\x1b")) {
			t.Errorf("ValidIncidentID(%q) error %q", id, err)
		}
	}
	id := NewIncidentID(time.Date(2026, 11, 27, 13, 20, 0, 0, time.FixedZone("CET", 3600)))
	if !regexp.MustCompile(`^inc-20261127-1220-[0-9a-f]{4}$`).MatchString(id) || ValidIncidentID(id) != nil {
		t.Fatalf("NewIncidentID = %q", id)
	}
}

func TestListIncidentsSummarisesEachJournal(t *testing.T) {
	dir := t.TempDir()
	if got, err := ListIncidents(filepath.Join(dir, "missing")); err != nil || len(got) != 0 {
		t.Fatalf("missing dir: %v, %v", got, err)
	}
	journalWriteSample(t, dir, "inc-old").Close()
	j := openTestJournal(t, dir, "inc-new")
	j.now = journalClock(journalT0.Add(time.Hour))
	journalAppend(t, j, Record{Kind: KindOutcome, UserID: "auth0|a", Step: "block", Outcome: "done"})
	journalAppend(t, j, Record{Kind: KindOutcome, UserID: "auth0|b", Step: "block", Outcome: "done"})
	os.WriteFile(filepath.Join(dir, "inc-bad.ndjson"), []byte("nope\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)

	got, err := ListIncidents(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != "inc-new" || got[1].ID != "inc-old" || got[2].ID != "inc-bad" {
		t.Fatalf("order: %+v", got)
	}
	if s := got[0]; s.Records != 2 || s.Users != 2 || s.Head != j.Head() || s.Tenant != journalTestMeta.Tenant || s.Mode != ModeLive || s.Problem != "" || !s.First.Equal(journalT0.Add(time.Hour)) {
		t.Fatalf("summary: %+v", s)
	}
	if got[2].Problem == "" {
		t.Fatal("a corrupt journal is listed without its problem")
	}
}

func FuzzReadJournal(f *testing.F) {
	dir := f.TempDir()
	j, err := OpenJournal(dir, "inc-1", journalTestMeta)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range journalSampleRecords() {
		if _, err := j.Append(r); err != nil {
			f.Fatal(err)
		}
	}
	j.Close()
	valid, _ := os.ReadFile(j.Path())
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"seq":1,"time":"2026-11-27T12:20:00Z","incident":"x","operator":"","tenant":"","mode":"","kind":"note","evidence":null,"prev":"","hash":""}` + "\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ReadJournal(bytes.NewReader(data))
		if err != nil && !errors.Is(err, ErrTornTail) {
			return
		}
		if VerifyJournal(recs, "") != nil {
			return
		}
		// Whatever parses and verifies re-encodes to the same records,
		// hashes and head.
		var buf bytes.Buffer
		for _, r := range recs {
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		again, err := ReadJournal(&buf)
		if err != nil {
			t.Fatalf("re-encoded journal does not read: %v", err)
		}
		head := ""
		if len(recs) > 0 {
			head = recs[len(recs)-1].Hash
		}
		if err := VerifyJournal(again, head); err != nil {
			t.Fatalf("re-encoded journal does not verify: %v", err)
		}
		for i := range recs {
			if again[i].Hash != recs[i].Hash {
				t.Fatalf("record %d re-encodes to hash %s, was %s", i+1, again[i].Hash, recs[i].Hash)
			}
		}
	})
}
