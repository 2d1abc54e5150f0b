package vpcflow

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

var testdata = filepath.Join("..", "..", "testdata")

type badLine struct {
	no     int64
	reason string
	sample string
}

type result struct {
	rows []*lake.VPCFlowRecord
	bad  []badLine
	n    int64
	err  error
}

func parse(r io.Reader, o Options) result {
	var res result
	res.n, res.err = Parse(r, o,
		func(rec *lake.VPCFlowRecord) error { res.rows = append(res.rows, rec); return nil },
		func(no int64, reason string, sample []byte) {
			res.bad = append(res.bad, badLine{no, reason, string(sample)})
		})
	return res
}

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

// str is a nullable column's text, "" for NULL.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
func ts(sec int64) *time.Time {
	t := time.Unix(sec, 0).UTC()
	return &t
}

const key = "AWSLogs/123456789010/vpcflowlogs/us-east-1/2024/03/07/123456789010_vpcflowlogs_us-east-1_fl-0123_20240307T1205Z_ab12.log.gz"

var opts = Options{Key: key, FallbackAccount: "123456789010", FallbackRegion: "us-east-1"}

func TestAWSDocSamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdata, "awsdocs", "vpcflow", "*.log"))
	if err != nil || len(files) < 4 {
		t.Fatalf("AWS documentation samples missing: %v %v", files, err)
	}
	got := map[string][]*lake.VPCFlowRecord{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		res := parse(bytes.NewReader(data), opts)
		lines := strings.Count(strings.TrimSpace(string(data)), "\n")
		if res.err != nil || len(res.bad) != 0 || len(res.rows) != lines || res.n != int64(lines) {
			t.Fatalf("%s: err=%v bad=%v rows=%d, want %d rows", f, res.err, res.bad, len(res.rows), lines)
		}
		for i, r := range res.rows {
			if r.SourceLine != int64(i+2) || r.SourceKey != key || r.EventTime.IsZero() || r.AccountID == "" || r.Region == "" {
				t.Errorf("%s row %d: lineage/time/account missing: %+v", f, i, r)
			}
		}
		got[filepath.Base(f)] = res.rows
	}
	base := func(line int64) lake.VPCFlowRecord {
		return lake.VPCFlowRecord{AccountID: "123456789010", Region: "us-east-1", Lineage: lake.Lineage{SourceKey: key, SourceLine: line}}
	}
	check := func(file string, i int, want lake.VPCFlowRecord) {
		t.Helper()
		if g := *got[file][i]; !reflect.DeepEqual(g, want) {
			t.Errorf("%s record %d:\n got %+v\nwant %+v", file, i, g, want)
		}
	}

	w := base(2)
	w.EventTime, w.Version, w.InterfaceID = time.Unix(1418530010, 0).UTC(), i32(2), new("eni-1235b8ca123456789")
	w.SrcAddr, w.DstAddr, w.SrcAddrV4, w.DstAddrV4 = new("172.31.16.139"), new("172.31.16.21"), i64(172<<24|31<<16|16<<8|139), i64(172<<24|31<<16|16<<8|21)
	w.SrcPort, w.DstPort, w.Protocol, w.Packets, w.Bytes = i32(20641), i32(22), i32(6), i64(20), i64(4249)
	w.StartTime, w.EndTime, w.Action, w.LogStatus = ts(1418530010), ts(1418530070), new("ACCEPT"), new("OK")
	check("v2_default.log", 0, w)

	w = base(4) // NODATA: most fields '-'
	w.EventTime, w.Version, w.InterfaceID = time.Unix(1431280876, 0).UTC(), i32(2), new("eni-1235b8ca123456789")
	w.StartTime, w.EndTime, w.LogStatus = ts(1431280876), ts(1431280934), new("NODATA")
	check("v2_default.log", 2, w)

	w = base(8) // IPv6
	w.EventTime, w.Version, w.InterfaceID = time.Unix(1477913708, 0).UTC(), i32(2), new("eni-1235b8ca123456789")
	w.SrcAddr, w.DstAddr = new("2001:db8:1234:a100:8d6e:3477:df66:f105"), new("2001:db8:1234:a102:3304:8879:34cf:4071")
	w.SrcPort, w.DstPort, w.Protocol, w.Packets, w.Bytes = i32(34892), i32(22), i32(6), i64(54), i64(8855)
	w.StartTime, w.EndTime, w.Action, w.LogStatus = ts(1477913708), ts(1477913820), new("ACCEPT"), new("OK")
	check("v2_default.log", 6, w)

	// the record with a double space between fields
	if r := got["v3_tcp_flag_sequence.log"][7]; *r.DstPort != 43638 || str(r.PktSrcAddr) != "10.0.0.62" || *r.TCPFlags != 19 || *r.Bytes != 967 || str(r.LogStatus) != "OK" {
		t.Errorf("double-space record: %+v", r)
	}

	// transit gateway format: no start/end, so event_time is the delivery time in the key
	for _, r := range got["v3_transit_gateway.log"] {
		if !r.EventTime.Equal(time.Date(2024, 3, 7, 12, 5, 0, 0, time.UTC)) || r.StartTime != nil || str(r.Type) != "IPv4" {
			t.Errorf("transit gateway record: %+v", r)
		}
	}
	if r := got["v3_transit_gateway.log"][2]; r.InstanceID != nil || str(r.PktSrcAddr) != "10.20.33.164" || *r.PktSrcAddrV4 != 10<<24|20<<16|33<<8|164 {
		t.Errorf("NAT record: %+v", r)
	}

	w = base(3)
	w.EventTime, w.Version = time.Unix(1616729292, 0).UTC(), i32(5)
	w.SrcAddr, w.DstAddr, w.SrcAddrV4, w.DstAddrV4 = new("10.0.0.71"), new("52.95.128.179"), i64(10<<24|71), i64(52<<24|95<<16|128<<8|179)
	w.SrcPort, w.DstPort, w.Protocol, w.StartTime, w.EndTime = i32(34210), i32(80), i32(6), ts(1616729292), ts(1616729349)
	w.Type, w.Packets, w.Bytes, w.AccountID, w.VPCID, w.SubnetID = new("IPv4"), i64(7), i64(471), "123456789012", new("vpc-abcdefab012345678"), new("subnet-aaaaaaaa012345678")
	w.InstanceID, w.InterfaceID, w.Region, w.AZID = new("i-0c50d5961bcb2d47b"), new("eni-1235b8ca123456789"), "ap-southeast-2", new("apse2-az3")
	w.Action, w.TCPFlags, w.PktSrcAddr, w.PktDstAddr = new("ACCEPT"), i32(3), new("10.0.0.71"), new("52.95.128.179")
	w.PktSrcAddrV4, w.PktDstAddrV4 = i64(10<<24|71), i64(52<<24|95<<16|128<<8|179)
	w.PktDstAWSService, w.TrafficPath, w.FlowDirection, w.LogStatus = new("S3"), i32(8), new("egress"), new("OK")
	check("v5_service_trafficpath_direction.log", 1, w)
}

