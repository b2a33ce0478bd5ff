package responders

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// RecordKind says what a journal record is.
type RecordKind string

// Record kinds: an intent is journaled (and fsynced) before a step's API
// calls, its outcome after them; a note is anything else worth keeping.
const (
	KindIntent  RecordKind = "intent"
	KindOutcome RecordKind = "outcome"
	KindNote    RecordKind = "note"
)

// Mode says whether a run's calls reached a real tenant.
type Mode string

// Modes a journal records.
const (
	ModeLive     Mode = "live"
	ModeDryRun   Mode = "dry-run"
	ModeTraining Mode = "training"
)

// Elided is what stands in a call body for a secret (a password) that must
// not be journaled. Append refuses a "password" with any other value.
const Elided = "[elided]"

// Record is one journal line. Kind "intent" is written before a step's API
// calls, "outcome" after.
type Record struct {
	Seq      int64           `json:"seq"` // 1-based, contiguous
	Time     time.Time       `json:"time"`
	Incident string          `json:"incident"`
	Operator string          `json:"operator"` // who ran atoctl (user@host)
	Tenant   string          `json:"tenant"`   // tenant host
	Mode     Mode            `json:"mode"`
	Kind     RecordKind      `json:"kind"`
	UserID   string          `json:"user_id,omitempty"`
	Step     string          `json:"step,omitempty"`  // snapshot, block, revoke, reset, unblock-check, mfa, unblock, rollback, acl
	Calls    []Call          `json:"calls,omitempty"` // the API calls planned/made, secrets elided
	Outcome  Outcome         `json:"outcome,omitempty"`
	Reason   string          `json:"reason,omitempty"`   // why skipped / what it means
	Error    string          `json:"error,omitempty"`    // what failed
	Evidence json.RawMessage `json:"evidence,omitempty"` // snapshot step: see SnapshotEvidence
	Prev     string          `json:"prev"`               // hash of the previous record ("" for seq 1)
	Hash     string          `json:"hash"`               // sha256 hex over the record with Hash empty
}

// Call is one Management or Authentication API call a step planned or made,
// with secrets elided from its body.
type Call struct {
	Method string         `json:"method"`
	Path   string         `json:"path"`
	Body   map[string]any `json:"body,omitempty"`
}

// JournalMeta is what every record of one run carries unless the record
// sets it: who ran atoctl, against which tenant, in which mode.
type JournalMeta struct {
	Operator, Tenant string
	Mode             Mode
}

// Errors a caller can branch on.
var (
	// ErrJournalLocked: another atoctl process has the incident open.
	ErrJournalLocked = errors.New("journal locked")
	// ErrTornTail: the journal's last line is incomplete (a crash during a
	// write). The records before it are intact; see TornTailError.
	ErrTornTail = errors.New("torn final line")
	// ErrSecretInRecord: Append refused a record that carries a secret.
	ErrSecretInRecord = errors.New("record contains a secret")
	// ErrOtherTenant: OpenJournal refused to journal one tenant's work into
	// another tenant's incident.
	ErrOtherTenant = errors.New("incident belongs to another tenant")
	// ErrBadIncidentID: an incident id that cannot name a journal file.
	ErrBadIncidentID = errors.New("bad incident id")
	// ErrEmptyJournal: VerifyIncident found no records, so there is no
	// chain to check: the journal was emptied, or never written to.
	ErrEmptyJournal = errors.New("the journal is empty or was emptied")
)

// TornTailError reports an incomplete final line: Line is its 1-based line
// number and Offset the length of the intact prefix, where the file can be
// truncated. It matches ErrTornTail with errors.Is.
type TornTailError struct {
	Line   int
	Offset int64
}

func (e *TornTailError) Error() string {
	return fmt.Sprintf("line %d: %v (an interrupted write; the %d bytes before it are intact)", e.Line, ErrTornTail, e.Offset)
}

// Is makes errors.Is(err, ErrTornTail) true.
func (e *TornTailError) Is(target error) bool { return target == ErrTornTail }

// VerifyError says which record breaks the hash chain and how. Seq 0 is
// about the journal as a whole (empty, or its head is not the expected one).
type VerifyError struct {
	Seq     int
	Problem string
}

func (e *VerifyError) Error() string {
	if e.Seq == 0 {
		return "journal does not verify: " + e.Problem
	}
	return fmt.Sprintf("journal does not verify: record %d: %s", e.Seq, e.Problem)
}

var incidentIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidIncidentID checks that id can name a journal file: 1 to 64 letters,
// digits, '.', '_' or '-', starting with a letter or digit (so no path
// separators, no "..", nothing hidden).
func ValidIncidentID(id string) error {
	if incidentIDRe.MatchString(id) {
		return nil
	}
	return fmt.Errorf("%w %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrBadIncidentID, auth0client.Clean(id))
}

// NewIncidentID names a new incident after the minute it starts, with a
// random suffix so two responders starting together do not collide:
// inc-20261127-1220-7f3a.
func NewIncidentID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "inc-" + now.UTC().Format("20060102-1504") + "-" + hex.EncodeToString(b[:])
}

// journalPath is where an incident's journal lives in dir.
func journalPath(dir, incident string) string {
	return filepath.Join(dir, incident+".ndjson")
}

// Journal is an open, locked, append-only incident journal. It is safe for
// concurrent use: the Runner appends from several goroutines.
type Journal struct {
	mu       sync.Mutex
	f        *os.File
	path     string
	incident string
	meta     JournalMeta
	recs     []Record
	size     int64
	// broken is sticky: after a failed write or fsync the file's state is
	// unknown, and appending more would hide that.
	broken error
	now    func() time.Time
}

// OpenJournal opens the journal of incident in dir for appending, creating
// it (mode 0600, dir 0700) if needed, and holds an exclusive lock on it until
// Close. An existing journal is read and verified first: a broken chain is
// refused, and a torn final line (a crash mid-write) is cut off and the cut
// noted in a new record. An existing journal of another tenant is refused
// (ErrOtherTenant); loopback hosts count as one tenant whatever the port.
func OpenJournal(dir, incident string, meta JournalMeta) (*Journal, error) {
	if err := ValidIncidentID(incident); err != nil {
		return nil, err
	}
	switch meta.Mode {
	case ModeLive, ModeDryRun, ModeTraining:
	default:
		return nil, fmt.Errorf("open incident %s: mode %q is not %s, %s or %s", incident, auth0client.Clean(string(meta.Mode)), ModeLive, ModeDryRun, ModeTraining)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open incident %s: %w", incident, err)
	}
	path := journalPath(dir, incident)
	// O_NOFOLLOW: a symlink planted in the state dir must not redirect the
	// journal (or its lock) to another file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open incident %s: %w", incident, err)
	}
	j, err := openLocked(f, path, incident, meta)
	if err != nil {
		_ = f.Close() // also releases the lock
		return nil, err
	}
	return j, nil
}

