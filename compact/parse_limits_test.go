package compact

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/lakehunt/lakehunt/lake"
)

// Hostile records and objects for the parsers (issue 14, items 1, 2 and 9): each ends quarantined with
// the exact reason, or accepted with exact counts, and the compactor that reads it stays within a memory
// budget: every case runs in a child process under the CLI's default --memory-limit, and the child's peak
// RSS (which counts goroutine stacks, where deep nesting went) is asserted.
//
// Before the depth limit, a CloudTrail record nested 2,000,000 levels crashed the run (stack overflow,
// exit 2, and again on every later run); one nested 1,000,000 levels took 650 MB; a Route 53 line nested
// 4,000,000 levels was accepted at 680 MB, two of them at 1.29 GB.

const parseLimitsChildEnv = "LAKEHUNT_PARSE_LIMITS_CHILD"

type parseLimitCase struct {
	name    string
	objects map[string][]byte // key under the raw root → content as stored
	written int64             // rows that must reach the lake
	// quarantined: exact reasons, "KEY-SUFFIX: reason" for objects, "KEY-SUFFIX#N: reason" for record N
	quarantined []string
	maxRSSMiB   int64
	maxRecord   int // Options.MaxRecordBytes; 0 for the default
}

func ctEvent(id, extra string) string {
	return `{"eventVersion":"1.08","eventID":"` + id + `","eventTime":"2022-11-10T16:50:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","recipientAccountId":"` + acct + `","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::` + acct + `:user/u"}` + extra + `}`
}

// ctBetween is a CloudTrail file with a good event before and after the given one.
func ctBetween(event string) []byte {
	return []byte(`{"Records":[` + ctEvent("before", "") + "," + event + "," + ctEvent("after", "") + "]}")
}

func dnsLine(name, extra string) string {
	return `{"version":"1.100000","account_id":"` + acct + `","region":"us-east-1","vpc_id":"vpc-abc123","query_timestamp":"2022-11-10T16:40:00Z","query_name":"` + name + `","query_type":"A","query_class":"IN","rcode":"NOERROR","srcaddr":"10.0.0.5","srcport":"5353","transport":"UDP"` + extra + "}\n"
}

// dnsBetween is a query log with a good entry before and after the given line.
func dnsBetween(line string) []byte {
	return []byte(dnsLine("before.example.", "") + line + dnsLine("after.example.", ""))
}

const flowHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"

func flowLine(src string) string {
	return "2 " + acct + " eni-1 " + src + " 10.0.0.2 443 49152 6 10 840 1668096000 1668096060 ACCEPT OK\n"
}

