package route53

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/compact/gen"
	"github.com/lakehunt/lakehunt/lake"
)

// equivalenceLines are the entries the fast decoder is held to the careful path on: the AWS documentation's
// example, OCSF's raw sample, Panther's test events, the fuzz corpus, this package's generated queries and
// `lakehunt gen`'s.
func equivalenceLines(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	add := func(b []byte) {
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			if line = bytes.TrimSpace(line); len(line) > 0 {
				out = append(out, line)
			}
		}
	}
	doc := readDataset(t, "awsdocs", "route53-resolver-query-logs-example-json.md")
	add([]byte(compactJSON(t, doc[bytes.IndexByte(doc, '{'):bytes.LastIndexByte(doc, '}')+1])))
	add(doc[bytes.IndexByte(doc, '{') : bytes.LastIndexByte(doc, '}')+1]) // pretty-printed, as the page shows it
	add(readDataset(t, "ocsf-examples", "route53.raw"))
	f, err := os.Open(filepath.Join(testdata, "panther", "aws_vpcdns.tests.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var test struct{ Log json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &test); err != nil {
			t.Fatal(err)
		}
		add(test.Log)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParse", "*"))
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
		add([]byte(s))
	}
	add(genQueries(500))
	_, err = gen.Generate(context.Background(), gen.Config{Scale: "tiny", Days: 1, Accounts: 1, Regions: 1, Seed: 5}, func(key string, body []byte) error {
		if !strings.Contains(key, "/vpcdnsquerylogs/") {
			return nil
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return err
		}
		b, err := io.ReadAll(zr)
		add(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareWithCareful reports how parseQuery's verdict on line (fast path, falling back) differs from the
// careful path's alone: the same row, or the same rejection reason.
func compareWithCareful(d *decoder, line []byte) string {
	want, werr := parseCareful(line, "999999999999", "xx-fallback-1", "vpc-0fallback", nil)
	got, gerr := d.parseQuery(line, "999999999999", "xx-fallback-1", "vpc-0fallback")
	switch {
	case (werr == nil) != (gerr == nil):
		return "careful error " + errString(werr) + ", fast error " + errString(gerr)
	case werr != nil && werr.Error() != gerr.Error():
		return "reasons differ: careful " + werr.Error() + ", fast " + gerr.Error()
	case werr == nil && !reflect.DeepEqual(got, want):
		return "rows differ:\n fast    " + rowString(got) + "\n careful " + rowString(want)
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return strconv.Quote(err.Error())
}

func rowString(q lake.Route53ResolverQuery) string {
	b, _ := json.Marshal(q)
	return string(b)
}

func TestSameRowsAsTheCarefulPath(t *testing.T) {
	lines := equivalenceLines(t)
	d := new(decoder)
	fast := 0
	for i, line := range lines {
		if diff := compareWithCareful(d, line); diff != "" {
			t.Errorf("line %d %s: %s", i, line, diff)
		}
		var q lake.Route53ResolverQuery
		if line[0] == '{' && d.decode(line, &q, "", "", "") {
			fast++
		}
	}
	// The fast path must be the one that runs on what AWS writes, or this test proves little.
	if len(lines) < 1000 || fast < len(lines)*9/10 {
		t.Fatalf("the fast path decoded %d of %d entries", fast, len(lines))
	}
}

// Damaged entries (bytes changed, dropped or added) get the verdict and row the careful path gives them.
func TestSameVerdictsAsTheCarefulPathOnDamagedEntries(t *testing.T) {
	lines := equivalenceLines(t)
	d := new(decoder)
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("{}[]\",:\\ \t\n\r0123456789.eE+-TZtruefalsnul\x00\x01\x1f\x7f\xc3\xa9\xff/bfnrtu")
	failures, rows := 0, 0
	for i := 0; i < 100_000 && failures < 10; i++ {
		r := append([]byte(nil), lines[rng.IntN(len(lines))]...)
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
		if diff := compareWithCareful(d, r); diff != "" {
			t.Errorf("damaged entry %q: %s", r, diff)
			failures++
		}
		if _, err := parseCareful(r, "", "", "", nil); err == nil {
			rows++
		}
	}
	if rows < 10_000 {
		t.Fatalf("only %d damaged entries were rows: the comparison proves little", rows)
	}
}

// Timestamps the fast path parses itself, and the ones it leaves to logtime, give the same time.
func TestTimestampsAsLogtime(t *testing.T) {
	for _, ts := range []string{"2021-02-04T17:51:55Z", "2024-03-07T12:00:01.5Z", "2024-03-07T12:00:01.123456789Z",
		"2024-03-07T12:00:01.1234567891Z", "2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2024-12-31T23:59:59Z",
		"2024-12-31T24:00:00Z", "2024-12-31T23:60:00Z", "2024-12-31T23:59:60Z", "2024-00-10T00:00:00Z", "2024-13-10T00:00:00Z",
		"2024-01-00T00:00:00Z", "0000-01-01T00:00:00Z", "2024-01-02 03:04:05", "2024-01-02T03:04:05+01:00", "2024-01-02T03:04:05.Z",
		"2024-01-02T03:04:05,5Z", "2024-1-02T03:04:05Z", "2024-01-02T03:04:05z", "+024-01-02T03:04:05Z"} {
		line := []byte(`{"query_timestamp":"` + ts + `"}`)
		if diff := compareWithCareful(new(decoder), line); diff != "" {
			t.Errorf("%s: %s", ts, diff)
		}
	}
}

// FuzzFastMatchesCareful: on any line, parseQuery (fast path first) and the careful path alone give the
// same row or the same reason.
func FuzzFastMatchesCareful(f *testing.F) {
	for line := range bytes.SplitSeq(genQueries(3), []byte("\n")) {
		f.Add(line)
	}
	f.Add([]byte(`{"query_timestamp":"2024-01-02T03:04:05Z","answers":[ {"Rdata":"a\"b"} ],"srcids":{ "instance":"i-1","x":[1,{}]},"srcport":53}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if diff := compareWithCareful(new(decoder), line); diff != "" {
			t.Fatalf("%q: %s", line, diff)
		}
	})
}
