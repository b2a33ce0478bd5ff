package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/eventstore"
)

// environment is what one invocation works with: its streams, its
// environment variables, the global options and, once needed, the tenant
// client (and the in-process training sandbox behind it).
type environment struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	opts           globalOptions
	// stdoutTTY selects tables (a terminal) or TSV (a pipe or file).
	stdoutTTY bool

	client  *auth0client.Client
	sandbox *trainingSandbox
	// store is the tenant's local event store, once opened (store.go).
	store *eventstore.Store
	// starting is the tenant being built in the background (startTenant);
	// bannerShown, that the training banner was printed.
	starting    chan builtTenant
	bannerShown bool
	// observer, if set before the client is built, sees every request
	// (the console's command log).
	observer func(auth0client.CallInfo)
}

// globalOptions are the flags every command takes.
type globalOptions struct {
	training         bool
	scenario         string
	domain           string
	clientID         string
	clientSecretFile string
	clientKeyFile    string
	profile          string
	maxRate          float64
	json             bool
	dryRun           bool
	noStore          bool
}

func newRootCmd(env *environment) *cobra.Command {
	root := &cobra.Command{
		Use:   "atoctl",
		Short: "Account-takeover response for Auth0 tenants",
		Long: `atoctl finds the accounts an attacker took over on an Auth0 tenant and contains
them: search users, read their logs, sessions and refresh tokens, and run the
response playbook, from scripts or the full-screen console (atoctl with no
command on a terminal, or 'atoctl tui').

Credentials come from flags, then AUTH0_DOMAIN / AUTH0_CLIENT_ID /
AUTH0_CLIENT_SECRET, then a profile in $XDG_CONFIG_HOME/atoctl/config.json.
--training runs everything against a built-in fake tenant under attack.`,
		Example: `  # practise on the built-in tenant under a credential-stuffing attack
  atoctl --training users search 'email:*@example.com'

  # a real tenant (the secret is read from a file, never a flag value)
  AUTH0_DOMAIN=acme.eu.auth0.com AUTH0_CLIENT_ID=... \
    atoctl --client-secret-file ~/.atoctl-secret users show alice@example.com`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q: see 'atoctl --help'", args[0])
			}
			// On a terminal, atoctl is the console; piped or scripted, it
			// prints the overview (or the help) as before.
			if env.stdinTTY() && isTTY(env.stdout) {
				guard, err := (&guardFlags{}).guard(env)
				if err != nil {
					return err
				}
				return runTUI(cmd.Context(), env, guard, 0)
			}
			return runOverview(cmd, env)
		},
		Args: cobra.ArbitraryArgs,
	}
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetIn(env.stdin)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usagef("%v (see --help)", err)
	})
	f := root.PersistentFlags()
	o := &env.opts
	f.BoolVar(&o.training, "training", false, "run against the built-in training tenant (nothing real is touched)")
	f.StringVar(&o.scenario, "scenario", defaultScenario, "training scenario (see 'atoctl training list')")
	f.StringVar(&o.domain, "domain", "", "tenant domain or URL (e.g. acme.eu.auth0.com); env AUTH0_DOMAIN")
	f.StringVar(&o.clientID, "client-id", "", "M2M application client id; env AUTH0_CLIENT_ID")
	f.StringVar(&o.clientSecretFile, "client-secret-file", "", "file holding the client secret; env AUTH0_CLIENT_SECRET")
	f.StringVar(&o.clientKeyFile, "client-key-file", "", "file holding an RSA private key (PEM) to sign in by private key JWT instead of a secret; env AUTH0_CLIENT_ASSERTION_PRIVATE_KEY (PEM text), AUTH0_CLIENT_ASSERTION_SIGNING_ALG (default RS256)")
	f.StringVar(&o.profile, "profile", "", "profile name in $XDG_CONFIG_HOME/atoctl/config.json")
	f.Var(rateFlag{&o.maxRate}, "max-rate", fmt.Sprintf("Management API requests/s, at least %g (default: 80%% of the tenant's observed limit)", minMaxRate))
	f.BoolVar(&o.json, "json", false, "print JSON (NDJSON for streams)")
	f.BoolVar(&o.dryRun, "dry-run", false, "plan writes and show them without sending any (reads stay real)")
	f.BoolVar(&o.noStore, "no-store", false, "read events from the Management API, not the local event store (see 'logs sync')")

	root.AddCommand(newUsersCmd(env), newLogsCmd(env), newContainCmd(env), newSandboxCmd(env), newTrainingCmd(env))
	root.AddCommand(newIncidentCmd(env), newTUICmd(env), newIPCmd(env), newDetectCmd(env), newDoctorCmd(env))
	root.AddCommand(newShieldCmd(env), newPostureCmd(env))
	root.SetHelpCommand(newHelpCmd())
	// Cobra adds the completion command when it executes; added now, the
	// walk below covers it like every other command.
	root.InitDefaultCompletionCmd()
	for _, sh := range root.Commands() {
		if sh.Name() == "completion" {
			completionExamples(sh)
		}
	}
	strictUsage(root)
	return root
}