// Panther's flow samples are normalised JSON; written back as flow-log text (header from the fields each
// sample has) they exercise arbitrary field subsets and orders.
func TestPantherSamples(t *testing.T) {
	f, err := os.Open(filepath.Join(testdata, "panther", "aws_vpcflow.tests.jsonl"))
	if err != nil {
		t.Fatalf("dataset missing: %v", err)
	}
	defer f.Close()
	names := map[string]string{"srcAddr": "srcaddr", "dstAddr": "dstaddr", "srcPort": "srcport", "dstPort": "dstport",
		"action": "action", "flowDirection": "flow-direction", "instanceId": "instance-id", "region": "region",
		"status": "log-status", "subNetId": "subnet-id", "vpcId": "vpc-id"}
	sc := bufio.NewScanner(f)
	tested := 0
	for sc.Scan() {
		var test struct {
			Name string `json:"test_name"`
			Log  map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &test); err != nil {
			t.Fatal(err)
		}
		if test.Log["p_log_type"] != "AWS.VPCFlow" {
			continue
		}
		header, values := []string{"end"}, []string{"1700000000"}
		want := map[string]string{}
		for k, v := range test.Log {
			if n, ok := names[k]; ok {
				header, values = append(header, n), append(values, fmt.Sprint(v))
				want[n] = fmt.Sprint(v)
			}
		}
		res := parse(strings.NewReader(strings.Join(header, " ")+"\n"+strings.Join(values, " ")+"\n"), opts)
		if res.err != nil || len(res.bad) != 0 || len(res.rows) != 1 {
			t.Fatalf("%s: err=%v bad=%v", test.Name, res.err, res.bad)
		}
		r := res.rows[0]
		gotVals := map[string]string{"srcaddr": str(r.SrcAddr), "dstaddr": str(r.DstAddr), "action": str(r.Action), "instance-id": str(r.InstanceID), "log-status": str(r.LogStatus)}
		if r.DstPort != nil {
			gotVals["dstport"] = fmt.Sprint(*r.DstPort)
		}
		for n, v := range want {
			if gotVals[n] != v {
				t.Errorf("%s: %s = %q, want %q", test.Name, n, gotVals[n], v)
			}
		}
		if !r.EventTime.Equal(time.Unix(1700000000, 0)) {
			t.Errorf("%s: event_time from end = %v", test.Name, r.EventTime)
		}
		tested++
	}
	if tested < 15 {
		t.Fatalf("only %d samples", tested)
	}
}

