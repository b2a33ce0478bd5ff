package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/atoctl/atoctl/responders"
)

// hostileJSONStrings are texts an attacker may put in a log event (user
// names, user agents, addresses of a hand-made export), each one a case of
// encoding/json's escaping.
var hostileJSONStrings = []string{
	"",
	"plain ascii 0123456789",
	`quote " backslash \ slash /`,
	"<script>alert(1)</script> & co",
	"\x00\x01\x07\x08\x09\x0a\x0b\x0c\x0d\x1b[31m\x1f\x7f",
	"line\u2028separator\u2029paragraph",
	"bidi \u202e override \u200b zero width \ufeff bom",
	"invalid \xff\xfe utf-8 \xc3\x28 \xe2\x82 truncated",
	"\xed\xa0\x80 surrogate half",
	"é ü 日本語 🙂 emoji",
	"\U0010ffff max rune",
	"⟨U+202E⟩ ^[ already cleaned",
	strings.Repeat("long<&>", 300),
}

func jsonTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// triageJSONCases are addresses and accounts with every optional member
// present and absent, nil and empty lists, and each hostile string in
// every text member.
func triageJSONCases() ([]responders.IPReport, []responders.AccountVerdict) {
	ips := []responders.IPReport{
		{},
		{Rank: 1, IP: "45.134.26.76", Score: 99, Flagged: true, Label: responders.LabelAttacker,
			Reasons: []string{"credential stuffing: 680 failed logins for 105 accounts, 1 signed in"}, Cluster: "45.134.26.0/24",
			Country: "DE", ASN: "AS1234", FirstSeen: jsonTime("2026-11-28T00:01:42.643Z"), LastSeen: jsonTime("2026-11-29T23:57:54Z"),
			Events: map[string]int64{"f": 130, "fp": 511, "pwd_leak": 15, "s": 1, "limit_wc": 6}, Failures: 680, AttackProtection: 21,
			Successes: 1, MFAChallenges: -1, AccountsTried: 105, AccountsSucceeded: 1, AccountsActive: 1,
			SucceededFor: []string{"auth0|a", "auth0|b"}, Compromised: []string{"auth0|a"}},
		{Rank: 2, IP: "2001:db8::1", Events: map[string]int64{}, Reasons: []string{}, SucceededFor: []string{}, Compromised: []string{},
			FirstSeen: jsonTime("2026-11-28T00:00:00.000000001Z")},
		{Rank: 1 << 40, Score: -5, Events: nil, LastSeen: jsonTime("0001-01-01T00:00:00.5Z")},
	}
	accts := []responders.AccountVerdict{
		{},
		{UserID: "auth0|fffe2d52125358780000daf7", UserName: "elena.dubois56055@gmx.net", Verdict: responders.VerdictTargeted,
			Reasons: []string{"18 failed logins from 3 addresses flagged, 1 attack-protection event"},
			IPs:     []string{"45.134.26.164", "45.134.26.169"}, Evidence: []string{"90020261128043717184000000000000000000000000000000096280"},
			EvidenceEvents: 19, FirstAttack: jsonTime("2026-11-28T04:37:17.184Z")},
		{UserID: "x", Verdict: responders.VerdictCompromised, Reasons: []string{}, IPs: []string{}, Evidence: []string{}},
	}
	for _, s := range hostileJSONStrings {
		ips = append(ips, responders.IPReport{IP: s, Label: responders.IPLabel(s), Reasons: []string{s, s}, Cluster: s, Country: s, ASN: s,
			Events: map[string]int64{s: 1, "a" + s: 2}, SucceededFor: []string{s}, Compromised: []string{s}})
		accts = append(accts, responders.AccountVerdict{UserID: s, UserName: s, Verdict: responders.Verdict(s), Reasons: []string{s},
			IPs: []string{s, s}, Evidence: []string{s}})
	}
	return ips, accts
}

func TestTriageJSONAppendersMatchEncodingJSON(t *testing.T) {
	ips, accts := triageJSONCases()
	for i := range ips {
		want, err := json.MarshalIndent(&ips[i], "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendTriageIP(nil, &ips[i])
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("address %d (ok %v):\ngot  %s\nwant %s", i, ok, got, want)
		}
	}
	for i := range accts {
		want, err := json.MarshalIndent(&accts[i], "    ", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, ok := appendTriageAccount(nil, &accts[i])
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("account %d (ok %v):\ngot  %s\nwant %s", i, ok, got, want)
		}
	}
}

