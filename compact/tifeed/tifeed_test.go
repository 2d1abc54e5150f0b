package tifeed

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var samples = filepath.Join("..", "..", "testdata", "ti")

type parsed struct {
	st     Stats
	inds   []Indicator
	issues []Issue
	err    error
}

func (p *parsed) find(value string) (Indicator, bool) {
	for _, i := range p.inds {
		if i.Value == value {
			return i, true
		}
	}
	return Indicator{}, false
}

func (p *parsed) issueLines(kind string) []int {
	var out []int
	for _, is := range p.issues {
		if is.Kind == kind {
			out = append(out, is.Line)
		}
	}
	return out
}

func parse(t *testing.T, data []byte, format, name string) *parsed {
	t.Helper()
	p := &parsed{}
	p.st, p.err = Parse(bytes.NewReader(data), format, name,
		func(i Indicator) error { p.inds = append(p.inds, i); return nil },
		func(is Issue) { p.issues = append(p.issues, is) })
	return p
}

func parseSample(t *testing.T, rel string) *parsed {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples, rel))
	if err != nil {
		t.Fatalf("sample missing: %v", err)
	}
	return parse(t, b, "auto", rel)
}

func TestSamples(t *testing.T) {
	for _, tc := range []struct {
		file      string
		format    string
		byType    map[string]int
		malformed []int // lines
		bogons    []int // lines
		skipped   int
		check     func(t *testing.T, p *parsed)
	}{
		{file: "et/compromised-ips.txt", format: FormatPlain, byType: map[string]int{"ipv4": 782}},
		{file: "feodo/ipblocklist.csv", format: FormatFeodoCSV, byType: map[string]int{"ipv4": 28},
			check: func(t *testing.T, p *parsed) {
				i, ok := p.find("192.9.135.73")
				want := time.Date(2023, 5, 23, 17, 51, 44, 0, time.UTC)
				if !ok || i.Line != 10 || i.MalwareFamily != "Pikabot" || !i.FirstSeen.Equal(want) ||
					!reflect.DeepEqual(i.Tags, []string{"c2_status:online", "port:1194"}) {
					t.Errorf("first Feodo C2: %+v", i)
				}
			}},
		{file: "spamhaus/drop.txt", format: FormatSpamhausDROP, byType: map[string]int{"cidr4": 936},
			check: func(t *testing.T, p *parsed) {
				if i, _ := p.find("1.10.16.0/20"); i.Description != "SBL256894" || i.Line != 5 {
					t.Errorf("first DROP entry: %+v", i)
				}
			}},
		{file: "spamhaus/drop_v4.json", format: FormatSpamhausJSON, byType: map[string]int{"cidr4": 1406}, skipped: 1},
		{file: "spamhaus/asn_drop.json", format: FormatSpamhausJSON, byType: map[string]int{"asn": 201}, skipped: 1,
			check: func(t *testing.T, p *parsed) {
				if i, _ := p.find("AS932"); i.Description != "XNNET xn.net US" || !reflect.DeepEqual(i.Tags, []string{"rir:arin"}) {
					t.Errorf("AS932: %+v", i)
				}
			}},
		// FireHOL level1 carries the full bogons: all ten must be excluded, with their lines.
		{file: "firehol/firehol_level1.netset", format: FormatNetset, byType: map[string]int{"cidr4": 2480, "ipv4": 402},
			bogons: []int{34, 54, 555, 1627, 2012, 2022, 2224, 2270, 2398, 2925}},
		{file: "stix21/apt1.json", format: FormatSTIX2, byType: map[string]int{"cidr4": 4, "domain": 3, "md5": 3}, skipped: 2,
			check: func(t *testing.T, p *parsed) {
				i, ok := p.find("223.166.0.0/15")
				if !ok || i.Type != TypeCIDR4 || i.Start.String() != "223.166.0.0" || i.End.String() != "223.167.255.255" ||
					i.Description != "HTRAN Hop Point Accessor: Test description." || i.FirstSeen.Year() != 2015 {
					t.Errorf("APT1 CIDR: %+v", i)
				}
			}},
		// poisonivy: 25 indicators, OR-compounds of domains and IPs; one value is "domain autuo.xicp.net".
		{file: "stix21/poisonivy.json", format: FormatSTIX2, byType: map[string]int{"domain": 24, "ipv4": 40}, malformed: []int{597}, skipped: 2,
			check: func(t *testing.T, p *parsed) {
				n := 0
				for _, i := range p.inds {
					if i.Line == 517 { // microsoft.byinter.net: 4 domains OR 7 IPs
						n++
					}
				}
				if n != 11 {
					t.Errorf("OR pattern at line 517 gave %d indicators, want 11", n)
				}
				if i, _ := p.find("219.76.208.163"); i.MalwareFamily == "" || !contains(i.Tags, "campaign:admin@338") {
					t.Errorf("relationship context missing: %+v", i)
				}
			}},
		// 10.0.0.0 is the example C2 address of the OASIS samples: a bogon.
		{file: "stix21/indicator-for-c2-ip-address.json", format: FormatSTIX2, bogons: []int{5}},
		{file: "stix21/indicator-to-campaign-relationship.json", format: FormatSTIX2, bogons: []int{13}},
		{file: "stix21/indicators-for-C2-with-COA.json", format: FormatSTIX2, byType: map[string]int{"sha256": 1}, bogons: []int{29},
			check: func(t *testing.T, p *parsed) {
				if p.inds[0].MalwareFamily != "Poison Ivy" {
					t.Errorf("indicates→malware not resolved: %+v", p.inds[0])
				}
			}},
		// Observables become indicators only as parts of malicious infrastructure.
		{file: "stix21/infrastructure.json", format: FormatSTIX2, byType: map[string]int{"ipv4": 1, "domain": 1},
			check: func(t *testing.T, p *parsed) {
				if i, _ := p.find("198.51.100.3"); i.MalwareFamily != "Poison Ivy" || i.Description != "Poison Ivy C2" {
					t.Errorf("C2 infrastructure address: %+v", i)
				}
			}},
		{file: "stix21/interop-objectmarking-test.json", format: FormatSTIX2, skipped: 1},
		{file: "stix21/malicious-email-indicator-with-attachment.json", format: FormatSTIX2, skipped: 2},
		{file: "misp/57c4445b-c548-4654-af0b-4be3950d210f.json", format: FormatMISP, byType: map[string]int{"md5": 1, "sha1": 1, "sha256": 1}, skipped: 6},
		{file: "misp/existing_event.json", format: FormatMISP, byType: map[string]int{"domain": 19, "ipv4": 12, "sha1": 37}, skipped: 54,
			check: func(t *testing.T, p *parsed) {
				i, _ := p.find("movieultimate.com")
				// The certainty tag sits on the link/text attributes only: the domains have no confidence.
				if i.Confidence != nil || !strings.Contains(i.MalwareFamily, "CHOPSTICK") || !contains(i.Tags, `misp-galaxy:threat-actor="Sofacy"`) ||
					!i.FirstSeen.Equal(time.Date(2017, 12, 21, 0, 0, 0, 0, time.UTC)) {
					t.Errorf("MISP attribute context: %+v", i)
				}
			}},
		{file: "misp/long_event.json", format: FormatMISP, byType: map[string]int{"domain": 12, "ipv4": 8, "md5": 75, "sha1": 57, "sha256": 84, "url": 11},
			malformed: []int{28, 1268, 1278}, skipped: 120,
			check: func(t *testing.T, p *parsed) {
				if _, ok := p.find("114.60.106.156"); ok {
					t.Error("ip-dst with to_ids false was imported")
				}
				if _, ok := p.find("http://198.55.120.143:7386/B/ResN32.dll"); !ok {
					t.Error("URL missing")
				}
			}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p := parseSample(t, tc.file)
			if p.err != nil {
				t.Fatal(p.err)
			}
			if p.st.Format != tc.format {
				t.Errorf("format %q, want %q", p.st.Format, tc.format)
			}
			if tc.byType == nil {
				tc.byType = map[string]int{}
			}
			if !reflect.DeepEqual(p.st.ByType, tc.byType) {
				t.Errorf("by type %v, want %v", p.st.ByType, tc.byType)
			}
			if got := p.issueLines(IssueMalformed); !reflect.DeepEqual(got, tc.malformed) {
				t.Errorf("malformed lines %v, want %v (%v)", got, tc.malformed, p.issues)
			}
			if got := p.issueLines(IssueBogon); !reflect.DeepEqual(got, tc.bogons) {
				t.Errorf("bogon lines %v, want %v", got, tc.bogons)
			}
			skipped := 0
			for _, n := range p.st.Skipped {
				skipped += n
			}
			if skipped != tc.skipped {
				t.Errorf("skipped %d (%v), want %d", skipped, p.st.Skipped, tc.skipped)
			}
			if p.st.Indicators != len(p.inds) || p.st.Malformed != len(tc.malformed) || p.st.Bogons != len(tc.bogons) {
				t.Errorf("stats %+v disagree with what was emitted/reported", p.st)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func TestPlainLines(t *testing.T) {
	feed := "\xef\xbb\xbf# a plain list\r\n" + // 1
		"203.0.113.7\r\n" + // 2  TEST-NET-3: kept (see Bogons)
		"198.51.100.0/24 ; scanner net\n" + // 3
		"45.1.2.3/24 # host bits set\n" + // 4  → 45.1.2.0/24
		"45.9.9.9/32\n" + // 5  → single IP
		"evil[.]example.COM.\n" + // 6  defanged, upper case, trailing dot
		"hxxp://Bad.Example.net/Payload.exe\n" + // 7
		"0.0.0.0 ads.example.org\n" + // 8  hosts file
		"2001:DB8:0:0::1\n" + // 9
		"::ffff:10.1.2.3\n" + // 10 IPv4-mapped private
		"fe80::1\n" + // 11
		"0.0.0.0/0\n" + // 12 contains everything
		"999.1.1.1\n" + // 13
		"01.2.3.4\n" + // 14 leading zero: ambiguous (octal?)
		"44.44.44.44 55.55.55.55\n" + // 15 two on a line
		"d41d8cd98f00b204e9800998ecf8427e\n" + // 16 md5
		"\n" +
		"// trailing comment style\n" +
		"bücher.example\n" + // 19
		"100.64.1.1\n" + // 20
		"1.2.3" // 21 no newline at EOF, truncated IP
	p := parse(t, []byte(feed), FormatPlain, "list.txt")
	if p.err != nil {
		t.Fatal(p.err)
	}
	var got []string
	for _, i := range p.inds {
		got = append(got, i.Type+" "+i.Value)
	}
	want := []string{"ipv4 203.0.113.7", "cidr4 198.51.100.0/24", "cidr4 45.1.2.0/24", "ipv4 45.9.9.9", "domain evil.example.com",
		"url http://bad.example.net/Payload.exe", "domain ads.example.org", "ipv6 2001:db8::1", "md5 d41d8cd98f00b204e9800998ecf8427e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indicators\n got %v\nwant %v", got, want)
	}
	if i, _ := p.find("198.51.100.0/24"); i.Description != "scanner net" {
		t.Errorf("trailing comment not kept as description: %+v", i)
	}
	if got, want := p.issueLines(IssueBogon), []int{10, 11, 12, 20}; !reflect.DeepEqual(got, want) {
		t.Errorf("bogon lines %v, want %v", got, want)
	}
	if got, want := p.issueLines(IssueMalformed), []int{13, 14, 15, 19, 21}; !reflect.DeepEqual(got, want) {
		t.Errorf("malformed lines %v, want %v: %v", got, want, p.issues)
	}
	if p.st.Records != 18 {
		t.Errorf("records %d, want 18 (every non-comment line)", p.st.Records)
	}
}

func TestIPOnlyFormatsRejectDomains(t *testing.T) {
	p := parse(t, []byte("1.2.3.0/24\nexample.com\n"), FormatNetset, "x.netset")
	if len(p.inds) != 1 || !reflect.DeepEqual(p.issueLines(IssueMalformed), []int{2}) {
		t.Errorf("netset: %v %v", p.inds, p.issues)
	}
}

func TestOverlongLine(t *testing.T) {
	feed := "1.1.1.1\n" + strings.Repeat("a", 200<<10) + "\n8.8.8.8\n"
	p := parse(t, []byte(feed), FormatPlain, "x")
	if len(p.inds) != 2 || !reflect.DeepEqual(p.issueLines(IssueMalformed), []int{2}) {
		t.Errorf("got %d indicators, issues %v", len(p.inds), p.issueLines(IssueMalformed))
	}
}

func TestFeodoVariants(t *testing.T) {
	old := "# Feodo Tracker\n# Firstseen,DstIP,DstPort,LastOnline,Malware\n2019-05-01 10:00:00,51.1.2.3,447,2019-05-02,TrickBot\n" +
		"2019-05-01 10:00:00,not-an-ip,447,2019-05-02,TrickBot\nyesterday,51.1.2.4,447,,Emotet\n# END 3 entries\n"
	p := parse(t, []byte(old), "auto", "ipblocklist.csv")
	if p.err != nil || p.st.Format != FormatFeodoCSV {
		t.Fatalf("%v %v", p.err, p.st.Format)
	}
	if len(p.inds) != 2 || p.inds[0].MalwareFamily != "TrickBot" || p.inds[0].FirstSeen.Year() != 2019 {
		t.Errorf("old-style feodo: %+v", p.inds)
	}
	if !reflect.DeepEqual(p.issueLines(IssueMalformed), []int{4}) || !reflect.DeepEqual(p.issueLines(IssueWarning), []int{5}) {
		t.Errorf("issues: %v", p.issues)
	}
	if _, err := Parse(strings.NewReader("1.2.3.4,5\n"), FormatFeodoCSV, "x.csv", func(Indicator) error { return nil }, nil); err == nil ||
		!strings.Contains(err.Error(), "dst_ip") {
		t.Errorf("CSV without header: %v", err)
	}
}

func TestSpamhausJSONBadLines(t *testing.T) {
	feed := `{"cidr":"1.10.16.0/20","sblid":"SBL1","rir":"apnic"}
{"cidr":"10.0.0.0/8","sblid":"SBL2","rir":"apnic"}
{"cidr":"1.10.16.0/20"
{"sblid":"SBL3"}
{"type":"metadata","timestamp":1744682874,"records":4}
`
	p := parse(t, []byte(feed), "auto", "drop_v4.json")
	if p.st.Format != FormatSpamhausJSON || len(p.inds) != 1 {
		t.Fatalf("%+v %v", p.st, p.inds)
	}
	if !reflect.DeepEqual(p.issueLines(IssueMalformed), []int{3, 4}) || !reflect.DeepEqual(p.issueLines(IssueBogon), []int{2}) {
		t.Errorf("issues: %v", p.issues)
	}
}

func TestSTIXPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string // path op values
		err     string
	}{
		{"[ipv4-addr:value = '1.2.3.4']", []string{"ipv4-addr:value = 1.2.3.4"}, ""},
		{"[ipv4-addr:value ISSUBSET '198.51.100.0/24' OR domain-name:value = 'a.example']",
			[]string{"ipv4-addr:value ISSUBSET 198.51.100.0/24", "domain-name:value = a.example"}, ""},
		{"[file:hashes.'SHA-256' = 'ab\\'c']", []string{"file:hashes.'SHA-256' = ab'c"}, ""},
		{"[network-traffic:dst_ref.value IN ('1.1.1.1', '2.2.2.2') AND network-traffic:dst_port = 443]",
			[]string{"network-traffic:dst_ref.value IN 1.1.1.1,2.2.2.2", "network-traffic:dst_port = 443"}, ""},
		{"[email-message:body_multipart[*].body_raw_ref.name MATCHES '^x$'] FOLLOWEDBY [ipv6-addr:value NOT = '::1'] WITHIN 300 SECONDS",
			[]string{"email-message:body_multipart[*].body_raw_ref.name MATCHES ^x$", "ipv6-addr:value !NOT = ::1"}, ""},
		{"[ipv4-addr:value = '1.2.3.4'", nil, "unbalanced"},
		{"[ipv4-addr:value = '1.2.3.4]", nil, "unterminated string"},
		{"[ipv4-addr:value '1.2.3.4']", nil, "expected a comparison operator"},
	} {
		cmps, err := stixComparisons(tc.pattern)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.pattern, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.pattern, err)
			continue
		}
		var got []string
		for _, c := range cmps {
			op := c.op
			if c.negated {
				op = "!NOT " + op
			}
			got = append(got, c.path+" "+op+" "+strings.Join(c.values, ","))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.pattern, got, tc.want)
		}
	}
}