// allFields is one value per field of versions 2-8, and the row they make.
var allFields = map[string]string{
	"version": "8", "account-id": "111122223333", "interface-id": "eni-0f1", "srcaddr": "10.1.2.3", "dstaddr": "2001:db8::1",
	"srcport": "443", "dstport": "65535", "protocol": "17", "packets": "9223372036854775807", "bytes": "0",
	"start": "1709812800", "end": "1709812860", "action": "REJECT", "log-status": "OK", "vpc-id": "vpc-1", "subnet-id": "subnet-1",
	"instance-id": "i-1", "tcp-flags": "18", "type": "IPv6", "pkt-srcaddr": "255.255.255.255", "pkt-dstaddr": "0.0.0.0",
	"region": "eu-west-1", "az-id": "euw1-az1", "sublocation-type": "wavelength", "sublocation-id": "wl-1",
	"pkt-src-aws-service": "AMAZON", "pkt-dst-aws-service": "EC2", "flow-direction": "ingress", "traffic-path": "1",
	"ecs-cluster-arn": "arn:aws:ecs:eu-west-1:111122223333:cluster/c", "ecs-cluster-name": "c",
	"ecs-container-instance-arn": "arn:aws:ecs:eu-west-1:111122223333:container-instance/c/ci", "ecs-container-instance-id": "ci",
	"ecs-container-id": "ctr1", "ecs-second-container-id": "ctr2", "ecs-service-name": "svc",
	"ecs-task-definition-arn": "arn:aws:ecs:eu-west-1:111122223333:task-definition/td:3",
	"ecs-task-arn":            "arn:aws:ecs:eu-west-1:111122223333:task/c/t1", "ecs-task-id": "t1", "reject-reason": "BPA",
}

var allFieldsRow = lake.VPCFlowRecord{
	EventTime: time.Unix(1709812800, 0).UTC(), AccountID: "111122223333", Region: "eu-west-1", Version: i32(8),
	InterfaceID: new("eni-0f1"), SrcAddr: new("10.1.2.3"), DstAddr: new("2001:db8::1"), SrcPort: i32(443), DstPort: i32(65535),
	Protocol: i32(17), Packets: i64(9223372036854775807), Bytes: i64(0), StartTime: ts(1709812800), EndTime: ts(1709812860),
	Action: new("REJECT"), LogStatus: new("OK"), VPCID: new("vpc-1"), SubnetID: new("subnet-1"), InstanceID: new("i-1"), TCPFlags: i32(18), Type: new("IPv6"),
	PktSrcAddr: new("255.255.255.255"), PktDstAddr: new("0.0.0.0"), AZID: new("euw1-az1"), SublocationType: new("wavelength"), SublocationID: new("wl-1"),
	PktSrcAWSService: new("AMAZON"), PktDstAWSService: new("EC2"), FlowDirection: new("ingress"), TrafficPath: i32(1),
	ECSClusterARN: new("arn:aws:ecs:eu-west-1:111122223333:cluster/c"), ECSClusterName: new("c"),
	ECSContainerInstanceARN: new("arn:aws:ecs:eu-west-1:111122223333:container-instance/c/ci"), ECSContainerInstanceID: new("ci"),
	ECSContainerID: new("ctr1"), ECSSecondContainerID: new("ctr2"), ECSServiceName: new("svc"),
	ECSTaskDefinitionARN: new("arn:aws:ecs:eu-west-1:111122223333:task-definition/td:3"),
	ECSTaskARN:           new("arn:aws:ecs:eu-west-1:111122223333:task/c/t1"), ECSTaskID: new("t1"), RejectReason: new("BPA"),
	SrcAddrV4: i64(10<<24 | 1<<16 | 2<<8 | 3), PktSrcAddrV4: i64(1<<32 - 1), PktDstAddrV4: i64(0),
	Lineage: lake.Lineage{SourceKey: key, SourceLine: 2},
}

