package auth0client

import "testing"

func TestParseLogKeepsTheTLSFingerprints(t *testing.T) {
	for _, tc := range []struct {
		name, raw, ja3, ja4 string
	}{
		{"fingerprints", `{"log_id":"900","date":"2026-11-29T20:41:36.455Z","type":"f","ip":"198.51.100.7",
			"security_context":{"ja3":"e4fa67bec02ab3b4ae8d343bd16bbb99","ja4":"t13d1516h2_504448b02249_8f49551f0e84"}}`,
			"e4fa67bec02ab3b4ae8d343bd16bbb99", "t13d1516h2_504448b02249_8f49551f0e84"},
		{"attacker text is cleaned", `{"log_id":"901","type":"f","security_context":{"ja3":"ab\u001b[2Jcd"}}`, "ab^[[2Jcd", ""},
		{"none", `{"log_id":"902","type":"s"}`, "", ""},
		{"null", `{"log_id":"903","type":"s","security_context":null}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ParseLog([]byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if e.JA3 != tc.ja3 || e.JA4 != tc.ja4 {
				t.Errorf("ja3 %q ja4 %q, want %q %q", e.JA3, e.JA4, tc.ja3, tc.ja4)
			}
		})
	}
}
