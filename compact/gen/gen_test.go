package gen

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/rawkey"
)

// output is everything one Generate call wrote, parsed.
type output struct {
	objs map[string][]byte
	sum  *Summary
	gt   GroundTruth

	ct        []ctRecord
	ctByID    map[string]int // eventID → deliveries
	ctFiles   map[string]ctFileInfo
	digests   map[string]digestDoc
	flows     []flowLine
	flowHdrs  map[string]int // header → files
	dns       []dnsLine
	decomp    map[string][]byte
	parseErrs []string
}

type ctRecord struct {
	Key          string
	EventVersion string `json:"eventVersion"`
	EventID      string `json:"eventID"`
	EventTime    string `json:"eventTime"`
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	EventType    string `json:"eventType"`
	EventCat     string `json:"eventCategory"`
	AWSRegion    string `json:"awsRegion"`
	SourceIP     string `json:"sourceIPAddress"`
	UserAgent    string `json:"userAgent"`
	ErrorCode    string `json:"errorCode"`
	ReadOnly     *bool  `json:"readOnly"`
	Management   *bool  `json:"managementEvent"`
	Recipient    string `json:"recipientAccountId"`
	VPCEndpoint  string `json:"vpcEndpointId"`
	UserIdentity struct {
		Type           string `json:"type"`
		ARN            string `json:"arn"`
		AccountID      string `json:"accountId"`
		AccessKeyID    string `json:"accessKeyId"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			SessionIssuer struct {
				ARN string `json:"arn"`
			} `json:"sessionIssuer"`
			EC2RoleDelivery string `json:"ec2RoleDelivery"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	RequestParameters   json.RawMessage `json:"requestParameters"`
	AdditionalEventData json.RawMessage `json:"additionalEventData"`
	TLSDetails          *struct {
		Host string `json:"clientProvidedHostHeader"`
	} `json:"tlsDetails"`
	t time.Time
}

type ctFileInfo struct {
	named          time.Time
	oldest, newest time.Time
	records        int
}

type digestDoc struct {
	AccountID string `json:"awsAccountId"`
	Start     string `json:"digestStartTime"`
	LogFiles  []struct {
		S3Object  string `json:"s3Object"`
		HashValue string `json:"hashValue"`
	} `json:"logFiles"`
	Records json.RawMessage `json:"Records"`
}

type flowLine struct {
	key    string
	f      map[string]string
	header string
}

type dnsLine struct {
	key       string
	Account   string `json:"account_id"`
	Region    string `json:"region"`
	VPC       string `json:"vpc_id"`
	Timestamp string `json:"query_timestamp"`
	Name      string `json:"query_name"`
	Type      string `json:"query_type"`
	Class     string `json:"query_class"`
	Rcode     string `json:"rcode"`
	Answers   []struct {
		Rdata, Type, Class string
	} `json:"answers"`
	SrcAddr   string            `json:"srcaddr"`
	SrcPort   string            `json:"srcport"`
	Transport string            `json:"transport"`
	SrcIDs    map[string]string `json:"srcids"`
	Version   string            `json:"version"`
}

func generate(t testing.TB, cfg Config) *output {
	t.Helper()
	out := &output{objs: map[string][]byte{}}
	var mu sync.Mutex
	sum, err := Generate(context.Background(), cfg, func(key string, body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := out.objs[key]; dup {
			return fmt.Errorf("key written twice: %s", key)
		}
		out.objs[key] = bytes.Clone(body)
		return nil
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	out.sum = sum
	return out
}

var (
	tinyOnce sync.Once
	tinyOut  *output
)

// tinyConfig raises the duplicate and late rates so a few-thousand-event run surely has both.
var tinyConfig = Config{Scale: "tiny", Seed: 42, DuplicateRate: 0.05, LateRate: 0.05}

func tiny(t *testing.T) *output {
	t.Helper()
	tinyOnce.Do(func() {
		o := generate(t, tinyConfig)
		o.parse()
		tinyOut = o
	})
	if tinyOut == nil {
		t.Fatal("tiny generation failed earlier")
	}
	return tinyOut
}

func (o *output) errorf(format string, args ...any) {
	o.parseErrs = append(o.parseErrs, fmt.Sprintf(format, args...))
}

var nameTimeRe = regexp.MustCompile(`_(\d{8}T\d{4}(?:\d{2})?Z)[_.]`)

func (o *output) parse() {
	o.ctByID = map[string]int{}
	o.ctFiles = map[string]ctFileInfo{}
	o.digests = map[string]digestDoc{}
	o.flowHdrs = map[string]int{}
	o.decomp = map[string][]byte{}
	if err := json.Unmarshal(o.objs[GroundTruthKey], &o.gt); err != nil {
		o.errorf("ground truth: %v", err)
	}
	keys := make([]string, 0, len(o.objs))
	for k := range o.objs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if !strings.HasSuffix(key, ".gz") {
			continue
		}
		zr, err := gzip.NewReader(bytes.NewReader(o.objs[key]))
		if err != nil {
			o.errorf("%s: not gzip: %v", key, err)
			continue
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			o.errorf("%s: bad gzip stream: %v", key, err)
			continue
		}
		o.decomp[key] = raw
		switch {
		case strings.Contains(key, "/CloudTrail-Digest/"):
			var d digestDoc
			if err := json.Unmarshal(raw, &d); err != nil {
				o.errorf("%s: digest is not JSON: %v", key, err)
			}
			o.digests[key] = d
		case strings.Contains(key, "/CloudTrail/"):
			o.parseCT(key, raw)
		case strings.Contains(key, "/vpcflowlogs/"):
			o.parseFlow(key, raw)
		case strings.Contains(key, "/vpcdnsquerylogs/"):
			o.parseDNS(key, raw)
		default:
			o.errorf("%s: unexpected gzip object", key)
		}
	}
}

func (o *output) parseCT(key string, raw []byte) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		o.errorf("%s: not JSON: %v", key, err)
		return
	}
	if len(doc) != 1 || doc["Records"] == nil {
		o.errorf("%s: want exactly one top-level key Records, got %d keys", key, len(doc))
		return
	}
	var recs []ctRecord
	if err := json.Unmarshal(doc["Records"], &recs); err != nil {
		o.errorf("%s: Records: %v", key, err)
		return
	}
	info := ctFileInfo{records: len(recs)}
	if m := nameTimeRe.FindStringSubmatch(key); m != nil {
		info.named, _ = time.Parse("20060102T1504Z", m[1])
	}
	for i := range recs {
		r := &recs[i]
		r.Key = key
		t, err := time.Parse(time.RFC3339, r.EventTime)
		if err != nil || r.EventID == "" || r.EventSource == "" || r.EventName == "" || r.AWSRegion == "" || r.UserIdentity.Type == "" ||
			r.EventVersion == "" || r.Recipient == "" || r.ReadOnly == nil || r.Management == nil || r.EventCat == "" {
			o.errorf("%s record %d: missing or bad required field: %+v", key, i, r)
			continue
		}
		r.t = t
		if info.oldest.IsZero() || t.Before(info.oldest) {
			info.oldest = t
		}
		if t.After(info.newest) {
			info.newest = t
		}
		o.ctByID[r.EventID]++
		o.ct = append(o.ct, *r)
	}
	o.ctFiles[key] = info
}

