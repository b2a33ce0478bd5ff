package auth0client

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/atoctl/atoctl/fixtures/sandbox"
)

// aclTenant is a small tenant: no users, one suspicious-IP-throttling block
// of 192.0.2.66 in its logs, and the given ACLs.
func aclTenant(acls ...*sandbox.NetworkACL) *sandbox.State {
	now := time.Now().UTC().Add(-time.Hour)
	return &sandbox.State{
		Epoch: now, Domain: "acl.example.auth0.com", RetentionDays: 30, NetworkACLs: acls,
		Logs: []*sandbox.LogEvent{{LogID: sandbox.LogID(now, 1), Date: now, Type: "limit_mu", IP: "192.0.2.66"}},
	}
}

// tenantACLs reads the tenant's ACLs in the client's terms.
func tenantACLs(srv *sandbox.Server) []NetworkACL {
	var out []NetworkACL
	srv.View(func(st *sandbox.State) {
		for _, a := range st.NetworkACLs {
			out = append(out, NetworkACL{ID: a.ID, Description: a.Description, Active: a.Active, Priority: int(a.Priority),
				Action: map[bool]string{true: "block", false: "other"}[a.Rule.Action.Block], Scope: a.Rule.Scope,
				IPv4CIDRs: a.Rule.Match.IPv4CIDRs, IPv6CIDRs: a.Rule.Match.IPv6CIDRs})
		}
	})
	return out
}

func v4s(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("198.51.100.%d/32", i)
	}
	return out
}

func TestNetworkACLRoundTripReadsBackFromTheTenant(t *testing.T) {
	srv := startServer(t, aclTenant())
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)
	want := NetworkACL{Description: "atoctl INC-7: botnet", Active: true, Priority: 4, Action: "block",
		IPv4CIDRs: []string{"203.0.113.0/24"}, IPv6CIDRs: []string{"2001:db8::/32"}, Scope: "authentication"}
	got, err := c.CreateNetworkACL(ctx, want)
	if err != nil {
		t.Fatal(err)
	}
	stored := tenantACLs(srv)
	want.ID = got.ID
	if len(stored) != 1 || got.ID == "" || !reflect.DeepEqual(stored[0], want) || !reflect.DeepEqual(got, want) {
		t.Fatalf("created %+v\n tenant %+v\n want %+v", got, stored, want)
	}
	listed, err := c.NetworkACLs(ctx)
	if err != nil || len(listed) != 1 || !reflect.DeepEqual(listed[0], want) {
		t.Fatalf("listed %+v %v", listed, err)
	}

	want.Priority, want.IPv4CIDRs, want.IPv6CIDRs, want.Scope = 9, []string{"203.0.113.0/24", "192.0.2.0/25"}, nil, "tenant"
	if err := c.UpdateNetworkACL(ctx, want); err != nil {
		t.Fatal(err)
	}
	if stored := tenantACLs(srv); len(stored) != 1 || !reflect.DeepEqual(stored[0], want) {
		t.Fatalf("after update %+v, want %+v", stored, want)
	}
	if !srv.BlockedByACL("192.0.2.9", "authentication") {
		t.Fatal("the sandbox does not enforce the updated ACL")
	}

	if err := c.DeleteNetworkACL(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	if stored := tenantACLs(srv); len(stored) != 0 {
		t.Fatalf("after delete %+v", stored)
	}
	// Deleting what is gone is not an error (a retried DELETE finds it so).
	if err := c.DeleteNetworkACL(ctx, want.ID); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if err := c.UpdateNetworkACL(ctx, want); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of a deleted ACL: %v", err)
	}
}