func TestEveryFieldAnyOrder(t *testing.T) {
	if len(allFields) != int(numFields) {
		t.Fatalf("allFields has %d fields, the parser knows %d", len(allFields), numFields)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5 {
		names := FieldNames()
		if i > 0 {
			rng.Shuffle(len(names), func(a, b int) { names[a], names[b] = names[b], names[a] })
		}
		vals := make([]string, len(names))
		for j, n := range names {
			vals[j] = allFields[n]
		}
		res := parse(strings.NewReader(strings.Join(names, " ")+"\n"+strings.Join(vals, " ")+"\n"), opts)
		if res.err != nil || len(res.bad) != 0 || len(res.rows) != 1 {
			t.Fatalf("order %v: err=%v bad=%v", names, res.err, res.bad)
		}
		if !reflect.DeepEqual(*res.rows[0], allFieldsRow) {
			t.Errorf("order %v:\n got %+v\nwant %+v", names, *res.rows[0], allFieldsRow)
		}
	}
}

func TestDashIsNull(t *testing.T) {
	names := FieldNames()
	dashes := strings.TrimSpace(strings.Repeat("- ", len(names)))
	res := parse(strings.NewReader(strings.Join(names, " ")+"\n"+dashes+"\n"), opts)
	if res.err != nil || len(res.bad) != 0 || len(res.rows) != 1 {
		t.Fatalf("err=%v bad=%v", res.err, res.bad)
	}
	want := lake.VPCFlowRecord{EventTime: time.Date(2024, 3, 7, 12, 5, 0, 0, time.UTC), AccountID: "123456789010", Region: "us-east-1",
		Lineage: lake.Lineage{SourceKey: key, SourceLine: 2}}
	if !reflect.DeepEqual(*res.rows[0], want) {
		t.Errorf("\n got %+v\nwant %+v", *res.rows[0], want)
	}
}

func TestBadLines(t *testing.T) {
	const header = "version account-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
	const good = "2 123456789010 10.0.0.1 10.0.0.2 1024 443 6 10 840 1709812800 1709812860 ACCEPT OK"
	field := func(i int, v string) string {
		f := strings.Fields(good)
		f[i] = v
		return strings.Join(f, " ")
	}
	tests := []struct {
		name, line, reason string
	}{
		{"too few fields", "2 123456789010 10.0.0.1", "3 fields, the header has 13"},
		{"too many fields", good + " extra", "14 fields, the header has 13"},
		{"port not a number", field(4, "https"), `srcport "https" is not a number up to 65535`},
		{"port out of range", field(5, "65536"), `dstport "65536" is not a number up to 65535`},
		{"protocol out of range", field(6, "256"), "protocol"},
		{"negative packets", field(7, "-5"), `packets "-5" is not a non-negative number`},
		{"bytes overflow", field(8, "99999999999999999999"), "bytes"},
		{"start in milliseconds", field(9, "1709812800000000"), `start "1709812800000000" is not Unix seconds`},
		{"end not a number", field(10, "soon"), "end"},
		{"short IPv4", field(2, "10.0.0"), `srcaddr "10.0.0" is not an IP address`},
		{"IPv4 octet > 255", field(3, "10.0.0.256"), "dstaddr"},
		{"IPv4 leading zero", field(3, "10.0.0.01"), "dstaddr"},
		{"IPv4 trailing dot", field(3, "10.0.0.1."), "dstaddr"},
		{"five octets", field(3, "1.2.3.4.5"), "dstaddr"},
		{"hostname", field(2, "example.com"), "srcaddr"},
		{"bad IPv6", field(2, "2001:db8::g"), "srcaddr"},
		{"version not a number", field(0, "v2"), "version"},
		{"not UTF-8", field(11, "ACC\xffEPT"), "line is not valid UTF-8 text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := header + "\n" + good + "\n" + tt.line + "\n" + good + "\n"
			res := parse(strings.NewReader(in), opts)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if len(res.rows) != 2 || res.rows[0].SourceLine != 2 || res.rows[1].SourceLine != 4 {
				t.Fatalf("want the good lines 2 and 4, got %d rows", len(res.rows))
			}
			if len(res.bad) != 1 || res.bad[0].no != 3 || !strings.Contains(res.bad[0].reason, tt.reason) || res.bad[0].sample != tt.line {
				t.Fatalf("bad = %+v, want line 3 with %q", res.bad, tt.reason)
			}
			if res.n != 3 {
				t.Errorf("n = %d, want 3 records read", res.n)
			}
		})
	}
}

