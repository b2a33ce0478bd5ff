package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/atoctl/atoctl/auth0client"
)

// TestHeaderNamesTheTrainingScenario: in training the header names the
// scenario, not the sandbox's loopback address (a new port every run).
func TestHeaderNamesTheTrainingScenario(t *testing.T) {
	base, err := auth0client.ParseDomain("http://127.0.0.1:45678")
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth0client.New(auth0client.Config{BaseURL: base, ClientID: "id", ClientSecret: auth0client.NewSecret("secret")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		o        Options
		want     string
		dontWant string
	}{
		{"training", Options{Client: c, Training: true, Scenario: "mfa-fatigue"}, "TRAINING  mfa-fatigue │", "127.0.0.1"},
		{"live", Options{Client: c, Scenario: "mfa-fatigue"}, "127.0.0.1:45678", "mfa-fatigue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Renderer = asciiRenderer()
			m := New(tc.o)
			m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
			header := strings.SplitN(m.View(), "\n", 2)[0]
			if !strings.Contains(header, tc.want) || strings.Contains(header, tc.dontWant) {
				t.Errorf("header %q: want %q in it and not %q", header, tc.want, tc.dontWant)
			}
		})
	}
}
