package cloudtrail

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
)

// equivalenceRecords are the records the one-pass decoder is held to the old one on: the AWS documentation's
// examples, Panther's test events, the fuzz corpora and generated records.
func equivalenceRecords(t *testing.T) [][]byte {
	t.Helper()
	var recs [][]byte
	for _, r := range readJSONL(t, filepath.Join(testdata, "awsdocs", "cloudtrail", "cloudtrail_doc_examples.jsonl"), "record") {
		recs = append(recs, r)
	}
	for _, r := range readJSONL(t, filepath.Join(testdata, "panther", "aws_cloudtrail.tests.jsonl"), "log") {
		recs = append(recs, r)
	}
	var doc struct{ Records []json.RawMessage }
	if err := json.Unmarshal(genFile(2000, 11), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Records {
		recs = append(recs, r)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParseEvent", "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, lit, _ := strings.Cut(string(b), "[]byte(")
		s, err := strconv.Unquote(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(lit), ")")))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		recs = append(recs, []byte(s))
	}
	return recs
}

// compareWithOld reports how the one-pass decoder's verdict on raw differs from the old decoder's: the
// same row, or both a rejection. Rejection reasons may differ only for fields of the wrong JSON type,
// where the old decoder's messages named Go fields or a syntax error. Keys in mixed case ("ARN" for arn)
// are not compared: goccy/go-json matched some ("ARN") and not others ("EVENTNAME"); the one-pass
// decoder matches CloudTrail's spelling and the all-lower-case one.
func compareWithOld(raw []byte) string {
	if keyInMixedCase(raw) {
		return ""
	}
	want, werr := oldParseEvent(raw, "999999999999", "xx-fallback-1")
	got, gerr := ParseEvent(raw, "999999999999", "xx-fallback-1")
	switch {
	case (werr == nil) != (gerr == nil):
		return "old error " + errString(werr) + ", new error " + errString(gerr)
	case werr == nil && !reflect.DeepEqual(got, want):
		return "rows differ:\n new " + rowString(got) + "\n old " + rowString(want)
	case werr != nil && werr.Error() != gerr.Error() && !strings.Contains(gerr.Error(), "where CloudTrail has"):
		return "reasons differ: old " + werr.Error() + ", new " + gerr.Error()
	}
	return ""
}

func keyInMixedCase(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, m := range v {
				if want, ok := recordKeys[strings.ToLower(k)]; (ok && k != want && k != strings.ToLower(k)) || walk(m) {
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

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return strconv.Quote(err.Error())
}

func rowString(ev lake.CloudTrailEvent) string {
	b, _ := json.Marshal(ev)
	return string(b)
}

func TestSameRowsAsTheOldDecoder(t *testing.T) {
	recs := equivalenceRecords(t)
	rows := 0
	for i, r := range recs {
		if diff := compareWithOld(r); diff != "" {
			t.Errorf("record %d %s: %s", i, r, diff)
		}
		if _, err := ParseEvent(r, "", ""); err == nil {
			rows++
		}
	}
	if rows < 2400 {
		t.Fatalf("only %d of %d records are rows: the comparison proves little", rows, len(recs))
	}
	// Pretty-printed records keep the same compact JSON text.
	for i, r := range recs[:200] {
		var buf bytes.Buffer
		if json.Indent(&buf, r, "", "  ") == nil {
			if diff := compareWithOld(buf.Bytes()); diff != "" {
				t.Errorf("indented record %d: %s", i, diff)
			}
		}
	}
}

// Damaged records (bytes changed, dropped or added) are rejected exactly when the old decoder rejected
// them, and otherwise make the same row.
func TestSameVerdictsAsTheOldDecoderOnDamagedRecords(t *testing.T) {
	recs := equivalenceRecords(t)
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("{}[]\",:\\ \t\n\r0123456789.eE+-truefalsnul\x00\x01\x1f\x7f\xc3\xa9\xff/bfnrtu")
	failures := 0
	for i := 0; i < 50_000 && failures < 10; i++ {
		r := append([]byte(nil), recs[rng.IntN(len(recs))]...)
		for m := rng.IntN(3) + 1; m > 0 && len(r) > 0; m-- {
			p := rng.IntN(len(r))
			switch c := alphabet[rng.IntN(len(alphabet))]; rng.IntN(3) {
			case 0:
				r[p] = c
			case 1:
				r = append(r[:p], r[p+1:]...)
			default:
				r = append(r[:p], append([]byte{c}, r[p:]...)...)
			}
		}
		if diff := compareWithOld(r); diff != "" {
			t.Errorf("%q: %s", r, diff)
			failures++
		}
	}
}

// Parse, which decodes records straight from its read buffer and falls back to capturing a record that
// the buffer cuts, makes the rows ParseEvent makes, however the input arrives.
func TestParseMatchesParseEventAcrossReads(t *testing.T) {
	recs := equivalenceRecords(t)
	var raws []json.RawMessage
	for _, r := range recs {
		raws = append(raws, r)
	}
	file := wrapRecords(raws)
	for name, r := range map[string]func() io.Reader{
		"whole":        func() io.Reader { return strings.NewReader(file) },
		"byte by byte": func() io.Reader { return oneByte{strings.NewReader(file)} },
		"odd chunks":   func() io.Reader { return &chunked{r: strings.NewReader(file), rng: rand.New(rand.NewPCG(5, 6))} },
	} {
		t.Run(name, func(t *testing.T) {
			res := parse(r(), Options{Key: "k", FallbackAccount: "999999999999", FallbackRegion: "xx-fallback-1"})
			if res.err != nil || res.n != int64(len(recs)) {
				t.Fatalf("n=%d err=%v", res.n, res.err)
			}
			bad := map[int64]string{}
			for _, b := range res.bad {
				bad[b.no] = b.reason
			}
			byLine := map[int64]*lake.CloudTrailEvent{}
			for _, ev := range res.rows {
				byLine[ev.SourceLine] = ev
			}
			for i, raw := range recs {
				no := int64(i + 1)
				if keyInMixedCase(raw) {
					continue
				}
				want, err := oldParseEvent(raw, "999999999999", "xx-fallback-1")
				switch got := byLine[no]; {
				case err != nil && bad[no] == "":
					t.Fatalf("record %d: a row, the old decoder said %v", no, err)
				case err == nil && got == nil:
					t.Fatalf("record %d: rejected (%s), the old decoder made a row", no, bad[no])
				case err == nil:
					want.SourceKey, want.SourceLine = "k", no
					if !reflect.DeepEqual(*got, want) {
						t.Fatalf("record %d:\n got %s\nwant %s", no, rowString(*got), rowString(want))
					}
				}
			}
		})
	}
}

type oneByte struct{ r io.Reader }

func (o oneByte) Read(b []byte) (int, error) { return o.r.Read(b[:min(len(b), 1)]) }

type chunked struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *chunked) Read(b []byte) (int, error) { return c.r.Read(b[:min(len(b), 1+c.rng.IntN(3000))]) }