// strictUsage makes every command of the tree refuse what it does not take
// with a usage error (exit 2): a parent command refuses an unknown
// subcommand (cobra would print its help and exit 0, so a script's typo
// would read as success), and every argument check reports as bad input
// (cobra.NoArgs' errors would otherwise exit 1).
func strictUsage(cmd *cobra.Command) {
	if cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = unknownSubcommand
		if cmd.Example == "" {
			cmd.Example = subcommandExamples(cmd)
		}
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			var ue usageError
			if err == nil || errors.As(err, &ue) {
				return err
			}
			return usagef("%s: see '%s --help'", auth0client.Clean(err.Error()), c.CommandPath())
		}
	}
	for _, sub := range cmd.Commands() {
		strictUsage(sub)
	}
}

// unknownSubcommand runs a parent command: its help when called alone, a
// usage error naming the word it does not know otherwise.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("unknown command %q for %q: see '%s --help'", auth0client.Clean(args[0]), cmd.CommandPath(), cmd.CommandPath())
	}
	return cmd.Help()
}

// subcommandExamples is the help example of a parent that has none of its
// own: the first example of each subcommand.
func subcommandExamples(cmd *cobra.Command) string {
	var lines []string
	for _, sub := range cmd.Commands() {
		if first, _, _ := strings.Cut(sub.Example, "\n"); first != "" && sub.IsAvailableCommand() {
			lines = append(lines, first)
		}
	}
	return strings.Join(lines, "\n")
}

// newHelpCmd is `atoctl help [command]`: cobra's help command prints the
// root help and exits 0 for a topic it does not know; this one exits 2.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help prints the help of any command: atoctl help users logs is atoctl users logs --help.",
		Example: `  atoctl help users
  atoctl help logs search`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target := c.Root()
			for i, name := range args {
				next := subcommand(target, name)
				if next == nil {
					return usagef("unknown help topic %q: see '%s --help'", auth0client.Clean(strings.Join(args[:i+1], " ")), target.CommandPath())
				}
				target = next
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}

