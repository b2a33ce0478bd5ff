package tui

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/atoctl/atoctl/auth0client"
)

// hiddenRunes render invisibly or reorder a line; none may reach a query.
var hiddenRunes = []rune{
	0x034f, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180e, 0x3164, 0xffa0,
	0xfff9, 0xfffa, 0xfffb, 0xe0000, 0xe0041, 0xe007f, 0x202e, 0x200b,
}

func TestInputDropsHiddenRunes(t *testing.T) {
	for _, r := range hiddenRunes {
		t.Run(fmt.Sprintf("%U", r), func(t *testing.T) {
			if !auth0client.IsHiddenRune(r) {
				t.Errorf("auth0client.IsHiddenRune(%U) = false", r)
			}
			pasted := "ad" + string(r) + "min"

			typed := newInput("> ", "", 0)
			typed.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(pasted)})
			if got := typed.Value(); got != "admin" {
				t.Errorf("pasting %q: value %q, want %q", pasted, got, "admin")
			}
			typed.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			if got := typed.Value(); got != "admin" {
				t.Errorf("typing %U alone: value %q, want %q", r, got, "admin")
			}

			set := newInput("> ", "", 0)
			set.SetValue(pasted)
			if got := set.Value(); got != "admin" {
				t.Errorf("SetValue(%q): value %q, want %q", pasted, got, "admin")
			}
			if set.pos != len(set.value) {
				t.Errorf("SetValue(%q): cursor at %d, want the end (%d)", pasted, set.pos, len(set.value))
			}
		})
	}
}

func TestPaletteTabCompletesAfterTyping(t *testing.T) {
	tests := []struct {
		typed, want string
	}{
		{"t", "triage "},
		{"tri", "triage "},
		{"triage", "triage "},
		{"u", "users "},
		{"inc", "incident "},
		{"x", "x"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			p := newPalette(new([]string))
			for _, r := range tt.typed {
				p.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			// Tab used to panic here: SetValue left the cursor past the
			// end of the emptied value and insert sliced at it.
			p.update(tea.KeyMsg{Type: tea.KeyTab})
			if got := p.in.Value(); got != tt.want {
				t.Fatalf("%q then Tab: value %q, want %q", tt.typed, got, tt.want)
			}
			checkInput(t, &p.in)
			// The cursor is at the end, so typing goes on after the completion.
			p.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("24h")})
			if got := p.in.Value(); got != tt.want+"24h" {
				t.Fatalf("typing after completion: value %q, want %q", got, tt.want+"24h")
			}
		})
	}
}

func TestInputSetValueMovesTheCursor(t *testing.T) {
	in := newInput("> ", "", 0)
	in.SetValue("a long first value")
	in.update(tea.KeyMsg{Type: tea.KeyHome})
	in.update(tea.KeyMsg{Type: tea.KeyRight})
	in.SetValue("xy")
	checkInput(t, &in)
	in.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("z")})
	if got := in.Value(); got != "xyz" {
		t.Fatalf("value %q, want %q", got, "xyz")
	}

	// A short value set while the cursor sits far right, before the end.
	in.SetValue(strings.Repeat("a", 50))
	in.update(tea.KeyMsg{Type: tea.KeyLeft})
	in.SetValue("b")
	in.update(tea.KeyMsg{Type: tea.KeyBackspace})
	if got := in.Value(); got != "" {
		t.Fatalf("value %q after backspace, want empty", got)
	}
	checkInput(t, &in)
}

