package auth0client

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxTextBytes caps any single piece of tenant text kept by the client. Auth0
// fields are attacker-controlled (a user agent or a name can be 1 MB); nothing
// downstream needs more than this, and a cap keeps tables, journals and memory sane.
const MaxTextBytes = 2048

// Clean turns attacker-controlled tenant text into text that is safe to show
// on a terminal and in any output form: every control character, escape
// sequence introducer, bidi override, zero-width character and invalid UTF-8
// byte is replaced by a visible marker (`^[`, `⟨U+202E⟩`, `⟨0xFF⟩`), so the
// text is one line and cannot move the cursor, recolour, set the clipboard or
// reorder what the analyst reads. Over MaxTextBytes it is cut with a marker
// saying how much was dropped.
func Clean(s string) string {
	if isPlain(s) && len(s) <= MaxTextBytes {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), MaxTextBytes) + 16)
	for i := 0; i < len(s); {
		// Stop early enough that the marker fits within MaxTextBytes too:
		// then cleaning a cleaned string changes nothing.
		if b.Len() >= MaxTextBytes-64 {
			fmt.Fprintf(&b, "…⟨+%d bytes⟩", len(s)-i)
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "⟨0x%02X⟩", s[i])
		case r < 0x20:
			b.WriteByte('^')
			b.WriteByte(byte(r) + '@') // ESC → ^[, CR → ^M, NUL → ^@
		case r == 0x7f:
			b.WriteString("^?")
		case IsHiddenRune(r):
			fmt.Fprintf(&b, "⟨U+%04X⟩", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s needs no cleaning: printable ASCII, or UTF-8 with
// nothing hidden. It is the fast path: most tenant text is plain.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			for _, r := range s[i:] {
				if r == utf8.RuneError || r < 0x20 || r == 0x7f || IsHiddenRune(r) {
					return false
				}
			}
			return utf8.ValidString(s[i:])
		}
	}
	return true
}

// IsHiddenRune reports runes that render invisibly or change how the rest of
// the line renders: C1 controls, bidi controls, zero-width characters, line
// and paragraph separators, and other format characters abused for spoofing.
// It is the one table of such runes: Clean marks them, and the console's text
// inputs drop them, so an analyst can neither read nor paste one unseen.
func IsHiddenRune(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f: // C1 controls (0x9B is a one-byte CSI on some terminals)
		return true
	case r == 0xad, r == 0x34f, r == 0x61c, r == 0x115f, r == 0x1160, r == 0x17b4, r == 0x17b5, r == 0x180e:
		return true
	case r >= 0x200b && r <= 0x200f: // zero-width space/joiners, LRM, RLM
		return true
	case r >= 0x2028 && r <= 0x202e: // line/paragraph separators, bidi embeddings and overrides
		return true
	case r >= 0x2060 && r <= 0x206f: // word joiner, invisible operators, bidi isolates
		return true
	case r == 0x3164, r == 0xfeff, r == 0xffa0:
		return true
	case r >= 0xfff9 && r <= 0xfffb: // interlinear annotation controls
		return true
	case r >= 0xe0000 && r <= 0xe007f: // tag characters
		return true
	}
	return false
}

// cleanAny cleans every string inside a decoded JSON value (log details),
// keys included, so nested attacker text is as safe as top-level fields.
func cleanAny(v any) any {
	switch t := v.(type) {
	case string:
		return Clean(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[Clean(k)] = cleanAny(val)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			out[i] = cleanAny(val)
		}
		return out
	default:
		return v
	}
}
