package auth0client

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/auth0/go-auth0/management"
)

// logPage is a page of 100 log events as Auth0 sends them, with
// security_context on each (withSC) or on none.
func logPage(withSC bool) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < 100; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		sc := ""
		if withSC {
			sc = `,"security_context":{"ja3":"79a46156bc5e6a3d2130d7a79c7b59e7","ja4":"t13d1516h2_39231550c76c_e4da5c0a592d"}`
		}
		fmt.Fprintf(&b, `{"_id":"9002026120118%04d","log_id":"9002026120118%04d","date":"2026-12-01T18:08:53.137Z","type":"f","description":"Wrong email or password.","connection":"Username-Password-Authentication","connection_id":"con_x","client_id":"TKcpMFLHAfKMviRZZ5DqapsnIqWulvN1","client_name":"Acme Shop Web","ip":"193.42.33.%d","hostname":"training-tenant.sandbox.local","user_id":"auth0|abc","user_name":"a@example.com","user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36","details":{"error":{"message":"Wrong email or password."}},"isMobile":false,"location_info":{"country_code":"GB","city_name":"London"}%s}`, i, i, i%250, sc)
	}
	b.WriteString("]")
	return []byte(b.String())
}

// BenchmarkDecodeLogPage compares the baseline (go-auth0's Log only) with
// atoctl's decode that also reads security_context, per page of 100.
func BenchmarkDecodeLogPage(b *testing.B) {
	for _, withSC := range []bool{false, true} {
		raw := logPage(withSC)
		b.Run(fmt.Sprintf("baseline-goauth0/sc=%t", withSC), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				var ls []*management.Log
				if err := json.Unmarshal(raw, &ls); err != nil {
					b.Fatal(err)
				}
				_ = logsFrom(ls)
			}
		})
		b.Run(fmt.Sprintf("atoctl/sc=%t", withSC), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				if _, err := decodeLogPage(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
