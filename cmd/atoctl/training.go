package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
)

const defaultScenario = scenarios.DefaultScenario

// trainingSandbox is the in-process fake tenant behind --training. Its state
// persists in $XDG_STATE_HOME/atoctl/training/<scenario>.json, so a write
// made by one command is seen by the next.
type trainingSandbox struct {
	srv *sandbox.Server
	url string
}

// trainingStatePath is where a scenario's training state lives.
func trainingStatePath(getenv func(string) string, scenario string) (string, error) {
	dir := getenv("XDG_STATE_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return "", usagef("cannot place training state: set XDG_STATE_HOME or HOME")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "atoctl", "training", scenario+".json"), nil
}

func lookupScenario(name string) (scenarios.Scenario, error) {
	sc, ok := scenarios.Get(name)
	if !ok {
		return sc, usagef("unknown scenario %q: choose one of %s", auth0client.Clean(name), strings.Join(scenarios.Names(), ", "))
	}
	return sc, nil
}

// startTrainingSandbox generates the scenario (deterministic from its seed and
// the epoch stored with the training state), applies the persisted changes
// and serves it on a loopback port.
func startTrainingSandbox(name string, getenv func(string) string) (*trainingSandbox, error) {
	sc, err := lookupScenario(name)
	if err != nil {
		return nil, err
	}
	path, err := trainingStatePath(getenv, name)
	if err != nil {
		return nil, err
	}
	epoch, ok, err := sandbox.PersistedEpoch(path)
	if err != nil {
		return nil, fmt.Errorf("read training state %s: %w (run 'atoctl training reset' to start over)", path, err)
	}
	if !ok {
		epoch = time.Now().UTC().Truncate(time.Second)
	}
	st, _ := sc.Generate(sc.DefaultSeed, epoch)
	srv := sandbox.New(st, sandbox.WithPersistence(path))
	url, err := srv.Start()
	if err != nil {
		return nil, fmt.Errorf("start training sandbox: %w", err)
	}
	return &trainingSandbox{srv: srv, url: url}, nil
}

func (t *trainingSandbox) config() (auth0client.Config, error) {
	u, err := auth0client.ParseDomain(t.url)
	if err != nil {
		return auth0client.Config{}, err
	}
	return auth0client.Config{BaseURL: u, ClientID: sandbox.ClientID, ClientSecret: auth0client.NewSecret(sandbox.ClientSecret),
		ResetClientID: resetClientOf(t.srv)}, nil
}

// resetClientOf picks the application enabled on the tenant's database
// connection: the reset_client_id a real profile would configure.
func resetClientOf(srv *sandbox.Server) string {
	var id string
	srv.View(func(st *sandbox.State) {
		for _, c := range st.Connections {
			if c.Strategy == "auth0" && len(c.EnabledClients) > 0 {
				id = c.EnabledClients[0]
				return
			}
		}
	})
	return id
}

func (t *trainingSandbox) close() { _ = t.srv.Close() }

func newTrainingCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "training",
		Short: "Practise on a built-in fake tenant under attack",
		Long: `Training runs atoctl against a fake tenant generated from a scenario. Every
command takes --training (and --scenario NAME); writes land only in the
training tenant, whose state persists between commands until 'training reset'.`,
		Example: `  atoctl training list
  atoctl --training users search 'email:*'
  atoctl training reset --scenario credential-stuffing`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the training scenarios",
		Example: "  atoctl training list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range scenarios.Names() {
				sc, _ := scenarios.Get(name)
				fmt.Fprintf(env.stdout, "%s\t%s\n", name, sc.Title)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "reset",
		Short: "Restore a training tenant to its starting state",
		Long: `Reset throws away everything done to the training tenant of a scenario
(blocks, revocations, resets) and starts the attack over, with fresh dates.`,
		Example: "  atoctl training reset --scenario credential-stuffing",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := lookupScenario(env.opts.scenario); err != nil {
				return err
			}
			path, err := trainingStatePath(env.getenv, env.opts.scenario)
			if err != nil {
				return err
			}
			if err := sandbox.RemovePersisted(path); err != nil {
				return fmt.Errorf("reset training state %s: %w", path, err)
			}
			fmt.Fprintf(env.stderr, "TRAINING: scenario %s reset; the next command starts it over\n", env.opts.scenario)
			return nil
		},
	})
	return cmd
}
