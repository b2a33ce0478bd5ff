package responders

import (
	"errors"

	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
)

// Incidents is where incident journals live and which one is current: the
// one a command or the console journals into when no incident is named
// (an incident spans many commands: contain a user, then an IP, then
// unblock the owner). Both front-ends open, load and report incidents
// through it.
type Incidents struct {
	// Dir holds the journals (<id>.ndjson) and exported reports.
	Dir string
	// CurrentFile holds the current incident's id; live, training and each
	// training scenario have their own.
	CurrentFile string
	// Meta is stamped on every record: operator, tenant, mode.
	Meta JournalMeta
	// Now is the clock for new incident ids (nil: time.Now).
	Now func() time.Time
}

// Current is the current incident's id, or "".
func (s Incidents) Current() string {
	data, err := os.ReadFile(s.CurrentFile)
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(data))
	if ValidIncidentID(id) != nil {
		return ""
	}
	return id
}

func (s Incidents) setCurrent(id string) error {
	if err := os.MkdirAll(filepath.Dir(s.CurrentFile), 0o700); err != nil {
		return err
	}
	return os.WriteFile(s.CurrentFile, []byte(id+"\n"), 0o600)
}

func (s Incidents) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Open opens the journal of incident id, or of the current incident, or of
// a new one, and makes it current. The current incident is only a
// default: if it belongs to another tenant, a new incident starts rather
// than mixing tenants in one record.
func (s Incidents) Open(id string) (*Journal, error) {
	explicit := id != ""
	if !explicit {
		id = s.Current()
	}
	if id == "" {
		id = NewIncidentID(s.now())
	}
	j, err := OpenJournal(s.Dir, id, s.Meta)
	if !explicit && errors.Is(err, ErrOtherTenant) {
		id = NewIncidentID(s.now())
		j, err = OpenJournal(s.Dir, id, s.Meta)
	}
	if err != nil {
		return nil, err
	}
	if err := s.setCurrent(id); err != nil {
		return nil, errors.Join(fmt.Errorf("remember current incident: %w", err), j.Close())
	}
	return j, nil
}

// Load reads an incident's records without locking its journal.
func (s Incidents) Load(id string) ([]Record, error) { return LoadJournal(s.Dir, id) }

// SaveReport writes an incident's Markdown report beside its journal (mode
// 0600: it names users and addresses) and returns where.
func (s Incidents) SaveReport(id, markdown string) (string, error) {
	if err := ValidIncidentID(id); err != nil {
		return "", err
	}
	path := filepath.Join(s.Dir, id+".report.md")
	if err := os.WriteFile(path, []byte(markdown), 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// TicketFile is where the console saves an incident's password-change
// tickets (credentials: mode 0600, beside the journal, never on screen).
func (s Incidents) TicketFile(id string) string { return filepath.Join(s.Dir, id+".tickets") }

// TicketsToFile delivers password-change tickets by appending them to path
// (mode 0600), one "user id<TAB>url" a line.
func TicketsToFile(path string) func(userID string, t auth0client.Secret) error {
	return func(userID string, t auth0client.Secret) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("write ticket: %w", err)
		}
		defer f.Close()
		if err := f.Chmod(0o600); err != nil {
			return fmt.Errorf("write ticket: %w", err)
		}
		_, err = fmt.Fprintf(f, "%s\t%s\n", userID, t.Reveal())
		return err
	}
}
