package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// checkFingerprintFlags validates --fingerprint values before anything is
// sent: JA3 (32 hex digits) or JA4, and only with --acl.
func checkFingerprintFlags(fps []string, acl bool) error {
	if len(fps) == 0 {
		return nil
	}
	if !acl {
		return usagef("--fingerprint blocks in a Network ACL: add --acl")
	}
	for _, fp := range fps {
		if auth0client.FingerprintKind(fp) == "" {
			return usagef("--fingerprint %q is not a JA3 (32 hex digits) or JA4 (like t13d1516h2_8daaf6152771_02713d6af862) fingerprint: 'atoctl ip triage' lists the attack's", auth0client.Clean(fp))
		}
	}
	return nil
}

// blockFingerprints blocks the --fingerprint values in atoctl's fingerprint
// ACL once the bulk run is through (runErr: its outcome; a run that was
// not confirmed or failed outright blocks nothing). A fingerprint ordinary
// customers' logins use (from addresses outside the targets) is refused.
func blockFingerprints(ctx context.Context, env *environment, c *auth0client.Client, j *responders.Journal, fps []string, targets []netip.Prefix, since time.Time, runErr error) error {
	if len(fps) == 0 {
		return runErr
	}
	var pe partialError
	var nc notContainedError
	if runErr != nil && !errors.As(runErr, &pe) && !errors.As(runErr, &nc) && !errors.As(runErr, new(unconfirmedError)) {
		return runErr
	}
	isTarget := func(ip string) bool {
		a, err := netip.ParseAddr(ip)
		return err == nil && slices.ContainsFunc(targets, func(p netip.Prefix) bool { return p.Contains(a) })
	}
	allowed, refused, err := responders.CheckFingerprints(ctx, c, fps, isTarget, since.UTC().Format("2006-01-02T15:04:05.000Z"))
	if err != nil {
		return errors.Join(runErr, err)
	}
	acls, err := c.NetworkACLs(ctx)
	if err != nil {
		return errors.Join(runErr, err)
	}
	p, err := responders.PlanFingerprintACL(acls, j.Incident(), allowed, refused)
	if err != nil {
		return errors.Join(runErr, err)
	}
	w, _ := env.writer(c)
	sr, err := responders.ApplyFingerprintACL(ctx, c, w, j, p)
	for _, call := range sr.Calls {
		fmt.Fprintf(env.stderr, "  %s\n", call)
	}
	fmt.Fprintf(env.stderr, "fingerprint ACL: %s %s %s\n", sr.Outcome, auth0client.Clean(sr.Reason), auth0client.Clean(sr.Error))
	if err == nil && sr.Outcome == responders.Failed {
		err = errors.New("fingerprint ACL: " + sr.Error)
	}
	if err == nil && len(p.Refused) > 0 && len(p.Added) == 0 {
		err = errors.New("no fingerprint blocked: " + auth0client.Clean(p.Refused[0].Reason))
	}
	return errors.Join(runErr, err)
}

// releaseFingerprints removes fingerprints from atoctl's fingerprint ACL.
func releaseFingerprints(ctx context.Context, env *environment, c *auth0client.Client, j *responders.Journal, fps []string) (responders.StepResult, error) {
	w, _ := env.writer(c)
	sr, err := responders.ReleaseFingerprints(ctx, c, w, j, fps)
	if err == nil && sr.Outcome == responders.Failed {
		err = errors.New("fingerprint release failed: " + sr.Error)
	}
	return sr, err
}