func TestNetworkACLThatDoesNotFitIsErrACLLimit(t *testing.T) {
	srv := startServer(t, aclTenant(), sandbox.WithACLLimit(2))
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)

	_, err := c.CreateNetworkACL(ctx, NetworkACL{Description: "too many entries", Active: true, Priority: 1, IPv4CIDRs: v4s(MaxACLEntries + 1)})
	var le *ACLLimitError
	if !errors.Is(err, ErrACLLimit) || !errors.As(err, &le) || le.TooManyACLs || le.Field != "rule.match.ipv4_cidrs" ||
		le.Got != MaxACLEntries+1 || le.Max != MaxACLEntries || !errors.Is(err, ErrBadRequest) {
		t.Fatalf("21 entries: %v (%+v)", err, le)
	}
	if n := len(tenantACLs(srv)); n != 0 {
		t.Fatalf("%d ACLs after a refused create", n)
	}
	if _, err := c.CreateNetworkACL(ctx, NetworkACL{Description: "twenty", Active: true, Priority: 1, IPv4CIDRs: v4s(MaxACLEntries)}); err != nil {
		t.Fatalf("20 entries: %v", err)
	}
	_, err = c.CreateNetworkACL(ctx, NetworkACL{Description: "same priority", Active: true, Priority: 1, IPv4CIDRs: v4s(1)})
	if !errors.Is(err, ErrACLPriorityTaken) || errors.Is(err, ErrACLLimit) {
		t.Fatalf("same priority: %v", err)
	}
	if _, err := c.CreateNetworkACL(ctx, NetworkACL{Description: "second", Active: true, Priority: 2, IPv4CIDRs: v4s(1)}); err != nil {
		t.Fatal(err)
	}
	le = nil
	_, err = c.CreateNetworkACL(ctx, NetworkACL{Description: "third", Active: true, Priority: 3, IPv4CIDRs: v4s(1)})
	if !errors.Is(err, ErrACLLimit) || !errors.As(err, &le) || !le.TooManyACLs || le.Max != 2 {
		t.Fatalf("third ACL on a tenant allowing 2: %v (%+v)", err, le)
	}
	if n := len(tenantACLs(srv)); n != 2 {
		t.Fatalf("%d ACLs, want 2", n)
	}

	// A plan without Tenant ACL is a missing feature, not a full tenant.
	none := startServer(t, aclTenant(), sandbox.WithACLLimit(0))
	_, err = clientFor(t, none, 0).CreateNetworkACL(ctx, NetworkACL{Description: "x", Active: true, IPv4CIDRs: v4s(1)})
	if !errors.Is(err, ErrPlanLacksFeature) || errors.Is(err, ErrACLLimit) {
		t.Fatalf("plan without Tenant ACL: %v", err)
	}
}