// subcommand is cmd's subcommand called name (or aliased so), or nil.
func subcommand(cmd *cobra.Command, name string) *cobra.Command {
	for _, sub := range cmd.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// completionExamples gives cobra's completion commands the example every
// atoctl command has.
func completionExamples(cmd *cobra.Command) {
	examples := map[string]string{
		"bash":       "  source <(atoctl completion bash)",
		"zsh":        `  atoctl completion zsh > "${fpath[1]}/_atoctl"`,
		"fish":       "  atoctl completion fish > ~/.config/fish/completions/atoctl.fish",
		"powershell": "  atoctl completion powershell | Out-String | Invoke-Expression",
	}
	for _, sub := range cmd.Commands() {
		if ex, ok := examples[sub.Name()]; ok && sub.Example == "" {
			sub.Example = ex
		}
	}
}

// tenant returns the client for the configured tenant, building it (and,
// with --training, starting the in-process sandbox) on first use, or
// waiting for the build startTenant began.
func (env *environment) tenant(ctx context.Context) (*auth0client.Client, error) {
	if env.client != nil {
		return env.client, nil
	}
	var b builtTenant
	if env.starting != nil {
		b = <-env.starting
		env.starting = nil
	} else {
		b = env.buildTenant(ctx)
	}
	env.sandbox = b.sandbox
	if b.sandbox != nil && !env.bannerShown {
		fmt.Fprintf(env.stderr, "TRAINING: scenario %s (fake tenant at %s; nothing real is touched)\n", env.opts.scenario, b.sandbox.url)
		env.bannerShown = true
	}
	env.client = b.client
	return b.client, b.err
}

// builtTenant is a tenant's client and, in training, its sandbox.
type builtTenant struct {
	client  *auth0client.Client
	sandbox *trainingSandbox
	err     error
}

// startTenant builds the training tenant in the background (it takes most
// of a second to generate), for a view that reads the event store
// meanwhile; tenant waits for it. The build writes nothing to the
// environment (a real tenant's, which may print warnings, is not started
// so: it is quick to build).
func (env *environment) startTenant(ctx context.Context) {
	if !env.opts.training || env.client != nil || env.starting != nil {
		return
	}
	done := make(chan builtTenant, 1)
	env.starting = done
	go func() { done <- env.buildTenant(ctx) }()
}

// buildTenant builds the client (and the training sandbox) without
// touching the environment.
func (env *environment) buildTenant(ctx context.Context) builtTenant {
	// The flag checks what it parses; this catches options built otherwise.
	if r := env.opts.maxRate; r != 0 {
		if err := checkMaxRate(r); err != nil {
			return builtTenant{err: usagef("--max-rate %g: %v", r, err)}
		}
	}
	var b builtTenant
	var cfg auth0client.Config
	var err error
	if env.opts.training {
		if env.opts.domain != "" || env.opts.clientID != "" || env.opts.clientSecretFile != "" || env.opts.clientKeyFile != "" || env.opts.profile != "" {
			return builtTenant{err: usagef("--training cannot be combined with --domain, --client-id, --client-secret-file, --client-key-file or --profile: training never reaches a real tenant")}
		}
		b.sandbox, err = startTrainingSandbox(env.opts.scenario, env.getenv, trainingOptions(ctx)...)
		if err != nil {
			return builtTenant{err: err}
		}
		cfg, err = b.sandbox.config()
	} else {
		cfg, err = env.realConfig()
	}
	if err != nil {
		b.err = err
		return b
	}
	cfg.MaxRate = env.opts.maxRate
	cfg.Observer = env.observer
	b.client, b.err = auth0client.New(cfg)
	return b
}

// realConfig resolves credentials: flags > environment > profile.
func (env *environment) realConfig() (auth0client.Config, error) {
	flags := auth0client.Settings{Domain: env.opts.domain, ClientID: env.opts.clientID, ClientSecretFile: env.opts.clientSecretFile, ClientKeyFile: env.opts.clientKeyFile}
	profile, err := auth0client.LoadProfile(auth0client.DefaultConfigPath(env.getenv), env.opts.profile)
	if err != nil {
		return auth0client.Config{}, err
	}
	cfg, warnings, err := auth0client.Resolve(flags, auth0client.EnvSettings(env.getenv), profile)
	if err != nil {
		return cfg, fmt.Errorf("%w (or use --training to practise on the built-in tenant)", err)
	}
	for _, w := range warnings {
		fmt.Fprintln(env.stderr, "warning: "+w)
	}
	return cfg, nil
}

// minMaxRate is the smallest --max-rate: below it one bulk run would take
// hours per account, and a slip (1e-9 for 1e9) would look like a hang.
const minMaxRate = 0.1

// checkMaxRate accepts a finite number of requests per second no smaller
// than minMaxRate.
func checkMaxRate(v float64) error {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0:
		return errors.New("must be a positive, finite number of requests per second")
	case v < minMaxRate:
		return fmt.Errorf("below the minimum of %g requests per second", minMaxRate)
	}
	return nil
}

// rateFlag is --max-rate. Not given, the budget is adaptive (the option
// stays 0); given, it must pass checkMaxRate, so "--max-rate 0" is an
// error, not a silent "adaptive". The check runs while the flags are
// parsed: a bad value exits 2 before anything is sent.
type rateFlag struct{ v *float64 }

func (f rateFlag) String() string {
	if f.v == nil || *f.v == 0 {
		return ""
	}
	return strconv.FormatFloat(*f.v, 'g', -1, 64)
}

// Type names the value in the help ("--max-rate float").
func (f rateFlag) Type() string { return "float" }

// Set parses and checks one value given on the command line.
func (f rateFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return errors.New("not a number of requests per second")
	}
	if err := checkMaxRate(v); err != nil {
		return err
	}
	*f.v = v
	return nil
}

func (env *environment) closeSandbox() {
	env.closeStore()
	if env.starting != nil { // started for a view that did not need it
		b := <-env.starting
		env.starting = nil
		env.sandbox = b.sandbox
	}
	if env.sandbox != nil {
		env.sandbox.close()
		env.sandbox = nil
	}
}

// isTTY reports whether w is a terminal (tables there, TSV otherwise).
func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// runOverview is what `atoctl` with no command does until the console
// lands: in training, the on-call page of the scenario and where to start;
// otherwise the help.
func runOverview(cmd *cobra.Command, env *environment) error {
	if !env.opts.training {
		return cmd.Help()
	}
	sc, err := lookupScenario(env.opts.scenario)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stderr, "TRAINING: scenario %s\n\n", sc.Name)
	fmt.Fprintf(env.stdout, "%s\n\n", strings.TrimSpace(sc.Brief))
	fmt.Fprintf(env.stdout, `On a terminal, 'atoctl --training' opens the full-screen console. From a script:
  atoctl --training detect --since 48h
  atoctl --training logs search --type limit_wc,pwd_leak --since 48h
  atoctl --training logs search --type s --ip <IP or CIDR> --since 48h
  atoctl --training users show <user id or email>
  atoctl --training users sessions <user id or email>
Every command takes --json. 'atoctl training reset' starts the scenario over.
`)
	return nil
}
