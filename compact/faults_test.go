package compact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// faultCorpus is a small raw tree (37 objects) with every path a fault can hit: CloudTrail objects over
// three days with re-deliveries (deduplication), flow logs and DNS logs, and two objects whose content is
// really bad (they must end quarantined exactly once, whatever faults came first).
func faultCorpus(t testing.TB) (objects map[string][]byte, bad []string) {
	objects = map[string][]byte{}
	event := func(n int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"evt-%04d","eventTime":"2022-11-%02dT%02d:%02d:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u%d"}}`,
			n, 10+n%3, n%24, n%60, acct, acct, n%7))
	}
	for f := 0; f < 20; f++ {
		var recs []json.RawMessage
		for i := 0; i < 15; i++ {
			recs = append(recs, event(f*15+i))
		}
		objects[fmt.Sprintf("%s%s_CloudTrail_us-east-1_20221110T%04dZ_f%d.json.gz", ctDir, acct, f, f)] = gz(t, recordsFile(recs))
		if f%4 == 3 { // an organization trail delivers the same events again
			objects[fmt.Sprintf("AWSLogs/o-exampleorgid/%s/CloudTrail/us-east-1/2022/11/10/%s_CloudTrail_us-east-1_20221110T%04dZ_org%d.json.gz", acct, acct, f, f)] = gz(t, recordsFile(recs))
		}
	}
	const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
	for f := 0; f < 6; f++ {
		var b strings.Builder
		b.WriteString(header)
		for i := 0; i < 25; i++ {
			fmt.Fprintf(&b, "2 %s eni-%d 10.0.%d.%d 10.1.0.2 443 %d 6 10 840 %d %d ACCEPT OK\n", acct, f, f, i, 40000+i, 1668096000+f*600+i, 1668096060+f*600+i)
		}
		objects[fmt.Sprintf("%s%s_vpcflowlogs_us-east-1_fl-1234abcd_20221110T%02d00Z_v%d.log.gz", flowDir, acct, f, f)] = gz(t, []byte(b.String()))
	}
	for f := 0; f < 5; f++ {
		var b strings.Builder
		for i := 0; i < 5; i++ {
			fmt.Fprintf(&b, `{"version":"1.100000","account_id":"%s","region":"us-east-1","vpc_id":"vpc-abc123","query_timestamp":"2022-11-10T1%d:2%d:00Z","query_name":"host%d-%d.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[],"srcaddr":"10.0.0.5","srcport":"5353","transport":"UDP","srcids":{"instance":"i-0abc234"}}`+"\n", acct, f, i, f, i)
		}
		objects[fmt.Sprintf("%s%s_vpcdnsquerylogs_vpc-abc123_20221110T1%d00Z_q%d.log.gz", dnsDir, acct, f, f)] = gz(t, []byte(b.String()))
	}
	good := objects[fmt.Sprintf("%s%s_CloudTrail_us-east-1_20221110T%04dZ_f%d.json.gz", ctDir, acct, 0, 0)]
	bad = []string{ctDir + acct + "_CloudTrail_us-east-1_20221110T2300Z_cut.json.gz", ctDir + acct + "_CloudTrail_us-east-1_20221110T2301Z_notjson.json.gz"}
	objects[bad[0]] = good[:len(good)/2]
	objects[bad[1]] = gz(t, []byte("this is not a CloudTrail log file\n"))
	return objects, bad
}

func putObjects(t testing.TB, st lake.Store, objects map[string][]byte) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(objects)) {
		if err := lake.PutBytes(context.Background(), st, k, objects[k]); err != nil {
			t.Fatal(err)
		}
	}
}