func TestInputEditingKeysKeepTheCursorInRange(t *testing.T) {
	type step struct {
		key   tea.KeyMsg
		set   string
		isSet bool
	}
	k := func(kt tea.KeyType) step { return step{key: tea.KeyMsg{Type: kt}} }
	typ := func(s string) step { return step{key: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}} }
	set := func(s string) step { return step{set: s, isSet: true} }
	tests := []struct {
		name  string
		limit int
		steps []step
		want  string
		pos   int
	}{
		{"ctrl+k at the end", 0, []step{typ("abc"), k(tea.KeyCtrlK), typ("d")}, "abcd", 4},
		{"ctrl+k mid-line", 0, []step{typ("abcd"), k(tea.KeyLeft), k(tea.KeyLeft), k(tea.KeyCtrlK), typ("x")}, "abx", 3},
		{"ctrl+u mid-line", 0, []step{typ("abcd"), k(tea.KeyLeft), k(tea.KeyCtrlU), typ("x")}, "xd", 1},
		{"ctrl+u then ctrl+k", 0, []step{typ("abcd"), k(tea.KeyCtrlU), k(tea.KeyCtrlK)}, "", 0},
		{"ctrl+w over spaces", 0, []step{typ("ip 1.2.3.4  "), k(tea.KeyCtrlW)}, "ip ", 3},
		{"ctrl+w at the start", 0, []step{typ("ab"), k(tea.KeyHome), k(tea.KeyCtrlW)}, "ab", 0},
		{"backspace at the start", 0, []step{k(tea.KeyBackspace), typ("a"), k(tea.KeyHome), k(tea.KeyBackspace)}, "a", 0},
		{"delete at the end", 0, []step{typ("a"), k(tea.KeyDelete)}, "a", 1},
		{"right past the end", 0, []step{typ("a"), k(tea.KeyRight), k(tea.KeyRight)}, "a", 1},
		{"left past the start", 0, []step{typ("a"), k(tea.KeyLeft), k(tea.KeyLeft)}, "a", 0},
		{"limit cuts a paste", 3, []step{typ("abcdef")}, "abc", 3},
		{"limit cuts SetValue", 3, []step{set("abcdef"), typ("x")}, "abc", 3},
		{"limit mid-line", 3, []step{typ("abc"), k(tea.KeyHome), typ("x")}, "abc", 0},
		{"space without its rune", 0, []step{typ("a"), k(tea.KeySpace), typ("b")}, "a b", 3},
		{"SetValue after ctrl+a", 0, []step{typ("users"), k(tea.KeyCtrlA), set("ip "), typ("x")}, "ip x", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInput("> ", "", tt.limit)
			for _, s := range tt.steps {
				if s.isSet {
					in.SetValue(s.set)
				} else {
					in.update(s.key)
				}
				checkInput(t, &in)
			}
			if got := in.Value(); got != tt.want || in.pos != tt.pos {
				t.Fatalf("value %q cursor %d, want %q cursor %d", got, in.pos, tt.want, tt.pos)
			}
		})
	}
}

// allKeys is one message of every key type tea defines, with a few rune
// payloads (a command letter, none at all, a Latin-1 letter).
func allKeys() []tea.KeyMsg {
	var keys []tea.KeyMsg
	for kt := tea.KeyF20; kt < tea.KeyRunes; kt++ {
		keys = append(keys, tea.KeyMsg{Type: kt})
	}
	for kt := tea.KeyType(0); kt < 32; kt++ {
		keys = append(keys, tea.KeyMsg{Type: kt})
	}
	keys = append(keys, tea.KeyMsg{Type: tea.KeyBackspace})
	for _, s := range []string{"t", "", "ÿ", " ", "\x1b[2J", "\u202e"} {
		keys = append(keys,
			tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)},
			tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Alt: true},
			tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s), Paste: true})
	}
	return keys
}

func TestPaletteSurvivesEveryKeyType(t *testing.T) {
	named := []tea.KeyType{
		tea.KeyTab, tea.KeyShiftTab, tea.KeyUp, tea.KeyDown, tea.KeyCtrlC, tea.KeyEnter,
		tea.KeyEsc, tea.KeyBackspace, tea.KeyDelete, tea.KeyHome, tea.KeyEnd, tea.KeyCtrlU,
		tea.KeyCtrlK, tea.KeyCtrlW, tea.KeyPgUp, tea.KeyPgDown, tea.KeyLeft, tea.KeyRight,
		tea.KeyCtrlA, tea.KeyCtrlE, tea.KeySpace,
	}
	keys := allKeys()
	for _, kt := range named {
		keys = append(keys, tea.KeyMsg{Type: kt})
	}
	st := testStyles(termenv.ANSI256)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range paletteCommands {
		for _, prefix := range prefixes(c.name) {
			t.Run(c.name+"/"+prefix, func(t *testing.T) {
				// Each key alone straight after the prefix…
				for _, k := range keys {
					p := newPalette(new([]string))
					typeInto(p, prefix)
					pressPalette(t, p, &st, k)
				}
				// …then every key in a few shuffled orders, and after Tab.
				for round := range 4 {
					p := newPalette(new([]string))
					typeInto(p, prefix)
					if round%2 == 1 {
						pressPalette(t, p, &st, tea.KeyMsg{Type: tea.KeyTab})
					}
					order := append([]tea.KeyMsg(nil), keys...)
					rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
					for _, k := range order {
						pressPalette(t, p, &st, k)
						if k.Type == tea.KeyRunes && rng.IntN(4) == 0 {
							typeInto(p, prefix)
						}
					}
				}
			})
		}
	}
}

