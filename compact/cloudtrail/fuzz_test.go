package cloudtrail

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/lake"
)

// FuzzParse: any input ends as rows and bad records, one per record read, each bad record with a reason,
// or as a file error. When it parses and encoding/json reads it as {"Records":[...]} too, they agree on
// the records, and each row is what ParseEvent makes of its record. Seeds: testdata/fuzz/FuzzParse, from
// the AWS documentation's examples.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"x":"\\","Records":[{"eventID":"a","eventTime":"2024-01-02T03:04:05Z"},7,"s",[]]}`))
	f.Add([]byte(`{"Records":[{"\u":1,"eventID":"a"}]}`))
	f.Add([]byte(`{"Records":[` + assumedRole + `]}`))
	f.Add(genFile(2, 9))
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 4096
		res := parse(bytes.NewReader(in), Options{Key: "k", FallbackAccount: "999999999999", FallbackRegion: "xx-fallback-1", MaxRecordBytes: limit})
		if res.n != int64(len(res.rows)+len(res.bad)) {
			t.Fatalf("n=%d rows=%d bad=%d", res.n, len(res.rows), len(res.bad))
		}
		seen := map[int64]bool{}
		for _, b := range res.bad {
			if b.reason == "" || b.no < 1 || b.no > res.n || seen[b.no] {
				t.Fatalf("bad record %d of %d (reason %q)", b.no, res.n, b.reason)
			}
			seen[b.no] = true
		}
		for _, r := range res.rows {
			if r.EventID == "" || r.EventTime.IsZero() || r.SourceKey != "k" || r.SourceLine < 1 || r.SourceLine > res.n || seen[r.SourceLine] {
				t.Fatalf("row %d of %d: id %q, time %v", r.SourceLine, res.n, r.EventID, r.EventTime)
			}
			seen[r.SourceLine] = true
		}
		var doc map[string]json.RawMessage
		var records []json.RawMessage
		if res.err != nil || json.Unmarshal(in, &doc) != nil || json.Unmarshal(doc["Records"], &records) != nil {
			return
		}
		if int64(len(records)) != res.n {
			t.Fatalf("%d records read, encoding/json sees %d", res.n, len(records))
		}
		for _, r := range res.rows {
			raw := records[r.SourceLine-1]
			if len(raw) > limit {
				t.Fatalf("record %d of %d bytes is over the limit, yet a row", r.SourceLine, len(raw))
			}
			want, err := ParseEvent(raw, "999999999999", "xx-fallback-1")
			want.SourceKey, want.SourceLine = "k", r.SourceLine
			if err != nil || !reflect.DeepEqual(*r, want) {
				t.Fatalf("record %d: row %+v, ParseEvent gives %+v (%v)", r.SourceLine, *r, want, err)
			}
		}
	})
}

// FuzzParseEvent holds the one-pass record decoder to encoding/json: a record is a row exactly when
// encoding/json decodes it into one, and then the same row; otherwise it is rejected with a reason. Only
// records nested deeper or holding more values than jsonlimit allows are rejected where encoding/json
// would read them. Keys match as CloudTrail writes them or all in lower case ("eventid", as some pipelines
// write them; "EventID" is not eventID), while encoding/json ignores case: records with such keys are not
// compared. Seeds: testdata/fuzz/FuzzParseEvent, the AWS documentation's examples and Panther's test events.
func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"eventVersion":"1.0","eventTime":"2014-03-06T21:22:54Z","requestParameters":{ "a" : [1, 2] }}`))
	f.Add([]byte(`{"eventID":"a","eventTime":"2024-01-02T03:04:05Z","readOnly":"TRUE","userIdentity":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := ParseEvent(raw, "999999999999", "xx-fallback-1")
		fixed := bytes.ToValidUTF8(raw, []byte("\uFFFD"))
		if err != nil && err.Error() == "" {
			t.Fatal("rejected without a reason")
		}
		if lerr := jsonlimit.Check(fixed); lerr != nil {
			if err == nil || err.Error() != lerr.Error() {
				t.Fatalf("over jsonlimit (%v), ParseEvent says %v", lerr, err)
			}
			return
		}
		if keyInOtherCase(fixed) {
			return
		}
		var r record
		jerr := json.Unmarshal(fixed, &r)
		var want lake.CloudTrailEvent
		if jerr == nil {
			want, jerr = r.row(fixed, "999999999999", "xx-fallback-1")
		}
		switch {
		case err != nil && jerr == nil:
			t.Fatalf("rejected (%v), encoding/json reads %+v", err, want)
		case err == nil && jerr != nil:
			t.Fatalf("accepted as %+v, encoding/json says %v", got, jerr)
		case err == nil && !reflect.DeepEqual(got, want):
			t.Fatalf("row %+v\nencoding/json: %+v", got, want)
		}
	})
}

// keyInOtherCase reports whether a JSON text has an object key that differs only in case from a field
// the record decoder reads.
func keyInOtherCase(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, m := range v {
				if want, ok := recordKeys[strings.ToLower(k)]; (ok && k != want) || walk(m) {
					return true
				}
			}
		case []any:
			for _, m := range v {
				if walk(m) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// recordKeys are the JSON names of the fields ParseEvent decodes, by their lower case.
var recordKeys = func() map[string]string {
	keys := map[string]string{}
	var add func(reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" {
				keys[strings.ToLower(name)] = name
			}
			if f.Type.Kind() == reflect.Struct {
				add(f.Type)
			}
		}
	}
	add(reflect.TypeFor[record]())
	return keys
}()
