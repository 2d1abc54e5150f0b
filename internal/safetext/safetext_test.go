package safetext

import (
	"testing"
	"unicode"
)

func TestLineAndText(t *testing.T) {
	for _, tc := range []struct {
		name, in, line, text string
	}{
		{"plain ASCII", "arn:aws:iam::111122223333:user/erin", "arn:aws:iam::111122223333:user/erin", ""},
		{"Danish place name", "Ærøskøbing", "Ærøskøbing", ""},
		{"Japanese", "東京リージョンの管理者", "東京リージョンの管理者", ""},
		{"Arabic, right to left by itself", "مستخدم", "مستخدم", ""},
		{"combining accent and emoji with variation selector", "e\u0301 ❤️", "e\u0301 ❤️", ""},
		{"replacement character is text", "a\uFFFDb", "a\uFFFDb", ""},
		{"CSI colour", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`, ""},
		{"OSC window title ended by BEL", "user/\x1b]0;pwned\x07", `user/\x1b]0;pwned\x07`, ""},
		{"C1 CSI as UTF-8", "a\u009b2Jb", `a\u009b2Jb`, ""},
		{"C1 CSI as a lone byte", "a\x9b2Jb", `a\x9b2Jb`, ""},
		{"NUL, backspace and DEL", "a\x00b\x08c\x7f", `a\x00b\x08c\x7f`, ""},
		{"right-to-left override", "erin\u202etxt.exe", `erin\u202etxt.exe`, ""},
		{"isolates and marks", "\u2067x\u2069 \u200e\u200f\u061c", `\u2067x\u2069 \u200e\u200f\u061c`, ""},
		{"zero-width space, joiners, BOM, soft hyphen", "ad\u200bm\u200ci\u200dn\ufeff\u00ad", `ad\u200bm\u200ci\u200dn\ufeff\u00ad`, ""},
		{"Hangul filler: a blank name", "\u3164", `\u3164`, ""},
		{"tag characters hide ASCII", "ok\U000E0041\U000E0042", `ok\U000e0041\U000e0042`, ""},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`, ""},
		{"newline, tab and carriage return", "a\nb\tc\rd", `a\nb\tc\rd`, "a\nb\tc\\rd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Line(tc.in); got != tc.line {
				t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.line)
			}
			wantText := tc.text
			if wantText == "" {
				wantText = tc.line
			}
			if got := Text(tc.in); got != wantText {
				t.Errorf("Text(%q) = %q, want %q", tc.in, got, wantText)
			}
			if again := Line(Line(tc.in)); again != Line(tc.in) {
				t.Errorf("Line is not idempotent on %q: %q, then %q", tc.in, Line(tc.in), again)
			}
		})
	}
}

// Text that needs nothing escaped comes back as the same string, without copying.
func TestUnchangedIsNotCopied(t *testing.T) {
	s := "Ærøskøbing 東京"
	if allocs := testing.AllocsPerRun(100, func() { _ = Line(s) }); allocs != 0 {
		t.Errorf("Line allocated %.0f times for text with nothing to escape", allocs)
	}
}

// The shortcuts for common characters agree with the Unicode categories the package documents, for every
// code point.
func TestEscapesExactlyTheDocumentedCharacters(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if 0xD800 <= r && r <= 0xDFFF {
			continue // surrogates are not UTF-8
		}
		want := unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Other_Default_Ignorable_Code_Point)
		s := string(r)
		if got := Line(s) != s; got != want {
			t.Errorf("U+%04X: escaped %v, want %v", r, got, want)
		}
	}
}
