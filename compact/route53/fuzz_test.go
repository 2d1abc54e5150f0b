package route53

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParse: any input ends as rows and bad lines, one per non-blank line, each bad line with a reason.
// A row comes from a line encoding/json reads as an object, and carries that object's query_name,
// query_type, rcode, account_id (or the fallback) and answers. Seeds: testdata/fuzz/FuzzParse, from the
// AWS documentation's example, OCSF's raw sample and Panther's test events.
func FuzzParse(f *testing.F) {
	f.Add(genQueries(2))
	f.Add([]byte("{\"query_timestamp\":\"2024-01-02 03:04:05\",\"srcids\":{\"instance\":\"i\"}}\n\n[1]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		res := parse(bytes.NewReader(in), Options{Key: key, FallbackAccount: "999999999999", MaxLineBytes: 300})
		if res.err != nil {
			t.Fatal(res.err) // only a read or emit error stops parsing
		}
		if res.n != int64(len(res.rows)+len(res.bad)) {
			t.Fatalf("n=%d rows=%d bad=%d", res.n, len(res.rows), len(res.bad))
		}
		lines := bytes.Split(in, []byte("\n"))
		seen := map[int64]bool{}
		for _, b := range res.bad {
			if b.reason == "" || b.no < 1 || b.no > int64(len(lines)) || seen[b.no] {
				t.Fatalf("bad line %d of %d (reason %q)", b.no, len(lines), b.reason)
			}
			seen[b.no] = true
		}
		for _, r := range res.rows {
			if r.SourceLine < 1 || r.SourceLine > int64(len(lines)) || seen[r.SourceLine] || r.SourceKey != key {
				t.Fatalf("row for line %d of %d", r.SourceLine, len(lines))
			}
			seen[r.SourceLine] = true
			line := bytes.ToValidUTF8(bytes.TrimPrefix(lines[r.SourceLine-1], []byte("\ufeff")), []byte("\uFFFD"))
			var m map[string]json.RawMessage
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatalf("line %d is a row, but encoding/json says %v", r.SourceLine, err)
			}
			str := func(name string) string {
				var v *string
				if err := json.Unmarshal(orNull(m[name]), &v); err != nil {
					t.Fatalf("line %d is a row, but its %s is not a string: %v", r.SourceLine, name, err)
				}
				if v == nil {
					return ""
				}
				return *v
			}
			account := str("account_id")
			if account == "" {
				account = "999999999999"
			}
			var answers bytes.Buffer
			if a := orNull(m["answers"]); string(a) != "null" {
				json.Compact(&answers, a)
			}
			if deref(r.QueryName) != str("query_name") || deref(r.QueryType) != str("query_type") || deref(r.Rcode) != str("rcode") || r.AccountID != account || deref(r.Answers) != answers.String() {
				t.Fatalf("line %d: row %q %q %q %q %q, encoding/json reads %q %q %q %q %q", r.SourceLine,
					deref(r.QueryName), deref(r.QueryType), deref(r.Rcode), r.AccountID, deref(r.Answers), str("query_name"), str("query_type"), str("rcode"), account, answers.String())
			}
		}
	})
}

func orNull(v json.RawMessage) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	return v
}

// The hand-written reader must accept exactly what encoding/json accepts and decode strings the same way.
func FuzzReaderMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e+3,true,false,null,{"b":"c"}]}`, `"\u00e9\ud83d\ude00\ud800x\n\/"`, `01`, `1.`, `-`, `[1,]`, `{"a" 1}`, `"\x"`, "\"\t\"", `1e`, `{}`, `[]`, ` "a" `, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return // ParseQuery replaces invalid UTF-8 first
		}
		r := &reader{b: b}
		_, err := r.value()
		if err == nil && !r.atEnd() {
			err = errors.New("trailing text")
		}
		if (err == nil) != json.Valid(b) {
			t.Fatalf("%q: reader err=%v, encoding/json valid=%v", b, err, json.Valid(b))
		}
		var want string
		if json.Unmarshal(b, &want) == nil {
			got, err := (&reader{b: b}).str("x")
			if err != nil || deref(got) != want {
				t.Fatalf("%q: reader %q (%v), encoding/json %q", b, deref(got), err, want)
			}
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
