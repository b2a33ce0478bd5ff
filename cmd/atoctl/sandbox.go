package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// sandboxServeOptions are the flags of `atoctl sandbox serve`.
type sandboxServeOptions struct {
	addr                 string
	rate                 float64
	burst                int
	latency              time.Duration
	share429, share5xx   float64
	dropBefore, dropWrit float64
	noSessions           bool
	state                string
}

func newSandboxCmd(env *environment) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the fake Auth0 tenant for tests and demos",
	}
	o := &sandboxServeOptions{}
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve a fake Auth0 tenant on a loopback address",
		Long: `Serve starts the sandbox tenant (the same one --training uses) and prints its
URL and its fixed, public client id and secret. The secret is not a
credential: the sandbox only listens on loopback. Point atoctl at it with
--domain and those values. Faults can be injected to see how atoctl copes.`,
		Example: `  atoctl sandbox serve --addr 127.0.0.1:8089
  # in another shell:
  AUTH0_CLIENT_SECRET=sandbox-secret-not-a-credential \
    atoctl --domain http://127.0.0.1:8089 --client-id atoctl-sandbox-client users search 'email:*'

  # a tenant under stress: 200 ms latency, 10% 429s, 2% dropped connections
  atoctl sandbox serve --latency 200ms --fail-429 0.1 --drop-before 0.02`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSandboxServe(cmd, env, o) },
	}
	f := serve.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8089", "loopback address to listen on")
	f.Float64Var(&o.rate, "rate", 16, "Management API rate limit, requests/s sustained")
	f.IntVar(&o.burst, "burst", 50, "rate-limit burst (bucket size)")
	f.DurationVar(&o.latency, "latency", 0, "latency added to every request")
	f.Float64Var(&o.share429, "fail-429", 0, "share of requests answered 429 (0..1)")
	f.Float64Var(&o.share5xx, "fail-5xx", 0, "share of requests answered 5xx (0..1)")
	f.Float64Var(&o.dropBefore, "drop-before", 0, "share of connections dropped before the request is handled (0..1)")
	f.Float64Var(&o.dropWrit, "drop-after-write", 0, "share of writes applied and then dropped without an answer (0..1)")
	f.BoolVar(&o.noSessions, "no-sessions", false, "act as a plan without the sessions and refresh-token endpoints")
	f.StringVar(&o.state, "state", "", "persist the tenant's changes in this file (default: in memory only)")
	cmd.AddCommand(serve)
	return cmd
}

func runSandboxServe(cmd *cobra.Command, env *environment, o *sandboxServeOptions) error {
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return usagef("--addr %q is not host:port (e.g. 127.0.0.1:8089)", auth0client.Clean(o.addr))
	}
	if !auth0client.IsLoopbackHost(host) {
		return usagef("--addr %s is not a loopback address: the sandbox only listens on loopback", auth0client.Clean(o.addr))
	}
	for name, v := range map[string]float64{"--fail-429": o.share429, "--fail-5xx": o.share5xx, "--drop-before": o.dropBefore, "--drop-after-write": o.dropWrit} {
		if v < 0 || v > 1 {
			return usagef("%s must be a share between 0 and 1, got %g", name, v)
		}
	}
	if o.rate <= 0 || o.burst <= 0 {
		return usagef("--rate and --burst must be positive")
	}
	sc, err := lookupScenario(env.opts.scenario)
	if err != nil {
		return err
	}
	epoch := time.Now().UTC().Truncate(time.Second)
	opts := []sandbox.Option{
		sandbox.WithRateLimit(o.rate, o.burst),
		sandbox.WithFaults(sandbox.Faults{Latency: o.latency, Share429: o.share429, Share5xx: o.share5xx,
			ShareDropBefore: o.dropBefore, ShareDropAfterWrite: o.dropWrit, Seed: 1}),
	}
	if o.noSessions {
		opts = append(opts, sandbox.WithPlan(sandbox.PlanNoSessions))
	}
	if o.state != "" {
		if e, ok, err := sandbox.PersistedEpoch(o.state); err != nil {
			return fmt.Errorf("read sandbox state %s: %w", o.state, err)
		} else if ok {
			epoch = e
		}
		opts = append(opts, sandbox.WithPersistence(o.state))
	}
	st, _ := sc.Generate(sc.DefaultSeed, epoch)
	srv := sandbox.New(st, opts...)
	url, err := srv.StartAt(o.addr)
	if err != nil {
		return fmt.Errorf("start sandbox on %s: %w", o.addr, err)
	}
	defer srv.Close()
	fmt.Fprintf(env.stdout, "sandbox tenant (scenario %s) at %s\nclient id:     %s\nclient secret: %s  (public, not a credential)\n",
		sc.Name, url, sandbox.ClientID, sandbox.ClientSecret)
	fmt.Fprintf(env.stderr, "serving until interrupted (ctrl+c)\n")
	<-cmd.Context().Done()
	return nil
}
