package engine

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// uaFamilyReference is ua_family as first written (trim() on every agent); the macro must keep its results.
const uaFamilyReference = `CASE
	WHEN ua IS NULL OR trim(ua) = '' THEN '(empty)'
	WHEN ua = 'AWS Internal' OR ua LIKE '%.amazonaws.com' THEN 'aws-service'
	ELSE left(lower(coalesce(nullif(regexp_extract(ua, '^\[?([A-Za-z][A-Za-z0-9._-]*( [A-Za-z][A-Za-z._-]*)*)', 1), ''), trim(ua))), 64)
	END`

func TestUAFamily(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	null := "\x00" // stands for SQL NULL below
	cases := []struct{ ua, want string }{
		{null, "(empty)"},
		{"", "(empty)"},
		{" ", "(empty)"},
		{"   ", "(empty)"},
		{"\u00a0", "(empty)"},              // no-break space: trim() removes every space separator (Zs)
		{"\u3000 \u2000\u205f", "(empty)"}, // ideographic, en quad, medium mathematical space
		{"\t", "\t"},                       // control characters are not spaces to trim()
		{"\u0085", "\u0085"},
		{"\u200b", "\u200b"}, // zero-width space is a format character, not Zs
		{"\x7f", "\x7f"},
		{"\x7fTool/1", "\x7ftool/1"},
		{" aws-cli/2.15.0 Python/3.11", "aws-cli/2.15.0 python/3.11"}, // no product name at the start: the whole agent, trimmed
		{"\u00a0aws-cli/2", "aws-cli/2"},
		{"  [aws-sdk-go/1.4]  ", "[aws-sdk-go/1.4]"},
		{"[aws-cli/2.15.0 Python/3.11.6]", "aws-cli"},
		{"[aws-sdk-go-v2/1.29.7 ua/2.0 os/linux lang/go#1.22.5]", "aws-sdk-go-v2"},
		{"[]", "[]"},
		{"[ aws]", "[ aws]"},
		{"~tool", "~tool"},
		{"!x", "!x"},
		{"Élan/1.0", "élan/1.0"},
		{"日本語エージェント", "日本語エージェント"},
		{"a\u00a0", "a"},
		{"aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0", "aws-cli"},
		{"Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0", "boto3"},
		{"S3 Browser 9.5.5 https://s3browser.com", "s3 browser"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "mozilla"},
		{"aws-sdk-go/1.44.299 (go1.21.12; linux; amd64) amazon-ssm-agent/3.3.1316.0", "aws-sdk-go"},
		{strings.Repeat("a", 100), strings.Repeat("a", 64)},
		{strings.Repeat("é", 100), strings.Repeat("é", 64)},
		{" " + strings.Repeat("ü", 70) + " ", strings.Repeat("ü", 64)},
		{"AWS Internal", "aws-service"},
		{"AWS Internal ", "aws internal"},
		{"console.amazonaws.com", "aws-service"},
		{"s3.amazonaws.com ", "s3.amazonaws.com"},
		{"AWS Internal/3 aws-sdk-java/1.12", "aws internal"},
	}
	for _, c := range cases {
		arg := literal(c.ua)
		if c.ua == null {
			arg = "NULL"
		}
		res, err := s.Query(ctx, "SELECT ua_family(ua), "+uaFamilyReference+" FROM (SELECT "+arg+" AS ua)", Window{})
		if err != nil {
			t.Fatalf("%q: %v", c.ua, err)
		}
		got, ref := res.Rows[0][0], res.Rows[0][1]
		if got != c.want {
			t.Errorf("ua_family(%q) = %q, want %q", c.ua, got, c.want)
		}
		if got != ref {
			t.Errorf("ua_family(%q) = %q, the reference gives %q", c.ua, got, ref)
		}
	}
}

// first_seen and known_entity as first written (correlated EXISTS); the macros must keep their results.
const (
	firstSeenReference   = `NOT EXISTS (SELECT 1 FROM p b WHERE b.entity = ent AND b.dim = d AND b.value = val)`
	knownEntityReference = `EXISTS (SELECT 1 FROM p b WHERE b.entity = ent)`
)

