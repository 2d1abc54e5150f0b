package hids

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzParse: any input is an object-level error only when its first line is not a JSON object, and
// otherwise ends as rows and bad lines, each counted once, each bad one with a reason. A row has an
// event time, and its JSON columns hold valid JSON. Seeds: the Wazuh and OSSEC documentation's alerts.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../testdata/wazuh/labels_alert.json", "../../testdata/ossec/ossec_doc_alerts.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(alertA + "\n" + alertB))
	f.Add([]byte(alertA + "\nnot json\n{\"TimeStamp\":1,\"rule\":{\"group\":\"a,,b\"}}\n{"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var rows []*Alert
		bad := map[int64]bool{}
		n, err := Parse(bytes.NewReader(in), Options{Key: "k", MaxRecordBytes: 2048}, func(a *Alert) error { rows = append(rows, a); return nil },
			func(no int64, reason string, _ []byte) {
				if reason == "" || bad[no] {
					t.Fatalf("line %d quarantined twice or without a reason (%q)", no, reason)
				}
				bad[no] = true
			})
		if err != nil {
			return
		}
		if n != int64(len(rows)+len(bad)) {
			t.Fatalf("n=%d rows=%d bad=%d", n, len(rows), len(bad))
		}
		for _, r := range rows {
			if bad[r.SourceLine] || r.SourceLine < 1 || r.SourceKey != "k" || r.EventTime.IsZero() {
				t.Fatalf("row %+v", r)
			}
			for _, j := range []*string{r.AgentLabels, r.RuleGroups, r.MitreIDs, r.MitreTactics, r.MitreTechniques, r.Syscheck, r.Data} {
				if j != nil && !json.Valid([]byte(*j)) {
					t.Fatalf("JSON column holds %q", *j)
				}
			}
		}
	})
}