// prefixes are the empty string, every prefix of name, name, and name with
// a trailing space.
func prefixes(name string) []string {
	out := []string{""}
	for i := 1; i <= len(name); i++ {
		out = append(out, name[:i])
	}
	return append(out, name+" ")
}

func typeInto(p *palette, s string) {
	for _, r := range s {
		p.update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// pressPalette sends k to p, runs the command it returns and draws it,
// then checks the input's invariants.
func pressPalette(t *testing.T, p *palette, st *styles, k tea.KeyMsg) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("key %v (%q) on palette value %q cursor %d: panic: %v", k.Type, k.String(), p.in.Value(), p.in.pos, r)
		}
	}()
	_, cmd := p.update(k)
	if cmd != nil {
		if _, ok := cmd().(paletteRunMsg); !ok {
			t.Fatalf("key %v: palette command returned something other than paletteRunMsg", k.Type)
		}
	}
	_ = p.view(st, 80)
	checkInput(t, &p.in)
}

// checkInput fails t when in breaks an invariant: the cursor inside the
// value, the value under the limit, no control or hidden rune in the value.
func checkInput(t testing.TB, in *input) {
	t.Helper()
	if in.pos < 0 || in.pos > len(in.value) {
		t.Fatalf("cursor %d outside value %q (%d runes)", in.pos, in.Value(), len(in.value))
	}
	if in.limit > 0 && len(in.value) > in.limit {
		t.Fatalf("value %q has %d runes, over the limit %d", in.Value(), len(in.value), in.limit)
	}
	for _, r := range in.Value() {
		if unicode.IsControl(r) || auth0client.IsHiddenRune(r) {
			t.Fatalf("value %q holds %U", in.Value(), r)
		}
	}
}

func testStyles(p termenv.Profile) styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	return newStyles(r)
}

// Fuzz operations: the first byte of the input picks the limit, then each
// byte picks an operation, some of which read more bytes as arguments.
const (
	opChar      = iota // one printable ASCII rune (next byte)
	opBurst            // several runes in one message, as a paste arrives (length byte, then runes)
	opOddRune          // one hidden, control, wide or invalid rune from fuzzRunes
	opAnyRune          // any 24-bit value as a rune, valid or not (three bytes)
	opSpace            // space, with or without its rune
	opBackspace        //
	opDelete           //
	opLeft             //
	opRight            //
	opHome             //
	opEnd              //
	opCtrlA            //
	opCtrlE            //
	opCtrlU            //
	opCtrlK            //
	opCtrlW            //
	opTab              //
	opSetValue         // SetValue with a burst's runes
	opOther            // any other key type tea defines (next byte)
	opCount
)

// fuzzRunes are runes an editor gets wrong: hidden and control runes, wide
// and combining runes, and values that are not runes at all.
var fuzzRunes = append([]rune{
	0, 0x1b, '\n', '\r', '\t', 0x7f, 0x85, 0x9b, 0xad, 0x61c, 0xfeff, 0x2028, 0x2066,
	'山', 'é', 0x301, '😀', 'ÿ', ' ', 0xfffd, 0xd800, 0x110000, -1,
}, hiddenRunes...)

type fuzzBytes struct{ b []byte }

func (f *fuzzBytes) next() byte {
	if len(f.b) == 0 {
		return 0
	}
	c := f.b[0]
	f.b = f.b[1:]
	return c
}

func (f *fuzzBytes) rune() rune {
	c := f.next()
	switch {
	case c >= 0x21 && c <= 0x7e:
		return rune(c)
	case c >= 0x80:
		return fuzzRunes[int(c-0x80)%len(fuzzRunes)]
	default:
		return rune(' ' + c)
	}
}

func (f *fuzzBytes) burst() []rune {
	rs := make([]rune, int(f.next()%16))
	for i := range rs {
		rs[i] = f.rune()
	}
	return rs
}

// fuzzStep is a key message, or a SetValue call when set is true.
type fuzzStep struct {
	key   tea.KeyMsg
	value string
	set   bool
}