func TestSTIXIndicators(t *testing.T) {
	bundle := `{"type":"bundle","id":"bundle--1","objects":[
 {"type":"indicator","id":"indicator--a","pattern_type":"stix","valid_from":"2024-01-02T03:04:05Z","confidence":80,
  "indicator_types":["malicious-activity"],"name":"C2",
  "pattern":"[ipv4-addr:value = '45.1.1.1' OR ipv6-addr:value = '2001:db8::/48' OR url:value = 'http://x.example/a']"},
 {"type":"indicator","id":"indicator--b","pattern_type":"snort","pattern":"alert tcp any any","valid_from":"2024-01-01T00:00:00Z"},
 {"type":"indicator","id":"indicator--c","revoked":true,"pattern":"[ipv4-addr:value = '45.2.2.2']","valid_from":"2024-01-01T00:00:00Z"},
 {"type":"indicator","id":"indicator--d","pattern":"[ipv4-addr:value NOT = '45.3.3.3']","valid_from":"2024-01-01T00:00:00Z"},
 {"type":"indicator","id":"indicator--e","pattern":"[ipv4-addr:value = 'example.com']","valid_from":"yesterday"},
 {"type":"indicator","id":"indicator--f","confidence":"high","pattern":"[ipv4-addr:value = '45.4.4.4']","valid_from":"2024-01-01T00:00:00Z"},
 {"type":"malware","id":"malware--m","name":"BadRAT","is_family":true},
 {"type":"relationship","id":"relationship--r","relationship_type":"indicates","source_ref":"indicator--a","target_ref":"malware--m"}
]}`
	p := parse(t, []byte(bundle), "auto", "b.json")
	if p.err != nil {
		t.Fatal(p.err)
	}
	var got []string
	for _, i := range p.inds {
		got = append(got, i.Type+" "+i.Value)
		if *i.Confidence != 80 || i.MalwareFamily != "BadRAT" || i.Line != 2 || !reflect.DeepEqual(i.Tags, []string{"malicious-activity"}) {
			t.Errorf("context of %s: %+v", i.Value, i)
		}
	}
	if want := []string{"ipv4 45.1.1.1", "cidr6 2001:db8::/48", "url http://x.example/a"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := p.issueLines(IssueMalformed), []int{8, 9}; !reflect.DeepEqual(got, want) {
		t.Errorf("malformed %v, want %v: %v", got, want, p.issues)
	}
	if got := p.issueLines(IssueWarning); !reflect.DeepEqual(got, []int{8}) {
		t.Errorf("warnings %v, want [8] (bad valid_from)", got)
	}
	want := map[string]int{"STIX indicator with pattern_type snort": 1, "STIX indicator revoked": 1,
		"STIX indicator without an IP, domain, URL or file-hash comparison": 1}
	if !reflect.DeepEqual(p.st.Skipped, want) {
		t.Errorf("skipped %v, want %v", p.st.Skipped, want)
	}
}

func TestBrokenJSONIsAFileError(t *testing.T) {
	for _, tc := range []struct{ format, doc, want string }{
		{FormatSTIX2, `{"type":"bundle","objects":[{"type":"indicator",`, "ends early"},
		{FormatSTIX2, "{\"type\":\"bundle\",\n\"objects\":[\n{\"type\" \"indicator\"}]}", "line 3"},
		{FormatMISP, `{"Event":{"Attribute":[{"type":"ip-dst","value":"1.2.3.4"}]`, "ends early"},
		{FormatMISP, `{"1234":{"info":"x"}}`, "manifest.json"},
	} {
		_, err := Parse(strings.NewReader(tc.doc), tc.format, "f.json", func(Indicator) error { return nil }, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "f.json") {
			t.Errorf("%s %q: error %v, want it to name the file and say %q", tc.format, tc.doc, err, tc.want)
		}
	}
}

func TestMISPAttributes(t *testing.T) {
	event := `{"Event":{"info":"Campaign X","date":"2024-03-01",
 "Tag":[{"name":"tlp:green"},{"name":"misp-galaxy:malpedia=\"Cobalt Strike\""}],
 "Attribute":[
  {"type":"ip-dst|port","value":"45.5.5.5|443","to_ids":"1","comment":"beacon"},
  {"type":"domain|ip","value":"c2.example.net|45.6.6.6","to_ids":true,"first_seen":"2024-02-01T00:00:00Z",
   "Tag":[{"name":"osint:certainty=\"50\""}]},
  {"type":"filename|sha256","value":"a.exe|` + strings.Repeat("ab", 32) + `","to_ids":true},
  {"type":"hostname","value":"ctx.example.net","to_ids":"0"},
  {"type":"ip-src","value":"45.7.7.7","to_ids":true,"deleted":true},
  {"type":"md5","value":"xyz","to_ids":true},
  {"type":"ip-dst","value":"192.168.1.10","to_ids":true}
 ]}}`
	p := parse(t, []byte(event), "auto", "e.json")
	if p.err != nil || p.st.Format != FormatMISP {
		t.Fatal(p.err, p.st.Format)
	}
	var got []string
	for _, i := range p.inds {
		got = append(got, i.Type+" "+i.Value)
		if i.MalwareFamily != "Cobalt Strike" || !strings.HasPrefix(i.Description, "Campaign X") {
			t.Errorf("event context of %s: %+v", i.Value, i)
		}
	}
	if want := []string{"ipv4 45.5.5.5", "domain c2.example.net", "ipv4 45.6.6.6", "sha256 " + strings.Repeat("ab", 32)}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	d, _ := p.find("c2.example.net")
	if d.Confidence == nil || *d.Confidence != 50 || !d.FirstSeen.Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("attribute-level confidence/first_seen: %+v", d)
	}
	ip, _ := p.find("45.5.5.5")
	if !ip.FirstSeen.Equal(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)) || ip.Description != "Campaign X: beacon" {
		t.Errorf("event date / comment: %+v", ip)
	}
	if !reflect.DeepEqual(p.issueLines(IssueMalformed), []int{10}) || !reflect.DeepEqual(p.issueLines(IssueBogon), []int{11}) {
		t.Errorf("issues %v", p.issues)
	}
	if p.st.Skipped["MISP attribute with to_ids false (context, not for detection)"] != 1 || p.st.Skipped["MISP attribute deleted"] != 1 {
		t.Errorf("skipped %v", p.st.Skipped)
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct{ head, name, want string }{
		{"; Spamhaus DROP List 2023/02/20\n1.10.16.0/20 ; SBL256894\n", "drop.txt", FormatSpamhausDROP},
		{"# comment\n\"first_seen_utc\",\"dst_ip\",\"dst_port\"\n", "x.csv", FormatFeodoCSV},
		{"#\n# ipv4 hash:net ipset\n#\n1.2.3.0/24\n", "level1", FormatNetset},
		{"1.2.3.0/24\n", "s3://b/feeds/x.netset", FormatNetset},
		{"1.2.3.4\nevil.example\n", "list.txt", FormatPlain},
		{`{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}` + "\n", "drop_v4.json", FormatSpamhausJSON},
		{`{"asn":932,"rir":"arin","domain":"xn.net","cc":"US","asname":"XNNET"}` + "\n", "asndrop.json", FormatSpamhausJSON},
		{"{\n  \"type\": \"bundle\",\n  \"id\": \"bundle--1\",\n  \"objects\": [", "b.json", FormatSTIX2},
		{"{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"pattern\":\"[ipv4-addr:value = '1.2.3.4']\"}", "i.json", FormatSTIX2},
		{"{\"Event\": {\"info\": \"x\"", "uuid.json", FormatMISP},
		{"{\"Attribute\": [", "event.json", FormatMISP},
	} {
		got, err := Detect([]byte(tc.head), tc.name)
		if err != nil || got != tc.want {
			t.Errorf("Detect(%q, %q) = %q, %v; want %q", tc.head, tc.name, got, err, tc.want)
		}
	}
	for _, head := range []string{"", "  \n", `{"foo": 1}`, "\x00\x01\x02\xff\xfe"} {
		if got, err := Detect([]byte(head), "x"); err == nil {
			t.Errorf("Detect(%q) = %q, want an error", head, got)
		}
	}
}

func TestGzipAndUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte("; Spamhaus DROP List\n1.10.16.0/20 ; SBL256894\n"))
	zw.Close()
	p := parse(t, buf.Bytes(), "auto", "drop.txt.gz")
	if p.err != nil || p.st.Format != FormatSpamhausDROP || len(p.inds) != 1 {
		t.Errorf("gzip: %v %+v", p.err, p.st)
	}
	if _, err := Parse(strings.NewReader("x"), "csv", "f", func(Indicator) error { return nil }, nil); err == nil || !strings.Contains(err.Error(), "csv-feodo") {
		t.Errorf("unknown format error should list the known ones: %v", err)
	}
}

func TestRowNumbers(t *testing.T) {
	for _, tc := range []struct {
		value          string
		start, end     int64
		start6, end6   string
		typ, canonical string
	}{
		{value: "1.2.3.4", start: 0x01020304, end: 0x01020304, typ: TypeIPv4, canonical: "1.2.3.4"},
		{value: "255.255.255.0/24", typ: "", canonical: ""}, // bogon, not emitted: checked below
		{value: "200.0.0.0/8", start: 200 << 24, end: 200<<24 | 0xffffff, typ: TypeCIDR4, canonical: "200.0.0.0/8"},
		{value: "2600:1f18::/32", start6: "26001f18000000000000000000000000", end6: "26001f18ffffffffffffffffffffffff", typ: TypeCIDR6, canonical: "2600:1f18::/32"},
	} {
		ind, err := ipIndicator(tc.value)
		if err != nil {
			t.Fatal(err)
		}
		if tc.typ == "" {
			if _, ok := bogon(ind); !ok {
				t.Errorf("%s should be a bogon", tc.value)
			}
			continue
		}
		r := ind.Row("f")
		if r.Type != tc.typ || r.Indicator != tc.canonical {
			t.Errorf("%s: type %s value %s", tc.value, r.Type, r.Indicator)
		}
		if tc.start6 == "" && (r.StartV4 == nil || *r.StartV4 != tc.start || *r.EndV4 != tc.end || r.StartV6 != nil) {
			t.Errorf("%s: v4 range %v-%v", tc.value, r.StartV4, r.EndV4)
		}
		if tc.start6 != "" && (r.StartV6 == nil || *r.StartV6 != tc.start6 || *r.EndV6 != tc.end6 || r.StartV4 != nil) {
			t.Errorf("%s: v6 range %v-%v", tc.value, r.StartV6, r.EndV6)
		}
	}
}

func TestBogonsDoNotOverlapDocumentationRanges(t *testing.T) {
	// The documentation ranges stay matchable (see Bogons); everything special-purpose around them is excluded.
	keep := []string{"192.0.2.1", "198.51.100.200", "203.0.113.5", "2001:db8::1", "9.255.255.255", "11.0.0.0", "172.32.0.1", "100.128.0.0"}
	drop := []string{"10.255.255.255", "172.31.0.1", "192.168.0.1", "100.127.255.255", "169.254.169.254", "127.0.0.1",
		"224.0.0.251", "255.255.255.255", "0.1.2.3", "198.19.0.1", "fd00::1", "ff02::1", "::1", "::"}
	for _, v := range keep {
		ind, _ := ipIndicator(v)
		if why, ok := bogon(ind); ok {
			t.Errorf("%s excluded: %s", v, why)
		}
	}
	for _, v := range drop {
		ind, _ := ipIndicator(v)
		if _, ok := bogon(ind); !ok {
			t.Errorf("%s not excluded", v)
		}
	}
}