func TestValidEdgeLines(t *testing.T) {
	const header = "version srcaddr dstaddr start action log-status"
	tests := []struct {
		name  string
		in    string
		check func(r []*lake.VPCFlowRecord) string
	}{
		{"CRLF line ends", header + "\r\n2 10.0.0.1 10.0.0.2 1709812800 ACCEPT OK\r\n", func(r []*lake.VPCFlowRecord) string {
			return eq(str(r[0].LogStatus), "OK")
		}},
		{"no final newline", header + "\n2 10.0.0.1 10.0.0.2 1709812800 ACCEPT OK", func(r []*lake.VPCFlowRecord) string {
			return eq(str(r[0].LogStatus), "OK")
		}},
		{"blank lines skipped, line numbers kept", header + "\n\n2 10.0.0.1 10.0.0.2 1709812800 ACCEPT OK\n  \n", func(r []*lake.VPCFlowRecord) string {
			return eq(fmt.Sprint(len(r), r[0].SourceLine), "1 3")
		}},
		{"tabs and runs of spaces", header + "\n2\t10.0.0.1   10.0.0.2 1709812800  ACCEPT OK  \n", func(r []*lake.VPCFlowRecord) string {
			return eq(str(r[0].DstAddr)+str(r[0].Action), "10.0.0.2ACCEPT")
		}},
		{"IPv4-mapped IPv6 has no IPv4 number", header + "\n2 ::ffff:10.0.0.1 10.0.0.2 1709812800 ACCEPT OK\n", func(r []*lake.VPCFlowRecord) string {
			return eq(fmt.Sprintf("%s %t %d", str(r[0].SrcAddr), r[0].SrcAddrV4 == nil, *r[0].DstAddrV4), "::ffff:10.0.0.1 true 167772162")
		}},
		{"header in ${field} format", "${version} ${srcaddr} ${dstaddr} ${start} ${action} ${log-status}\n2 10.0.0.1 10.0.0.2 1709812800 ACCEPT OK\n", func(r []*lake.VPCFlowRecord) string {
			return eq(str(r[0].SrcAddr), "10.0.0.1")
		}},
		{"account-id unknown uses the key's account", "account-id start\nunknown 1709812800\n", func(r []*lake.VPCFlowRecord) string {
			return eq(r[0].AccountID, "123456789010")
		}},
		{"account-id and region from the record", "account-id region start\n444455556666 ap-south-1 1709812800\n", func(r []*lake.VPCFlowRecord) string {
			return eq(r[0].AccountID+" "+r[0].Region, "444455556666 ap-south-1")
		}},
		{"start '-' falls back to end", "start end\n- 1709812860\n", func(r []*lake.VPCFlowRecord) string {
			return eq(r[0].EventTime.String(), time.Unix(1709812860, 0).UTC().String())
		}},
		{"byte-order marks before the header and a line", "\ufeff" + header + "\n\ufeff2 10.0.0.1 10.0.0.2 1709812800 ACCEPT OK\n", func(r []*lake.VPCFlowRecord) string {
			return eq(fmt.Sprint(len(r), r[0].SourceLine, *r[0].Version), "1 2 2")
		}},
		{"header only", header + "\n", func(r []*lake.VPCFlowRecord) string { return eq(fmt.Sprint(len(r)), "0") }},
		{"empty file", "", func(r []*lake.VPCFlowRecord) string { return eq(fmt.Sprint(len(r)), "0") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parse(strings.NewReader(tt.in), opts)
			if res.err != nil || len(res.bad) != 0 {
				t.Fatalf("err=%v bad=%v", res.err, res.bad)
			}
			if msg := tt.check(res.rows); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func eq(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

func TestEventTimeFallbacks(t *testing.T) {
	in := "srcaddr action\n10.0.0.1 ACCEPT\n"
	for _, tt := range []struct {
		name string
		o    Options
		want time.Time
	}{
		{"options", Options{Key: key, FallbackTime: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"file name timestamp", Options{Key: key}, time.Date(2024, 3, 7, 12, 5, 0, 0, time.UTC)},
		{"day folder", Options{Key: "AWSLogs/123456789010/vpcflowlogs/us-east-1/2024/03/07/renamed.log.gz"}, time.Date(2024, 3, 7, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := parse(strings.NewReader(in), tt.o)
			if res.err != nil || len(res.rows) != 1 || !res.rows[0].EventTime.Equal(tt.want) {
				t.Fatalf("err=%v rows=%v", res.err, res.rows)
			}
		})
	}
	res := parse(strings.NewReader(in), Options{Key: "upload/flows.log"})
	if res.err != nil || len(res.rows) != 0 || len(res.bad) != 1 || !strings.Contains(res.bad[0].reason, "no start or end time") {
		t.Fatalf("without any time: err=%v rows=%d bad=%v", res.err, len(res.rows), res.bad)
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, msg string }{
		{"unknown field", "version srcaddr colour\n2 10.0.0.1 red\n", `unknown field "colour"`},
		{"transit gateway field", "version tgw-id srcaddr\n6 tgw-1 10.0.0.1\n", `unknown field "tgw-id"`},
		{"repeated field", "srcaddr dstaddr srcaddr\n", `field "srcaddr" appears twice`},
		{"no header", "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n", "the first line is a record, not the header"},
		{"blank first line", "\nversion\n2\n", "the first line is empty"},
		{"header longer than the line limit", strings.Repeat("version ", 200) + "\n", "more than the 1024-byte limit"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			o.MaxLineBytes = 1024
			res := parse(strings.NewReader(tt.in), o)
			if !errors.Is(res.err, ErrHeader) || !strings.Contains(res.err.Error(), tt.msg) || !strings.HasPrefix(res.err.Error(), key+": line 1: ") {
				t.Fatalf("err = %v, want ErrHeader naming the key, line 1 and %q", res.err, tt.msg)
			}
			if len(res.rows) != 0 || len(res.bad) != 0 {
				t.Errorf("rows=%d bad=%d", len(res.rows), len(res.bad))
			}
		})
	}
}

// A line longer than the limit is reported with its length and skipped; the reader's buffer does not grow.
func TestLongLine(t *testing.T) {
	const header = "version srcaddr start\n"
	good := "2 10.0.0.1 1709812800\n"
	long := io.MultiReader(strings.NewReader("2 "), io.LimitReader(repeatReader('9'), 5<<20), strings.NewReader(" 1709812800\n"))
	r := io.MultiReader(strings.NewReader(header+good), long, strings.NewReader(good))
	o := opts
	o.MaxLineBytes = 4096
	res := parse(r, o)
	if res.err != nil || len(res.rows) != 2 || res.rows[1].SourceLine != 4 {
		t.Fatalf("err=%v rows=%d", res.err, len(res.rows))
	}
	if len(res.bad) != 1 || res.bad[0].no != 3 || !strings.Contains(res.bad[0].reason, fmt.Sprintf("line is %d bytes, more than the 4096-byte limit", 2+5<<20+11)) ||
		len(res.bad[0].sample) != sampleBytes || !strings.HasPrefix(res.bad[0].sample, "2 999") {
		t.Fatalf("bad = %.200v", res.bad)
	}
	// exactly at the limit is fine, one byte more is not
	line := "2 10.0.0.1 1709812800 "
	line += strings.Repeat(" ", 100-len(line))
	o.MaxLineBytes = 100
	res = parse(strings.NewReader(header+line+"\n"+line+" \n"), o)
	if len(res.rows) != 1 || len(res.bad) != 1 || res.bad[0].no != 3 {
		t.Fatalf("at the limit: rows=%d bad=%v", len(res.rows), res.bad)
	}
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestReadBoundaries(t *testing.T) {
	data := genFlows(500, 3, wideHeader)
	want := parse(bytes.NewReader(data), opts)
	if want.err != nil || len(want.rows) != 500 {
		t.Fatalf("baseline: %v %d", want.err, len(want.rows))
	}
	got := parse(iotest.OneByteReader(bytes.NewReader(data)), opts)
	if got.err != nil || !reflect.DeepEqual(got.rows, want.rows) {
		t.Fatalf("one-byte reads differ: %v", got.err)
	}
}

func TestReadErrorAndEmitError(t *testing.T) {
	boom := errors.New("connection reset")
	res := parse(io.MultiReader(strings.NewReader("version\n2\n"), iotest.ErrReader(boom)), opts)
	if !errors.Is(res.err, boom) || len(res.rows) != 1 {
		t.Fatalf("read error: %v rows=%d", res.err, len(res.rows))
	}
	stop := errors.New("disk full")
	n, err := Parse(strings.NewReader("version\n2\n2\n"), opts, func(*lake.VPCFlowRecord) error { return stop }, func(int64, string, []byte) {})
	if !errors.Is(err, stop) || n != 0 || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("emit error: n=%d %v", n, err)
	}
	_, err = Parse(strings.NewReader("version\nx\n"), opts, func(*lake.VPCFlowRecord) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), `line 2: version "x" is not`) {
		t.Fatalf("nil bad: %v", err)
	}
}

// Rows must not share storage: the caller keeps them.
func TestRowsAreIndependent(t *testing.T) {
	res := parse(strings.NewReader("srcport start\n1 1709812800\n2 1709812801\n"), opts)
	if len(res.rows) != 2 || *res.rows[0].SrcPort != 1 || *res.rows[1].SrcPort != 2 || res.rows[0].StartTime == res.rows[1].StartTime {
		t.Fatalf("%+v", res.rows)
	}
}

const defaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
const wideHeader = "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status region az-id flow-direction traffic-path pkt-src-aws-service pkt-dst-aws-service"

// genFlows writes a flow-log file of n records with the given header (fields from defaultHeader/wideHeader).
func genFlows(n int, seed uint64, header string) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	b.WriteString(header + "\n")
	enis := []string{"eni-0a1b2c3d4e5f60718", "eni-11111111aaaaaaaaa", "eni-22222222bbbbbbbbb", "eni-0123456789abcdef0"}
	local := []string{"10.0.1.15", "10.0.1.16", "10.0.2.40", "172.31.16.139"}
	for i := range n {
		eni := rng.IntN(len(enis))
		src, dst := local[eni], fmt.Sprintf("%d.%d.%d.%d", rng.IntN(223)+1, rng.IntN(256), rng.IntN(256), rng.IntN(256))
		sport, dport := 32768+rng.IntN(28000), []int{443, 80, 22, 53, 3389}[rng.IntN(5)]
		dir := "egress"
		if rng.IntN(2) == 0 {
			src, dst, sport, dport, dir = dst, src, dport, sport, "ingress"
		}
		start := 1709812800 + i/50
		action := "ACCEPT"
		if rng.IntN(8) == 0 {
			action = "REJECT"
		}
		vals := map[string]string{
			"version": "5", "account-id": "123456789010", "interface-id": enis[eni], "srcaddr": src, "dstaddr": dst,
			"srcport": fmt.Sprint(sport), "dstport": fmt.Sprint(dport), "protocol": "6", "packets": fmt.Sprint(1 + rng.IntN(100)),
			"bytes": fmt.Sprint(40 + rng.IntN(150000)), "start": fmt.Sprint(start), "end": fmt.Sprint(start + 60), "action": action,
			"log-status": "OK", "vpc-id": "vpc-0abcdefab012345678", "subnet-id": "subnet-0aaaaaaaa012345678", "instance-id": "i-0c50d5961bcb2d47b",
			"type": "IPv4", "pkt-srcaddr": src, "pkt-dstaddr": dst, "tcp-flags": fmt.Sprint([]int{2, 18, 19, 3, 1}[rng.IntN(5)]),
			"region": "us-east-1", "az-id": "use1-az2", "flow-direction": dir, "traffic-path": "-", "pkt-src-aws-service": "-", "pkt-dst-aws-service": "-",
		}
		if dir == "egress" {
			vals["traffic-path"] = "1"
		}
		for j, f := range strings.Fields(header) {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vals[f])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	for _, h := range []struct{ name, header string }{{"v2-default", defaultHeader}, {"v5-wide", wideHeader}} {
		b.Run(h.name, func(b *testing.B) {
			const n = 100000
			data := genFlows(n, 42, h.header)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				got, err := Parse(bytes.NewReader(data), opts, func(*lake.VPCFlowRecord) error { return nil }, func(int64, string, []byte) {})
				if err != nil || got != n {
					b.Fatal(got, err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
