package compact

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/klauspost/compress/gzip"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// ctObject is a CloudTrail object of n events with ids prefix-0..n-1.
func ctObject(t testing.TB, prefix string, n int) []byte {
	var recs []json.RawMessage
	for i := 0; i < n; i++ {
		recs = append(recs, json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s-%d","eventTime":"2022-11-10T16:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u"}}`, prefix, i, i%60, acct, acct)))
	}
	return gz(t, recordsFile(recs))
}

// flowObject is a flow-log object of n records, sources 10.9.x.y from first on.
func flowObject(t testing.TB, first, n int) []byte {
	var b bytes.Buffer
	b.WriteString("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "2 %s eni-1 10.9.%d.%d 10.1.0.2 %d 443 6 10 840 1668096000 1668096060 ACCEPT OK\n", acct, i/250, i%250, 1024+i)
	}
	return gz(t, b.Bytes())
}

// rawBackends are a raw location and a lake on disk and on S3, fresh for each call of the test body.
func rawBackends(t *testing.T) map[string]func(t *testing.T) (raw lake.Store, lk *lake.Lake) {
	ctx := context.Background()
	srv := s3test.Start(t)
	var n atomic.Int64
	open := func(t *testing.T, rawURL, lakeURL string) (lake.Store, *lake.Lake) {
		raw, err := lake.OpenStore(ctx, rawURL, lake.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		lk, err := lake.Open(ctx, lakeURL, lake.Options{CacheDir: t.TempDir(), Create: true})
		if err != nil {
			t.Fatal(err)
		}
		return raw, lk
	}
	return map[string]func(t *testing.T) (lake.Store, *lake.Lake){
		"disk": func(t *testing.T) (lake.Store, *lake.Lake) { return open(t, t.TempDir(), t.TempDir()) },
		"s3": func(t *testing.T) (lake.Store, *lake.Lake) {
			i := n.Add(1)
			return open(t, srv.Bucket(t, fmt.Sprintf("raw-%d", i)), srv.Bucket(t, fmt.Sprintf("lake-%d", i))+"lake/")
		},
	}
}

// put writes an object; on disk it gives it a modification time of its own, so that versions written in
// the same clock tick still differ, as they would between two deliveries.
func put(t *testing.T, st lake.Store, key string, b []byte) {
	t.Helper()
	if err := lake.PutBytes(context.Background(), st, key, b); err != nil {
		t.Fatal(err)
	}
	if lake.IsLocalStore(st) {
		mtime := time.Now().Add(-time.Hour).Add(time.Duration(seq.Add(1)) * time.Second)
		if err := os.Chtimes(filepath.Join(st.URL(), key), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

var seq atomic.Int64

func run(t *testing.T, opts Options) *Summary {
	t.Helper()
	sum, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func quarantineOf(t *testing.T, lk *lake.Lake, key string) []lake.Quarantined {
	t.Helper()
	snap, err := lk.FileSnapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []lake.Quarantined
	for _, q := range snap.Quarantine {
		if q.SourceKey == key {
			out = append(out, q)
		}
	}
	return out
}

// TestNonFilesUnderFromAreReportedNotRead: a FIFO, a symbolic link to /dev/zero, to /etc/passwd, to a valid
// log outside the tree and to a folder outside it, all under keys of the AWS layout: none is opened, each is
// counted with its reason, the run ends, the rest is compacted exactly, and a re-run reports them again.
func TestNonFilesUnderFromAreReportedNotRead(t *testing.T) {
	ctx := context.Background()
	dir, outside := t.TempDir(), t.TempDir()
	raw, _ := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	c := goodCorpus(t)
	c.writeTo(t, raw)
	path := func(key string) string {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ctName := func(s string) string { return ctDir + acct + "_CloudTrail_us-east-1_20221110T1800Z_" + s + ".json.gz" }
	if err := syscall.Mkfifo(path(ctName("fifo")), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "stray.json.gz"), ctObject(t, "stray", 3), 0o644)
	os.MkdirAll(filepath.Join(outside, "10"), 0o755)
	os.WriteFile(filepath.Join(outside, "10", acct+"_CloudTrail_us-east-1_20221110T1800Z_d.json.gz"), ctObject(t, "straydir", 3), 0o644)
	links := map[string]string{
		flowDir + acct + "_vpcflowlogs_us-east-1_fl-1_20221110T1800Z_zero.log.gz": "/dev/zero",
		ctName("passwd"): "/etc/passwd",
		ctName("stray"):  filepath.Join(outside, "stray.json.gz"),
		"AWSLogs/" + acct + "/CloudTrail/us-east-1/2022/11/11": filepath.Join(outside, "10"),
	}
	for key, to := range links {
		if err := os.Symlink(to, path(key)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		done := make(chan *Summary, 1)
		go func() { done <- run(t, Options{From: raw, Lake: lk}) }()
		var sum *Summary
		select {
		case sum = <-done:
		case <-time.After(2 * time.Minute):
			t.Fatal("compact did not finish: it is blocked on or spinning over an entry that is not a file")
		}
		reasons := map[string]string{}
		for _, nf := range sum.NotFiles {
			reasons[nf.Key] = nf.Reason
		}
		if sum.ObjectsNotFiles != 5 || len(reasons) != 5 || !strings.Contains(reasons[ctName("fifo")], "not a regular file (fifo)") {
			t.Errorf("run %d: %d entries not files, %v; want the FIFO and the 4 links", i, sum.ObjectsNotFiles, reasons)
		}
		for key, to := range links {
			if r := reasons[key]; !strings.Contains(r, "symbolic link to "+to) || !strings.Contains(r, "not followed") {
				t.Errorf("run %d: %s reported as %q, want a symbolic link to %s, not followed", i, key, r, to)
			}
		}
		if i == 0 && (sum.ObjectsRead+sum.ObjectsSkipped != len(c.objects) || sum.Quarantined()) {
			t.Errorf("first run: read %d, skipped %d, quarantined %d; want the %d objects read or skipped, nothing quarantined", sum.ObjectsRead, sum.ObjectsSkipped, sum.ObjectsQuarantined, len(c.objects))
		}
		if i == 1 && (sum.ObjectsRead != 0 || sum.ObjectsAlreadyDone != len(c.objects) || sum.Commits != 0) {
			t.Errorf("second run: read %d, already done %d, %d commits; want nothing new", sum.ObjectsRead, sum.ObjectsAlreadyDone, sum.Commits)
		}
		got := readLake(t, lk)
		c.check(t, got)
		for k := range got.sources {
			if strings.Contains(k, "1800Z") || strings.Contains(k, "/11/11/") {
				t.Errorf("rows from %s, which is not a file under --from", k)
			}
		}
	}
}

// TestRawObjectsNamedLikeTempFilesAreRead: the local store hides its own temporary files (.tmp-*) from the
// lake, not from a raw tree, where an object may have such a name.
func TestRawObjectsNamedLikeTempFilesAreRead(t *testing.T) {
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	put(t, raw, ctDir+".tmp-"+acct+"_CloudTrail_us-east-1_20221110T1625Z_a.json.gz", ctObject(t, "tmp", 20))
	sum := run(t, Options{From: raw, Lake: lk})
	if sum.ObjectsListed != 1 || sum.RecordsWritten != 20 || len(readLake(t, lk).eventIDs) != 20 {
		t.Errorf("listed %d, wrote %d records; want the .tmp- object listed and its 20 events in the lake", sum.ObjectsListed, sum.RecordsWritten)
	}
}

// TestAChangedObjectIsReadAgainOrReported, on disk and S3: an object quarantined while half-written is read
// again once complete; a consumed object whose content changes is reported (summary, quarantine) and its
// rows stay those of the version read; the same bytes under a new version (a touched file, a multipart
// upload) are recognised and not hashed again; quarantine --retry releases an object that did not change.
func TestAChangedObjectIsReadAgainOrReported(t *testing.T) {
	ctx := context.Background()
	for name, open := range rawBackends(t) {
		t.Run(name, func(t *testing.T) {
			raw, lk := open(t)
			key := ctDir + acct + "_CloudTrail_us-east-1_20221110T1625Z_half.json.gz"
			full := ctObject(t, "half", 20)
			put(t, raw, key, full[:len(full)/2])
			opts := Options{From: raw, Lake: lk}
			if sum := run(t, opts); sum.ObjectsQuarantined != 1 {
				t.Fatalf("half-written object: %d quarantined, want 1", sum.ObjectsQuarantined)
			}
			put(t, raw, key, full)
			sum := run(t, opts)
			if sum.ObjectsReread != 1 || sum.RecordsWritten != 20 || sum.Quarantined() {
				t.Errorf("completed object: %d read again, %d records written, quarantined %v; want it read again whole", sum.ObjectsReread, sum.RecordsWritten, sum.Quarantined())
			}
			if q := quarantineOf(t, lk, key); len(q) != 0 {
				t.Errorf("the quarantine still lists the object after it was read: %+v", q)
			}

			// Tampered with after it was consumed: 5 events removed.
			put(t, raw, key, ctObject(t, "half", 15))
			sum = run(t, opts)
			if sum.ObjectsChangedAfterConsumed != 1 || sum.RecordsWritten != 0 || !sum.Quarantined() {
				t.Errorf("changed after consumed: %d reported, %d records written, quarantined %v; want it reported, nothing written", sum.ObjectsChangedAfterConsumed, sum.RecordsWritten, sum.Quarantined())
			}
			if q := quarantineOf(t, lk, key); len(q) != 1 || !strings.Contains(q[0].Reason, "changed after it was consumed") || !strings.Contains(q[0].Reason, "keeps the 20 rows") {
				t.Errorf("quarantine of the changed object: %+v", q)
			}
			if n := len(readLake(t, lk).eventIDs); n != 20 {
				t.Errorf("%d events in the lake, want the 20 of the version read", n)
			}
			if sum := run(t, opts); sum.ObjectsChangedAfterConsumed != 0 || sum.Commits != 0 || sum.ObjectsAlreadyDone != 1 {
				t.Errorf("run after the report: %d changed, %d commits; want the change reported once", sum.ObjectsChangedAfterConsumed, sum.Commits)
			}

			// The same bytes as a new version: a touched file, a multipart upload with another ETag.
			same := ctDir + acct + "_CloudTrail_us-east-1_20221110T1630Z_same.json.gz"
			put(t, raw, same, ctObject(t, "same", 10))
			run(t, opts)
			if lake.IsLocalStore(raw) {
				mtime := time.Now().Add(-time.Minute)
				os.Chtimes(filepath.Join(raw.URL(), same), mtime, mtime)
			} else {
				time.Sleep(1100 * time.Millisecond) // S3 times are whole seconds: the upload is a newer version
				multipartPut(t, raw, same, ctObject(t, "same", 10))
			}
			for i, wantCommits := range []int{1, 0} {
				sum := run(t, opts)
				if sum.ObjectsChangedAfterConsumed != 0 || sum.ObjectsRead != 0 || sum.Commits != wantCommits {
					t.Errorf("run %d after a new version of the same bytes: %d changed, %d read, %d commits; want none reported, the version recorded once", i, sum.ObjectsChangedAfterConsumed, sum.ObjectsRead, sum.Commits)
				}
			}

			// An object quarantined for its size, released after the limit was raised.
			big := flowDir + acct + "_vpcflowlogs_us-east-1_fl-1_20221110T1630Z_big.log.gz"
			put(t, raw, big, flowObject(t, 0, 3000))
			small := opts
			small.MaxObjectBytes = 1000
			if sum := run(t, small); sum.ObjectsQuarantined != 1 || !strings.Contains(sum.Quarantine[0].Reason, "more than the 1000-byte limit") {
				t.Fatalf("over the size limit: %+v", sum.Quarantine)
			}
			if sum := run(t, opts); sum.ObjectsRead != 0 {
				t.Errorf("an unchanged quarantined object was read again without --retry")
			}
			keys, err := lk.RetryQuarantined(ctx)
			if err != nil || len(keys) != 1 || keys[0] != big {
				t.Fatalf("RetryQuarantined = %v, %v; want %s alone (the changed object's rows are in the lake)", keys, err, big)
			}
			if q := quarantineOf(t, lk, big); len(q) != 0 {
				t.Errorf("released object still in the quarantine: %+v", q)
			}
			if sum := run(t, opts); sum.ObjectsReread != 1 || sum.RecordsWritten != 3000 {
				t.Errorf("after --retry: %d read again, %d records; want the 3000 flows", sum.ObjectsReread, sum.RecordsWritten)
			}
			if got := readLake(t, lk); got.flows != 3000 {
				t.Errorf("%d flows in the lake, want 3000", got.flows)
			}
		})
	}
}

// multipartPut uploads b as a one-part multipart upload: the same bytes under another ETag.
func multipartPut(t *testing.T, st lake.Store, key string, b []byte) {
	t.Helper()
	ctx := context.Background()
	srvURL := strings.TrimPrefix(st.URL(), "s3://")
	bucket, prefix, _ := strings.Cut(srvURL, "/")
	client := s3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: s3test.AccessKey, SecretAccessKey: s3test.SecretKey}, nil
	})}, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_S3"))
		o.UsePathStyle = true
	})
	k := aws.String(prefix + key)
	up, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: k})
	if err != nil {
		t.Fatal(err)
	}
	part, err := client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: k, UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: k, UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
}

