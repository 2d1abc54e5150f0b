package compact

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

var testdata = filepath.Join("..", "testdata")

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// docRecords reads the CloudTrail examples from the AWS documentation that carry an eventID, one per id
// (the parser's own tests cover eventVersion 1.0 records without one, and Insights records).
func docRecords(t testing.TB) []json.RawMessage {
	t.Helper()
	f, err := os.Open(filepath.Join(testdata, "awsdocs", "cloudtrail", "cloudtrail_doc_examples.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []json.RawMessage
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Record json.RawMessage `json:"record"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		var e struct{ EventID string }
		if err := json.Unmarshal(line.Record, &e); err != nil {
			t.Fatal(err)
		}
		if e.EventID != "" && !seen[e.EventID] {
			seen[e.EventID] = true
			out = append(out, line.Record)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d CloudTrail documentation examples with an eventID", len(out))
	}
	return out
}

func recordsFile(recs []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString("]}")
	return b.Bytes()
}

const (
	acct    = "111122223333"
	ctDir   = "AWSLogs/" + acct + "/CloudTrail/us-east-1/2022/11/10/"
	flowDir = "AWSLogs/" + acct + "/vpcflowlogs/us-east-1/2022/11/10/"
	dnsDir  = "AWSLogs/" + acct + "/vpcdnsquerylogs/vpc-abc123/2022/11/10/"
)

// corpus is a raw tree in AWS's layout with known content: good objects, duplicates, digests, bad input.
type corpus struct {
	objects        map[string][]byte
	wantEventIDs   map[string]bool // distinct CloudTrail eventIDs that must end up in the lake
	wantFlows      int             // good flow records
	wantDNS        int             // good DNS queries
	badObjects     int             // objects that must be quarantined whole
	badRecords     int             // records that must be quarantined
	skippedObjects int             // digest/insight files
}

func goodCorpus(t testing.TB) *corpus {
	c := &corpus{objects: map[string][]byte{}, wantEventIDs: map[string]bool{}}
	recs := docRecords(t)
	for _, r := range recs {
		var e struct{ EventID string }
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		if e.EventID != "" {
			c.wantEventIDs[e.EventID] = true
		}
	}
	half := len(recs) / 2
	c.objects[ctDir+acct+"_CloudTrail_us-east-1_20221110T1625Z_a1.json.gz"] = gz(t, recordsFile(recs[:half]))
	c.objects[ctDir+acct+"_CloudTrail_us-east-1_20221110T1630Z_b2.json.gz"] = gz(t, recordsFile(recs[half:]))
	// The same events delivered again by an organization trail: all duplicates.
	c.objects["AWSLogs/o-exampleorgid/"+acct+"/CloudTrail/us-east-1/2022/11/10/"+acct+"_CloudTrail_us-east-1_20221110T1625Z_dup.json.gz"] = gz(t, recordsFile(recs[:half]))
	c.objects["AWSLogs/"+acct+"/CloudTrail-Digest/us-east-1/2022/11/10/"+acct+"_CloudTrail-Digest_us-east-1_trail_us-east-1_20221110T170000Z.json.gz"] =
		gz(t, []byte(`{"awsAccountId":"`+acct+`","digestStartTime":"2022-11-10T16:00:00Z","digestEndTime":"2022-11-10T17:00:00Z","logFiles":[]}`))
	c.skippedObjects = 1

	for _, name := range []string{"v2_default.log", "v3_tcp_flag_sequence.log", "v5_service_trafficpath_direction.log", "v3_transit_gateway.log"} {
		b, err := os.ReadFile(filepath.Join(testdata, "awsdocs", "vpcflow", name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		c.wantFlows += len(lines) - 1
		c.objects[flowDir+acct+"_vpcflowlogs_us-east-1_fl-1234abcd_20221110T1630Z_"+strings.TrimSuffix(name, ".log")+".log.gz"] = gz(t, b)
	}
	var dns bytes.Buffer
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&dns, `{"version":"1.100000","account_id":"%s","region":"us-east-1","vpc_id":"vpc-abc123","query_timestamp":"2022-11-10T16:2%d:00Z","query_name":"example%d.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"192.0.2.%d","Type":"A","Class":"IN"}],"srcaddr":"10.0.0.5","srcport":"5353","transport":"UDP","srcids":{"instance":"i-0abc234"}}`+"\n", acct, i, i, i)
	}
	c.wantDNS = 5
	c.objects[dnsDir+acct+"_vpcdnsquerylogs_vpc-abc123_20221110T1630Z_q1.log.gz"] = gz(t, dns.Bytes())
	return c
}

// withBadInput adds every kind of bad input the compactor must quarantine without losing the rest.
func (c *corpus) withBadInput(t testing.TB) *corpus {
	good := c.objects[ctDir+acct+"_CloudTrail_us-east-1_20221110T1625Z_a1.json.gz"]
	bad := map[string][]byte{
		"corrupt.json.gz":   append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, []byte("this is not deflate data at all")...),
		"truncated.json.gz": gz(t, []byte(`{"Records":[{"eventVersion":"1.08","eventID":"x1","eventTime":"2022-11-10T16:00:00Z"`)),
		"cut-gzip.json.gz":  good[:len(good)/2],
		"empty.json.gz":     {},
		"flowlog.json.gz":   gz(t, []byte("version account-id interface-id srcaddr\n2 1 eni-1 10.0.0.1\n")),
	}
	for name, b := range bad {
		c.objects[ctDir+acct+"_CloudTrail_us-east-1_20221110T1700Z_"+name] = b
		c.badObjects++
	}
	// A flow-log file with one line that does not match its header, and a DNS file with a 50 MB line.
	c.objects[flowDir+acct+"_vpcflowlogs_us-east-1_fl-1234abcd_20221110T1700Z_badline.log.gz"] = gz(t, []byte(
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"+
			"2 "+acct+" eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1668096000 1668096060 ACCEPT OK\n"+
			"2 "+acct+" eni-1 10.0.0.1 10.0.0.2 443\n"))
	c.wantFlows++
	c.badRecords++
	huge := `{"version":"1.100000","account_id":"` + acct + `","region":"us-east-1","vpc_id":"vpc-abc123","query_timestamp":"2022-11-10T16:40:00Z","query_name":"` +
		strings.Repeat("a", 50<<20) + `.com.","query_type":"A"}` + "\n" +
		`{"version":"1.100000","account_id":"` + acct + `","region":"us-east-1","vpc_id":"vpc-abc123","query_timestamp":"2022-11-10T16:41:00Z","query_name":"after-huge.example.","query_type":"A","rcode":"NOERROR","srcaddr":"10.0.0.5","srcids":{"instance":"i-0abc234"}}` + "\n"
	c.objects[dnsDir+acct+"_vpcdnsquerylogs_vpc-abc123_20221110T1700Z_huge.log.gz"] = gz(t, []byte(huge))
	c.wantDNS++
	c.badRecords++
	// A CloudTrail event of 50 MB between two good ones, and a 50 MB flow-log line between two good ones.
	ev := func(id, extra string) string {
		return `{"eventVersion":"1.08","eventID":"` + id + `","eventTime":"2022-11-10T16:50:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObject","awsRegion":"us-east-1","recipientAccountId":"` + acct + `","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::` + acct + `:user/u"}` + extra + `}`
	}
	c.objects[ctDir+acct+"_CloudTrail_us-east-1_20221110T1750Z_huge.json.gz"] = gz(t, []byte(`{"Records":[`+
		ev("huge-before", "")+","+ev("huge-event", `,"requestParameters":{"key":"`+strings.Repeat("k", 50<<20)+`"}`)+","+ev("huge-after", "")+"]}"))
	c.wantEventIDs["huge-before"], c.wantEventIDs["huge-after"] = true, true
	c.badRecords++
	flowLine := func(src string) string {
		return "2 " + acct + " eni-1 " + src + " 10.0.0.2 443 49152 6 10 840 1668096000 1668096060 ACCEPT OK\n"
	}
	c.objects[flowDir+acct+"_vpcflowlogs_us-east-1_fl-1234abcd_20221110T1750Z_huge.log.gz"] = gz(t, []byte(
		"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"+
			flowLine("10.0.0.7")+"2 "+acct+" eni-1 "+strings.Repeat("9", 50<<20)+" 10.0.0.2\n"+flowLine("10.0.0.8")))
	c.wantFlows += 2
	c.badRecords++
	return c
}

func (c *corpus) writeTo(t testing.TB, st lake.Store) {
	t.Helper()
	keys := make([]string, 0, len(c.objects))
	for k := range c.objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := lake.PutBytes(context.Background(), st, k, c.objects[k]); err != nil {
			t.Fatal(err)
		}
	}
}

