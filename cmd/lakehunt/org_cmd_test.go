package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// The organization decides what "outside" means: by default the accounts the lake holds logs for, and
// --org-account (or organization.accounts in lakehunt.yaml) widens it.
func TestHuntRunOrganization(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}`
	rec := map[string]any{
		"eventVersion": "1.08", "eventTime": "2026-11-19T10:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "UpdateAssumeRolePolicy",
		"awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0", "eventID": "org-test-1",
		"eventType": "AwsApiCall", "recipientAccountId": "111122223333", "readOnly": false,
		"requestParameters": map[string]any{"roleName": "deploy", "policyDocument": policy},
		"userIdentity":      map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333", "userName": "mallory"},
	}
	writeTrailObject(t, raw, time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC), "org", []map[string]any{rec})
	if _, code := run(t, "compact", "--from", raw, "--lake", lk); code != exitOK {
		t.Fatalf("compact: exit %d", code)
	}
	cfg := filepath.Join(dir, "lakehunt.yaml")
	os.WriteFile(cfg, []byte("organization:\n  id: o-exampleorgid1\n  accounts: [\"111122223333\", \"999988887777\"]\n"), 0o644)
	for _, c := range []struct {
		name     string
		args     []string
		findings int
		source   string
		accounts string
	}{
		{"the lake's accounts", nil, 1, "lake", "111122223333"},
		{"--org-account", []string{"--org-account", "111122223333,999988887777"}, 0, "config", "111122223333,999988887777"},
		{"lakehunt.yaml", []string{"--config", cfg}, 0, "config", "111122223333,999988887777"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			args := append([]string{"hunt", "run", "--lake", lk, "--hunt", "iam-role-trust-outside-org",
				"--from", "2026-11-19", "--to", "2026-11-20", "--out", out, "--json"}, c.args...)
			stdout, stderr, code := cli(t, args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var r lake.Run
			if err := json.Unmarshal([]byte(stdout), &r); err != nil {
				t.Fatal(err)
			}
			if r.FindingCount != c.findings || r.Organization == nil || r.Organization.Source != c.source ||
				strings.Join(r.Organization.Accounts, ",") != c.accounts {
				t.Errorf("findings %d, organization %+v; want %d findings, %s from %s", r.FindingCount, r.Organization, c.findings, c.accounts, c.source)
			}
		})
	}
	if _, stderr, code := cli(t, "hunt", "run", "--lake", lk, "--last", "24h", "--out", filepath.Join(dir, "x"), "--org-account", "12345"); code != exitUsage || !strings.Contains(stderr, "12-digit") {
		t.Errorf("a bad --org-account: exit %d %s", code, stderr)
	}
}