func (o *output) parseFlow(key string, raw []byte) {
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	header := lines[0]
	names := strings.Fields(header)
	if len(names) == 0 || names[0] != "version" {
		o.errorf("%s: first line is not a header: %q", key, header)
		return
	}
	if len(lines) < 2 {
		o.errorf("%s: header only", key)
	}
	o.flowHdrs[header]++
	for i, ln := range lines[1:] {
		vals := strings.Split(ln, " ")
		if len(vals) != len(names) {
			o.errorf("%s:%d: %d fields, header has %d", key, i+2, len(vals), len(names))
			continue
		}
		f := make(map[string]string, len(names))
		for j, n := range names {
			f[n] = vals[j]
		}
		o.flows = append(o.flows, flowLine{key: key, f: f, header: header})
	}
}

func (o *output) parseDNS(key string, raw []byte) {
	for i, ln := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
		var q dnsLine
		if err := json.Unmarshal(ln, &q); err != nil {
			o.errorf("%s:%d: %v", key, i+1, err)
			continue
		}
		q.key = key
		o.dns = append(o.dns, q)
	}
}

func TestTinyOutputParses(t *testing.T) {
	o := tiny(t)
	for _, e := range o.parseErrs {
		t.Error(e)
	}
	if len(o.ct) < 2000 || len(o.flows) < 5000 || len(o.dns) < 2000 {
		t.Fatalf("tiny output too small: %d CloudTrail, %d flow, %d DNS records", len(o.ct), len(o.flows), len(o.dns))
	}
	if got := o.sum.Events[tableCloudTrail]; got != int64(len(o.ct)) {
		t.Errorf("summary says %d CloudTrail records, files hold %d", got, len(o.ct))
	}
	if got := o.sum.Events[tableVPCFlow]; got != int64(len(o.flows)) {
		t.Errorf("summary says %d flow records, files hold %d", got, len(o.flows))
	}
	if got := o.sum.Events[tableRoute53]; got != int64(len(o.dns)) {
		t.Errorf("summary says %d DNS queries, files hold %d", got, len(o.dns))
	}
	if o.sum.Objects != int64(len(o.objs)) {
		t.Errorf("summary says %d objects, sink got %d", o.sum.Objects, len(o.objs))
	}
	// Duplicates are whole files delivered twice: every repeated eventID is one counted duplicate.
	repeats := int64(0)
	for _, n := range o.ctByID {
		repeats += int64(n - 1)
	}
	if repeats == 0 || repeats != o.sum.CloudTrailDuplicates {
		t.Errorf("repeated eventIDs: %d, summary duplicates: %d (want equal and > 0)", repeats, o.sum.CloudTrailDuplicates)
	}
}

var (
	ctKeyRe     = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)
	digestKeyRe = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_[A-Za-z0-9._-]+_([a-z0-9-]+)_(\d{8}T\d{6}Z)\.json\.gz$`)
	flowKeyRe   = regexp.MustCompile(`^AWSLogs/(\d{12})/vpcflowlogs/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/(\d{12})_vpcflowlogs_([a-z0-9-]+)_fl-[0-9a-f]{17}_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)
	dnsKeyRe    = regexp.MustCompile(`^AWSLogs/(\d{12})/vpcdnsquerylogs/(vpc-[0-9a-f]{17})/(\d{4}/\d{2}/\d{2})/(\d{12})_vpcdnsquerylogs_(vpc-[0-9a-f]{17})_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz$`)
	tiKeyRe     = regexp.MustCompile(`^ti/(feodo-\d{4}-\d{2}-\d{2}\.csv|ip-blocklist-\d{4}-\d{2}-\d{2}\.txt|domains-\d{4}-\d{2}-\d{2}\.txt)$`)
)