func openLocked(f *os.File, path, incident string, meta JournalMeta) (*Journal, error) {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("incident %s is open in another atoctl process (%s): %w", incident, path, ErrJournalLocked)
		}
		return nil, fmt.Errorf("lock incident %s: %w", incident, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open incident %s: %w", incident, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("open incident %s: %s is not a regular file", incident, path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			return nil, fmt.Errorf("open incident %s: restrict %s to its owner: %w", incident, path, err)
		}
	}
	j := &Journal{f: f, path: path, incident: incident, meta: meta, now: time.Now}
	if st.Size() == 0 {
		// A new journal: make its directory entry durable too.
		if err := syncDir(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("open incident %s: %w", incident, err)
		}
		return j, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("open incident %s: %w", incident, err)
	}
	recs, err := ReadJournal(f)
	var torn *TornTailError
	tornTail := errors.As(err, &torn)
	if err != nil && !tornTail {
		return nil, fmt.Errorf("open incident %s: %s: %w", incident, path, err)
	}
	if err := VerifyJournal(recs, ""); err != nil {
		return nil, fmt.Errorf("open incident %s: refusing to append to %s: %w", incident, path, err)
	}
	if len(recs) > 0 && recs[0].Incident != incident {
		return nil, fmt.Errorf("open incident %s: %s holds incident %q", incident, path, auth0client.Clean(recs[0].Incident))
	}
	if len(recs) > 0 && meta.Tenant != "" && recs[0].Tenant != "" && !sameTenant(recs[0].Tenant, meta.Tenant) {
		return nil, fmt.Errorf("open incident %s: it belongs to tenant %s, not %s: start a new incident: %w", incident, auth0client.Clean(recs[0].Tenant), auth0client.Clean(meta.Tenant), ErrOtherTenant)
	}
	j.recs = recs
	j.size = st.Size()
	if tornTail {
		if err := f.Truncate(torn.Offset); err != nil {
			return nil, fmt.Errorf("open incident %s: cut the torn final line: %w", incident, err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("open incident %s: %w", incident, err)
		}
		cut := j.size - torn.Offset
		j.size = torn.Offset
		if _, err := j.Append(Record{Kind: KindNote, Reason: fmt.Sprintf("removed a torn final line (%d bytes at line %d) left by an interrupted write; it was never acknowledged", cut, torn.Line)}); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// sameTenant compares tenant hosts. Loopback hosts (the training sandbox,
// tests) are one tenant whatever their port: a new port every command.
func sameTenant(a, b string) bool {
	ha, hb := tenantHost(a), tenantHost(b)
	if isLoopback(ha) && isLoopback(hb) {
		return true
	}
	return ha == hb
}

func tenantHost(s string) string {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Append writes r as the next record: it fills Seq, Time (UTC, now),
// Incident, Prev and Hash, and Operator, Tenant and Mode from the journal's
// meta unless r sets them; writes one line and fsyncs it before returning
// the record as written. A record carrying a secret is refused
// (ErrSecretInRecord) and nothing is written, except in Evidence (tenant
// text an attacker chooses), where secret-looking strings are elided.
func (j *Journal) Append(r Record) (Record, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return Record{}, fmt.Errorf("append to incident %s: journal is closed", j.incident)
	}
	if j.broken != nil {
		return Record{}, fmt.Errorf("append to incident %s: an earlier write failed, the journal needs checking: %w", j.incident, j.broken)
	}
	if r.Incident != "" && r.Incident != j.incident {
		return Record{}, fmt.Errorf("append to incident %s: record names incident %q", j.incident, auth0client.Clean(r.Incident))
	}
	switch r.Kind {
	case KindIntent, KindOutcome, KindNote:
	default:
		return Record{}, fmt.Errorf("append to incident %s: kind %q is not %s, %s or %s", j.incident, auth0client.Clean(string(r.Kind)), KindIntent, KindOutcome, KindNote)
	}
	r.Seq = int64(len(j.recs)) + 1
	r.Time = j.now().UTC()
	r.Incident = j.incident
	r.Operator = cmp.Or(r.Operator, j.meta.Operator)
	r.Tenant = cmp.Or(r.Tenant, j.meta.Tenant)
	r.Mode = cmp.Or(r.Mode, j.meta.Mode)
	r.Prev = ""
	if len(j.recs) > 0 {
		r.Prev = j.recs[len(j.recs)-1].Hash
	}
	r.Hash = ""
	// Evidence is tenant data: an attacker chooses its User-Agent, name and
	// log details. Refusing the record would let them stop containment (the
	// Runner stops a user whose journal fails), so secret-looking text there
	// is elided instead; everywhere else atoctl wrote the text, and a match
	// is a leak to refuse.
	if len(r.Evidence) > 0 {
		ev, err := redactEvidence(r.Evidence)
		if err != nil {
			return Record{}, fmt.Errorf("append to incident %s: evidence: %w", j.incident, err)
		}
		r.Evidence = ev
	}
	// Normalise through one JSON round trip, so the record kept, the line
	// written and the hash are exactly what a reader decodes and recomputes
	// (numbers in bodies become float64, evidence is compacted, ...).
	b, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("append to incident %s: encode record: %w", j.incident, err)
	}
	var norm Record
	if err := json.Unmarshal(b, &norm); err != nil {
		return Record{}, fmt.Errorf("append to incident %s: encode record: %w", j.incident, err)
	}
	if err := checkNoSecrets(b); err != nil {
		return Record{}, fmt.Errorf("append to incident %s (%s %s): %w", j.incident, norm.Kind, auth0client.Clean(norm.Step), err)
	}
	if norm.Hash, err = hashRecord(norm); err != nil {
		return Record{}, fmt.Errorf("append to incident %s: %w", j.incident, err)
	}
	line, err := json.Marshal(norm)
	if err != nil {
		return Record{}, fmt.Errorf("append to incident %s: encode record: %w", j.incident, err)
	}
	line = append(line, '\n')
	if n, err := j.f.Write(line); err != nil {
		// Take back a partial line so the file stays a valid journal; if
		// even that fails, refuse further appends.
		if n > 0 {
			if terr := j.f.Truncate(j.size); terr != nil {
				j.broken = err
			}
		}
		return Record{}, fmt.Errorf("append to incident %s: %w", j.incident, err)
	}
	if err := j.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the pages: the
		// record's durability is unknown.
		j.broken = err
		return Record{}, fmt.Errorf("append to incident %s: fsync: %w", j.incident, err)
	}
	j.size += int64(len(line))
	j.recs = append(j.recs, norm)
	return cloneRecord(norm), nil
}

