package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Anchor is the fragment id of a finding in the HTML report (report.html#Anchor(id)). It is derived
// from the finding id, not the id itself, so attacker-influenced text never lands in an id attribute.
func Anchor(findingID string) string {
	sum := sha256.Sum256([]byte(findingID))
	return "finding-" + hex.EncodeToString(sum[:8])
}

// TruncMark ends a value that was cut short.
const TruncMark = "…[truncated]"

// Truncate cuts s to at most max characters (runes), ending in TruncMark when it cut. Invalid UTF-8
// is replaced first so the result is always valid text. It reports whether it cut.
func Truncate(s string, max int) (string, bool) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= max {
		return s, false
	}
	mark := TruncMark
	keep := max - utf8.RuneCountInString(mark)
	if keep < 0 {
		keep, mark = max, ""
	}
	i := 0
	for n := 0; n < keep; n++ {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i] + mark, true
}