// lakeContents reads every live row of the lake back.
type contents struct {
	eventIDs  map[string]int
	jsonCols  int // CloudTrail rows whose user_identity survived as valid JSON
	reqParams int // CloudTrail rows with non-empty, valid request_parameters
	flows     int
	dns       int
	files     int
	version   int64
	rowsHash  map[string]int // table-specific fingerprint of each row, for backend comparisons
	sources   map[string]int // rows per source_key
}

func readLake(t testing.TB, lk *lake.Lake) contents {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := contents{eventIDs: map[string]int{}, files: len(snap.Files), version: snap.Version, rowsHash: map[string]int{}, sources: map[string]int{}}
	for _, f := range snap.Files {
		paths, err := lk.LocalPaths(ctx, []lake.FileEntry{f})
		if err != nil {
			t.Fatal(err)
		}
		switch f.Table {
		case lake.TableCloudTrail:
			rows := readFile[lake.CloudTrailEvent](t, f, paths[0], func(r *lake.CloudTrailEvent) time.Time { return r.EventTime })
			for _, r := range rows {
				c.eventIDs[r.EventID]++
				c.sources[r.SourceKey]++
				if r.UserIdentity != nil && json.Valid([]byte(*r.UserIdentity)) {
					c.jsonCols++
				}
				if r.RequestParameters != nil && json.Valid([]byte(*r.RequestParameters)) {
					c.reqParams++
				}
				r.IngestedAt = time.Time{}
				c.rowsHash[rowJSON(t, r)]++
			}
		case lake.TableVPCFlow:
			rows := readFile[lake.VPCFlowRecord](t, f, paths[0], func(r *lake.VPCFlowRecord) time.Time { return r.EventTime })
			c.flows += len(rows)
			for _, r := range rows {
				c.sources[r.SourceKey]++
				r.IngestedAt = time.Time{}
				c.rowsHash[rowJSON(t, r)]++
			}
		case lake.TableRoute53Resolver:
			rows := readFile[lake.Route53ResolverQuery](t, f, paths[0], func(r *lake.Route53ResolverQuery) time.Time { return r.EventTime })
			c.dns += len(rows)
			for _, r := range rows {
				c.sources[r.SourceKey]++
				r.IngestedAt = time.Time{}
				c.rowsHash[rowJSON(t, r)]++
			}
		}
	}
	return c
}

