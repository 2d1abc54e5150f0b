package alb

import (
	"strings"
	"testing"
)

// BenchmarkParse: the parser alone on generated entries (go test -bench Parse ./compact/alb/).
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	for range 2000 {
		sb.WriteString(good)
		sb.WriteByte('\n')
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		n, err := Parse(strings.NewReader(in), Options{}, func(*Request) error { return nil }, func(int64, string, []byte) {})
		if err != nil || n != 2000 {
			b.Fatal(n, err)
		}
	}
}