func TestObjectKeysFollowAWSLayout(t *testing.T) {
	o := tiny(t)
	counts := map[string]int{}
	for key := range o.objs {
		kind := ""
		var m []string
		switch {
		case key == GroundTruthKey:
			counts["ground-truth"]++
			continue
		case tiKeyRe.MatchString(key):
			counts["ti"]++
			continue
		case ctKeyRe.MatchString(key):
			kind, m = rawkey.SourceCloudTrail, ctKeyRe.FindStringSubmatch(key)
			if m[2] != m[5] {
				t.Errorf("%s: region folder %s but file names %s", key, m[2], m[5])
			}
		case digestKeyRe.MatchString(key):
			kind, m = "digest", digestKeyRe.FindStringSubmatch(key)
			if m[2] != m[5] || m[2] != m[6] {
				t.Errorf("%s: regions disagree", key)
			}
		case flowKeyRe.MatchString(key):
			kind, m = rawkey.SourceVPCFlow, flowKeyRe.FindStringSubmatch(key)
		case dnsKeyRe.MatchString(key):
			kind, m = rawkey.SourceRoute53Resolver, dnsKeyRe.FindStringSubmatch(key)
			if m[2] != m[5] {
				t.Errorf("%s: VPC folder %s but file names %s", key, m[2], m[5])
			}
		default:
			t.Errorf("key does not follow any AWS delivery layout: %s", key)
			continue
		}
		counts[kind]++
		if m[1] != m[4] {
			t.Errorf("%s: account folder %s but file names %s", key, m[1], m[4])
		}
		// The date folders are the date of the delivery timestamp in the name.
		stamp := m[len(m)-1]
		if want := stamp[0:4] + "/" + stamp[4:6] + "/" + stamp[6:8]; m[3] != want {
			t.Errorf("%s: date folders %s, name says %s", key, m[3], want)
		}
		info := rawkey.Classify(key)
		wantKind, wantSource := rawkey.Events, kind
		if kind == "digest" {
			wantKind, wantSource = rawkey.CloudTrailDigest, rawkey.SourceCloudTrail
		}
		if info.Source != wantSource || info.Kind != wantKind || info.AccountID != m[1] || info.FileTime.IsZero() {
			t.Errorf("%s: rawkey.Classify = %+v, want source %s kind %v", key, info, wantSource, wantKind)
		}
	}
	for _, k := range []string{rawkey.SourceCloudTrail, "digest", rawkey.SourceVPCFlow, rawkey.SourceRoute53Resolver, "ti", "ground-truth"} {
		if counts[k] == 0 {
			t.Errorf("no %s objects", k)
		}
	}
	if counts["ti"] != 3 || counts["ground-truth"] != 1 {
		t.Errorf("want 3 TI feeds and 1 ground truth, got %v", counts)
	}
}

func TestGzipHeadersAreReproducible(t *testing.T) {
	o := tiny(t)
	for key, body := range o.objs {
		if !strings.HasSuffix(key, ".gz") {
			continue
		}
		// RFC 1952: flags at 3 (no FNAME/FCOMMENT/FEXTRA), mtime at 4..7 is zero.
		if len(body) < 10 || body[3] != 0 || !bytes.Equal(body[4:8], []byte{0, 0, 0, 0}) {
			t.Fatalf("%s: gzip header carries a name or an mtime: % x", key, body[:min(10, len(body))])
		}
	}
}

func TestCloudTrailDigests(t *testing.T) {
	o := tiny(t)
	if len(o.digests) == 0 || int64(len(o.digests)) != o.sum.CloudTrailDigests {
		t.Fatalf("%d digests, summary says %d", len(o.digests), o.sum.CloudTrailDigests)
	}
	listed := 0
	for key, d := range o.digests {
		if d.Records != nil {
			t.Errorf("%s: a digest must not carry Records", key)
		}
		if d.AccountID == "" || d.Start == "" {
			t.Errorf("%s: digest without awsAccountId/digestStartTime", key)
		}
		for _, f := range d.LogFiles {
			raw, ok := o.decomp[f.S3Object]
			if !ok {
				t.Errorf("%s lists %s, which was not written", key, f.S3Object)
				continue
			}
			sum := sha256.Sum256(raw)
			if hex.EncodeToString(sum[:]) != f.HashValue {
				t.Errorf("%s: hash of %s does not match", key, f.S3Object)
			}
			listed++
		}
	}
	if listed == 0 {
		t.Error("no digest lists any log file")
	}
}

func TestLateFiles(t *testing.T) {
	o := tiny(t)
	late := 0
	for key, f := range o.ctFiles {
		lag := f.named.Sub(f.newest)
		switch {
		case lag >= time.Hour:
			late++
		case lag < 0 || lag > 30*time.Minute:
			t.Errorf("%s: named %s, newest event %s: on-time files are delivered within minutes", key, f.named, f.newest)
		}
	}
	if late == 0 || int64(late) != o.sum.CloudTrailLateFiles {
		t.Errorf("%d files delivered hours after their events, summary says %d (want equal and > 0)", late, o.sum.CloudTrailLateFiles)
	}
}

