package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

const defaultScenario = scenarios.DefaultScenario

// trainingSandbox is the in-process fake tenant behind --training. Its state
// persists in $XDG_STATE_HOME/atoctl/training/<scenario>.json, so a write
// made by one command is seen by the next.
type trainingSandbox struct {
	srv *sandbox.Server
	url string
	// scenario, key and epoch identify the exercise; base is the tenant as
	// generated, before any change (for scoring).
	scenario scenarios.Scenario
	key      *scenarios.AnswerKey
	epoch    time.Time
	base     baseline
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
func startTrainingSandbox(name string, getenv func(string) string, opts ...sandbox.Option) (*trainingSandbox, error) {
	t, err := loadTrainingSandbox(name, getenv, opts...)
	if err != nil {
		return nil, err
	}
	url, err := t.srv.Start()
	if err != nil {
		return nil, fmt.Errorf("start training sandbox: %w", err)
	}
	t.url = url
	return t, nil
}

// loadTrainingSandbox builds the training tenant of a scenario without
// serving it: the base state, its answer key, and the persisted changes
// applied over it (a missing state file is created: the exercise starts).
func loadTrainingSandbox(name string, getenv func(string) string, opts ...sandbox.Option) (*trainingSandbox, error) {
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
	st, key := sc.Generate(sc.DefaultSeed, epoch)
	t := &trainingSandbox{scenario: sc, key: key, epoch: st.Epoch, base: baselineOf(st)}
	// The attacker keeps going after the start (fixtures/scenarios/live.go):
	// built from the base tenant, before the persisted changes apply.
	live := sandbox.WithAttacker(scenarios.Live(st, key))
	t.srv = sandbox.New(st, append([]sandbox.Option{sandbox.WithPersistence(path), live}, opts...)...)
	if err := t.srv.Err(); err != nil {
		return nil, fmt.Errorf("load training state: %w", err)
	}
	return t, nil
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

// trainingOptionsKey carries extra sandbox options in a context: tests
// lift the training sandbox's rate limit with it. Nothing outside this
// package can set it, so a real run always gets Auth0's limits.
type trainingOptionsKey struct{}

func withTrainingOptions(ctx context.Context, opts ...sandbox.Option) context.Context {
	return context.WithValue(ctx, trainingOptionsKey{}, opts)
}

func trainingOptions(ctx context.Context) []sandbox.Option {
	opts, _ := ctx.Value(trainingOptionsKey{}).([]sandbox.Option)
	return opts
}

// trainingOnly puts a training subcommand in training mode (the training
// incident, the training journal mode) and refuses real-tenant flags: no
// training command can reach a real tenant.
func trainingOnly(env *environment) error {
	if env.opts.domain != "" || env.opts.clientID != "" || env.opts.clientSecretFile != "" || env.opts.profile != "" {
		return usagef("training commands cannot be combined with --domain, --client-id, --client-secret-file or --profile: training never reaches a real tenant")
	}
	if env.opts.dryRun {
		return usagef("training commands take no --dry-run: they only touch the training tenant")
	}
	env.opts.training = true
	return nil
}

func newTrainingCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "training",
		Short: "Practise on a built-in fake tenant under attack",
		Long: `Training runs atoctl against a fake tenant generated from a scenario. Every
command takes --training (and --scenario NAME); writes land only in the
training tenant, whose state persists between commands until 'training reset'.

An exercise: 'training start --scenario NAME' prints the on-call page and the
attack goes on, live, until stopped; respond with the usual commands and
--training (or the console); 'training score' shows how you are doing, naming
only what you acted on; 'training end' ends the exercise and shows what was
right, missed and wrong; 'training debrief' puts your actions beside the
attack's timeline; 'training reset' starts over. Each scenario is its own
exercise with its own training incident: work on one never counts in another.`,
		Example: `  atoctl training list
  atoctl training start --scenario session-hijack
  atoctl --training --scenario session-hijack users search 'email:*'
  atoctl training score --scenario session-hijack
  atoctl training end --scenario session-hijack
  atoctl training debrief --scenario session-hijack --format md
  atoctl training reset --scenario session-hijack`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return trainingOnly(env) },
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "list",
		Short:   "List the training scenarios",
		Example: "  atoctl training list",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(env.stderr, "TRAINING: scenarios (start one with 'atoctl training start --scenario NAME')")
			for _, name := range scenarios.Names() {
				sc, _ := scenarios.Get(name)
				fmt.Fprintf(env.stdout, "%s\t%s\n", name, sc.Title)
			}
			return nil
		},
	})
	cmd.AddCommand(newTrainingStartCmd(env), newTrainingScoreCmd(env), newTrainingEndCmd(env), newTrainingDebriefCmd(env))
	cmd.AddCommand(&cobra.Command{
		Use:   "reset",
		Short: "Restore a training tenant to its starting state",
		Long: `Reset throws away everything done to the training tenant of a scenario
(blocks, revocations, resets) and starts the attack over, with fresh dates.
The next exercise journals into a new training incident.`,
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
			if err := removeTrainingStores(env.getenv, env.opts.scenario); err != nil {
				return fmt.Errorf("reset training events: %w", err)
			}
			if cur, err := env.currentIncidentPath(); err == nil {
				if err := os.Remove(cur); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("forget the current training incident: %w", err)
				}
			}
			fmt.Fprintf(env.stderr, "TRAINING: scenario %s reset; the next command starts it over\n", env.opts.scenario)
			return nil
		},
	})
	return cmd
}

