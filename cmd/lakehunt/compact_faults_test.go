package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// TestCompactExitsOneWhenObjectsCouldNotBeRead: an object S3 would not serve is not bad input: compact
// commits the rest, names the object, exits 1 (also with --allow-quarantine, which is about bad input),
// and the next run reads it.
func TestCompactExitsOneWhenObjectsCouldNotBeRead(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("AWS_MAX_ATTEMPTS", "1") // no SDK retries: one scripted fault fails the object
	p := srv.StartFaultProxy(t, 1)
	bucket := srv.Bucket(t, "org-trail-bucket")
	st, err := lake.OpenStore(context.Background(), bucket, lake.StoreOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	const dir = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/"
	keys := []string{dir + "111122223333_CloudTrail_us-east-1_20260102T0000Z_a.json.gz", dir + "111122223333_CloudTrail_us-east-1_20260102T0005Z_b.json.gz"}
	for i, k := range keys {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(`{"Records":[{"eventVersion":"1.08","eventID":"e` + string(rune('0'+i)) + `","eventTime":"2026-01-02T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"111122223333"}]}`))
		zw.Close()
		if err := lake.PutBytes(context.Background(), st, k, b.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"compact", "--json", "--from", bucket, "--lake", t.TempDir(), "--s3-endpoint", p.URL, "--allow-quarantine"}
	p.Script(s3test.KindGet, keys[1], s3test.Fault503, s3test.Fault503, s3test.Fault503, s3test.Fault503, s3test.Fault503, s3test.Fault503)
	out, errs, code := cli(t, args...)
	p.ClearScript()
	var sum struct {
		Read   int `json:"objects_read"`
		Failed int `json:"objects_failed_transient"`
		List   []struct {
			Key    string `json:"key"`
			Reason string `json:"reason"`
		} `json:"failed"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if code != exitError || !strings.Contains(errs, "1 objects could not be read") || !strings.Contains(errs, "run compact again") {
		t.Errorf("exit %d, stderr %q; want exit %d and what to do", code, errs, exitError)
	}
	if sum.Read != 1 || sum.Failed != 1 || len(sum.List) != 1 || sum.List[0].Key != keys[1] || !strings.Contains(sum.List[0].Reason, "503") {
		t.Errorf("summary %+v; want 1 read and %s not read because of the 503", sum, keys[1])
	}
	out, errs, code = cli(t, args...)
	if err := json.Unmarshal([]byte(out), &sum); err != nil || code != exitOK || sum.Read != 1 || sum.Failed != 0 {
		t.Errorf("second run: exit %d, %+v (%v) %s; want the object left over read", code, sum, err, errs)
	}
}