func TestCloudTrailRecordShapes(t *testing.T) {
	o := tiny(t)
	instanceARN := regexp.MustCompile(`^arn:aws:sts::\d{12}:assumed-role/[^/]+/i-[0-9a-f]{17}$`)
	seen := map[string]int{}
	for _, r := range o.ct {
		id := r.UserIdentity
		seen["type:"+id.Type]++
		switch id.Type {
		case "IAMUser":
			if id.AccessKeyID != "" && !strings.HasPrefix(id.AccessKeyID, "AKIA") && !strings.HasPrefix(id.AccessKeyID, "ASIA") {
				t.Errorf("%s: IAM user key %q", r.EventID, id.AccessKeyID)
			}
			if strings.HasPrefix(id.AccessKeyID, "AKIA") {
				seen["akia"]++
			}
		case "AssumedRole":
			if !strings.HasPrefix(id.AccessKeyID, "ASIA") || id.SessionContext == nil || id.SessionContext.SessionIssuer.ARN == "" {
				t.Errorf("%s: role session without ASIA key or session issuer: %+v", r.EventID, id)
			}
			if instanceARN.MatchString(id.ARN) {
				seen["instance"]++
				if id.SessionContext.EC2RoleDelivery == "" {
					t.Errorf("%s: instance session without ec2RoleDelivery", r.EventID)
				}
			}
			if id.InvokedBy != "" {
				seen["service-linked"]++
			}
		case "AWSService":
			if id.InvokedBy == "" || r.SourceIP != id.InvokedBy || r.TLSDetails != nil {
				t.Errorf("%s: AWS service call: invokedBy %q, source %q, tls %v", r.EventID, id.InvokedBy, r.SourceIP, r.TLSDetails)
			}
		case "Root":
		case "AWSAccount": // another account's principal in this account's data events
			if id.AccountID == "" || id.AccountID == r.Recipient || r.EventCat != "Data" {
				t.Errorf("%s: cross-account %s by account %q in %s", r.EventID, r.EventCat, id.AccountID, r.Recipient)
			}
		default:
			t.Errorf("%s: unexpected identity type %q", r.EventID, id.Type)
		}
		if *r.Management == (r.EventCat == "Data") {
			t.Errorf("%s: managementEvent %v with eventCategory %s", r.EventID, *r.Management, r.EventCat)
		}
		if r.EventCat == "Data" {
			seen["data"]++
		}
		if r.VPCEndpoint != "" {
			seen["vpce"]++
			if !strings.HasPrefix(r.SourceIP, "10.") {
				t.Errorf("%s: call through %s from %s", r.EventID, r.VPCEndpoint, r.SourceIP)
			}
		}
		if r.EventSource == "s3.amazonaws.com" && id.InvokedBy == "" && !strings.HasPrefix(r.UserAgent, "[") {
			t.Errorf("%s: S3 logs user agents in brackets, got %q", r.EventID, r.UserAgent)
		}
		switch r.ErrorCode {
		case "AccessDenied", "AccessDeniedException", "Client.UnauthorizedOperation":
			seen["denied"]++
		}
		if r.EventName == "ConsoleLogin" && r.EventType != "AwsConsoleSignIn" {
			t.Errorf("%s: ConsoleLogin with eventType %s", r.EventID, r.EventType)
		}
		if _, err := netip.ParseAddr(r.SourceIP); err != nil && !strings.HasSuffix(r.SourceIP, ".amazonaws.com") {
			t.Errorf("%s: sourceIPAddress %q is neither an IP nor a service", r.EventID, r.SourceIP)
		}
	}
	for _, k := range []string{"type:IAMUser", "type:AssumedRole", "type:AWSService", "type:Root", "akia", "instance", "service-linked", "data", "vpce", "denied"} {
		if seen[k] == 0 {
			t.Errorf("no %s records in the tiny output (%v)", k, seen)
		}
	}
}

func TestFlowRecords(t *testing.T) {
	o := tiny(t)
	if len(o.flowHdrs) < 2 {
		t.Errorf("want the custom v5 and the default format, got headers %v", o.flowHdrs)
	}
	nodata := 0
	for _, fl := range o.flows {
		f := fl.f
		if f["version"] != "5" && f["version"] != "2" {
			t.Fatalf("%s: version %q", fl.key, f["version"])
		}
		start, err1 := strconv.ParseInt(f["start"], 10, 64)
		end, err2 := strconv.ParseInt(f["end"], 10, 64)
		if err1 != nil || err2 != nil || end < start {
			t.Fatalf("%s: start %q end %q", fl.key, f["start"], f["end"])
		}
		switch f["log-status"] {
		case "NODATA":
			nodata++
			if f["srcaddr"] != "-" || f["action"] != "-" {
				t.Errorf("%s: NODATA record with traffic fields: %v", fl.key, f)
			}
			continue
		case "OK":
		default:
			t.Fatalf("%s: log-status %q", fl.key, f["log-status"])
		}
		for _, k := range []string{"srcaddr", "dstaddr"} {
			if _, err := netip.ParseAddr(f[k]); err != nil {
				t.Fatalf("%s: %s %q", fl.key, k, f[k])
			}
		}
		for _, k := range []string{"srcport", "dstport", "protocol", "packets", "bytes"} {
			if _, err := strconv.ParseInt(f[k], 10, 64); err != nil {
				t.Fatalf("%s: %s %q", fl.key, k, f[k])
			}
		}
		if f["action"] != "ACCEPT" && f["action"] != "REJECT" {
			t.Fatalf("%s: action %q", fl.key, f["action"])
		}
		if d, ok := f["flow-direction"]; ok && d != "ingress" && d != "egress" {
			t.Fatalf("%s: flow-direction %q", fl.key, d)
		}
	}
	if nodata == 0 {
		t.Error("no NODATA records: parsers must meet '-' fields")
	}
}