// TestCopiesOfAnObjectAreReadOnce, on disk and S3: a flow-log or DNS object copied under another name in its
// folder, or under another prefix with the same AWSLogs/... key, adds its rows once, in the run that sees
// both and in later runs, which record nothing more (with other folders listed in between, so the run's
// view of the folder was dropped and loaded again). A copy with other bytes under another prefix is
// reported, and listed in the quarantine once.
func TestCopiesOfAnObjectAreReadOnce(t *testing.T) {
	for name, open := range rawBackends(t) {
		t.Run(name, func(t *testing.T) {
			raw, lk := open(t)
			flow := flowObject(t, 0, 40)
			dns := gz(t, []byte(`{"version":"1.100000","account_id":"`+acct+`","region":"us-east-1","vpc_id":"vpc-abc123","query_timestamp":"2022-11-10T16:20:00Z","query_name":"example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","srcaddr":"10.0.0.5","srcids":{"instance":"i-0abc234"}}`+"\n"))
			flowKey := func(s string) string {
				return flowDir + acct + "_vpcflowlogs_us-east-1_fl-1_20221110T1630Z_" + s + ".log.gz"
			}
			dnsKey := func(s string) string {
				return dnsDir + acct + "_vpcdnsquerylogs_vpc-abc123_20221110T1630Z_" + s + ".log.gz"
			}
			put(t, raw, flowKey("a"), flow)
			put(t, raw, flowKey("b-redelivered"), flow)
			put(t, raw, "replica/"+flowKey("a"), flow)
			put(t, raw, dnsKey("a"), dns)
			put(t, raw, dnsKey("b"), dns)
			for day := 11; day < 11+2*viewFolders; day++ {
				put(t, raw, strings.Replace(flowKey(fmt.Sprint(day)), "/10/", fmt.Sprintf("/%d/", day), 1), flowObject(t, 1000*day, 1))
			}
			opts := Options{From: raw, Lake: lk}
			sum := run(t, opts)
			if sum.ObjectsDuplicateContent != 2 || sum.ObjectsRead != 2+2*viewFolders || sum.RecordsWritten != 41+2*viewFolders || sum.Quarantined() {
				t.Errorf("first run: %d duplicates, %d read, %d records; want the 2 copies under other names recognised, 41 records", sum.ObjectsDuplicateContent, sum.ObjectsRead, sum.RecordsWritten)
			}
			put(t, raw, flowKey("c-later"), flow)
			sum = run(t, opts)
			if sum.ObjectsDuplicateContent != 1 || sum.RecordsWritten != 0 || sum.ObjectsChangedAfterConsumed != 0 {
				t.Errorf("a copy in a later run: %d duplicates, %d records, %d changed", sum.ObjectsDuplicateContent, sum.RecordsWritten, sum.ObjectsChangedAfterConsumed)
			}
			sum = run(t, opts)
			if sum.ObjectsDuplicateContent != 0 || sum.RecordsWritten != 0 || sum.ObjectsRead != 0 || sum.Commits != 0 || sum.ObjectsChangedAfterConsumed != 0 {
				t.Errorf("a run with nothing new: %+v", sum)
			}
			got := readLake(t, lk)
			if got.flows != 40+2*viewFolders || got.dns != 1 {
				t.Errorf("%d flows and %d DNS queries in the lake, want %d and 1", got.flows, got.dns, 40+2*viewFolders)
			}

			put(t, raw, "tampered/"+flowKey("a"), flowObject(t, 5, 40))
			for i := 0; i < 2; i++ {
				sum = run(t, opts)
				if sum.ObjectsChangedAfterConsumed == 0 || sum.RecordsWritten != 0 || (i == 1 && sum.Commits != 0) {
					t.Errorf("run %d with a copy of other bytes: %d changed, %d records, %d commits; want it reported, nothing written, recorded once", i, sum.ObjectsChangedAfterConsumed, sum.RecordsWritten, sum.Commits)
				}
				if q := quarantineOf(t, lk, flowKey("a")); len(q) != 1 {
					t.Errorf("run %d: the quarantine lists the changed object %d times, want once", i, len(q))
				}
			}
		})
	}
}

