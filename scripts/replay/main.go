// Command replay writes a CloudTrail corpus that lakehunt's own generator did not shape, for the
// compaction benchmark (scripts/bench.sh): the public sample records in testdata/ (AWS documentation
// examples and Panther's labelled rule tests, see testdata/PROVENANCE.md) replayed with fresh eventIDs
// and times, spread over accounts, regions and days, written as CloudTrail delivers them to S3
// (AWSLogs/ACCT/CloudTrail/REGION/Y/M/D/ACCT_CloudTrail_REGION_TIME_ID.json.gz holding {"Records":[...]}).
// About 1% of the records are repeated in a later object of the same folder, as CloudTrail sometimes
// delivers an event twice. The same flags give the same bytes.
//
//	go run ./scripts/replay --out DIR [--events 500000] [--objects 1000]
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"
)

func main() {
	out := flag.String("out", "", "directory to write AWSLogs/ into (required)")
	events := flag.Int("events", 500_000, "records to write, repeats included")
	objects := flag.Int("objects", 1000, "objects to write")
	days := flag.Int("days", 7, "days the records spread over")
	accounts := flag.Int("accounts", 2, "accounts")
	regions := flag.Int("regions", 2, "regions per account")
	start := flag.String("start", "2025-06-02", "first day, YYYY-MM-DD")
	seed := flag.Uint64("seed", 1, "random seed")
	testdata := flag.String("testdata", "testdata", "the repository's testdata folder")
	flag.Parse()
	if *out == "" || *events <= 0 || *objects <= 0 || *days <= 0 || *accounts <= 0 || *regions <= 0 || *accounts > 9 || *regions > len(regionNames) {
		fmt.Fprintln(os.Stderr, "usage: replay --out DIR [--events N] [--objects N] [--days N] [--accounts 1-9] [--regions 1-6]")
		os.Exit(2)
	}
	day0, err := time.Parse(time.DateOnly, *start)
	if err == nil {
		err = run(*out, *testdata, *events, *objects, *days, *accounts, *regions, day0, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

var regionNames = []string{"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1", "sa-east-1"}

// sample is one public record as its top-level keys in their original order, each with its raw value.
type sample struct {
	keys []string
	vals []json.RawMessage
}

func loadSamples(testdata string) ([]sample, error) {
	var all []sample
	for _, f := range []struct{ path, field string }{
		{"awsdocs/cloudtrail/cloudtrail_doc_examples.jsonl", "record"},
		{"panther/aws_cloudtrail.tests.jsonl", "log"},
	} {
		b, err := os.ReadFile(filepath.Join(testdata, f.path))
		if err != nil {
			return nil, err
		}
		for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var wrap map[string]json.RawMessage
			if err := json.Unmarshal(line, &wrap); err != nil {
				return nil, fmt.Errorf("%s line %d: %w", f.path, i+1, err)
			}
			s, err := objectKeys(wrap[f.field])
			if err != nil {
				continue // not an object: nothing CloudTrail would deliver
			}
			all = append(all, s)
		}
	}
	if len(all) == 0 {
		return nil, errors.New("no sample records found under " + testdata)
	}
	return all, nil
}

func objectKeys(raw json.RawMessage) (sample, error) {
	var s sample
	d := json.NewDecoder(bytes.NewReader(raw))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return s, errors.New("not an object")
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return s, err
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return s, err
		}
		var c bytes.Buffer
		if err := json.Compact(&c, v); err != nil {
			return s, err
		}
		s.keys, s.vals = append(s.keys, t.(string)), append(s.vals, c.Bytes())
	}
	return s, nil
}

// write appends s to b with the replay's own eventID, eventTime, account and region.
func (s sample) write(b *bytes.Buffer, id, at, account, region string) {
	set := map[string]string{"eventID": id, "eventTime": at, "recipientAccountId": account, "awsRegion": region}
	b.WriteByte('{')
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		if v, ok := set[k]; ok {
			vb, _ := json.Marshal(v)
			b.Write(vb)
			delete(set, k)
			continue
		}
		b.Write(s.vals[i])
	}
	for _, k := range []string{"eventID", "eventTime", "recipientAccountId", "awsRegion"} { // keys the sample lacked
		if v, ok := set[k]; ok {
			fmt.Fprintf(b, `,%q:%q`, k, v)
		}
	}
	b.WriteByte('}')
}

type folder struct {
	account, region string
	day             time.Time
	recent          [][]byte // records written in this folder, some of which are delivered again
}

func run(out, testdata string, events, objects, days, accounts, regions int, day0 time.Time, seed uint64) error {
	samples, err := loadSamples(testdata)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 15))
	var folders []*folder
	for d := range days {
		for a := range accounts {
			for r := range regions {
				folders = append(folders, &folder{account: fmt.Sprintf("%d", 111122223333+a*111111111111), region: regionNames[r], day: day0.AddDate(0, 0, d)})
			}
		}
	}
	var rec, body bytes.Buffer
	written := 0
	for o := range objects {
		f := folders[o%len(folders)]
		n := events / objects
		if o < events%objects {
			n++
		}
		// The object's records fall in a few minutes of its day, in time order; CloudTrail delivers it after.
		slot := o / len(folders)
		perFolder := (objects + len(folders) - 1) / len(folders)
		begin := f.day.Add(time.Duration(slot) * 24 * time.Hour / time.Duration(perFolder))
		span := 24 * time.Hour / time.Duration(perFolder)
		offsets := make([]int64, n)
		for i := range offsets {
			offsets[i] = rng.Int64N(int64(span / time.Second))
		}
		sort.Slice(offsets, func(i, j int) bool { return offsets[i] < offsets[j] })
		body.Reset()
		body.WriteString(`{"Records":[`)
		for i := range n {
			if i > 0 {
				body.WriteByte(',')
			}
			if len(f.recent) > 0 && rng.IntN(100) == 0 {
				body.Write(f.recent[rng.IntN(len(f.recent))])
				continue
			}
			rec.Reset()
			at := begin.Add(time.Duration(offsets[i]) * time.Second).UTC().Format("2006-01-02T15:04:05Z")
			samples[rng.IntN(len(samples))].write(&rec, uuid(rng), at, f.account, f.region)
			body.Write(rec.Bytes())
			if len(f.recent) < 64 {
				f.recent = append(f.recent, bytes.Clone(rec.Bytes()))
			} else {
				f.recent[rng.IntN(64)] = bytes.Clone(rec.Bytes())
			}
		}
		body.WriteString("]}")
		written += n
		delivered := begin.Add(span + 5*time.Minute).UTC()
		key := filepath.Join("AWSLogs", f.account, "CloudTrail", f.region, f.day.Format("2006/01/02"),
			fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", f.account, f.region, delivered.Format("20060102T1504Z"), randomID(rng)))
		if err := writeGzip(filepath.Join(out, key), body.Bytes()); err != nil {
			return err
		}
	}
	fmt.Printf("{\"objects\": %d, \"records\": %d, \"samples\": %d}\n", objects, written, len(samples))
	return nil
}

func writeGzip(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	z := gzip.NewWriter(w)
	if _, err := io.Copy(z, bytes.NewReader(b)); err != nil {
		f.Close()
		return err
	}
	if err := z.Close(); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0x3fff|0x8000, b&0xffffffffffff)
}

func randomID(r *rand.Rand) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}
