package responders

import (
	"fmt"
	"testing"
	"time"
	"slices"

	"github.com/atoctl/atoctl/fixtures/scenarios"
)

func TestZZExplore(t *testing.T) {
	sc, _ := scenarios.Get(scenarios.DefaultScenario)
	st, key := sc.Generate(sc.DefaultSeed, time.Now())
	fmt.Println("logs", len(st.Logs), "compromised", len(key.Compromised), "mfa", len(key.StoppedByMFA), "targeted", len(key.Targeted), "shared", key.SharedIPs)
	cg := key.SharedIPs[0]
	for _, id := range key.Compromised {
		fmt.Println("== compromised", id)
		for _, e := range st.Logs {
			if e.UserID == id || (e.UserName != "" && false) {
				ua := e.UserAgent
				if len(ua) > 40 { ua = ua[:40] }
				fmt.Println(e.Date.Format(time.RFC3339), e.Type, e.IP, key.IsAttackerIP(e.IP), e.IP == cg, e.ClientName, ua)
			}
		}
	}
	for _, id := range key.StoppedByMFA[:2] {
		fmt.Println("== mfa", id)
		for _, e := range st.Logs {
			if e.UserID == id {
				fmt.Println(e.Date.Format(time.RFC3339), e.Type, e.IP, key.IsAttackerIP(e.IP), e.ClientName)
			}
		}
	}
	types := map[string]int{}
	cgTypes := map[string]int{}
	for _, e := range st.Logs { types[e.Type]++; if e.IP == cg { cgTypes[e.Type]++ } }
	fmt.Println(types)
	fmt.Println("cgnat", cgTypes)
	_ = slices.Contains[[]string]
}
