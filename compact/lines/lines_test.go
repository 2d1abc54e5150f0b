package lines

import (
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	cases := []struct {
		name  string
		in    string
		limit int
		want  []string // lines, or "TOOLONG:<n>"
	}{
		{"short lines", "a\nbb\nccc", 10, []string{"a\n", "bb\n", "ccc"}},
		{"crlf", "a\r\nb\r\n", 1, []string{"a\r\n", "b\r\n"}},
		{"long line within the limit", long + "\nz\n", 300_000, []string{long + "\n", "z\n"}},
		{"line over the limit is skipped", "a\n" + long + "\nz\n", 100_000, []string{"a\n", "TOOLONG", "z\n"}},
		{"over the limit at the end", "a\n" + long, 100_000, []string{"a\n", "TOOLONG"}},
		{"exactly the limit", strings.Repeat("y", 70_000) + "\n", 70_000, []string{strings.Repeat("y", 70_000) + "\n"}},
		{"one over the limit", strings.Repeat("y", 70_001) + "\n", 70_000, []string{"TOOLONG"}},
		{"byte-order marks at line starts are dropped", "\ufeffa\n\ufeff\ufeffb\nc\ufeff\n\ufeff", 10, []string{"a\n", "\ufeffb\n", "c\ufeff\n"}},
		{"byte-order mark before a long line", "\ufeff" + long + "\n", 300_000, []string{long + "\n"}},
	}
	// A Reader reset for the next input (a parser keeps one between objects) reads it as a new one does,
	// whatever the previous input left in it.
	reused := NewReader(strings.NewReader(""), 1)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := readAll(t, NewReader(strings.NewReader(c.in), c.limit))
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("got %d lines %.80q, want %d %.80q", len(got), got, len(c.want), c.want)
			}
			reused.Reset(strings.NewReader(long+"x\nleft over\n"), c.limit)
			reused.Next()
			reused.Reset(strings.NewReader(c.in), c.limit)
			if got := readAll(t, reused); strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Fatalf("reset reader: got %d lines %.80q, want %d %.80q", len(got), got, len(c.want), c.want)
			}
		})
	}
}

func readAll(t *testing.T, r *Reader) []string {
	t.Helper()
	var got []string
	for {
		line, tooLong, err := r.Next()
		if tooLong > 0 {
			if len(line) > SampleBytes {
				t.Fatalf("sample of %d bytes", len(line))
			}
			got = append(got, "TOOLONG")
		} else if len(line) > 0 {
			got = append(got, string(line))
		}
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