func TestDNSQueries(t *testing.T) {
	o := tiny(t)
	kinds := map[string]int{}
	for _, q := range o.dns {
		if _, err := time.Parse(time.RFC3339, q.Timestamp); err != nil {
			t.Fatalf("%s: query_timestamp %q", q.key, q.Timestamp)
		}
		if !strings.HasSuffix(q.Name, ".") || q.Version != "1.100000" || q.Class != "IN" || q.Account == "" || q.VPC == "" || q.Region == "" {
			t.Fatalf("%s: bad query %+v", q.key, q)
		}
		if _, err := strconv.Atoi(q.SrcPort); err != nil {
			t.Fatalf("%s: srcport %q", q.key, q.SrcPort)
		}
		if !strings.Contains(q.key, "/"+q.VPC+"/") {
			t.Fatalf("%s holds a query of %s", q.key, q.VPC)
		}
		kinds["rcode:"+q.Rcode]++
		kinds["type:"+q.Type]++
		if q.SrcIDs["instance"] != "" {
			kinds["instance"]++
		}
		if q.SrcIDs["resolver_endpoint"] != "" {
			kinds["endpoint"]++
		}
	}
	for _, k := range []string{"rcode:NOERROR", "rcode:NXDOMAIN", "type:A", "type:AAAA", "type:PTR", "type:TXT", "instance", "endpoint"} {
		if kinds[k] == 0 {
			t.Errorf("no %s queries (%v)", k, kinds)
		}
	}
}

func flowID(account, eni, src, dst, sport, dport, proto, start string) string {
	return strings.Join([]string{account, eni, src, dst, sport, dport, proto, start}, "|")
}

func TestGroundTruthMatchesOutput(t *testing.T) {
	checkGroundTruth(t, tiny(t))
}

// Odd shapes: one day (no baseline day), one account and region, many regions.
func TestGroundTruthHoldsForOtherShapes(t *testing.T) {
	for _, cfg := range []Config{
		{Scale: "tiny", Seed: 3, Days: 1, Accounts: 1, Regions: 1, CloudTrailPerDay: 800, FlowsPerDay: 1500, DNSPerDay: 500},
		{Scale: "tiny", Seed: 4, Days: 2, Accounts: 3, Regions: 5, CloudTrailPerDay: 800, FlowsPerDay: 1500, DNSPerDay: 500},
		{Scale: "custom", Seed: 5, Days: 8, Accounts: 1, Regions: 2, CloudTrailPerDay: 300, FlowsPerDay: 600, DNSPerDay: 300},
	} {
		t.Run(fmt.Sprintf("days=%d,accounts=%d,regions=%d", cfg.Days, cfg.Accounts, cfg.Regions), func(t *testing.T) {
			o := generate(t, cfg)
			o.parse()
			for _, e := range o.parseErrs {
				t.Error(e)
			}
			checkGroundTruth(t, o)
		})
	}
}

func checkGroundTruth(t *testing.T, o *output) {
	t.Helper()
	gt := o.gt
	if len(gt.Scenarios) != 27 || !slices.Equal(o.sum.Scenarios, scenarioNames(gt)) {
		t.Fatalf("scenarios: ground truth %v, summary %v", scenarioNames(gt), o.sum.Scenarios)
	}
	flows := map[string]bool{}
	for _, fl := range o.flows {
		f := fl.f
		flows[flowID(f["account-id"], f["interface-id"], f["srcaddr"], f["dstaddr"], f["srcport"], f["dstport"], f["protocol"], f["start"])] = true
	}
	queries := map[string]bool{}
	for _, q := range o.dns {
		queries[q.VPC+"|"+q.SrcIDs["instance"]+"|"+q.Timestamp+"|"+q.Name+"|"+q.Type] = true
	}
	lastDays := time.Duration(min(3, max(1, int(gt.End.Sub(gt.Start).Hours()/24)-1))) * 24 * time.Hour
	for _, sc := range gt.Scenarios {
		if len(sc.ExpectedHunts) == 0 || sc.Description == "" || len(sc.Entities) == 0 {
			t.Errorf("%s: incomplete ground truth", sc.Name)
		}
		if sc.Start.After(sc.End) || sc.Start.Before(gt.End.Add(-lastDays)) || !sc.End.Before(gt.End) {
			t.Errorf("%s: %s..%s is not in the last days of %s..%s", sc.Name, sc.Start, sc.End, gt.Start, gt.End)
		}
		if len(sc.EventIDs)+len(sc.Flows)+len(sc.DNSQueries) == 0 {
			t.Errorf("%s: no records", sc.Name)
		}
		for _, id := range sc.EventIDs {
			if o.ctByID[id] == 0 {
				t.Errorf("%s: event %s is not in the CloudTrail output", sc.Name, id)
			}
		}
		for _, f := range sc.Flows {
			id := flowID(f.AccountID, f.InterfaceID, f.SrcAddr, f.DstAddr, strconv.Itoa(f.SrcPort), strconv.Itoa(f.DstPort),
				strconv.Itoa(f.Protocol), strconv.FormatInt(f.Start.Unix(), 10))
			if !flows[id] {
				t.Errorf("%s: flow %s is not in the flow output", sc.Name, id)
			}
		}
		for _, q := range sc.DNSQueries {
			if !queries[q.VPCID+"|"+q.InstanceID+"|"+q.Time.Format(time.RFC3339)+"|"+q.QueryName+"|"+q.QueryType] {
				t.Errorf("%s: query %+v is not in the DNS output", sc.Name, q)
			}
		}
	}
}

func scenarioNames(gt GroundTruth) []string {
	var out []string
	for _, sc := range gt.Scenarios {
		out = append(out, sc.Name)
	}
	return out
}

func scenario(t *testing.T, gt GroundTruth, name string) Scenario {
	t.Helper()
	for _, sc := range gt.Scenarios {
		if sc.Name == name {
			return sc
		}
	}
	t.Fatalf("no scenario %s", name)
	return Scenario{}
}