func newTrainingStartCmd(env *environment) *cobra.Command {
	return &cobra.Command{
		Use:   "start",
		Short: "Begin an exercise: print the on-call page and how to begin",
		Long: `Start creates the training tenant of the scenario (--scenario, default
credential-stuffing) with the attack under way, opens a new training incident
for your actions, and prints the on-call page. The clock for 'training score'
starts now. An exercise already under way is kept: 'training reset' first to
start over.`,
		Example: "  atoctl training start --scenario mfa-fatigue",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := trainingStatePath(env.getenv, env.opts.scenario)
			if err != nil {
				return err
			}
			if _, err := lookupScenario(env.opts.scenario); err != nil {
				return err
			}
			_, under, err := sandbox.PersistedEpoch(path)
			if err != nil {
				return fmt.Errorf("read training state %s: %w (run 'atoctl training reset' to start over)", path, err)
			}
			ts, err := loadTrainingSandbox(env.opts.scenario, env.getenv)
			if err != nil {
				return err
			}
			defer ts.close()
			if under {
				fmt.Fprintf(env.stderr, "TRAINING: scenario %s: the exercise started at %s is still under way ('atoctl training reset --scenario %s' starts over)\n",
					ts.scenario.Name, ts.epoch.Format(time.RFC3339), ts.scenario.Name)
			} else {
				if err := env.setCurrentIncident(responders.NewIncidentID(time.Now())); err != nil {
					return fmt.Errorf("open a training incident: %w", err)
				}
				fmt.Fprintf(env.stderr, "TRAINING: scenario %s started at %s; nothing real is touched\n", ts.scenario.Name, ts.epoch.Format(time.RFC3339))
			}
			flag := ""
			if ts.scenario.Name != defaultScenario {
				flag = " --scenario " + ts.scenario.Name
			}
			fmt.Fprintf(env.stdout, "%s\n\n", strings.TrimSpace(ts.scenario.Brief))
			fmt.Fprintf(env.stdout, `How to begin (every command takes --json; add --training%[1]s to each):
  atoctl --training%[1]s detect --since 48h     what attacks are under way, and what to do about each
  atoctl --training%[1]s                      the console, on a terminal (:detect 48h there)
  atoctl --training%[1]s contain --finding <id> --yes   a finding's response
  atoctl --training%[1]s logs search --since 48h --type s,ssa,sertft,ferrt,mfar,gd_send_pn
  atoctl --training%[1]s ip triage --since 48h   the networks of a credential-stuffing attack
  atoctl --training%[1]s users sessions <user>
  atoctl --training%[1]s contain <user>... --yes
  atoctl --training%[1]s ip contain <IP or CIDR>... --acl --yes
The attacker keeps going until you stop it: atoctl --training%[1]s logs tail --type f,fp,fu
How you are doing (names only what you acted on): atoctl training score%[1]s
When you are done: atoctl training end%[1]s (ends the exercise, shows everything), then atoctl training debrief%[1]s.
`, flag)
			return nil
		},
	}
}