// fingerprint is every row of the lake (ingestion time left out) with how often it is there. A CloudTrail
// event delivered twice is kept from whichever copy was read first, so its lineage is left out too.
func fingerprint(t testing.TB, lk *lake.Lake) map[string]int {
	t.Helper()
	out := map[string]int{}
	for row, n := range readLake(t, lk).rowsHash {
		var m map[string]any
		if err := json.Unmarshal([]byte(row), &m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m["EventID"]; ok {
			delete(m, "SourceKey")
			delete(m, "SourceLine")
		}
		out[rowJSON(t, m)] += n
	}
	return out
}

// quarantinedKeys is how often each raw object is quarantined whole in the lake.
func quarantinedKeys(t testing.TB, lk *lake.Lake) map[string]int {
	t.Helper()
	snap, err := lk.FileSnapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, q := range snap.Quarantine {
		out[q.SourceKey]++
	}
	return out
}

func diffRows(t *testing.T, what string, got, want map[string]int, subset bool) {
	t.Helper()
	n := 0
	for row, c := range got {
		if c > want[row] {
			t.Errorf("%s: row in the lake %d times, in the reference %d times: %s", what, c, want[row], row)
			n++
		}
	}
	if !subset {
		for row, c := range want {
			if got[row] < c {
				t.Errorf("%s: row in the lake %d times, in the reference %d times: %s", what, got[row], c, row)
				n++
			}
		}
	}
	if n > 0 {
		t.Fatalf("%s: %d rows differ from the reference (%d rows vs %d)", what, n, len(got), len(want))
	}
}

// TestCompactUnderS3Faults compacts through a proxy that fails raw reads, lake reads and writes and lists
// (500/503 not forwarded, 500 after forwarding, resets, truncated bodies) at 5% and 20%. A run either
// finishes with exactly the rows of a fault-free run, or fails or leaves objects unread with a subset of
// them; either way a clean re-run then gives exactly the reference lake: never fewer rows, never more, and
// only the objects whose content is bad quarantined, once.
func TestCompactUnderS3Faults(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	objects, bad := faultCorpus(t)
	rawURL := srv.Bucket(t, "raw") + "logs/"
	lakeBucket := srv.Bucket(t, "lakes")
	direct, err := lake.OpenStore(ctx, rawURL, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, direct, objects)
	opts := func(raw lake.Store, lk *lake.Lake) Options {
		// Small batches and merges: many commits, merge commits and lake reads for the faults to hit.
		return Options{From: raw, Lake: lk, BatchRows: 60, MergeMinFiles: 3, Workers: 2}
	}
	refLake, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, opts(direct, refLake)); err != nil {
		t.Fatal(err)
	}
	ref := fingerprint(t, refLake)
	wantQuarantined := map[string]int{}
	for _, k := range bad {
		wantQuarantined[k] = 1
	}
	if got := quarantinedKeys(t, refLake); !maps.Equal(got, wantQuarantined) {
		t.Fatalf("fault-free run quarantined %v, want %v", got, wantQuarantined)
	}

	for _, rate := range []float64{0.05, 0.20} {
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("rate=%.2f/seed=%d", rate, seed), func(t *testing.T) {
				p := srv.StartFaultProxy(t, seed)
				so := lake.StoreOptions{S3Endpoint: p.URL, S3MaxBackoff: 20 * time.Millisecond}
				raw, err := lake.OpenStore(ctx, rawURL, so)
				if err != nil {
					t.Fatal(err)
				}
				lk, err := lake.Open(ctx, fmt.Sprintf("%slake-%.0f-%d/", lakeBucket, rate*100, seed), lake.Options{Store: so, CacheDir: t.TempDir(), Create: true})
				if err != nil {
					t.Fatal(err)
				}
				p.SetRates(rate)
				sum, err := Run(ctx, opts(raw, lk))
				if sum == nil {
					sum = &Summary{} // failed before it began
				}
				faults := p.Injected()
				p.SetRates(0)
				if p.InjectedTotal() == 0 {
					t.Fatal("no fault was injected")
				}
				got := fingerprint(t, lk)
				complete := err == nil && !sum.Incomplete()
				t.Logf("faults %v: run error %v; %d objects not read, %d quarantined; %d of %d rows",
					faults, err, sum.ObjectsFailed, sum.ObjectsQuarantined, len(got), len(ref))
				if errors.Is(err, lake.ErrConflict) {
					t.Errorf("a conflict was reported, but no other writer ran: %v", err)
				}
				// Every request is retried (bodies fetched again, lost write answers read back): a fault
				// only gets through if one request fails five times running, about 3e-7 at 5%.
				if rate <= 0.05 && !complete {
					t.Errorf("at %.0f%% faults the run did not complete: %v, %d objects not read", rate*100, err, sum.ObjectsFailed)
				}
				diffRows(t, "after the run with faults", got, ref, !complete)
				for k, n := range quarantinedKeys(t, lk) {
					if n > 1 || wantQuarantined[k] == 0 {
						t.Errorf("after the run with faults: %s quarantined %d times; only %v may be, once", k, n, bad)
					}
				}

				again, err := Run(ctx, opts(raw, lk))
				if err != nil || again.Incomplete() {
					t.Fatalf("clean re-run: %v (%d objects not read)", err, again.ObjectsFailed)
				}
				diffRows(t, "after a clean re-run", fingerprint(t, lk), ref, false)
				if got := quarantinedKeys(t, lk); !maps.Equal(got, wantQuarantined) {
					t.Errorf("after a clean re-run: quarantined %v, want %v", got, wantQuarantined)
				}
			})
		}
	}
}