func (o *output) eventsOf(sc Scenario) []ctRecord {
	ids := map[string]bool{}
	for _, id := range sc.EventIDs {
		ids[id] = true
	}
	var out []ctRecord
	seen := map[string]bool{}
	for _, r := range o.ct {
		if ids[r.EventID] && !seen[r.EventID] {
			seen[r.EventID] = true
			out = append(out, r)
		}
	}
	return out
}

// TestAttackInfrastructureOnlyInScenarios: 192.0.2.0/24 is reserved for planted activity, so any
// hit on it outside the ground truth would be a false positive the benchmarks cannot explain.
func TestAttackInfrastructureOnlyInScenarios(t *testing.T) {
	o := tiny(t)
	planted := map[string]bool{}
	plantedFlows := 0
	for _, sc := range o.gt.Scenarios {
		for _, id := range sc.EventIDs {
			planted[id] = true
		}
		for _, f := range sc.Flows {
			if strings.HasPrefix(f.SrcAddr, "192.0.2.") || strings.HasPrefix(f.DstAddr, "192.0.2.") {
				plantedFlows++ // not the load balancer's connection to the web server
			}
		}
	}
	hits := 0
	for _, r := range o.ct {
		if strings.HasPrefix(r.SourceIP, "192.0.2.") {
			hits++
			if !planted[r.EventID] {
				t.Errorf("background event %s comes from %s", r.EventID, r.SourceIP)
			}
		}
	}
	flowHits := 0
	for _, fl := range o.flows {
		if strings.HasPrefix(fl.f["srcaddr"], "192.0.2.") || strings.HasPrefix(fl.f["dstaddr"], "192.0.2.") {
			flowHits++
		}
	}
	if hits == 0 || flowHits != plantedFlows {
		t.Errorf("CloudTrail records from 192.0.2.0/24: %d; flow records touching it: %d, planted flows: %d", hits, flowHits, plantedFlows)
	}
}

func TestStolenKeyScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioStolenKey)
	evs := o.eventsOf(sc)
	denied := map[string]bool{}
	var stop, del time.Time
	for _, r := range evs {
		if r.UserIdentity.AccessKeyID != sc.Entities["access_key_id"] || r.SourceIP != sc.Entities["source_ip"] || r.UserAgent != sc.Entities["user_agent"] && r.UserAgent != "["+sc.Entities["user_agent"]+"]" {
			t.Errorf("event %s %s: key %s from %s with %q", r.EventID, r.EventName, r.UserIdentity.AccessKeyID, r.SourceIP, r.UserAgent)
		}
		if r.ErrorCode != "" {
			denied[r.EventName] = true
		}
		switch r.EventName {
		case "StopLogging":
			stop = r.t
		case "DeleteFlowLogs":
			del = r.t
		}
	}
	if stop.IsZero() || del.IsZero() || len(denied) < 10 {
		t.Fatalf("want StopLogging, DeleteFlowLogs and >= 10 distinct denied APIs; got stop=%v delete=%v denied=%d", stop, del, len(denied))
	}
	// The victim never used that address or agent before.
	for _, r := range o.ct {
		if r.UserIdentity.ARN == sc.Entities["principal_arn"] && r.t.Before(sc.Start) && (r.SourceIP == sc.Entities["source_ip"] || r.UserAgent == sc.Entities["user_agent"]) {
			t.Errorf("baseline event %s already uses the attacker's address or agent", r.EventID)
		}
	}
	// Logging really stopped: no account event recorded after StopLogging.
	acct := sc.Entities["account_id"]
	for _, r := range o.ct {
		if r.Recipient == acct && r.t.After(stop) {
			t.Errorf("event %s at %s in %s is after StopLogging at %s", r.EventID, r.t, acct, stop)
		}
	}
	before, after := 0, 0
	for _, fl := range o.flows {
		if !strings.Contains(fl.key, "_"+sc.Entities["flow_log_id"]+"_") {
			continue
		}
		start, _ := strconv.ParseInt(fl.f["start"], 10, 64)
		if start >= del.Unix() {
			after++
		} else {
			before++
		}
	}
	if before == 0 || after != 0 {
		t.Errorf("deleted flow log %s: %d records before deletion, %d after (want >0, 0)", sc.Entities["flow_log_id"], before, after)
	}
}

func TestInstanceCredentialsScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioInstanceCreds)
	arn := sc.Entities["principal_arn"]
	if !regexp.MustCompile(`/i-[0-9a-f]{17}$`).MatchString(arn) {
		t.Fatalf("principal %s is not an instance session", arn)
	}
	evs := o.eventsOf(sc)
	keys := map[string]bool{}
	for _, r := range evs {
		keys[r.UserIdentity.AccessKeyID] = true
		if r.UserIdentity.ARN != arn || r.SourceIP != sc.Entities["source_ip"] || strings.HasPrefix(r.SourceIP, "10.") {
			t.Errorf("event %s: %s from %s", r.EventID, r.UserIdentity.ARN, r.SourceIP)
		}
	}
	if len(keys) != 1 {
		t.Errorf("stolen session used %d different keys, want 1", len(keys))
	}
	inside := 0
	for _, r := range o.ct {
		if r.UserIdentity.ARN == arn && r.SourceIP != sc.Entities["source_ip"] {
			inside++
		}
	}
	if inside == 0 {
		t.Error("the instance has no normal activity to compare with")
	}
}

