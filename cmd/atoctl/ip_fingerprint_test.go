package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/atoctl/atoctl/fixtures/sandbox"
	"github.com/atoctl/atoctl/fixtures/scenarios"
	"github.com/atoctl/atoctl/responders"
)

// fingerprintACLOf is the tenant's atoctl fingerprint ACL, or nil.
func fingerprintACLOf(srv *sandbox.Server) *sandbox.NetworkACL {
	var out *sandbox.NetworkACL
	srv.View(func(st *sandbox.State) {
		for _, a := range st.NetworkACLs {
			if strings.HasPrefix(a.Description, responders.FingerprintACLPrefix) {
				c := *a
				out = &c
			}
		}
	})
	return out
}

func TestIPContainBlocksTheAttacksFingerprintAndReleaseRemovesIt(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	_, ja4 := scenarios.AttackerFingerprints(scenarios.DefaultScenario)
	// A fingerprint ordinary customers' browsers share: refused.
	var browser string
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.Type == "s" && e.SecurityContext != nil && !key.IsAttackerIP(e.IP) && !slices.Contains(key.SharedIPs, e.IP) {
				browser = e.SecurityContext.JA3
				break
			}
		}
	})
	if browser == "" || len(key.AttackerCIDRs) == 0 {
		t.Fatalf("scenario without a browser fingerprint (%q) or an attacker network", browser)
	}
	cidr := key.AttackerCIDRs[0]

	// Triage names the attack's fingerprint as blockable.
	res := c.run("ip", "triage", "--since", "72h")
	if res.code != 0 || !strings.Contains(res.stderr, "fingerprint ja4 "+ja4) || !strings.Contains(res.stderr, "blockable (ip contain --acl --fingerprint "+ja4+")") {
		t.Fatalf("triage: exit %d, the attack's fingerprint not reported blockable:\n%s", res.code, res.stderr)
	}

	res = c.run("ip", "contain", cidr, "--acl", "--fingerprint", ja4, "--fingerprint", browser, "--yes")
	if !strings.Contains(res.stderr, browser+" (shared with ordinary customers") {
		t.Fatalf("the browser fingerprint was not refused as shared:\n%s", res.stderr)
	}
	acl := fingerprintACLOf(srv)
	if acl == nil || acl.Rule.Match == nil || !acl.Rule.Action.Block || !slices.Equal(acl.Rule.Match.JA4Fingerprints, []string{ja4}) ||
		len(acl.Rule.Match.JA3Fingerprints) != 0 || len(acl.Rule.Match.IPv4CIDRs) != 0 {
		t.Fatalf("fingerprint ACL after contain: %+v", acl)
	}

	// Bad input: not a fingerprint, or without --acl; nothing sent.
	for _, args := range [][]string{
		{"ip", "contain", cidr, "--acl", "--fingerprint", "chrome", "--yes"},
		{"ip", "contain", cidr, "--fingerprint", ja4, "--yes"},
		{"ip", "release", "--fingerprint", "nope", "--yes"},
	} {
		if res := c.run(args...); res.code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, res.code, res.stderr)
		}
	}

	res = c.run("ip", "release", "--fingerprint", ja4, "--yes")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "done") {
		t.Fatalf("release: exit %d: %s %s", res.code, res.stdout, res.stderr)
	}
	if acl := fingerprintACLOf(srv); acl != nil {
		t.Fatalf("the fingerprint ACL survived the release: %+v", acl)
	}
}

func TestIncidentRollbackReleasesTheFingerprintBlock(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	srv, key := c.againstSandbox()
	_, ja4 := scenarios.AttackerFingerprints(scenarios.DefaultScenario)
	ja3, _ := scenarios.AttackerFingerprints(scenarios.DefaultScenario)
	res := c.run("ip", "contain", key.AttackerCIDRs[0], "--acl", "--fingerprint", ja4, "--fingerprint", ja3, "--incident", "inc-fp", "--yes")
	acl := fingerprintACLOf(srv)
	if acl == nil || len(acl.Rule.Match.JA3Fingerprints)+len(acl.Rule.Match.JA4Fingerprints) != 2 {
		t.Fatalf("fingerprint ACL after contain (exit %d): %+v\n%s", res.code, acl, res.stderr)
	}
	res = c.run("incident", "rollback", "inc-fp", "--yes")
	if !strings.Contains(res.stderr, "fingerprint ACL: done") {
		t.Fatalf("rollback: exit %d:\n%s", res.code, res.stderr)
	}
	if acl := fingerprintACLOf(srv); acl != nil {
		t.Fatalf("the fingerprint ACL survived the rollback: %+v", acl)
	}
}
