package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atoctl/atoctl/responders"
)

// The two long arrays of `ip triage --json` (addresses and accounts: tens
// of thousands of elements on a large export) are written by hand, byte
// for byte as json.MarshalIndent(&elem, "    ", "  ") writes them, escaping
// included (encoding/json's: HTML characters, U+2028 and U+2029, invalid
// UTF-8 as U+FFFD). triage_json_test.go checks them against encoding/json.
// What these appenders cannot write as encoding/json would (a date outside
// years 0–9999 or not in UTC) makes them answer false, and the caller
// falls back to encoding/json for that element.

const (
	jsonField = "\n      "   // a member of an element, indented
	jsonItem  = "\n        " // an item of a member's array or object
)

// appendTriageIP appends r as json.MarshalIndent(r, "    ", "  ") would.
func appendTriageIP(b []byte, r *responders.IPReport) ([]byte, bool) {
	b = append(b, '{')
	b = jsonKey(b, true, "rank")
	b = strconv.AppendInt(b, int64(r.Rank), 10)
	b = jsonKey(b, false, "ip")
	b = appendJSONString(b, r.IP)
	b = jsonKey(b, false, "score")
	b = strconv.AppendInt(b, int64(r.Score), 10)
	b = jsonKey(b, false, "flagged")
	b = strconv.AppendBool(b, r.Flagged)
	if r.Label != "" {
		b = jsonKey(b, false, "label")
		b = appendJSONString(b, string(r.Label))
	}
	if len(r.Reasons) > 0 {
		b = jsonKey(b, false, "reasons")
		b = appendJSONStrings(b, r.Reasons)
	}
	if r.Cluster != "" {
		b = jsonKey(b, false, "cluster")
		b = appendJSONString(b, r.Cluster)
	}
	if r.Country != "" {
		b = jsonKey(b, false, "country")
		b = appendJSONString(b, r.Country)
	}
	if r.ASN != "" {
		b = jsonKey(b, false, "asn")
		b = appendJSONString(b, r.ASN)
	}
	var ok bool
	if !r.FirstSeen.IsZero() {
		b = jsonKey(b, false, "first_seen")
		if b, ok = appendJSONTime(b, r.FirstSeen); !ok {
			return b, false
		}
	}
	if !r.LastSeen.IsZero() {
		b = jsonKey(b, false, "last_seen")
		if b, ok = appendJSONTime(b, r.LastSeen); !ok {
			return b, false
		}
	}
	b = jsonKey(b, false, "events")
	b = appendJSONCounts(b, r.Events)
	b = jsonKey(b, false, "failures")
	b = strconv.AppendInt(b, r.Failures, 10)
	b = jsonKey(b, false, "attack_protection")
	b = strconv.AppendInt(b, r.AttackProtection, 10)
	b = jsonKey(b, false, "successes")
	b = strconv.AppendInt(b, r.Successes, 10)
	b = jsonKey(b, false, "mfa_challenges")
	b = strconv.AppendInt(b, r.MFAChallenges, 10)
	b = jsonKey(b, false, "accounts_tried")
	b = strconv.AppendInt(b, int64(r.AccountsTried), 10)
	b = jsonKey(b, false, "accounts_succeeded")
	b = strconv.AppendInt(b, int64(r.AccountsSucceeded), 10)
	b = jsonKey(b, false, "accounts_active")
	b = strconv.AppendInt(b, int64(r.AccountsActive), 10)
	if len(r.SucceededFor) > 0 {
		b = jsonKey(b, false, "succeeded_for")
		b = appendJSONStrings(b, r.SucceededFor)
	}
	if len(r.Compromised) > 0 {
		b = jsonKey(b, false, "compromised")
		b = appendJSONStrings(b, r.Compromised)
	}
	return append(b, "\n    }"...), true
}

// appendTriageAccount appends a as json.MarshalIndent(a, "    ", "  ")
// would.
func appendTriageAccount(b []byte, a *responders.AccountVerdict) ([]byte, bool) {
	b = append(b, '{')
	b = jsonKey(b, true, "user_id")
	b = appendJSONString(b, a.UserID)
	if a.UserName != "" {
		b = jsonKey(b, false, "user_name")
		b = appendJSONString(b, a.UserName)
	}
	b = jsonKey(b, false, "verdict")
	b = appendJSONString(b, string(a.Verdict))
	b = jsonKey(b, false, "reasons")
	b = appendJSONStrings(b, a.Reasons)
	b = jsonKey(b, false, "ips")
	b = appendJSONStrings(b, a.IPs)
	b = jsonKey(b, false, "evidence")
	b = appendJSONStrings(b, a.Evidence)
	b = jsonKey(b, false, "evidence_events")
	b = strconv.AppendInt(b, a.EvidenceEvents, 10)
	if !a.FirstAttack.IsZero() {
		b = jsonKey(b, false, "first_attack")
		var ok bool
		if b, ok = appendJSONTime(b, a.FirstAttack); !ok {
			return b, false
		}
	}
	return append(b, "\n    }"...), true
}

// jsonKey appends a member's name (plain ASCII: no escaping), after a
// comma unless it is the first.
func jsonKey(b []byte, first bool, name string) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, jsonField...)
	b = append(b, '"')
	b = append(b, name...)
	return append(b, `": `...)
}

// appendJSONStrings appends a member's array of strings: null when nil,
// [] when empty.
func appendJSONStrings(b []byte, list []string) []byte {
	switch {
	case list == nil:
		return append(b, "null"...)
	case len(list) == 0:
		return append(b, "[]"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonItem...)
		b = appendJSONString(b, s)
	}
	return append(b, jsonField+"]"...)
}

// appendJSONCounts appends a member's object of counts, by key as
// encoding/json sorts them: null when nil, {} when empty.
func appendJSONCounts(b []byte, m map[string]int64) []byte {
	switch {
	case m == nil:
		return append(b, "null"...)
	case len(m) == 0:
		return append(b, "{}"...)
	}
	var small [32]string
	keys := small[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonItem...)
		b = appendJSONString(b, k)
		b = append(b, ": "...)
		b = strconv.AppendInt(b, m[k], 10)
	}
	return append(b, jsonField+"}"...)
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds); false for what MarshalJSON refuses or writes otherwise
// (a year outside 0–9999, a zone other than UTC).
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 || t.Location() != time.UTC {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

const jsonHex = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes a string:
// ", \ and the controls escaped (\b \f \n \r \t, else \u00XX), <, > and &
// as \u003c, \u003e and \u0026, U+2028 and U+2029 escaped, and each byte of
// invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', jsonHex[c>>4], jsonHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', jsonHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendIndented appends v as json.MarshalIndent(v, "    ", "  ") writes
// it: the fallback of the appenders above.
func appendIndented(b []byte, v any) ([]byte, error) {
	out, err := json.MarshalIndent(v, "    ", "  ")
	return append(b, out...), err
}