func TestFirstSeenAndKnownEntity(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A values profile, with the NULLs a table of one's own may hold (the baselines' own never do).
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE p AS SELECT * FROM (VALUES
		('alice', 'api', 's3:ListBuckets'), ('alice', 'region', 'us-east-1'), ('bob', 'api', 'ec2:DescribeInstances'),
		('carol', 'api', NULL), (NULL, 'api', 's3:GetObject'), ('dave', NULL, 'x'), ('', 'api', '')) t(entity, dim, value)`); err != nil {
		t.Fatal(err)
	}
	type want struct{ firstSeen, known bool }
	null := "\x00"
	cases := []struct {
		ent, dim, val string
		want
	}{
		{"alice", "api", "s3:ListBuckets", want{false, true}},
		{"alice", "api", "s3:GetObject", want{true, true}},
		{"alice", "region", "s3:ListBuckets", want{true, true}}, // the value under another dimension
		{"bob", "api", "s3:ListBuckets", want{true, true}},      // another entity's value
		{"erin", "api", "s3:ListBuckets", want{true, false}},
		{"carol", "api", null, want{true, true}},
		{"carol", "api", "s3:ListBuckets", want{true, true}},
		{null, "api", "s3:GetObject", want{true, false}},
		{"dave", null, "x", want{true, true}},
		{"dave", "api", "x", want{true, true}},
		{null, null, null, want{true, false}},
		{"", "api", "", want{false, true}},
		{"ALICE", "api", "s3:ListBuckets", want{true, false}},
	}
	arg := func(v string) string {
		if v == null {
			return "NULL::VARCHAR"
		}
		return literal(v)
	}
	var rows []string
	for i, c := range cases {
		rows = append(rows, "("+strconv.Itoa(i)+", "+arg(c.ent)+", "+arg(c.dim)+", "+arg(c.val)+")")
	}
	// All cases in one query, as hunts call the macros: over many rows, and in a FILTER.
	res, err := s.Query(ctx, `SELECT first_seen('p', ent, d, val), `+firstSeenReference+`, known_entity('p', ent), `+knownEntityReference+`,
		count(*) FILTER (WHERE first_seen('p', ent, d, val)) OVER (), count(*) FILTER (WHERE `+firstSeenReference+`) OVER ()
		FROM (VALUES `+strings.Join(rows, ", ")+`) c(i, ent, d, val) ORDER BY i`, Window{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := res.Rows[i]
		if r[0] != c.firstSeen || r[1] != c.firstSeen {
			t.Errorf("first_seen(%q, %q, %q) = %v, reference %v, want %v", c.ent, c.dim, c.val, r[0], r[1], c.firstSeen)
		}
		if r[2] != c.known || r[3] != c.known {
			t.Errorf("known_entity(%q) = %v, reference %v, want %v", c.ent, r[2], r[3], c.known)
		}
		if r[4] != r[5] {
			t.Errorf("first_seen in a FILTER counts %v rows, the reference %v", r[4], r[5])
		}
	}
}

// is_public_addr must give is_public_ip's answer whenever the number is the address's (vpc_flow's *_v4
// columns, ipv4_num), and fall back to the text without one.
func TestIsPublicAddr(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	null := "\x00"
	cases := []struct {
		addr string
		want bool
	}{
		{"0.0.0.0", false}, {"0.255.255.255", false}, {"1.0.0.0", true}, {"8.8.8.8", true},
		{"9.255.255.255", true}, {"10.0.0.0", false}, {"10.255.255.255", false}, {"11.0.0.0", true},
		{"100.63.255.255", true}, {"100.64.0.0", false}, {"100.127.255.255", false}, {"100.128.0.0", true},
		{"126.255.255.255", true}, {"127.0.0.0", false}, {"127.255.255.255", false}, {"128.0.0.0", true},
		{"169.253.255.255", true}, {"169.254.0.0", false}, {"169.254.169.254", false}, {"169.254.255.255", false}, {"169.255.0.0", true},
		{"172.15.255.255", true}, {"172.16.0.0", false}, {"172.31.255.255", false}, {"172.32.0.0", true},
		{"192.167.255.255", true}, {"192.168.0.0", false}, {"192.168.255.255", false}, {"192.169.0.0", true},
		{"223.255.255.255", true}, {"224.0.0.0", false}, {"239.255.255.250", false}, {"240.0.0.1", false}, {"255.255.255.255", false},
		// no number: the text decides, as is_public_ip reads it
		{"2a0e:1234::1", true}, {"2001:db8::1", true}, {"fd12:3456:789a::1", false}, {"FE80::1", false}, {"ff02::1", false},
		{"::1", false}, {"::", false}, {"::ffff:8.8.8.8", false}, {"010.1.2.3", true}, {"999.1.1.1", true},
		{"-", false}, {"", false}, {"ec2.amazonaws.com", false}, {null, false},
	}
	var rows []string
	for i, c := range cases {
		a := literal(c.addr)
		if c.addr == null {
			a = "NULL::VARCHAR"
		}
		rows = append(rows, "("+strconv.Itoa(i)+", "+a+")")
	}
	res, err := s.Query(ctx, `SELECT is_public_addr(a, ipv4_num(a)), is_public_ip(a), is_public_addr(a, NULL)
		FROM (VALUES `+strings.Join(rows, ", ")+`) c(i, a) ORDER BY i`, Window{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		r := res.Rows[i]
		if r[0] != c.want || r[1] != c.want || r[2] != c.want {
			t.Errorf("%q: is_public_addr %v, is_public_ip %v, is_public_addr without the number %v, want %v", c.addr, r[0], r[1], r[2], c.want)
		}
	}

	// Every /16, at its first, a middle and its last address: the ranges must be is_public_ip's prefixes.
	res, err = s.Query(ctx, `SELECT count(*), count(*) FILTER (WHERE is_public_addr(a, n) IS DISTINCT FROM is_public_ip(a)),
		any_value(a) FILTER (WHERE is_public_addr(a, n) IS DISTINCT FROM is_public_ip(a))
		FROM (SELECT n, ipv4_text(n) AS a FROM (SELECT b * 65536 + h AS n FROM range(65536) r(b), (VALUES (0), (32896), (65535)) v(h)))`, Window{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Rows[0]; r[0] != int64(3*65536) || r[1] != int64(0) {
		t.Errorf("over every /16: %v addresses, %v where is_public_addr and is_public_ip differ (e.g. %v)", r[0], r[1], r[2])
	}
}
