package alb

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParse: any input is an object-level error only when its first entry is not an ALB entry, and
// otherwise ends as rows and bad lines, each counted once, each bad one with a reason. A row has an
// event time, an account and a region. Seeds: the AWS documentation's examples and hostile lines.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"alb_doc_examples.log", "alb_doc_examples_2019.log"} {
		if b, err := os.ReadFile("../../testdata/awsdocs/alb/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(good + "\n" + good[:200] + "\nhello\n" + good + ` "x\" y" z`))
	f.Add([]byte(`http 2024-05-01T10:02:03Z app/a/b [2001:db8::1]:1 - -1 -1 -1 - - - - "- - - " "\\"`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var rows []*Request
		var bad []int64
		n, err := Parse(bytes.NewReader(in), Options{Key: "k", MaxRecordBytes: 2048}, func(r *Request) error { rows = append(rows, r); return nil },
			func(no int64, reason string, _ []byte) {
				if reason == "" {
					t.Fatalf("line %d quarantined without a reason", no)
				}
				bad = append(bad, no)
			})
		if err != nil {
			if len(rows) > 0 || len(bad) > 0 {
				t.Fatalf("object error %v after %d rows and %d bad lines", err, len(rows), len(bad))
			}
			return
		}
		if n != int64(len(rows)+len(bad)) {
			t.Fatalf("n=%d rows=%d bad=%d", n, len(rows), len(bad))
		}
		seen := map[int64]bool{}
		for _, no := range bad {
			if no < 1 || seen[no] {
				t.Fatalf("bad line %d twice or out of range", no)
			}
			seen[no] = true
		}
		for _, r := range rows {
			if r.SourceLine < 1 || seen[r.SourceLine] || r.SourceKey != "k" {
				t.Fatalf("row for line %d", r.SourceLine)
			}
			seen[r.SourceLine] = true
			if r.EventTime.IsZero() || r.AccountID == "" || r.Region == "" {
				t.Fatalf("row without time or partition: %+v", r)
			}
		}
	})
}