// TestUnreadableObjectIsLeftForTheNextRun: an object whose GET keeps failing, or whose body breaks off and
// cannot be fetched again, is not bad input: the run reads everything else, counts it as not read and
// does not record it as consumed; the next run reads it. A body cut short once is fetched again and read
// whole; an object whose content is a cut gzip is still quarantined.
func TestUnreadableObjectIsLeftForTheNextRun(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	objects, bad := faultCorpus(t)
	rawURL := srv.Bucket(t, "raw") + "logs/"
	p := srv.StartFaultProxy(t, 1)
	so := lake.StoreOptions{S3Endpoint: p.URL, S3MaxBackoff: 10 * time.Millisecond}
	raw, err := lake.OpenStore(ctx, rawURL, so)
	if err != nil {
		t.Fatal(err)
	}
	putObjects(t, raw, objects)
	refLake, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	if _, err := Run(ctx, Options{From: raw, Lake: refLake}); err != nil {
		t.Fatal(err)
	}

	neverAnswers := ctDir + acct + "_CloudTrail_us-east-1_20221110T0001Z_f1.json.gz"
	breaksOff := flowDir + acct + "_vpcflowlogs_us-east-1_fl-1234abcd_20221110T0200Z_v2.log.gz"
	cutOnce := dnsDir + acct + "_vpcdnsquerylogs_vpc-abc123_20221110T1300Z_q3.log.gz"
	p.Script(s3test.KindGet, neverAnswers, repeat(s3test.Fault503, 20)...)
	p.Script(s3test.KindGet, breaksOff, append([]s3test.Fault{s3test.FaultTruncate}, repeat(s3test.FaultReset, 40)...)...)
	p.Script(s3test.KindGet, cutOnce, s3test.FaultTruncate)
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	sum, err := Run(ctx, Options{From: raw, Lake: lk})
	p.ClearScript()
	if err != nil {
		t.Fatal(err)
	}
	if sum.ObjectsFailed != 2 || len(sum.Failed) != 2 || !sum.Incomplete() {
		t.Fatalf("%d objects not read (%+v), want 2", sum.ObjectsFailed, sum.Failed)
	}
	for _, f := range sum.Failed {
		if f.Key != neverAnswers && f.Key != breaksOff {
			t.Errorf("%s counted as not read", f.Key)
		}
		if f.Reason == "" {
			t.Errorf("%s not read, with no reason", f.Key)
		}
	}
	if sum.ObjectsQuarantined != len(bad) {
		t.Errorf("%d objects quarantined (%+v), want only the %d bad ones", sum.ObjectsQuarantined, sum.Quarantine, len(bad))
	}
	got := readLake(t, lk)
	if got.sources[neverAnswers] != 0 || got.sources[breaksOff] != 0 || got.sources[cutOnce] != 5 {
		t.Errorf("rows from the unread objects: %d and %d (want 0); from the object cut once: %d (want 5)",
			got.sources[neverAnswers], got.sources[breaksOff], got.sources[cutOnce])
	}

	again, err := Run(ctx, Options{From: raw, Lake: lk})
	if err != nil {
		t.Fatal(err)
	}
	if again.ObjectsRead != 2 || again.Incomplete() || again.Quarantined() {
		t.Errorf("re-run read %d objects (want the 2 left over), %d not read, %d quarantined", again.ObjectsRead, again.ObjectsFailed, again.ObjectsQuarantined)
	}
	diffRows(t, "after the re-run", fingerprint(t, lk), fingerprint(t, refLake), false)
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}
