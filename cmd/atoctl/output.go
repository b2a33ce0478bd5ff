package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/atoctl/atoctl/auth0client"
	"github.com/atoctl/atoctl/responders"
)

// maxCellWidth caps a table cell on a terminal: a 1 MB user agent must not
// push every other column off screen.
const maxCellWidth = 48

// table is rows of text cells for the TTY table and TSV forms. Cells are
// cleaned again when printed: the client already cleans tenant text, and a
// second pass costs little and guards any text that did not come through it.
type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// print writes the table aligned on a TTY, as TSV otherwise (for cut, awk
// and spreadsheets: one line per row, tabs only between cells).
func (t *table) print(w io.Writer, tty bool) error {
	if !tty {
		var b strings.Builder
		for _, row := range append([][]string{t.header}, t.rows...) {
			for i, c := range row {
				if i > 0 {
					b.WriteByte('\t')
				}
				b.WriteString(auth0client.Clean(c))
			}
			b.WriteByte('\n')
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	cells := make([][]string, 0, len(t.rows)+1)
	widths := make([]int, len(t.header))
	for _, row := range append([][]string{t.header}, t.rows...) {
		out := make([]string, len(t.header))
		for i := range t.header {
			if i < len(row) {
				out[i] = runewidth.Truncate(auth0client.Clean(row[i]), maxCellWidth, "…")
			}
			widths[i] = max(widths[i], runewidth.StringWidth(out[i]))
		}
		cells = append(cells, out)
	}
	var b strings.Builder
	for r, row := range cells {
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			if r == 0 {
				c = strings.ToUpper(c)
			}
			if i < len(row)-1 {
				c = runewidth.FillRight(c, widths[i])
			}
			b.WriteString(c)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// printJSON writes v as indented JSON (one document).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// printNDJSON writes v as one compact JSON line (streams: logs tail).
func printNDJSON(w io.Writer, v any) error {
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// mustJSONLine is compact JSON for one-line displays (planned call bodies).
func mustJSONLine(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte("?")
	}
	return b
}

// persistenceHint is what handles a kind of persistence, for the contain
// table and its warnings.
func persistenceHint(kind string) string {
	switch kind {
	case responders.FindingMFAEnrolled:
		return "remove it: --steps snapshot,block,revoke,reset,unblock-check,mfa"
	case responders.FindingEmailChanged:
		return "the reset email would go to the attacker: --reset-method ticket, or restore the owner's address first"
	case responders.FindingPhoneChanged, responders.FindingIdentityLinked:
		return "review in the dashboard"
	}
	return ""
}

// persistenceDetail is a finding's row in the contain table: what was found
// and the flag that handles it (or that the run's mfa step did).
func persistenceDetail(r responders.UserResult, f responders.Finding, dryRun bool) string {
	if f.Kind == responders.FindingMFAEnrolled && stepHandled(r, responders.StepMFA, dryRun) {
		if dryRun {
			return f.Detail + "; the mfa step would remove it"
		}
		return f.Detail + "; removed by the mfa step"
	}
	if h := persistenceHint(f.Kind); h != "" {
		return f.Detail + "; " + h
	}
	return f.Detail
}

// persistenceWarning is one line naming each kind of persistence left and
// what handles it.
func persistenceWarning(left []responders.Finding) string {
	var parts []string
	seen := map[string]bool{}
	for _, f := range left {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			parts = append(parts, f.Kind+" ("+persistenceHint(f.Kind)+")")
		}
	}
	return strings.Join(parts, "; ")
}