// rowJSON is a whole row as text (pointers followed), for comparing lakes row by row.
func rowJSON(t testing.TB, r any) string {
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readFile reads a lake file's rows and checks what readers rely on: as many rows as its entry says,
// sorted by event time, within the entry's time range.
func readFile[T any](t testing.TB, fe lake.FileEntry, path string, at func(*T) time.Time) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	rows := make([]T, r.NumRows())
	if n, err := r.Read(rows); n != len(rows) || (err != nil && err != io.EOF) {
		t.Fatalf("%s: read %d of %d rows: %v", fe.Key, n, len(rows), err)
	}
	if int64(len(rows)) != fe.Rows {
		t.Errorf("%s holds %d rows, its entry says %d", fe.Key, len(rows), fe.Rows)
	}
	for i := range rows {
		ti := at(&rows[i])
		if i > 0 && ti.Before(at(&rows[i-1])) {
			t.Errorf("%s: row %d (%v) is before row %d (%v): not sorted by event time", fe.Key, i, ti, i-1, at(&rows[i-1]))
			break
		}
		if ti.Before(fe.MinTime) || ti.After(fe.MaxTime) {
			t.Errorf("%s: row %d at %v is outside the entry's range %v..%v", fe.Key, i, ti, fe.MinTime, fe.MaxTime)
			break
		}
	}
	return rows
}

func (c *corpus) check(t *testing.T, got contents) {
	t.Helper()
	for id := range c.wantEventIDs {
		if got.eventIDs[id] != 1 {
			t.Errorf("event %s is in the lake %d times, want exactly once", id, got.eventIDs[id])
		}
	}
	for id, n := range got.eventIDs {
		if !c.wantEventIDs[id] {
			t.Errorf("unexpected event %s (x%d) in the lake", id, n)
		}
	}
	if got.jsonCols != len(c.wantEventIDs) || got.reqParams == 0 {
		t.Errorf("JSON columns lost: %d of %d rows have userIdentity JSON, %d have requestParameters", got.jsonCols, len(c.wantEventIDs), got.reqParams)
	}
	if got.flows != c.wantFlows {
		t.Errorf("vpc_flow rows = %d, want %d", got.flows, c.wantFlows)
	}
	if got.dns != c.wantDNS {
		t.Errorf("route53_resolver rows = %d, want %d", got.dns, c.wantDNS)
	}
}

