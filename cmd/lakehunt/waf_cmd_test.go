package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The waf table is documented by lakehunt schema like the lake's own tables.
func TestSchemaWAF(t *testing.T) {
	out, code := run(t, "schema", "waf")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"AWS WAF (v2) web ACL logs", "client_ip  ", "VARCHAR", "ja3_fingerprint", "labels", "JSON", "request_id", "rows are deduplicated on it"} {
		if !strings.Contains(out, want) {
			t.Errorf("schema waf lacks %q:\n%s", want, out)
		}
	}
}

// --source-prefix maps Firehose-delivered WAF logs; a source that cannot be mapped is a usage error.
func TestCompactSourcePrefix(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	key := filepath.Join(raw, "firehose", "waf", "2024", "05", "01", "10", "aws-waf-logs-1")
	if err := os.MkdirAll(filepath.Dir(key), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := `{"timestamp":1714557900000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1","action":"BLOCK","httpRequest":{"clientIp":"198.51.100.1","requestId":"a"}}`
	if err := os.WriteFile(key, []byte(rec+rec), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errs, code := cli(t, "compact", "--from", raw, "--lake", filepath.Join(dir, "lake"), "--source-prefix", "cloudtrail=firehose/waf/")
	if code != exitUsage || !strings.Contains(errs, "source cloudtrail is read only in its AWSLogs/ layout") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	out, code := run(t, "compact", "--from", raw, "--lake", filepath.Join(dir, "lake"), "--settle", "0", "--source-prefix", "waf=firehose/waf/")
	if code != exitOK || !strings.Contains(out, "waf") {
		t.Fatalf("exit %d: %s", code, out)
	}
	// The same request delivered twice is one row.
	out, code = run(t, "query", "--lake", filepath.Join(dir, "lake"), "--format", "json", "SELECT count(*) AS n, any_value(client_ip) AS ip FROM waf")
	if code != exitOK || strings.TrimSpace(out) != `{"ip":"198.51.100.1","n":1}` {
		t.Fatalf("query exit %d: %s", code, out)
	}
}
