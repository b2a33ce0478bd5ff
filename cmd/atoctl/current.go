package main

import (
	"os"
	"os/user"
	"path/filepath"

	"github.com/atoctl/atoctl/responders"
)

// The current incident is the one commands journal into when --incident is
// not given: an incident spans many commands (contain a user, then an IP,
// then unblock the owner). Training and live incidents have separate ones,
// and so has each training scenario: every scenario is its own exercise,
// scored on its own journal, so work on one must not land in another's.
// Training dry runs have their own, apart from the exercise's.
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
		if env.opts.dryRun {
			// A dry run acts on nothing: it is kept apart from the
			// exercise's incident, whose journal the score reads.
			name += ".dry-run"
		}
	}
	return filepath.Join(filepath.Dir(dir), name), nil
}

// currentIncident returns the current incident id, or "".
func (env *environment) currentIncident() string {
	path, err := env.currentIncidentPath()
	if err != nil {
		return ""
	}
	return responders.Incidents{CurrentFile: path}.Current()
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

// incidents is where this invocation's incidents live, stamped with who
// runs atoctl against which tenant in which mode.
func (env *environment) incidents(tenant string) (responders.Incidents, error) {
	dir, err := incidentsDir(env.getenv)
	if err != nil {
		return responders.Incidents{}, err
	}
	cur, err := env.currentIncidentPath()
	if err != nil {
		return responders.Incidents{}, err
	}
	return responders.Incidents{Dir: dir, CurrentFile: cur, Meta: responders.JournalMeta{Operator: env.operator(), Tenant: tenant, Mode: env.mode()}}, nil
}

// openIncident opens the journal of the given, current or a new incident
// (responders.Incidents.Open) and returns it with its id.
func (env *environment) openIncident(id, tenant string) (*responders.Journal, string, error) {
	inc, err := env.incidents(tenant)
	if err != nil {
		return nil, "", err
	}
	j, err := inc.Open(id)
	if err != nil {
		return nil, "", err
	}
	return j, j.Incident(), nil
}
