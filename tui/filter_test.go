package tui

import (
	"slices"
	"strings"
	"testing"

	"github.com/sahilm/fuzzy"
)

// filterKeys are rows shaped like the users page's filter text, ASCII and
// not, with camel case, separators and repeated letters.
func filterKeys() []string {
	keys := []string{"", "a", "ab", "ba", "aab", "SarahSingh", "sarah.singh@gmail.com", "Zoë Ünal zoe@example.de",
		"auth0|65f0c2a1b3d4e5f6a7b8c9d0 José García jose_garcia@proton.me 203.0.113.7", "⟨U+202E⟩gnp.exe⟨U+202C⟩ Doe", "Ωmega ωmega", "abcabcabc", "a-b_c d.e/f\\g"}
	_, synth := newUserRows(syntheticUsers(3000))
	return append(keys, synth...)
}

func TestFuzzyScoreMatchesSahilm(t *testing.T) {
	keys := filterKeys()
	for _, q := range []string{"a", "s", "sa", "sarah", "SaSi", "ab", "abc", "aaa", "zoe", "ün", "Zoë", "ωm", "203", "@gm", "a-b", "jg", "x", "gnp", "e/f"} {
		want := map[int]int{}
		for _, m := range fuzzy.Find(q, keys) {
			want[m.Index] = m.Score
		}
		got := map[int]int{}
		ix := newFuzzyIndex(keys)
		for _, row := range ix.filter(q) {
			s, ok := fuzzyScore([]rune(q), keys[row])
			if !ok {
				t.Fatalf("%q: row %d ranked but does not match", q, row)
			}
			got[row] = s
		}
		if len(got) != len(want) {
			t.Errorf("%q: %d matches, sahilm/fuzzy has %d", q, len(got), len(want))
		}
		for row, s := range want {
			if got[row] != s {
				t.Errorf("%q on %q: score %d, sahilm/fuzzy %d", q, keys[row], got[row], s)
			}
			if isASCII(q) && isASCII(keys[row]) {
				if a, _ := fuzzyScoreASCII([]byte(strings.ToLower(q)), keys[row], strings.ToLower(keys[row])); a != s {
					t.Errorf("%q on %q: ASCII score %d, sahilm/fuzzy %d", q, keys[row], a, s)
				}
			}
		}
	}
}

func TestFilterRanksLikeSahilmAndNarrowsWithoutLosingRows(t *testing.T) {
	keys := filterKeys()
	ix := newFuzzyIndex(keys)
	typed := ""
	for _, r := range "sarah" {
		typed += string(r)
		got := ix.filter(typed)
		var want []int
		for _, m := range fuzzy.Find(typed, keys) {
			want = append(want, m.Index)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: order differs from sahilm/fuzzy\n got %v\nwant %v", typed, head(got), head(want))
		}
	}
	// Deleting a character widens again.
	if got, want := len(ix.filter("sa")), len(fuzzy.Find("sa", keys)); got != want {
		t.Errorf("after backspace: %d rows, want %d", got, want)
	}
}

func head(s []int) []int { return s[:min(len(s), 10)] }

// Highlights are byte offsets; the list paints whole runes at the right
// cells, non-ASCII included.
func TestHighlightsPaintTheMatchedRunes(t *testing.T) {
	hl := paint{on: "<"}
	got := fitCell("Zoë Ünal", 20, highlights("ën", "Zoë Ünal"), hl, paint{})
	want := "Zo<ë" + resetSeq + " Ü<n" + resetSeq + "al" + strings.Repeat(" ", 12)
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Cut to width with the ellipsis; a wide rune never overflows.
	got = fitCell("日本語テキスト", 7, highlights("本", "日本語テキスト"), hl, paint{})
	if w := visibleWidth(strings.ReplaceAll(strings.ReplaceAll(got, "<", ""), resetSeq, "")); w != 7 {
		t.Errorf("cut cell is %d cells wide, want 7: %q", w, got)
	}
}

// A long typed word scores in the millions (the adjacency bonus grows
// geometrically): ranking it once hung the console (a counting array as
// wide as the scores).
func TestFilterRanksALongAdjacentQueryQuickly(t *testing.T) {
	keys := []string{"credential-stuffing-2ab 90 high 8 5 320 27 credential stuffing from 27 networks",
		"breached-password-bd8 30 medium breached-password logins: 0 accounts taken over"}
	ix := newFuzzyIndex(keys)
	q := ""
	var got []int
	for _, c := range "credential-stuffing-2ab" {
		q += string(c)
		got = ix.filter(q)
	}
	if len(got) != 1 || got[0] != 0 {
		t.Errorf("filter %q = %v, want [0]", q, got)
	}
}
