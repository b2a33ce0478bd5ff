package main

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// flagInput names the flag in a bad-input error from the shared layer
// ("--since: window "x" is not a duration …"); other errors pass.
func flagInput(flag string, err error) error {
	if err != nil && errors.Is(err, responders.ErrBadInput) {
		return usagef("%s: %v", flag, err)
	}
	return err
}

// parseSince reads --since (a duration back from now or an RFC 3339 time).
func parseSince(s string, now time.Time) (time.Time, error) {
	t, err := responders.ParseSince(s, now)
	return t, flagInput("--since", err)
}

// parsePrefixes reads addresses or CIDRs given to flag; empty items are
// ignored (a trailing comma).
func parsePrefixes(flag string, list []string) ([]netip.Prefix, error) {
	var kept []string
	for _, s := range list {
		if strings.TrimSpace(s) != "" {
			kept = append(kept, s)
		}
	}
	out, err := responders.ParseNetworks(kept)
	return out, flagInput(flag, err)
}

// writer is where this invocation's writes go: the tenant, or with
// --dry-run a Recorder (returned too, for the calls it planned). The
// Writer is the one source of truth for dry-run below this point.
func (env *environment) writer(c *auth0client.Client) (auth0client.Writer, *auth0client.Recorder) {
	if env.opts.dryRun {
		rec := &auth0client.Recorder{ResetClientID: c.ResetClientID()}
		return rec, rec
	}
	return c, nil
}