// TestTriageJSONAppendersDeclineWhatTheyCannotWrite: dates that
// encoding/json refuses or writes with a zone make the appenders decline,
// and streamJSONArray then writes what encoding/json writes (or its
// error).
func TestTriageJSONAppendersDeclineWhatTheyCannotWrite(t *testing.T) {
	tests := []struct {
		name    string
		at      time.Time
		wantErr bool
	}{
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"negative year", time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"another zone", time.Date(2026, 11, 28, 4, 0, 0, 0, time.FixedZone("CET", 3600)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := appendTriageIP(nil, &responders.IPReport{FirstSeen: tt.at}); ok {
				t.Errorf("address: appender wrote %v", tt.at)
			}
			if _, ok := appendTriageAccount(nil, &responders.AccountVerdict{FirstAttack: tt.at}); ok {
				t.Errorf("account: appender wrote %v", tt.at)
			}
			list := []responders.AccountVerdict{{UserID: "a"}, {UserID: "b", FirstAttack: tt.at}}
			var got bytes.Buffer
			bw := bufio.NewWriter(&got)
			rest, err := streamJSONArray(bw, make([][]byte, 2), []byte("{\n  \"accounts\": null\n}"), `"accounts": `, list, appendTriageAccount)
			bw.Write(rest)
			bw.Flush()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want, _ := json.MarshalIndent(struct {
				Accounts []responders.AccountVerdict `json:"accounts"`
			}{list}, "", "  ")
			if got.String() != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got.String(), want)
			}
		})
	}
}

// TestStreamJSONArrayMatchesEncodingJSON writes arrays longer than a
// round of blocks (every core's) and compares the whole document with
// encoding/json's.
func TestStreamJSONArrayMatchesEncodingJSON(t *testing.T) {
	ips, accts := triageJSONCases()
	for _, n := range []int{0, 1, jsonBlock - 1, 5*jsonBlock + 3} {
		out := triageOutput{Source: "file"}
		for i := range n {
			out.IPs = append(out.IPs, ips[i%len(ips)])
			out.Accounts = append(out.Accounts, accts[i%len(accts)])
		}
		var got bytes.Buffer
		if err := printTriageJSON(&got, out); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			out.IPs, out.Accounts = []responders.IPReport{}, []responders.AccountVerdict{}
		}
		want, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), append(want, '\n')) {
			t.Errorf("%d elements: printTriageJSON differs from encoding/json (%d bytes, want %d)", n, got.Len(), len(want)+1)
		}
	}
}

func FuzzTriageJSONStrings(f *testing.F) {
	for _, s := range hostileJSONStrings {
		f.Add(s, s, int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, a, b string, n int64) {
		ip := responders.IPReport{Rank: int(n), IP: a, Label: responders.IPLabel(b), Reasons: []string{a, b}, Country: b,
			Events: map[string]int64{a: n, b: -n}, Failures: n, SucceededFor: []string{b}, FirstSeen: time.UnixMilli(n % (1 << 45)).UTC()}
		acct := responders.AccountVerdict{UserID: a, UserName: b, Verdict: responders.Verdict(a + b), IPs: []string{b, a}, Evidence: []string{a},
			EvidenceEvents: n, FirstAttack: time.UnixMilli(-n % (1 << 45)).UTC()}
		check := func(what string, v any, got []byte, ok bool) {
			want, err := json.MarshalIndent(v, "    ", "  ")
			if err != nil || !ok {
				if ok {
					t.Fatalf("%s: appender wrote what encoding/json refuses (%v)", what, err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s:\ngot  %q\nwant %q", what, got, want)
			}
		}
		got, ok := appendTriageIP(nil, &ip)
		check("address", &ip, got, ok)
		got, ok = appendTriageAccount(nil, &acct)
		check("account", &acct, got, ok)
	})
}

// BenchmarkPrintTriageJSON writes the JSON of a triage of issue 13's
// large export's shape (600 flagged addresses, 20,000 accounts) to
// io.Discard.
//
//	go test ./cmd/atoctl -run '^$' -bench PrintTriageJSON -benchmem
func BenchmarkPrintTriageJSON(b *testing.B) {
	ips, accts := triageJSONCases()
	out := triageOutput{Source: "file"}
	for i := range 600 {
		ip := ips[1]
		ip.Rank, ip.IP = i+1, fmt.Sprintf("45.134.%d.%d", 26+i/256, i%256)
		out.IPs = append(out.IPs, ip)
	}
	for i := range 20_000 {
		a := accts[1]
		a.UserID = fmt.Sprintf("auth0|%024x", i)
		a.IPs = []string{"45.134.26.164", "45.134.26.169", "45.134.26.83"}
		a.Evidence = []string{"90020261128043717184000000000000000000000000000000096280", "90020261128161653932000000000000000000000000000000339201",
			"90020261128173400134000000000000000000000000000000365973"}
		out.Accounts = append(out.Accounts, a)
	}
	var n countingWriter
	b.ReportAllocs()
	for range b.N {
		if err := printTriageJSON(&n, out); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(n) / int64(b.N))
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
