// Command atoctl is an incident-response console for account takeover on
// Auth0 tenants: a full-screen console, scriptable subcommands, dry-run and a
// training sandbox. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/atoctl/atoctl/auth0client"
	// Before Bubble Tea's init: no terminal query at start (see the package).
	_ "github.com/atoctl/atoctl/internal/termquery"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run executes one atoctl invocation and returns its exit code. Everything
// the process touches comes in as an argument, so tests run it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	env := &environment{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, stdoutTTY: isTTY(stdout)}
	return runEnv(ctx, env, args)
}

// runEnv runs one invocation in a prepared environment (tests set stdoutTTY
// to render the terminal form into a buffer).
func runEnv(ctx context.Context, env *environment, args []string) int {
	stderr := env.stderr
	root := newRootCmd(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	env.closeSandbox()
	if err != nil {
		// One line: what was wrong and, where we know it, what to do.
		msg := "atoctl: " + auth0client.Clean(err.Error())
		if h := hint(err); h != "" {
			msg += ": " + h
		}
		fmt.Fprintln(stderr, msg)
	}
	return exitCode(err)
}