func TestC2BeaconingScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioC2Beaconing)
	c2 := sc.Entities["c2_ip"]
	var starts []int64
	for _, f := range sc.Flows {
		if f.SrcAddr != c2 && f.DstAddr != c2 || f.InstanceID != sc.Entities["instance_id"] || f.Action != "ACCEPT" {
			t.Fatalf("flow %+v is not the instance talking to %s", f, c2)
		}
		if f.FlowDirection == "egress" {
			starts = append(starts, f.Start.Unix())
		}
	}
	if len(starts) < 100 {
		t.Fatalf("only %d beacons", len(starts))
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i] - starts[i-1]; gap < beaconEvery-5 || gap > beaconEvery+5 {
			t.Fatalf("beacon gap %ds, want %d±5", gap, beaconEvery)
		}
	}
	// The feed lists the C2 only after the beaconing, dated after the range.
	var feed *TIFeed
	for i := range o.gt.TIFeeds {
		if o.gt.TIFeeds[i].Format == "feodo-csv" {
			feed = &o.gt.TIFeeds[i]
		}
	}
	if feed == nil || !feed.Published.After(o.gt.End) || !slices.Contains(feed.Planted, c2) {
		t.Fatalf("Feodo feed %+v", feed)
	}
	rows, err := csv.NewReader(strings.NewReader(stripComments(string(o.objs[feed.Key])))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", feed.Key, err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "first_seen_utc,dst_ip,dst_port,c2_status,last_online,malware" {
		t.Fatalf("%s: header %v", feed.Key, rows[0])
	}
	found := false
	for _, row := range rows[1:] {
		if row[1] == c2 {
			found = true
			first, err := time.Parse("2006-01-02 15:04:05", row[0])
			if err != nil || !first.After(sc.End) {
				t.Errorf("C2 first_seen %q, last beacon %s: the feed must list it later", row[0], sc.End)
			}
		}
	}
	if !found {
		t.Errorf("%s does not list %s", feed.Key, c2)
	}
	if !strings.Contains(string(o.objs["ti/domains-"+feed.Published.Format("2006-01-02")+".txt"]), "\n"+sc.Entities["c2_domain"]+"\n") {
		t.Error("domain feed does not list the C2 domain")
	}
	if len(sc.DNSQueries) == 0 {
		t.Error("the instance never resolves its C2 domain")
	}
}

func stripComments(s string) string {
	var b strings.Builder
	for _, ln := range strings.Split(s, "\n") {
		if !strings.HasPrefix(ln, "#") && ln != "" {
			b.WriteString(ln + "\n")
		}
	}
	return b.String()
}

func TestDNSTunnellingScenario(t *testing.T) {
	o := tiny(t)
	sc := scenario(t, o.gt, ScenarioDNSTunnelling)
	txt, long := 0, 0
	for _, q := range sc.DNSQueries {
		if !strings.HasSuffix(q.QueryName, "."+sc.Entities["tunnel_domain"]+".") || q.InstanceID != sc.Entities["instance_id"] {
			t.Fatalf("query %+v is not the instance tunnelling through %s", q, sc.Entities["tunnel_domain"])
		}
		if q.QueryType == "TXT" {
			txt++
		}
		if len(strings.SplitN(q.QueryName, ".", 2)[0]) >= 40 {
			long++
		}
	}
	n := len(sc.DNSQueries)
	if n < 500 || txt*10 < n*6 || long != n {
		t.Errorf("%d queries, %d TXT, %d with labels >= 40 chars", n, txt, long)
	}
}

func TestUserAgentRootAndSecretsScenarios(t *testing.T) {
	o := tiny(t)
	agents := map[string]bool{}
	for _, r := range o.eventsOf(scenario(t, o.gt, ScenarioOffensiveTools)) {
		agents[strings.Trim(r.UserAgent, "[]")] = true
	}
	for _, ua := range []string{uaTruffleHog, uaKali, uaPacu} {
		if !agents[ua] {
			t.Errorf("offensive tools scenario lacks %q", ua)
		}
	}

	root := o.eventsOf(scenario(t, o.gt, ScenarioRootLogin))
	login := false
	for _, r := range root {
		if r.UserIdentity.Type != "Root" {
			t.Errorf("root scenario event %s by %s", r.EventID, r.UserIdentity.Type)
		}
		if r.EventName == "ConsoleLogin" {
			var add struct{ MFAUsed string }
			_ = json.Unmarshal(r.AdditionalEventData, &add)
			login = add.MFAUsed == "No"
		}
	}
	if !login {
		t.Error("no root ConsoleLogin with MFAUsed=No")
	}
	for _, r := range o.ct {
		if r.UserIdentity.Type == "Root" && !slices.Contains(scenario(t, o.gt, ScenarioRootLogin).EventIDs, r.EventID) {
			t.Errorf("background root activity %s", r.EventID)
		}
	}

	secrets := map[string]bool{}
	var first, last time.Time
	for _, r := range o.eventsOf(scenario(t, o.gt, ScenarioSecretsBurst)) {
		if r.EventName != "GetSecretValue" {
			continue
		}
		var p struct{ SecretID string }
		_ = json.Unmarshal(r.RequestParameters, &p)
		secrets[p.SecretID] = true
		if first.IsZero() {
			first = r.t
		}
		last = r.t
	}
	if len(secrets) < 50 || last.Sub(first) > 10*time.Minute {
		t.Errorf("secrets burst: %d distinct secrets in %s", len(secrets), last.Sub(first))
	}
}

