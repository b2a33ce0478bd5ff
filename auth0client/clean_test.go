package auth0client

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanShowsHiddenCharactersVisibly(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain ascii unchanged", "Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"},
		{"plain unicode unchanged", "José Müller 山田", "José Müller 山田"},
		{"csi colour", "\x1b[31mred", "^[[31mred"},
		{"clear screen", "a\x1b[2Jb", "a^[[2Jb"},
		{"osc 52 clipboard", "\x1b]52;c;ZWNobw==\x07", "^[]52;c;ZWNobw==^G"},
		{"osc 8 hyperlink", "\x1b]8;;http://evil\x1b\\x\x1b]8;;\x1b\\", "^[]8;;http://evil^[\\x^[]8;;^[\\"},
		{"carriage return", "ok\rEVIL", "ok^MEVIL"},
		{"newline and tab", "a\nb\tc", "a^Jb^Ic"},
		{"nul", "a\x00b", "a^@b"},
		{"del", "a\x7fb", "a^?b"},
		{"bidi override", "abc\u202etxt.exe", "abc⟨U+202E⟩txt.exe"},
		{"bidi isolates", "\u2066x\u2069", "⟨U+2066⟩x⟨U+2069⟩"},
		{"zero width", "ad\u200bmin", "ad⟨U+200B⟩min"},
		{"bom", "\ufeffx", "⟨U+FEFF⟩x"},
		{"c1 csi", "a\u009bb", "a⟨U+009B⟩b"},
		{"invalid utf8", "a\xffb", "a⟨0xFF⟩b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanMarksEveryHiddenRune(t *testing.T) {
	tests := []struct {
		r      rune
		hidden bool
	}{
		{0x9b, true}, {0xad, true}, {0x34f, true}, {0x61c, true}, {0x115f, true}, {0x1160, true},
		{0x17b4, true}, {0x17b5, true}, {0x180e, true}, {0x200b, true}, {0x200f, true},
		{0x2028, true}, {0x202e, true}, {0x2060, true}, {0x2066, true}, {0x206f, true},
		{0x3164, true}, {0xfeff, true}, {0xffa0, true}, {0xfff9, true}, {0xfffa, true},
		{0xfffb, true}, {0xe0000, true}, {0xe0041, true}, {0xe007f, true},
		{'a', false}, {' ', false}, {'é', false}, {'山', false}, {0x301, false}, {0x2010, false},
		{0xfffc, false}, {0xe0080, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%U", tt.r), func(t *testing.T) {
			if got := IsHiddenRune(tt.r); got != tt.hidden {
				t.Fatalf("IsHiddenRune(%U) = %v, want %v", tt.r, got, tt.hidden)
			}
			in := "a" + string(tt.r) + "b"
			want := in
			if tt.hidden {
				want = fmt.Sprintf("a⟨U+%04X⟩b", tt.r)
			}
			if got := Clean(in); got != want {
				t.Fatalf("Clean(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestCleanCapsHugeValues(t *testing.T) {
	in := strings.Repeat("A", 1<<20)
	got := Clean(in)
	if len(got) > MaxTextBytes {
		t.Fatalf("len = %d, want about %d", len(got), MaxTextBytes)
	}
	if !strings.Contains(got, "⟨+") {
		t.Fatalf("no truncation marker in %q", got[len(got)-40:])
	}
}

// FuzzClean checks the safety property for any input: the result is valid
// UTF-8 with no control, bidi or zero-width character left.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[31m", "\u202e", "\x00\xff", strings.Repeat("é", 3000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || IsHiddenRune(r) {
				t.Fatalf("rune %U survived in Clean(%q) = %q", r, s, got)
			}
		}
		if Clean(got) != got {
			t.Fatalf("Clean is not idempotent on %q", got)
		}
	})
}