func TestNetworkACLCreateWhoseResponseIsLostIsFoundByListing(t *testing.T) {
	srv := startServer(t, aclTenant())
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)
	// Warm the token first: the fault applies to Management writes only,
	// but keep the counts below about the ACL calls.
	if _, err := c.NetworkACLs(ctx); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults(sandbox.Faults{ShareDropAfterWrite: 1})
	srv.ResetStats()
	got, err := c.CreateNetworkACL(ctx, NetworkACL{Description: "atoctl INC-9", Active: true, Priority: 5, IPv4CIDRs: []string{"203.0.113.0/24"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	stored := tenantACLs(srv)
	if len(stored) != 1 || got.ID != stored[0].ID || got.Priority != 5 {
		t.Fatalf("returned %+v, tenant holds %+v", got, stored)
	}
	st := srv.Stats()
	if st.ByRoute["POST /api/v2/network-acls"] != 1 || st.ByRoute["GET /api/v2/network-acls"] == 0 || st.Faulted != 1 {
		t.Fatalf("calls %v, faulted %d: want one POST (dropped after the write) and a listing", st.ByRoute, st.Faulted)
	}
}

func TestDryRunNetworkACLWritesAreRecordedNotSent(t *testing.T) {
	srv := startServer(t, aclTenant())
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)
	acl := NetworkACL{Description: "dry", Active: true, Priority: 2, IPv4CIDRs: []string{"203.0.113.0/24"}}
	var w Writer = &Recorder{}
	got, err := w.CreateNetworkACL(ctx, acl)
	if err != nil || got.ID != DryRunACLID {
		t.Fatalf("dry-run create: %+v %v", got, err)
	}
	if err := w.DeleteNetworkACL(ctx, "acl_x"); err != nil {
		t.Fatal(err)
	}
	if err := w.UnblockIPThrottling(ctx, "192.0.2.66"); err != nil {
		t.Fatal(err)
	}
	calls := w.(*Recorder).Calls()
	wantCalls := []Call{CallCreateNetworkACL(acl), CallDeleteNetworkACL("acl_x"), CallUnblockIPThrottling("192.0.2.66")}
	if !reflect.DeepEqual(calls, wantCalls) || calls[0].Method != "POST" || calls[0].Path != "/api/v2/network-acls" {
		t.Fatalf("recorded %+v", calls)
	}
	if st := srv.Stats(); st.ManagementRequests != 0 || len(tenantACLs(srv)) != 0 || !srv.ThrottledIP("192.0.2.66") {
		t.Fatalf("the sandbox saw a write: %v", st.ByRoute)
	}

	// The planned body is the body the Client sends (as the tenant's sapi
	// log records it).
	if _, err := c.CreateNetworkACL(ctx, acl); err != nil {
		t.Fatal(err)
	}
	var sent any
	srv.View(func(st *sandbox.State) {
		for _, e := range st.Logs {
			if e.Type == "sapi" {
				sent = e.Details["request"].(map[string]any)["body"]
			}
		}
	})
	planned, _ := json.Marshal(calls[0].Body)
	actual, _ := json.Marshal(sent)
	if string(planned) != string(actual) {
		t.Fatalf("planned body %s, sent %s", planned, actual)
	}
}

func TestPartialACLIsNotReplaced(t *testing.T) {
	geo := &sandbox.NetworkACL{ID: "acl_geo", Description: "geo", Active: true, Priority: 1,
		Rule: sandbox.NetworkACLRule{Action: sandbox.NetworkACLAction{Block: true}, Scope: "tenant",
			Match: &sandbox.NetworkACLMatch{IPv4CIDRs: []string{"192.0.2.0/24"}, GeoCountryCodes: []string{"RU"}}}}
	srv := startServer(t, aclTenant(geo))
	c := clientFor(t, srv, 0)
	acls, err := c.NetworkACLs(ctxT(t))
	if err != nil || len(acls) != 1 || !acls[0].Partial || acls[0].Action != "block" || !slices.Equal(acls[0].IPv4CIDRs, []string{"192.0.2.0/24"}) {
		t.Fatalf("listed %+v %v", acls, err)
	}
	acls[0].IPv4CIDRs = append(acls[0].IPv4CIDRs, "203.0.113.0/24")
	if err := c.UpdateNetworkACL(ctxT(t), acls[0]); err == nil {
		t.Fatal("a partial ACL was replaced")
	}
	srv.View(func(st *sandbox.State) {
		if m := st.NetworkACLs[0].Rule.Match; len(m.GeoCountryCodes) != 1 || len(m.IPv4CIDRs) != 1 {
			t.Fatalf("tenant ACL changed: %+v", m)
		}
	})
}

func TestThrottledIPCheckAndUnblock(t *testing.T) {
	srv := startServer(t, aclTenant())
	c := clientFor(t, srv, 0)
	ctx := ctxT(t)
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"192.0.2.66", true}, {"192.0.2.67", false}, {"2001:db8::1", false}} {
		got, err := c.IPBlockedByThrottling(ctx, tc.ip)
		if err != nil || got != tc.want || got != srv.ThrottledIP(tc.ip) {
			t.Fatalf("IPBlockedByThrottling(%s) = %v %v, sandbox %v", tc.ip, got, err, srv.ThrottledIP(tc.ip))
		}
	}
	if err := c.UnblockIPThrottling(ctx, "192.0.2.66"); err != nil {
		t.Fatal(err)
	}
	if srv.ThrottledIP("192.0.2.66") {
		t.Fatal("still throttled in the tenant")
	}
	if got, err := c.IPBlockedByThrottling(ctx, "192.0.2.66"); err != nil || got {
		t.Fatalf("after unblock: %v %v", got, err)
	}
	srv.ResetStats()
	if _, err := c.IPBlockedByThrottling(ctx, "../users"); err == nil {
		t.Fatal("a non-IP was accepted")
	}
	if err := c.UnblockIPThrottling(ctx, "192.0.2.66/24"); err == nil {
		t.Fatal("a CIDR was accepted")
	}
	if n := srv.Stats().ManagementRequests; n != 0 {
		t.Fatalf("%d requests sent for bad input", n)
	}
}