func TestCompactDiskAndS3GiveTheSameLake(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	c := goodCorpus(t).withBadInput(t)
	backends := map[string]struct{ raw, lake string }{
		"disk-to-disk": {t.TempDir(), t.TempDir()},
		"s3-to-s3":     {srv.Bucket(t, "org-trail-bucket") + "logs/", srv.Bucket(t, "sec-lake") + "lake/"},
	}
	results := map[string]contents{}
	for name, b := range backends {
		t.Run(name, func(t *testing.T) {
			raw, err := lake.OpenStore(ctx, b.raw, lake.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c.writeTo(t, raw)
			lk, err := lake.Open(ctx, b.lake, lake.Options{CacheDir: t.TempDir(), Create: true})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := Run(ctx, Options{From: raw, Lake: lk})
			if err != nil {
				t.Fatal(err)
			}
			if sum.ObjectsQuarantined != c.badObjects || sum.RecordsQuarantined != int64(c.badRecords) {
				t.Errorf("quarantined %d objects and %d records, want %d and %d: %+v", sum.ObjectsQuarantined, sum.RecordsQuarantined, c.badObjects, c.badRecords, sum.Quarantine)
			}
			if sum.ObjectsSkipped != c.skippedObjects {
				t.Errorf("skipped %d objects, want %d (the digest)", sum.ObjectsSkipped, c.skippedObjects)
			}
			if want := int64(len(docRecords(t)) / 2); sum.DuplicatesDropped != want {
				t.Errorf("duplicates dropped = %d, want %d (the org trail's copy)", sum.DuplicatesDropped, want)
			}
			got := readLake(t, lk)
			c.check(t, got)
			snap, _ := lk.Snapshot(ctx)
			parts := map[string]bool{}
			for _, f := range snap.Files {
				parts[f.Partition()] = true
			}
			if sum.PartitionsWritten != len(parts) {
				t.Errorf("summary says %d partitions written, the lake has %d", sum.PartitionsWritten, len(parts))
			}
			if in := sum.RecordsWritten + sum.DuplicatesDropped + sum.RecordsQuarantined; sum.RecordsIn != in {
				t.Errorf("records_in %d != written %d + duplicates %d + quarantined %d", sum.RecordsIn, sum.RecordsWritten, sum.DuplicatesDropped, sum.RecordsQuarantined)
			}
			if sum.BytesIn <= 0 || sum.BytesInUncompressed <= sum.BytesIn || sum.BytesOut <= 0 || sum.Seconds <= 0 {
				t.Errorf("byte and time counters not filled: in %d (uncompressed %d), out %d, %.3fs", sum.BytesIn, sum.BytesInUncompressed, sum.BytesOut, sum.Seconds)
			}
			reasons := map[string]string{}
			for _, q := range snap.Quarantine {
				reasons[filepath.Base(q.SourceKey)] = q.Reason
			}
			for suffix, want := range map[string]string{
				"1700Z_corrupt.json.gz":   "corrupt gzip",
				"1700Z_cut-gzip.json.gz":  "corrupt gzip",
				"1700Z_empty.json.gz":     "empty object",
				"1700Z_flowlog.json.gz":   "not a cloudtrail log file",
				"1700Z_truncated.json.gz": "not a cloudtrail log file",
				"1700Z_badline.log.gz":    "6 fields, the header has 14",
				"1700Z_huge.log.gz":       "more than the 1048576-byte limit",
				"1750Z_huge.log.gz":       "more than the 65536-byte limit",
				"1750Z_huge.json.gz":      "record is 52429104 bytes, more than the 2097152-byte limit",
			} {
				found := false
				for k, r := range reasons {
					if strings.HasSuffix(k, suffix) {
						found = true
						if !strings.Contains(strings.ToLower(r), want) {
							t.Errorf("%s quarantined with reason %q, want it to mention %q", k, r, want)
						}
					}
				}
				if !found {
					t.Errorf("nothing ending in %s was quarantined", suffix)
				}
			}

			// Re-running on the same input writes nothing and quarantines nothing again.
			again, err := Run(ctx, Options{From: raw, Lake: lk})
			if err != nil {
				t.Fatal(err)
			}
			if again.FilesWritten != 0 || again.Commits != 0 || again.ObjectsAlreadyDone != len(c.objects) || again.Quarantined() {
				t.Errorf("second run changed something: %+v", again)
			}
			if v := readLake(t, lk).version; v != got.version {
				t.Errorf("lake version moved from %d to %d on a no-op run", got.version, v)
			}
			results[name] = got
		})
	}
	a, b := results["disk-to-disk"], results["s3-to-s3"]
	if len(a.rowsHash) == 0 || fmt.Sprint(a.rowsHash) != fmt.Sprint(b.rowsHash) {
		t.Errorf("disk and S3 lakes differ:\n disk %d rows\n s3   %d rows", len(a.rowsHash), len(b.rowsHash))
		for k, n := range a.rowsHash {
			if b.rowsHash[k] != n {
				t.Errorf("row on disk %d times, on S3 %d times: %s", n, b.rowsHash[k], k)
				break
			}
		}
	}
}

// TestFromAnyLevelOfTheLayout compacts from every level a user may point --from at, on disk and on S3:
// each level reads exactly the objects under it, rows name their object from AWSLogs/ on, and a second
// run from the top of the tree reads only what the first did not, so nothing is in the lake twice.
func TestFromAnyLevelOfTheLayout(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	c := goodCorpus(t)
	const trail = "trail/" // a CloudTrail S3 key prefix in front of AWSLogs/
	roots := map[string]string{"disk": t.TempDir(), "s3": srv.Bucket(t, "org-trail-bucket")}
	for name, root := range roots {
		st, err := lake.OpenStore(ctx, root, lake.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, b := range c.objects {
			if err := lake.PutBytes(ctx, st, trail+k, b); err != nil {
				t.Fatal(err)
			}
		}
		for _, level := range []string{"", trail, trail + "AWSLogs/", trail + "AWSLogs/" + acct + "/", trail + ctDir[:strings.Index(ctDir, "us-east-1")],
			trail + ctDir[:len(ctDir)-len("10/")], trail + "AWSLogs/o-exampleorgid/", trail + "AWSLogs/o-exampleorgid/" + acct + "/"} {
			t.Run(name+"/"+level, func(t *testing.T) {
				from, err := lake.OpenStore(ctx, strings.TrimSuffix(root, "/")+"/"+level, lake.StoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				under := 0 // objects under the level, and the rows their events must leave in the lake
				want := map[string]bool{}
				for k := range c.objects {
					if strings.HasPrefix(trail+k, level) {
						under++
						if !strings.Contains(k, "Digest") {
							want[k] = true
						}
					}
				}
				lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
				if err != nil {
					t.Fatal(err)
				}
				sum, err := Run(ctx, Options{From: from, Lake: lk})
				if err != nil {
					t.Fatal(err)
				}
				if sum.ObjectsListed != under || sum.ObjectsIgnored != 0 || sum.ObjectsRead+sum.ObjectsSkipped != under || sum.NothingFound() != "" {
					t.Fatalf("from %s: listed %d, ignored %d, read %d, skipped %d; want all %d under it read or skipped (%s)",
						from.URL(), sum.ObjectsListed, sum.ObjectsIgnored, sum.ObjectsRead, sum.ObjectsSkipped, under, sum.NothingFound())
				}
				got := readLake(t, lk)
				for k := range got.sources {
					if !want[k] {
						t.Errorf("rows with source_key %q: not one of the objects under %s, from AWSLogs/ on", k, level)
					}
				}
				for k := range want {
					if got.sources[k] == 0 && !strings.Contains(k, "o-exampleorgid") { // the org copy is all duplicates, unless read alone
						t.Errorf("no rows with source_key %q", k)
					}
				}

				all, err := lake.OpenStore(ctx, root, lake.StoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				again, err := Run(ctx, Options{From: all, Lake: lk})
				if err != nil {
					t.Fatal(err)
				}
				if again.ObjectsAlreadyDone != under || again.ObjectsRead+again.ObjectsSkipped != len(c.objects)-under {
					t.Errorf("from the bucket root after %s: %d already done, %d read, %d skipped; want the %d objects read before done and only the other %d read",
						level, again.ObjectsAlreadyDone, again.ObjectsRead, again.ObjectsSkipped, under, len(c.objects)-under)
				}
				c.check(t, readLake(t, lk))
			})
		}
	}
}

// TestObjectsConsumedUnderTheirOldKeyAreNotReadAgain: a lake written when consumed objects were recorded
// relative to --from (trail/AWSLogs/... for --from at the bucket root) does not read them again.
func TestObjectsConsumedUnderTheirOldKeyAreNotReadAgain(t *testing.T) {
	ctx := context.Background()
	c := goodCorpus(t)
	dir := t.TempDir()
	raw, err := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	var old []lake.SourceObject
	for k, b := range c.objects {
		if err := lake.PutBytes(ctx, raw, "trail/"+k, b); err != nil {
			t.Fatal(err)
		}
		old = append(old, lake.SourceObject{Key: "trail/" + k, Size: int64(len(b)), Status: "ok"})
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lk.Commit(ctx, snap, lake.Commit{Operation: "compact", Sources: old}); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, Options{From: raw, Lake: lk})
	if err != nil {
		t.Fatal(err)
	}
	if sum.ObjectsAlreadyDone != len(c.objects) || sum.ObjectsRead != 0 {
		t.Errorf("%d of %d objects recognised as consumed under their old keys, %d read again", sum.ObjectsAlreadyDone, len(c.objects), sum.ObjectsRead)
	}
}

// TestNothingFoundIsExplained: a location with no objects, or none in the AWS layout, says so, naming
// the location and an object it ignored.
func TestNothingFoundIsExplained(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lk, err := lake.Open(ctx, filepath.Join(dir, "lake"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		objects []string
		want    []string
	}{
		{"empty", nil, []string{"no objects under", "raw"}},
		{"not the layout", []string{"111122223333/CloudTrail/us-east-1/2022/11/10/x.json.gz", "notes/readme.txt"},
			[]string{"none of the 2 objects under", "raw", "e.g. " + filepath.ToSlash(dir) + "/" + "raw-not the layout/111122223333/CloudTrail/us-east-1/2022/11/10/x.json.gz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := lake.OpenStore(ctx, filepath.Join(dir, "raw-"+tc.name), lake.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range tc.objects {
				if err := lake.PutBytes(ctx, raw, k, []byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := Run(ctx, Options{From: raw, Lake: lk})
			if err != nil {
				t.Fatal(err)
			}
			msg := sum.NothingFound()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("NothingFound() = %q, want it to mention %q", msg, w)
				}
			}
		})
	}
}

// TestAccountsSelectObjectsOfTheirAccountsOnly: the accounts filter reads an account's objects,
// its organization trail's included, and counts the rest as not selected.
func TestAccountsSelectObjectsOfTheirAccountsOnly(t *testing.T) {
	ctx := context.Background()
	c := goodCorpus(t)
	raw, err := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.writeTo(t, raw)
	for _, tc := range []struct {
		accounts          []string
		read, notSelected int
	}{
		{[]string{"999988887777"}, 0, len(c.objects)},
		{[]string{"999988887777", acct}, len(c.objects) - c.skippedObjects, 0},
	} {
		lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Run(ctx, Options{From: raw, Lake: lk, Accounts: tc.accounts})
		if err != nil {
			t.Fatal(err)
		}
		if sum.ObjectsRead != tc.read || sum.ObjectsNotSelected != tc.notSelected || sum.ObjectsIgnored != 0 {
			t.Errorf("accounts %v: read %d, not selected %d, ignored %d; want %d, %d, 0", tc.accounts, sum.ObjectsRead, sum.ObjectsNotSelected, sum.ObjectsIgnored, tc.read, tc.notSelected)
		}
	}
}

func TestIncrementalRunsPickUpNewObjectsAndMergeSmallFiles(t *testing.T) {
	ctx := context.Background()
	rawDir, lakeDir := t.TempDir(), t.TempDir()
	raw, _ := lake.OpenStore(ctx, rawDir, lake.StoreOptions{})
	lk, _ := lake.Open(ctx, lakeDir, lake.Options{Create: true})
	// Ten runs, each with one new small CloudTrail file for the same partition, plus a re-delivery of the
	// previous one. Each file's events span the same ten hours, so a merge must interleave the files' rows.
	var prev []byte
	total := 0
	for run := 0; run < 10; run++ {
		var recs []json.RawMessage
		for i := 0; i < 20; i++ {
			recs = append(recs, json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"run%d-%d","eventTime":"2022-11-10T%02d:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u"}}`, run, i, i%10, run*5+i/10, acct, acct)))
		}
		total += len(recs)
		body := gz(t, recordsFile(recs))
		lake.PutBytes(ctx, raw, fmt.Sprintf("%s%s_CloudTrail_us-east-1_20221110T%02d00Z_r%d.json.gz", ctDir, acct, run, run), body)
		if prev != nil {
			lake.PutBytes(ctx, raw, fmt.Sprintf("%s%s_CloudTrail_us-east-1_20221110T%02d00Z_retry%d.json.gz", ctDir, acct, run, run), prev)
		}
		prev = body
		sum, err := Run(ctx, Options{From: raw, Lake: lk, MergeMinFiles: 4})
		if err != nil {
			t.Fatal(err)
		}
		if sum.RecordsWritten != 20 {
			t.Fatalf("run %d wrote %d records, want the 20 new ones", run, sum.RecordsWritten)
		}
	}
	got := readLake(t, lk)
	if len(got.eventIDs) != total {
		t.Fatalf("%d distinct events, want %d", len(got.eventIDs), total)
	}
	for id, n := range got.eventIDs {
		if n != 1 {
			t.Fatalf("event %s present %d times", id, n)
		}
	}
	if got.files >= 4 {
		t.Errorf("%d files in the one partition after 10 runs: small files were not merged", got.files)
	}
}

// TestKilledCompactorLeavesEveryEventExactlyOnce kills a compactor process at random moments,
// then lets a final run finish, and checks that every input event is in the lake exactly once.
func TestKilledCompactorLeavesEveryEventExactlyOnce(t *testing.T) {
	if os.Getenv("LAKEHUNT_COMPACT_CHILD") != "" {
		t.Skip("child process")
	}
	ctx := context.Background()
	rawDir, lakeDir := t.TempDir(), t.TempDir()
	raw, _ := lake.OpenStore(ctx, rawDir, lake.StoreOptions{})
	want := map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for f := 0; f < 240; f++ {
		var recs []json.RawMessage
		for i := 0; i < 400; i++ {
			// Every 7th file re-delivers events of an earlier file (duplicates across files and commits).
			n := f*400 + i
			if f%7 == 6 {
				n = rng.IntN(f*400 - 1)
			}
			id := fmt.Sprintf("evt-%06d", n)
			want[id] = true
			recs = append(recs, json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s","eventTime":"2022-11-%02dT%02d:%02d:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u"}}`,
				id, 10+n%3, n%24, n%60, n%59, acct, acct)))
		}
		lake.PutBytes(ctx, raw, fmt.Sprintf("%s%s_CloudTrail_us-east-1_20221110T%04dZ_k%d.json.gz", ctDir, acct, f, f), gz(t, recordsFile(recs)))
	}
	// Each child is killed a random 0-30 ms after it has made a commit of its own, so kills land in
	// the middle of the work (parsing, writing data files, committing, merging), not only at start-up.
	commits := func() int {
		es, _ := os.ReadDir(filepath.Join(lakeDir, "_lakehunt", "log"))
		return len(es)
	}
	lk, _ := lake.Open(ctx, lakeDir, lake.Options{Create: true})
	kills, finished := 0, false
	for attempt := 0; attempt < 40 && kills < 12 && !finished; attempt++ {
		before := commits()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCompactChild$")
		cmd.Env = append(os.Environ(), "LAKEHUNT_COMPACT_CHILD=1", "CHILD_RAW="+rawDir, "CHILD_LAKE="+lakeDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var killAt <-chan time.Time
		poll := time.NewTicker(2 * time.Millisecond)
	wait:
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("child failed on its own: %v\n%s", err, out.String())
				}
				finished = true
				break wait
			case <-poll.C:
				if killAt == nil && commits() > before {
					killAt = time.After(time.Duration(rng.IntN(30)) * time.Millisecond)
				}
			case <-killAt:
				_ = cmd.Process.Kill()
				<-done
				kills++
				break wait
			}
		}
		poll.Stop()
		// What a reader sees between kills: whole batches only, never an event twice.
		for id, n := range readLake(t, lk).eventIDs {
			if n != 1 {
				t.Fatalf("after kill %d: event %s visible %d times", kills, id, n)
			}
		}
	}
	if kills < 10 {
		t.Fatalf("only %d kills happened before the work was done; make the corpus bigger", kills)
	}
	if finished {
		t.Fatalf("a child finished the whole corpus; the final run after the kills must still have work to do")
	}
	if _, err := Run(ctx, Options{From: raw, Lake: lk}); err != nil {
		t.Fatalf("final run after %d kills: %v", kills, err)
	}
	got := readLake(t, lk)
	if len(got.eventIDs) != len(want) {
		t.Errorf("after %d kills: %d distinct events in the lake, want %d", kills, len(got.eventIDs), len(want))
	}
	for id, n := range got.eventIDs {
		if n != 1 || !want[id] {
			t.Fatalf("after %d kills: event %s present %d times (expected: %v)", kills, id, n, want[id])
		}
	}
	t.Logf("%d kills, %d events exactly once, lake version %d, %d files", kills, len(want), got.version, got.files)
}