func nest(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func zstdOf(t testing.TB, b []byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func zipOf(t testing.TB, name string, b []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseLimits(t *testing.T) {
	if os.Getenv(parseLimitsChildEnv) != "" {
		t.Skip("child process")
	}
	ctKey := ctDir + acct + "_CloudTrail_us-east-1_20221110T1700Z_x.json.gz"
	dnsKey := dnsDir + acct + "_vpcdnsquerylogs_vpc-abc123_20221110T1700Z_x.log.gz"
	dnsKey2 := dnsDir + acct + "_vpcdnsquerylogs_vpc-abc123_20221110T1705Z_y.log.gz"
	flowKey := flowDir + acct + "_vpcflowlogs_us-east-1_fl-1234abcd_20221110T1700Z_x.log.gz"
	const deep = "JSON nested deeper than 512 levels"
	const many = "JSON holds more than 524288 values"
	wide := func(n int) string { return "[" + strings.Repeat("0,", n-1) + "0]" }
	ctDoc := ctBetween(ctEvent("mid", ""))
	dnsDoc := dnsBetween(dnsLine("mid.example.", ""))
	bom := "\ufeff"
	cases := []parseLimitCase{
		// Item 1: CloudTrail nesting, through the recursive record decoder. Records over 2 MiB are
		// quarantined for their size first; under the former 8 MiB limit, for their depth.
		{name: "cloudtrail record nested 2,000,000 levels (4 KB of gzip)",
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("deep", `,"requestParameters":`+nest(2_000_000))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: record is 4000288 bytes, more than the 2097152-byte limit"}, maxRSSMiB: 100},
		{name: "cloudtrail record nested 2,000,000 levels, 8 MiB record limit", maxRecord: 8 << 20,
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("deep", `,"requestParameters":`+nest(2_000_000))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: " + deep}, maxRSSMiB: 100},
		{name: "cloudtrail record nested 1,000,000 levels",
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("deep", `,"requestParameters":`+nest(1_000_000))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: " + deep}, maxRSSMiB: 100},
		{name: "cloudtrail record nested 1,000,000 levels of objects, 8 MiB record limit", maxRecord: 8 << 20,
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("deep", `,"requestParameters":`+strings.Repeat(`{"a":`, 1_000_000)+"0"+strings.Repeat("}", 1_000_000))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: " + deep}, maxRSSMiB: 100},
		{name: "cloudtrail record nested 512 levels is kept",
			objects: map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("deep", `,"requestParameters":`+nest(511))))},
			written: 3, maxRSSMiB: 100},
		{name: "cloudtrail record of 8 MiB of brackets",
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("big", `,"requestParameters":`+nest(4<<20))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: record is 8388895 bytes, more than the 2097152-byte limit"}, maxRSSMiB: 100},
		{name: "cloudtrail record of 600,000 tiny values",
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("wide", `,"requestParameters":`+wide(600_000))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: " + many}, maxRSSMiB: 100},
		{name: "cloudtrail record of 520,000 tiny values is kept",
			objects: map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("wide", `,"requestParameters":`+wide(520_000))))},
			written: 3, maxRSSMiB: 150},
		{name: "cloudtrail record of 16 MiB of tiny values, 32 MiB record limit", maxRecord: 32 << 20,
			objects:     map[string][]byte{ctKey: gz(t, ctBetween(ctEvent("wide", `,"requestParameters":`+wide(8<<20))))},
			written:     2,
			quarantined: []string{"_x.json.gz#2: " + many}, maxRSSMiB: 150},

		// Item 2: Route 53 nesting, through the recursive line reader. Lines over 1 MiB are quarantined for
		// their size first; under the former 8 MiB limit, for their depth.
		{name: "two route 53 lines nested 4,000,000 levels",
			objects: map[string][]byte{
				dnsKey:  gz(t, dnsBetween(dnsLine("deep.example.", `,"answers":`+nest(4_000_000)))),
				dnsKey2: gz(t, dnsBetween(dnsLine("deeper.example.", `,"answers":`+nest(4_000_000)))), // other bytes: a copy is read once
			},
			written: 4,
			quarantined: []string{"_x.log.gz#2: line is 8000284 bytes, more than the 1048576-byte limit",
				"_y.log.gz#2: line is 8000286 bytes, more than the 1048576-byte limit"}, maxRSSMiB: 100},
		{name: "two route 53 lines nested 4,000,000 levels, 8 MiB record limit", maxRecord: 8 << 20,
			objects: map[string][]byte{
				dnsKey:  gz(t, dnsBetween(dnsLine("deep.example.", `,"answers":`+nest(4_000_000)))),
				dnsKey2: gz(t, dnsBetween(dnsLine("deeper.example.", `,"answers":`+nest(4_000_000)))), // other bytes: a copy is read once
			},
			written:     4,
			quarantined: []string{"_x.log.gz#2: " + deep, "_y.log.gz#2: " + deep}, maxRSSMiB: 150},
		{name: "route 53 lines nested 500,000 levels and 100,000 levels of objects",
			objects: map[string][]byte{
				dnsKey:  gz(t, dnsBetween(dnsLine("deep.example.", `,"answers":`+nest(500_000)))),
				dnsKey2: gz(t, dnsBetween(dnsLine("deep.example.", `,"srcids":`+strings.Repeat(`{"a":`, 100_000)+"0"+strings.Repeat("}", 100_000)))),
			},
			written:     4,
			quarantined: []string{"_x.log.gz#2: " + deep, "_y.log.gz#2: " + deep}, maxRSSMiB: 100},
		{name: "route 53 line of 500,000 tiny values is kept",
			objects: map[string][]byte{dnsKey: gz(t, dnsBetween(dnsLine("wide.example.", `,"answers":`+wide(500_000))))},
			written: 3, maxRSSMiB: 150},

		// Records at their source's size limit, two of each source at once (one per worker), are kept.
		{name: "records just under the size limits are kept",
			objects: map[string][]byte{
				ctKey:                                 gz(t, ctBetween(ctEvent("big", `,"requestParameters":{"k":"`+strings.Repeat("k", 2<<20-500)+`"}`))),
				strings.Replace(ctKey, "_x", "_y", 1): gz(t, []byte(`{"Records":[`+ctEvent("big2", `,"requestParameters":{"k":"`+strings.Repeat("k", 2<<20-500)+`"}`)+`]}`)),
				dnsKey:                                gz(t, dnsBetween(dnsLine("big.example.", `,"answers":["`+strings.Repeat("a", 1<<20-500)+`"]`))),
				dnsKey2:                               gz(t, dnsBetween(dnsLine("big2.example.", `,"answers":["`+strings.Repeat("a", 1<<20-500)+`"]`))),
			},
			written: 3 + 1 + 3 + 3, maxRSSMiB: 200},

		// Item 9: formats named by their magic bytes; byte-order marks accepted.
		{name: "zstd under .gz", objects: map[string][]byte{ctKey: zstdOf(t, ctDoc)},
			quarantined: []string{"_x.json.gz: zstd-compressed content under a .gz key: AWS delivers gzip; re-deliver the object as gzip"}},
		{name: "bzip2 under .gz", objects: map[string][]byte{dnsKey: []byte("BZh91AY&SY\x00\x01")},
			quarantined: []string{"_x.log.gz: bzip2-compressed content under a .gz key: AWS delivers gzip; re-deliver the object as gzip"}},
		{name: "xz under .gz", objects: map[string][]byte{flowKey: []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4F")},
			quarantined: []string{"_x.log.gz: xz-compressed content under a .gz key: AWS delivers gzip; re-deliver the object as gzip"}},
		{name: "zip under .gz", objects: map[string][]byte{ctKey: zipOf(t, "x.json", ctDoc)},
			quarantined: []string{"_x.json.gz: a zip archive under a .gz key: AWS delivers gzip; unzip it and deliver each log in it as gzip"}},
		{name: "parquet under .gz", objects: map[string][]byte{flowKey: []byte("PAR1\x15\x04\x15\x10")},
			quarantined: []string{"_x.log.gz: Parquet data under a .gz key: compact reads the text logs AWS delivers; deliver the log as gzip-compressed text"}},
		{name: "gzip inside gzip", objects: map[string][]byte{ctKey: gz(t, gz(t, ctDoc))},
			quarantined: []string{"_x.json.gz: gzip content inside the gzip: the object was compressed twice; re-deliver it as gzip of the log text"}},
		{name: "zstd inside gzip", objects: map[string][]byte{dnsKey: gz(t, zstdOf(t, dnsDoc))},
			quarantined: []string{"_x.log.gz: zstd-compressed content inside the gzip: the object was compressed twice; re-deliver it as gzip of the log text"}},
		{name: "UTF-16 text", objects: map[string][]byte{flowDir + acct + "_vpcflowlogs_us-east-1_fl-1234abcd_20221110T1700Z_x.log": []byte("\xff\xfev\x00e\x00r\x00")},
			quarantined: []string{"_x.log: UTF-16 text under a .log key: AWS delivers UTF-8; re-encode the object as UTF-8"}},
		{name: "plain JSON under .gz is read", objects: map[string][]byte{ctKey: ctDoc}, written: 3},
		{name: "byte-order marks", objects: map[string][]byte{
			ctKey:   gz(t, append([]byte(bom), ctDoc...)),
			dnsKey:  gz(t, []byte(bom+dnsLine("a.example.", "")+bom+dnsLine("b.example.", ""))),
			flowKey: gz(t, []byte(bom+flowHeader+flowLine("10.0.0.7")+bom+flowLine("10.0.0.8"))),
		}, written: 3 + 2 + 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.maxRSSMiB == 0 {
				tc.maxRSSMiB = 100
			}
			sum, rss := runParseLimitsChild(t, tc.objects, tc.maxRecord)
			var got []string
			for _, q := range sum.Quarantine {
				at := filepath.Base(q.SourceKey)
				at = at[strings.LastIndex(at, "_"):]
				if q.Record > 0 {
					at += fmt.Sprintf("#%d", q.Record)
				}
				got = append(got, at+": "+q.Reason)
			}
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(tc.quarantined, "\n") {
				t.Errorf("quarantined:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.quarantined, "\n  "))
			}
			if sum.RecordsWritten != tc.written {
				t.Errorf("%d rows written, want %d", sum.RecordsWritten, tc.written)
			}
			if rss < 0 {
				t.Logf("peak RSS not measured: no /proc/self/status")
				return
			}
			t.Logf("peak RSS %d MiB", rss>>20)
			if rss > tc.maxRSSMiB<<20 {
				t.Errorf("peak RSS %d MiB, budget %d MiB", rss>>20, tc.maxRSSMiB)
			}
		})
	}
}

// runParseLimitsChild compacts objects in a child process and returns its summary and peak RSS in bytes.
func runParseLimitsChild(t *testing.T, objects map[string][]byte, maxRecord int) (*Summary, int64) {
	t.Helper()
	ctx := context.Background()
	rawDir, dir := t.TempDir(), t.TempDir()
	raw, err := lake.OpenStore(ctx, rawDir, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, b := range objects {
		if err := lake.PutBytes(ctx, raw, k, b); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "summary.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestParseLimitsChild$")
	cmd.Env = append(os.Environ(), parseLimitsChildEnv+"=1", "CHILD_RAW="+rawDir, "CHILD_LAKE="+filepath.Join(dir, "lake"), "CHILD_OUT="+out, fmt.Sprintf("CHILD_MAX_RECORD=%d", maxRecord))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compactor process: %v\n%.4000s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	hwm, err := os.ReadFile(out + ".rss")
	if err != nil {
		t.Fatal(err)
	}
	rss, err := strconv.ParseInt(string(hwm), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return &sum, rss
}

// TestParseLimitsChild is the compactor process of TestParseLimits; it does nothing in a normal test run.
func TestParseLimitsChild(t *testing.T) {
	if os.Getenv(parseLimitsChildEnv) == "" {
		t.Skip("run by TestParseLimits")
	}
	debug.SetMemoryLimit(384 << 20) // lakehunt compact's default --memory-limit
	debug.SetGCPercent(200)         // and the GOGC it sets with it
	ctx := context.Background()
	raw, err := lake.OpenStore(ctx, os.Getenv("CHILD_RAW"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, os.Getenv("CHILD_LAKE"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	maxRecord, _ := strconv.Atoi(os.Getenv("CHILD_MAX_RECORD"))
	sum, err := Run(ctx, Options{From: raw, Lake: lk, MaxRecordBytes: maxRecord})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("CHILD_OUT"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(os.Getenv("CHILD_OUT")+".rss", []byte(strconv.FormatInt(peakRSS(t), 10)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// peakRSS is this process's peak resident set size in bytes (VmHWM: since its exec, unlike the rusage of a
// child, which starts from its parent's), or -1 where /proc does not tell.
func peakRSS(t *testing.T) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	return -1
}
