// Package safetext makes text taken from logs safe to show to a person. Every value in a log is chosen by
// whoever wrote the event (a user name, an S3 key, a user agent), so before it reaches a terminal, the HTML
// report or a Security Hub title, characters that would act instead of being read are replaced by a
// visible escape: the analyst sees that something was there, and what.
//
// Escaped: C0 and C1 control characters and DEL (terminal escape sequences: colours, window titles,
// cursor moves), bytes that are not UTF-8 (a lone 0x9b is CSI to an 8-bit terminal), bidirectional
// controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C: "erin\u202etxt.exe" would show as
// "erinexe.txt"), line and paragraph separators, and every other format or default-ignorable character
// (zero-width space and joiners, soft hyphen, BOM, tag characters, Hangul fillers), which are invisible
// and make two different names look the same. The zero-width joiner is escaped too although emoji
// sequences use it: telling "admin" from "ad\u200dmin" matters more here than drawing a family emoji.
// Kept: all visible text in any script, spaces, combining marks (but the invisible grapheme joiner) and
// variation selectors.
//
// The escapes are printable ASCII, so applying a function twice gives the same result as once.
// Only renderings are escaped; stored evidence keeps the raw values.
//
// The package imports only the standard library, so every layer (hunts, reports, cmd) can use it
// without adding a dependency between them.
package safetext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s with every control, bidirectional, format and invisible character, and every byte
// that is not UTF-8, replaced by a visible escape (\x1b, \n, \u202e, \xff). For a value on one line:
// a title, a table cell, a terminal line.
func Line(s string) string { return escape(s, false) }

// Text is Line but keeps line feeds and tabs, for text whose line breaks are meant: an error message,
// a description, a whole HTML page.
func Text(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	var b strings.Builder // used from the first escape on
	done := 0             // s[:done] is in b
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if ' ' <= c && c < 0x7f || keepLines && (c == '\n' || c == '\t') {
				i++
				continue
			}
			if done == 0 {
				b.Grow(len(s) + 16)
			}
			b.WriteString(s[done:i])
			switch c {
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\x`)
				b.WriteString(hex2(c))
			}
			i++
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		bad := r == utf8.RuneError && size == 1 // not UTF-8; U+FFFD itself is visible text
		if !bad && !invisible(r) {
			i += size
			continue
		}
		if done == 0 {
			b.Grow(len(s) + 16)
		}
		b.WriteString(s[done:i])
		switch {
		case bad:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r <= 0xFFFF:
			b.WriteString(`\u`)
			b.WriteString(pad(strconv.FormatInt(int64(r), 16), 4))
		default:
			b.WriteString(`\U`)
			b.WriteString(pad(strconv.FormatInt(int64(r), 16), 8))
		}
		i += size
		done = i
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// invisible reports whether a non-ASCII character is a C1 control, a format character (bidi controls,
// zero-width characters, soft hyphen, BOM, tags), a line or paragraph separator, or otherwise ignorable
// by default (Hangul fillers and the like).
func invisible(r rune) bool {
	switch {
	case r <= 0x9f:
		return true // C1 controls
	case r < 0x100:
		return r == 0xad // soft hyphen: the rest of Latin-1 is visible
	case r == 0x2028 || r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}

func pad(s string, n int) string { return strings.Repeat("0", n-len(s)) + s }
