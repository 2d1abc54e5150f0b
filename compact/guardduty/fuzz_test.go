package guardduty

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzParse: any input is an object-level error only when it does not start with a JSON object, and
// otherwise ends as rows and bad records, each counted once, each bad one with a reason. A row has a
// time, an id, an account and a region, and its JSON columns hold valid JSON. Seeds: Panther's samples
// and the version and bad-record cases.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/panther/aws_guardduty.tests.jsonl"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			var test struct {
				Log json.RawMessage `json:"log"`
			}
			if json.Unmarshal(line, &test) == nil {
				f.Add([]byte(test.Log))
			}
		}
	}
	f.Add([]byte(v1 + "\n" + v2))
	f.Add([]byte(v1 + v2 + "\nnot json\n{\"id\":"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var rows []*Finding
		var bad []int64
		n, err := Parse(bytes.NewReader(in), Options{Key: "k", MaxRecordBytes: 4096}, func(r *Finding) error { rows = append(rows, r); return nil },
			func(no int64, reason string, _ []byte) {
				if reason == "" {
					t.Fatalf("record %d quarantined without a reason", no)
				}
				bad = append(bad, no)
			})
		if err != nil {
			if first := bytes.TrimLeft(bytes.TrimPrefix(bytes.TrimLeft(in, " \t\r\n"), []byte("\ufeff")), " \t\r\n"); len(first) > 0 && first[0] == '{' {
				t.Fatalf("input starting with an object: %v", err)
			}
			return
		}
		if n != int64(len(rows)+len(bad)) {
			t.Fatalf("n=%d rows=%d bad=%d", n, len(rows), len(bad))
		}
		seen := map[int64]bool{}
		for _, no := range bad {
			if no < 1 || no > n || seen[no] {
				t.Fatalf("bad record %d of %d", no, n)
			}
			seen[no] = true
		}
		for _, r := range rows {
			if r.SourceLine < 1 || r.SourceLine > n || seen[r.SourceLine] || r.SourceKey != "k" {
				t.Fatalf("row for record %d of %d", r.SourceLine, n)
			}
			seen[r.SourceLine] = true
			if r.EventTime.IsZero() || r.ID == "" || r.VersionID == "" || r.AccountID == "" || r.Region == "" {
				t.Fatalf("row without time, id or partition: %+v", r)
			}
			for _, j := range []*string{r.S3Buckets, r.RemoteIPs, r.Domains, &r.Finding} {
				if j != nil && !json.Valid([]byte(*j)) {
					t.Fatalf("JSON column holds %q", *j)
				}
			}
		}
	})
}