// TestRecentLocalFilesWaitToSettle: a local file modified within Settle, or growing while it is read, is left
// for the next run, unrecorded; once it settled it is read whole.
func TestRecentLocalFilesWaitToSettle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, _ := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	key := flowDir + acct + "_vpcflowlogs_us-east-1_fl-1_20221110T1630Z_live.log"
	p := filepath.Join(dir, filepath.FromSlash(key))
	os.MkdirAll(filepath.Dir(p), 0o755)
	flows := string(gunzip(t, flowObject(t, 0, 1200)))
	header, lines, _ := strings.Cut(flows, "\n")
	os.WriteFile(p, []byte(header+"\n"+strings.Join(strings.SplitAfter(lines, "\n")[:50], "")), 0o644)
	opts := Options{From: raw, Lake: lk, Settle: time.Minute}
	if sum := run(t, opts); sum.ObjectsTooRecent != 1 || sum.ObjectsRead != 0 || sum.Commits != 0 {
		t.Errorf("a file modified just now: %d too recent, %d read, %d commits; want it left alone", sum.ObjectsTooRecent, sum.ObjectsRead, sum.Commits)
	}
	// Settled by its clock, but still growing as it is read.
	past := time.Now().Add(-2 * time.Minute)
	os.Chtimes(p, past, past)
	growing := &appendOnOpen{Store: raw, path: p, more: strings.Join(strings.SplitAfter(lines, "\n")[50:], "")}
	grow := opts
	grow.From = growing
	if sum := run(t, grow); sum.ObjectsTooRecent != 1 || sum.ObjectsRead != 0 || sum.Commits != 0 {
		t.Errorf("a file growing while read: %d too recent, %d read, %d commits; want it left for the next run", sum.ObjectsTooRecent, sum.ObjectsRead, sum.Commits)
	}
	os.Chtimes(p, past, past)
	if sum := run(t, opts); sum.ObjectsRead != 1 || sum.RecordsWritten != 1200 {
		t.Errorf("once settled: %d read, %d records; want all 1200 lines", sum.ObjectsRead, sum.RecordsWritten)
	}
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// appendOnOpen is a raw location whose writer appends the rest of a file after it was listed, as it is
// opened for reading.
type appendOnOpen struct {
	lake.Store
	path, more string
}