func hashOutput(objs map[string][]byte) string {
	keys := make([]string, 0, len(objs))
	for k := range objs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%d\x00", k, len(objs[k]))
		h.Write(objs[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestSameSeedSameBytes(t *testing.T) {
	base := hashOutput(tiny(t).objs)
	one := tinyConfig
	one.Workers = 1
	if got := hashOutput(generate(t, one).objs); got != base {
		t.Error("same seed, one worker instead of many: different bytes")
	}
	other := tinyConfig
	other.Seed++
	o := generate(t, other)
	if got := hashOutput(o.objs); got == base {
		t.Error("different seed, same bytes")
	}
	same := 0
	for k := range o.objs {
		if _, ok := tinyOut.objs[k]; ok && strings.HasPrefix(k, "AWSLogs/") {
			same++
		}
	}
	if same != 0 {
		t.Errorf("%d log object keys are shared between seeds: accounts and names should differ", same)
	}
}

func TestVolumesFollowConfig(t *testing.T) {
	cfg := Config{Scale: "tiny", Seed: 7, Days: 2, Accounts: 1, Regions: 1, CloudTrailPerDay: 3000, FlowsPerDay: 8000, DNSPerDay: 2000,
		DuplicateRate: -1, LateRate: -1}
	o := generate(t, cfg)
	if o.sum.CloudTrailDuplicates != 0 || o.sum.CloudTrailLateFiles != 0 {
		t.Errorf("duplicates and late files turned off, got %d and %d", o.sum.CloudTrailDuplicates, o.sum.CloudTrailLateFiles)
	}
	o.parse()
	for _, e := range o.parseErrs {
		t.Error(e)
	}
	planted := map[string]int{}
	for _, sc := range o.gt.Scenarios {
		planted[tableCloudTrail] += len(sc.EventIDs)
		planted[tableVPCFlow] += len(sc.Flows)
		planted[tableRoute53] += len(sc.DNSQueries)
	}
	for table, perDay := range map[string]int{tableCloudTrail: 3000, tableVPCFlow: 8000, tableRoute53: 2000} {
		want := float64(perDay*cfg.Days + planted[table])
		got := float64(o.sum.Events[table])
		// CloudTrail loses the hours after the planted StopLogging; flows may overshoot by a connection per hour.
		if got < want*0.9 || got > want*1.05 {
			t.Errorf("%s: %v records, want about %v", table, got, want)
		}
	}
	if len(o.gt.Accounts) != 1 || len(o.gt.Regions) != 1 {
		t.Errorf("accounts %v regions %v", o.gt.Accounts, o.gt.Regions)
	}
}

// The large scale must reach the benchmark floor over its 28 days. Generating it takes minutes, so
// this checks the calibrated per-window counts, which the writers emit exactly (flows at least).
func TestLargeScaleMeetsFloor(t *testing.T) {
	rc, err := resolve(Config{Scale: "large"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := buildWorld(rc)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := plan(w, 0, "large"); err != nil {
		t.Fatal(err)
	}
	w.calibrate(rc.ctPerDay, rc.flowsPerDay, rc.dnsPerDay)
	total := func(vol func(i int) *volume, n int, stop func(i int) int64, tag uint64) float64 {
		sum := 0.0
		for i := 0; i < n; i++ {
			v := vol(i)
			for d := 0; d < w.days; d++ {
				p := v.prefix(w.seed, seedOf(tag, uint64(i)), d, w.dayType(d))
				day := float64(countIn(&p, 0, 24*60))
				if s := stop(i); s > 0 && w.start+int64(d+1)*86400 > s {
					day = float64(countIn(&p, 0, int(s-w.start-int64(d)*86400)/60))
				}
				sum += day
			}
		}
		return sum
	}
	never := func(int) int64 { return 0 }
	ct := total(func(i int) *volume { return &w.streams[i].vol }, len(w.streams), func(i int) int64 { return w.streams[i].ar.acct.ctStop }, tagCT)
	flows := total(func(i int) *volume { return &w.vpcs[i].flowVol }, len(w.vpcs), func(i int) int64 { return w.vpcs[i].flowDeletedAt }, tagFlow)
	dns := total(func(i int) *volume { return &w.vpcs[i].dnsVol }, len(w.vpcs), never, tagDNS)
	if w.days < 28 || ct < 10e6 || flows < 100e6 || dns < 10e6 {
		t.Errorf("large: %d days, %.0f CloudTrail, %.0f flows, %.0f DNS (want >= 28, 10M, 100M, 10M)", w.days, ct, flows, dns)
	}
	people := 0
	for _, a := range w.accounts {
		people += len(a.people) + len(a.workers)
	}
	if people < 300 {
		t.Errorf("large world has %d principals, want a few hundred", people)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Scale: "huge"}, `unknown scale "huge"`},
		{Config{Days: -1}, "days must not be negative"},
		{Config{Regions: 17}, "at most 16 regions"},
		{Config{Accounts: 40, Regions: 4}, "accounts × regions must be at most 127"},
		{Config{DuplicateRate: 1}, "duplicate rate must be below 1"},
		{Config{FlowsPerDay: -5}, "flow records per day must not be negative"},
	} {
		_, err := Generate(context.Background(), tc.cfg, func(string, []byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := Generate(context.Background(), Config{}, nil); err == nil {
		t.Error("nil sink accepted")
	}
}

func TestSinkErrorStopsGeneration(t *testing.T) {
	boom := errors.New("disk full")
	var mu sync.Mutex
	calls := 0
	_, err := Generate(context.Background(), Config{Scale: "tiny", Seed: 1}, func(key string, _ []byte) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 50 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "AWSLogs/") {
		t.Fatalf("error %v, want the sink's error naming the object", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, Config{Scale: "tiny"}, func(string, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestAppendStrIsValidJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "ctl \x00\x01\x1f\n\r\t", "ünïcødé ✓ 日本", "bad \xff utf8", "</script>"} {
		b := appendStr(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Errorf("%q → %s: %v", s, b, err)
			continue
		}
		if want := strings.ToValidUTF8(s, "\ufffd"); back != want {
			t.Errorf("%q round-trips to %q", s, back)
		}
	}
}