// Records returns a copy of the records written so far (treat call bodies as
// read-only: they are shared).
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]Record, len(j.recs))
	for i, r := range j.recs {
		out[i] = cloneRecord(r)
	}
	return out
}

func cloneRecord(r Record) Record {
	r.Calls = slices.Clone(r.Calls)
	r.Evidence = slices.Clone(r.Evidence)
	return r
}

// Head is the hash of the last record ("" for an empty journal): a report
// prints it so a later verify can detect a truncated or rewritten journal.
func (j *Journal) Head() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.recs) == 0 {
		return ""
	}
	return j.recs[len(j.recs)-1].Hash
}

// Path is the journal file.
func (j *Journal) Path() string { return j.path }

// Incident is the incident id the journal records.
func (j *Journal) Incident() string { return j.incident }

// Close releases the lock and closes the file. Closing twice is harmless.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close() // closing the descriptor releases the flock
	j.f = nil
	return err
}

// maxLineBytes bounds one journal line (a snapshot with 100 log events of
// 2 KB each is well under it); a longer line is corruption, not a record.
const maxLineBytes = 64 << 20

// ReadJournal decodes a journal strictly: each line must be one record in
// the canonical encoding atoctl writes (no unknown or duplicate fields, no
// reformatting), else the error names the line. An incomplete final line is
// reported as a *TornTailError (errors.Is ErrTornTail) together with the
// records before it. It does not verify the chain: see VerifyJournal.
func ReadJournal(r io.Reader) ([]Record, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var recs []Record
	var offset int64
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br)
		if err == io.EOF && len(line) == 0 {
			return recs, nil
		}
		if err == io.EOF {
			return recs, &TornTailError{Line: lineNo, Offset: offset}
		}
		if err != nil {
			return recs, fmt.Errorf("line %d: %w", lineNo, err)
		}
		rec, err := decodeLine(line[:len(line)-1])
		if err != nil {
			return recs, fmt.Errorf("line %d: %w", lineNo, err)
		}
		recs = append(recs, rec)
		offset += int64(len(line))
	}
}

// readLine returns one line with its '\n', or what is left at EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLineBytes {
			return nil, fmt.Errorf("longer than %d bytes", maxLineBytes)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

func decodeLine(line []byte) (Record, error) {
	var rec Record
	if len(bytes.TrimSpace(line)) == 0 {
		return rec, errors.New("empty line")
	}
	if err := json.Unmarshal(line, &rec); err != nil {
		return rec, fmt.Errorf("not a journal record: %w", err)
	}
	// The hash covers the decoded record, so anything the decoder drops or
	// merges (an unknown field, a duplicate key, a differently cased key)
	// could hide text from verification: only the canonical form is a record.
	canon, err := json.Marshal(rec)
	if err != nil {
		return rec, fmt.Errorf("not a journal record: %w", err)
	}
	if !bytes.Equal(canon, line) {
		return rec, errors.New("not in the canonical form atoctl writes (edited by hand, or not a journal)")
	}
	return rec, nil
}

