package securityhub

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzParse: any input is an object-level error only when it does not start with a JSON object, and
// otherwise ends as rows and bad records; each record is either quarantined with a reason or gives its
// rows (an event's findings share its number). A row has a time, an id, an account and a region, and its
// JSON columns hold valid JSON. Seeds: the ASR solution's findings and the parser's cases.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/securityhub-asff/asff_findings_sample.jsonl"); err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			var test struct {
				Finding json.RawMessage `json:"finding"`
			}
			if json.Unmarshal(line, &test) == nil {
				f.Add([]byte(test.Finding))
				f.Add([]byte(envelope(test.Finding, test.Finding)))
			}
		}
	}
	f.Add([]byte(inspector + "\n" + inspector))
	f.Add([]byte(inspector + "\nnot json\n{\"Id\":"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var rows []*Finding
		var bad []int64
		n, err := Parse(bytes.NewReader(in), Options{Key: "k", MaxRecordBytes: 8192}, func(r *Finding) error { rows = append(rows, r); return nil },
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
		badSet, rowSet := map[int64]bool{}, map[int64]bool{}
		for _, no := range bad {
			if no < 1 || no > n || badSet[no] {
				t.Fatalf("bad record %d of %d", no, n)
			}
			badSet[no] = true
		}
		for _, r := range rows {
			if r.SourceLine < 1 || r.SourceLine > n || badSet[r.SourceLine] || r.SourceKey != "k" {
				t.Fatalf("row for record %d of %d", r.SourceLine, n)
			}
			rowSet[r.SourceLine] = true
			if r.EventTime.IsZero() || r.ID == "" || r.VersionID == "" || r.AccountID == "" || r.Region == "" {
				t.Fatalf("row without time, id or partition: %+v", r)
			}
			for _, j := range []*string{r.Types, r.ResourceIDs, r.ResourceTypes, r.CVEIDs, &r.Finding} {
				if j != nil && !json.Valid([]byte(*j)) {
					t.Fatalf("JSON column holds %q", *j)
				}
			}
		}
		if int64(len(badSet)+len(rowSet)) > n {
			t.Fatalf("n=%d, %d bad, %d with rows", n, len(badSet), len(rowSet))
		}
	})
}