func (a *appendOnOpen) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	f, err := os.OpenFile(a.path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	f.WriteString(a.more)
	f.Close()
	return a.Store.Open(ctx, key)
}

// TestOversizedObjectsAreQuarantinedUnread: an object over the size limit (a sparse 1 TiB file) is
// quarantined without being read, and a gzip bomb stops at the decompressed limit, in bounded memory.
func TestOversizedObjectsAreQuarantinedUnread(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, _ := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	huge := flowDir + acct + "_vpcflowlogs_us-east-1_fl-1_20221110T1630Z_sparse.log.gz"
	p := filepath.Join(dir, filepath.FromSlash(huge))
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 1<<40); err != nil {
		t.Fatal(err)
	}
	var zeros bytes.Buffer
	zw := gzip.NewWriter(&zeros)
	chunk := make([]byte, 1<<20)
	for i := 0; i < 1024; i++ { // 1 GiB of zeros, about 1 MB of gzip
		zw.Write(chunk)
	}
	zw.Close()
	bomb := flowDir + acct + "_vpcflowlogs_us-east-1_fl-1_20221110T1630Z_bomb.log.gz"
	put(t, raw, bomb, zeros.Bytes())
	put(t, raw, flowDir+acct+"_vpcflowlogs_us-east-1_fl-1_20221110T1630Z_good.log.gz", flowObject(t, 0, 10))

	peak := heapPeak(t)
	sum := run(t, Options{From: raw, Lake: lk, MaxUncompressedBytes: 64 << 20})
	if mb := peak() >> 20; mb > 200 {
		t.Errorf("heap peaked at %d MiB reading a 1 TiB file and a 1 GiB gzip bomb", mb)
	}
	reasons := map[string]string{}
	for _, q := range sum.Quarantine {
		reasons[q.SourceKey] = q.Reason
	}
	if !strings.Contains(reasons[huge], "is 1099511627776 bytes, more than the 268435456-byte limit") {
		t.Errorf("sparse 1 TiB file quarantined as %q", reasons[huge])
	}
	if !strings.Contains(reasons[bomb], "decompresses to more than 67108864 bytes") {
		t.Errorf("gzip bomb quarantined as %q", reasons[bomb])
	}
	if sum.ObjectsQuarantined != 2 || sum.RecordsWritten != 10 || sum.BytesIn > 2<<20 {
		t.Errorf("%d quarantined, %d records written, %d bytes read; want the two quarantined, the good object's 10 rows, the sparse file unread", sum.ObjectsQuarantined, sum.RecordsWritten, sum.BytesIn)
	}
}

// heapPeak samples the live heap until the returned function is called, and returns its peak.
func heapPeak(t *testing.T) func() uint64 {
	runtime.GC()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}