// decodeSteps turns fuzz bytes into a limit and a sequence of edits.
// others are the keys opOther picks from.
func decodeSteps(data []byte, others []tea.KeyMsg) (limit int, steps []fuzzStep) {
	f := &fuzzBytes{b: data}
	limit = int(f.next()%24) + 1
	key := func(kt tea.KeyType) fuzzStep { return fuzzStep{key: tea.KeyMsg{Type: kt}} }
	for len(f.b) > 0 {
		switch f.next() % opCount {
		case opChar:
			steps = append(steps, fuzzStep{key: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{f.rune()}}})
		case opBurst:
			steps = append(steps, fuzzStep{key: tea.KeyMsg{Type: tea.KeyRunes, Runes: f.burst(), Paste: f.next()%2 == 0}})
		case opOddRune:
			r := fuzzRunes[int(f.next())%len(fuzzRunes)]
			steps = append(steps, fuzzStep{key: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}})
		case opAnyRune:
			r := rune(f.next())<<16 | rune(f.next())<<8 | rune(f.next())
			steps = append(steps, fuzzStep{key: tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}})
		case opSpace:
			s := key(tea.KeySpace)
			if f.next()%2 == 0 {
				s.key.Runes = []rune{' '}
			}
			steps = append(steps, s)
		case opBackspace:
			steps = append(steps, key(tea.KeyBackspace))
		case opDelete:
			steps = append(steps, key(tea.KeyDelete))
		case opLeft:
			steps = append(steps, key(tea.KeyLeft))
		case opRight:
			steps = append(steps, key(tea.KeyRight))
		case opHome:
			steps = append(steps, key(tea.KeyHome))
		case opEnd:
			steps = append(steps, key(tea.KeyEnd))
		case opCtrlA:
			steps = append(steps, key(tea.KeyCtrlA))
		case opCtrlE:
			steps = append(steps, key(tea.KeyCtrlE))
		case opCtrlU:
			steps = append(steps, key(tea.KeyCtrlU))
		case opCtrlK:
			steps = append(steps, key(tea.KeyCtrlK))
		case opCtrlW:
			steps = append(steps, key(tea.KeyCtrlW))
		case opTab:
			steps = append(steps, key(tea.KeyTab))
		case opSetValue:
			steps = append(steps, fuzzStep{value: string(f.burst()), set: true})
		case opOther:
			steps = append(steps, fuzzStep{key: others[int(f.next())%len(others)]})
		}
	}
	return limit, steps
}

// FuzzInputEditing applies random edits to a bare input (with and without a
// limit) and to the palette, and checks the input's invariants after each.
func FuzzInputEditing(f *testing.F) {
	for _, seed := range [][]byte{
		{0},
		{5, opChar, 't', opTab}, // the Tab panic
		{5, opChar, 't', opChar, 'r', opHome, opTab, opChar, 'x'},    // Tab with the cursor at 0
		{3, opBurst, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 0},   // a paste over the limit
		{4, opBurst, 4, 0x80, 0x81, 0x99, 0xa0, 1, opCtrlK, opCtrlU}, // hidden runes pasted
		{10, opChar, 'a', opSpace, 1, opChar, 'b', opLeft, opCtrlW, opCtrlK, opBackspace},
		{2, opSetValue, 10, 'u', 's', 'e', 'r', 's', ' ', 'x', 'y', 'z', 'w', opLeft, opSetValue, 1, 'q', opDelete},
		{7, opAnyRune, 0x0e, 0x00, 0x41, opAnyRune, 0xff, 0xff, 0xff, opOddRune, 3, opOther, 40},
	} {
		f.Add(seed)
	}
	st := testStyles(termenv.ANSI256)
	ascii := testStyles(termenv.Ascii)
	others := allKeys()
	f.Fuzz(func(t *testing.T, data []byte) {
		limit, steps := decodeSteps(data, others)
		bare := newInput("> ", "placeholder", 0)
		bare.Focus()
		limited := newInput("> ", "placeholder", limit)
		limited.Focus()
		p := newPalette(new([]string))
		for i, s := range steps {
			for _, in := range []*input{&bare, &limited} {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Fatalf("step %d (%+v) on value %q cursor %d limit %d: panic: %v", i, s, in.Value(), in.pos, in.limit, r)
						}
					}()
					if s.set {
						in.SetValue(s.value)
					} else {
						in.update(s.key)
					}
					_ = in.view(&st, 4+i%40)
					_ = in.view(&ascii, 80)
				}()
				checkInput(t, in)
			}
			if s.set {
				p.in.SetValue(s.value)
				checkInput(t, &p.in)
			} else {
				pressPalette(t, p, &st, s.key)
			}
		}
	})
}