// hashRecord is the sha256 hex of the record's JSON with Hash empty.
func hashRecord(r Record) (string, error) {
	r.Hash = ""
	b, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("hash record %d: %w", r.Seq, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// LoadJournal reads an incident's journal without locking it (a reader
// never blocks a running responder). A torn final line is returned as with
// ReadJournal, with the records before it; a missing journal is an error
// matching fs.ErrNotExist.
func LoadJournal(dir, incident string) ([]Record, error) {
	if err := ValidIncidentID(incident); err != nil {
		return nil, err
	}
	path := journalPath(dir, incident)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("incident %s not found in %s: %w", incident, dir, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read incident %s: %w", incident, err)
	}
	defer f.Close()
	recs, err := ReadJournal(f)
	if err != nil {
		return recs, fmt.Errorf("read incident %s (%s): %w", incident, path, err)
	}
	return recs, nil
}

// VerifyJournal checks the hash chain: seq numbers 1..n, each prev the hash
// of the record before, each hash recomputed, one incident throughout. With
// head != "" the last record's hash must be head, which also catches records
// cut from the end and a journal rewritten into a new consistent chain. The
// error is a *VerifyError naming the record.
func VerifyJournal(recs []Record, head string) error {
	if err := verifyChain(recs); err != nil {
		return err
	}
	return verifyHead(recs, head)
}

// VerifyIncident checks recs as the journal of incident: the chain as
// VerifyJournal does, and that its records are that incident's, so a
// journal copied or renamed under another incident's name fails. An empty
// journal has nothing to verify: without head that is an error matching
// ErrEmptyJournal, never a pass. Otherwise the error is a *VerifyError.
// Without head a cut at a record boundary leaves a valid chain: only the
// head a report printed detects it.
func VerifyIncident(incident string, recs []Record, head string) error {
	if len(recs) == 0 && head == "" {
		return fmt.Errorf("incident %s has no records: %w; nothing can be verified", auth0client.Clean(incident), ErrEmptyJournal)
	}
	if err := verifyChain(recs); err != nil {
		return err
	}
	// The chain holds one incident throughout, so its first record speaks
	// for all. The hash does not bind a record to its file name.
	if len(recs) > 0 && recs[0].Incident != incident {
		other := auth0client.Clean(recs[0].Incident)
		if ValidIncidentID(other) != nil {
			other = fmt.Sprintf("%q", other)
		}
		return &VerifyError{Problem: fmt.Sprintf("%s.ndjson holds records of incident %s: it was copied or renamed", auth0client.Clean(incident), other)}
	}
	return verifyHead(recs, head)
}

// verifyChain checks seq, prev, hash and one incident throughout.
func verifyChain(recs []Record) error {
	prev := ""
	for i, r := range recs {
		want := int64(i + 1)
		seq := i + 1
		if r.Seq != want {
			return &VerifyError{Seq: seq, Problem: fmt.Sprintf("has seq %d: records were removed, inserted or reordered", r.Seq)}
		}
		if r.Prev != prev {
			return &VerifyError{Seq: seq, Problem: "prev does not match the hash of the record before it: records were removed, inserted or reordered"}
		}
		h, err := hashRecord(r)
		if err != nil {
			return &VerifyError{Seq: seq, Problem: err.Error()}
		}
		if h != r.Hash {
			return &VerifyError{Seq: seq, Problem: "hash mismatch: the record was changed after it was written"}
		}
		if r.Incident != recs[0].Incident {
			return &VerifyError{Seq: seq, Problem: fmt.Sprintf("names incident %q, not %q", auth0client.Clean(r.Incident), auth0client.Clean(recs[0].Incident))}
		}
		prev = r.Hash
	}
	return nil
}

// verifyHead checks that a verified chain ends at head ("" checks nothing).
func verifyHead(recs []Record, head string) error {
	if head == "" {
		return nil
	}
	if len(recs) == 0 {
		return &VerifyError{Problem: "the journal is empty, but head " + auth0client.Clean(head) + " was expected"}
	}
	last := recs[len(recs)-1].Hash
	if last != head {
		if i := slices.IndexFunc(recs, func(r Record) bool { return r.Hash == head }); i >= 0 {
			return &VerifyError{Problem: fmt.Sprintf("head %s is record %d, but %d records follow it", head, i+1, len(recs)-i-1)}
		}
		return &VerifyError{Problem: fmt.Sprintf("the last record (%d) has hash %s, not the expected head %s: records were cut from the end, or the journal was rewritten", len(recs), last, auth0client.Clean(head))}
	}
	return nil
}

// IncidentSummary is one line of `atoctl incident list`.
type IncidentSummary struct {
	ID      string    `json:"id"`
	Records int       `json:"records"`
	First   time.Time `json:"first"`
	Last    time.Time `json:"last"`
	Mode    Mode      `json:"mode"`
	Tenant  string    `json:"tenant"`
	Users   int       `json:"users"`
	Head    string    `json:"head"`
	// Problem is why the journal cannot be trusted ("" when it verifies).
	Problem string `json:"problem,omitempty"`
}

// ListIncidents summarises every journal in dir, newest first. A missing
// dir is no incidents; a journal that does not read or verify is listed
// with its Problem.
func ListIncidents(dir string) ([]IncidentSummary, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list incidents in %s: %w", dir, err)
	}
	var out []IncidentSummary
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".ndjson")
		if !ok || ValidIncidentID(id) != nil || !e.Type().IsRegular() {
			continue
		}
		s := IncidentSummary{ID: id}
		recs, err := LoadJournal(dir, id)
		switch {
		case errors.Is(err, ErrTornTail):
			// The intact records still tell the story; the next open cuts the tail.
		case err != nil:
			s.Problem = err.Error()
		}
		if err := VerifyIncident(id, recs, ""); err != nil && s.Problem == "" {
			s.Problem = err.Error()
		}
		users := map[string]bool{}
		for _, r := range recs {
			if r.UserID != "" {
				users[r.UserID] = true
			}
		}
		s.Records, s.Users = len(recs), len(users)
		if len(recs) > 0 {
			first, last := recs[0], recs[len(recs)-1]
			s.First, s.Last, s.Mode, s.Tenant, s.Head = first.Time, last.Time, first.Mode, first.Tenant, last.Hash
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b IncidentSummary) int {
		if c := b.First.Compare(a.First); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// redactedSecret replaces secret-looking tenant text in evidence.
const redactedSecret = "[elided: looked like a secret]"

// redactEvidence elides, inside snapshot evidence, every string that
// checkNoSecrets would refuse. Evidence without such text is returned as is.
func redactEvidence(ev json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(ev))
	dec.UseNumber() // keep numbers exactly as the tenant sent them
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v, changed := redactValue(v)
	if !changed {
		return ev, nil
	}
	return json.Marshal(v)
}

func redactValue(v any) (any, bool) {
	switch t := v.(type) {
	case string:
		if findSecret(t, "") != nil {
			return redactedSecret, true
		}
	case map[string]any:
		changed := false
		out := make(map[string]any, len(t))
		for k, val := range t {
			if isPasswordKey(k) && !isElided(val) {
				val, changed = Elided, true
			}
			val, c := redactValue(val)
			changed = changed || c
			if findSecret(k, "") != nil {
				k, changed = fmt.Sprintf("%s %d", redactedSecret, len(out)), true
			}
			out[k] = val
		}
		return out, changed
	case []any:
		changed := false
		out := make([]any, len(t))
		for i, val := range t {
			var c bool
			out[i], c = redactValue(val)
			changed = changed || c
		}
		return out, changed
	}
	return v, false
}

// checkNoSecrets refuses record JSON that carries something that looks like
// a credential: a password-change ticket URL, an access token, a client
// secret, a private key or client assertion (private-key JWT), a bearer
// header, or a password that is not elided. It looks at
// decoded strings, so JSON escapes cannot hide one. Defense in depth: steps
// elide secrets before they build a record.
func checkNoSecrets(recordJSON []byte) error {
	var v any
	if err := json.Unmarshal(recordJSON, &v); err != nil {
		return err
	}
	return findSecret(v, "")
}

var secretMarkers = []struct{ text, what string }{
	{"ticket=", "a password-change ticket URL"},
	{"access_token", "an access token"},
	{"client_secret", "a client secret"},
	{"Bearer ", "a bearer token"},
	{"PRIVATE KEY", "a private key (PEM)"},
	{"client_assertion", "a signed client assertion"},
}

func findSecret(v any, key string) error {
	switch t := v.(type) {
	case string:
		for _, m := range secretMarkers {
			if strings.Contains(t, m.text) {
				return fmt.Errorf("%w: %s (%q in %s)", ErrSecretInRecord, m.what, m.text, fieldName(key))
			}
		}
	case map[string]any:
		for k, val := range t {
			if err := findSecret(k, key); err != nil {
				return err
			}
			if isPasswordKey(k) && !isElided(val) {
				return fmt.Errorf("%w: a password that is not elided (in %s; write %q)", ErrSecretInRecord, fieldName(k), Elided)
			}
			if err := findSecret(val, k); err != nil {
				return err
			}
		}
	case []any:
		for _, val := range t {
			if err := findSecret(val, key); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldName(key string) string {
	if key == "" {
		return "the record"
	}
	return fmt.Sprintf("field %q", auth0client.Clean(key))
}

func isPasswordKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "new_password"
}

func isElided(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == "" || t == Elided || t == "[redacted]"
	}
	return false
}

// appendStepRecord journals rec, a step's plan or outcome record: an outcome
// record carries o, and any record the cleaned text of e when there is one.
func appendStepRecord(j JournalWriter, rec Record, o Outcome, e error) error {
	if rec.Kind == KindOutcome {
		rec.Outcome = o
	}
	if e != nil {
		rec.Error = auth0client.Clean(e.Error())
	}
	if _, err := j.Append(rec); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}
