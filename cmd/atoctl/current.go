package main

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/atoctl/atoctl/responders"
)

// The current incident is the one commands journal into when --incident is
// not given: an incident spans many commands (contain a user, then an IP,
// then unblock the owner). Training and live incidents have separate ones,
// and so has each training scenario: every scenario is its own exercise,
// scored on its own journal, so work on one must not land in another's.
func (env *environment) currentIncidentPath() (string, error) {
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return "", err
	}
	name := "current-incident"
	if env.opts.training {
		sc, err := lookupScenario(env.opts.scenario)
		if err != nil {
			return "", err
		}
		name += ".training." + sc.Name
	}
	return filepath.Join(filepath.Dir(dir), name), nil
}

// currentIncident returns the current incident id, or "".
func (env *environment) currentIncident() string {
	path, err := env.currentIncidentPath()
	if err != nil {
		return ""
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(string(data))
	if responders.ValidIncidentID(id) != nil {
		return ""
	}
	return id
}

func (env *environment) setCurrentIncident(id string) error {
	path, err := env.currentIncidentPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(id+"\n"), 0o600)
}

// operator names who ran atoctl, for the journal.
func (env *environment) operator() string {
	name := env.getenv("USER")
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// openIncident opens the journal of the given, current or a new incident.
// The current incident is only a default: if it belongs to another tenant,
// a new incident starts rather than mixing tenants in one record.
func (env *environment) openIncident(id, tenant string) (*responders.Journal, string, error) {
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return nil, "", err
	}
	meta := responders.JournalMeta{Operator: env.operator(), Tenant: tenant, Mode: env.mode()}
	explicit := id != ""
	if !explicit {
		id = env.currentIncident()
	}
	if id == "" {
		id = responders.NewIncidentID(time.Now())
	}
	j, err := responders.OpenJournal(dir, id, meta)
	if !explicit && errors.Is(err, responders.ErrOtherTenant) {
		id = responders.NewIncidentID(time.Now())
		j, err = responders.OpenJournal(dir, id, meta)
	}
	if err != nil {
		return nil, "", err
	}
	if err := env.setCurrentIncident(id); err != nil {
		return nil, "", errors.Join(fmt.Errorf("remember current incident: %w", err), j.Close())
	}
	return j, id, nil
}