// TestCompactChild is the process the kill test kills; it does nothing in a normal test run.
func TestCompactChild(t *testing.T) {
	if os.Getenv("LAKEHUNT_COMPACT_CHILD") == "" {
		t.Skip("run by TestKilledCompactorLeavesEveryEventExactlyOnce")
	}
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, os.Getenv("CHILD_RAW"), lake.StoreOptions{})
	lk, _ := lake.Open(ctx, os.Getenv("CHILD_LAKE"), lake.Options{Create: true})
	// Small batches: many commits, so kills land between, during and after them.
	if _, err := Run(ctx, Options{From: raw, Lake: lk, BatchRows: 1500, Workers: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentCompactorsDoNotCommitAnEventTwice runs a second compactor, over another trail's copy of
// the same events (an organization trail beside an account trail), between the moment the first one
// deduplicated its batch and the moment it commits. The first must not rebase its batch over the second's
// (both hold the same events): it fails with a conflict, commits nothing, and its re-run adds nothing twice.
func TestConcurrentCompactorsDoNotCommitAnEventTwice(t *testing.T) {
	ctx := context.Background()
	var recs []json.RawMessage
	for i := 0; i < 300; i++ {
		recs = append(recs, json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"evt-%04d","eventTime":"2022-11-10T16:%02d:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u"}}`,
			i, i%60, i%59, acct, acct)))
	}
	accountTrail, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	orgTrail, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lake.PutBytes(ctx, accountTrail, ctDir+acct+"_CloudTrail_us-east-1_20221110T1625Z_a.json.gz", gz(t, recordsFile(recs)))
	lake.PutBytes(ctx, orgTrail, "AWSLogs/o-exampleorgid/"+acct+"/CloudTrail/us-east-1/2022/11/10/"+acct+"_CloudTrail_us-east-1_20221110T1625Z_o.json.gz", gz(t, recordsFile(recs)))
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})

	var other error
	once := false
	_, err := Run(ctx, Options{From: accountTrail, Lake: lk, afterWrite: func() {
		if !once {
			once = true
			_, other = Run(ctx, Options{From: orgTrail, Lake: lk})
		}
	}})
	if other != nil {
		t.Fatalf("the second compactor failed: %v", other)
	}
	if !errors.Is(err, lake.ErrConflict) {
		t.Fatalf("first compactor: err = %v, want a conflict (its batch was deduplicated against an outdated lake)", err)
	}
	if !strings.Contains(err.Error(), "Run compact again") {
		t.Errorf("the conflict error does not tell the user what to do: %v", err)
	}
	sum, err := Run(ctx, Options{From: accountTrail, Lake: lk})
	if err != nil {
		t.Fatalf("re-run of the first compactor: %v", err)
	}
	if sum.RecordsWritten != 0 || sum.DuplicatesDropped != 300 {
		t.Errorf("re-run wrote %d and dropped %d duplicates, want 0 and 300", sum.RecordsWritten, sum.DuplicatesDropped)
	}
	got := readLake(t, lk)
	if len(got.eventIDs) != 300 {
		t.Errorf("%d distinct events in the lake, want 300", len(got.eventIDs))
	}
	for id, n := range got.eventIDs {
		if n != 1 {
			t.Errorf("event %s is in the lake %d times", id, n)
		}
	}
}

// TestDedupSetsAreReloadedAfterAnotherWritersCommit: a compactor that already deduplicated a partition in
// an earlier batch, then saw another compactor commit the same events to it, must not dedup its next batch
// for that partition against its outdated id set.
func TestDedupSetsAreReloadedAfterAnotherWritersCommit(t *testing.T) {
	ctx := context.Background()
	events := func(prefix, day string) []json.RawMessage {
		var recs []json.RawMessage
		for i := 0; i < 100; i++ {
			recs = append(recs, json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s-%03d","eventTime":"2022-11-%sT16:%02d:%02dZ","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u"}}`,
				prefix, i, day, i%60, i%59, acct, acct)))
		}
		return recs
	}
	accountTrail, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	orgTrail, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	// In listing order: day 10, day 11, then day 10 again with the events the org trail also delivers.
	lake.PutBytes(ctx, accountTrail, ctDir+acct+"_CloudTrail_us-east-1_20221110T0100Z_1.json.gz", gz(t, recordsFile(events("e", "10"))))
	lake.PutBytes(ctx, accountTrail, ctDir+acct+"_CloudTrail_us-east-1_20221110T0200Z_2.json.gz", gz(t, recordsFile(events("f", "11"))))
	lake.PutBytes(ctx, accountTrail, ctDir+acct+"_CloudTrail_us-east-1_20221110T0300Z_3.json.gz", gz(t, recordsFile(events("g", "10"))))
	lake.PutBytes(ctx, orgTrail, "AWSLogs/o-exampleorgid/"+acct+"/CloudTrail/us-east-1/2022/11/10/"+acct+"_CloudTrail_us-east-1_20221110T0300Z_o.json.gz", gz(t, recordsFile(events("g", "10"))))
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})

	calls := 0
	var other error
	// One object per batch; while the second batch (day 11) is being committed, the org trail lands.
	sum, err := Run(ctx, Options{From: accountTrail, Lake: lk, BatchRows: 100, Workers: 1, afterWrite: func() {
		if calls++; calls == 2 {
			_, other = Run(ctx, Options{From: orgTrail, Lake: lk})
		}
	}})
	if err != nil || other != nil {
		t.Fatalf("compactors: %v / %v", err, other)
	}
	if sum.DuplicatesDropped != 100 {
		t.Errorf("the account trail's compactor dropped %d duplicates, want the org trail's 100", sum.DuplicatesDropped)
	}
	got := readLake(t, lk)
	for id, n := range got.eventIDs {
		if n != 1 {
			t.Errorf("event %s is in the lake %d times", id, n)
		}
	}
	if len(got.eventIDs) != 300 {
		t.Errorf("%d distinct events, want 300", len(got.eventIDs))
	}
}

// A flow-log object can hold millions of records (AWS writes up to 75 MB of gzip per object): its rows
// are written in pieces as they are parsed, not held whole, and still become visible in the one commit
// that records the object consumed. An object that turns out bad after some pieces were written is
// quarantined whole and its pieces are deleted.
func TestLargeFlowObjectIsWrittenInPiecesAndCommittedOnce(t *testing.T) {
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	flows := func(n int, from int64) []byte {
		var b bytes.Buffer
		b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
		for i := 0; i < n; i++ {
			start := from + int64(i)*20 // crosses midnight: two partitions
			fmt.Fprintf(&b, "2 %s eni-1 10.0.%d.%d 10.1.0.2 %d 443 6 10 840 %d %d ACCEPT OK\n", acct, i/250, i%250, 1024+i, start, start+60)
		}
		return b.Bytes()
	}
	midnight := time.Date(2022, 11, 11, 0, 0, 0, 0, time.UTC).Unix()
	lake.PutBytes(ctx, raw, flowDir+acct+"_vpcflowlogs_us-east-1_fl-1_20221110T2355Z_big.log.gz", gz(t, flows(57, midnight-600)))
	cut := gz(t, flows(400, midnight-600))
	lake.PutBytes(ctx, raw, flowDir+acct+"_vpcflowlogs_us-east-1_fl-1_20221110T2356Z_cut.log.gz", cut[:len(cut)*3/4])

	sum, err := Run(ctx, Options{From: raw, Lake: lk, BatchRows: 10, MergeMinFiles: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordsWritten != 57 || sum.ObjectsQuarantined != 1 || sum.Commits != 1 || sum.FilesWritten < 6 {
		t.Fatalf("summary %+v; want 57 rows written in 6 or more files, 1 object quarantined, 1 commit", sum)
	}
	got := readLake(t, lk)
	if got.flows != 57 {
		t.Errorf("%d flow rows in the lake, want the big object's 57 (none of the cut one's)", got.flows)
	}
	snap, _ := lk.FileSnapshot(ctx)
	var onDisk int
	_ = lk.Store().List(ctx, lake.TableVPCFlow+"/", func(o lake.ObjectInfo) error {
		onDisk++
		if !snap.Live(o.Key) {
			t.Errorf("file %s is in the lake folder but not live: a piece of the quarantined object was left", o.Key)
		}
		return nil
	})
	if onDisk != int(sum.FilesWritten) || len(snap.FilesFor(lake.TableVPCFlow, time.Time{}, time.Time{})) != onDisk {
		t.Errorf("%d files on disk, %d written, %d live", onDisk, sum.FilesWritten, len(snap.Files))
	}
	full, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var records int64
	if err := lk.EachConsumed(ctx, full, func(o lake.SourceObject) error { records += o.Records; return nil }); err != nil {
		t.Fatal(err)
	}
	if records != 57 {
		t.Errorf("consumed objects record %d rows, want 57", records)
	}
}
