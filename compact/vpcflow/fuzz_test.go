package vpcflow

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// FuzzParse: any input ends as rows and bad lines, one per non-blank record line, each bad line with a
// reason, or as a header error. A row carries its line's fields as the header names them: strings as
// written ('-' is NULL), numbers, Unix times, and IP addresses that net/netip reads (with their IPv4
// number). Seeds: testdata/fuzz/FuzzParse, from the AWS documentation's samples.
func FuzzParse(f *testing.F) {
	f.Add([]byte(defaultHeader + "\n2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1709812800 1709812860 ACCEPT OK\n"))
	f.Add([]byte("srcaddr dstaddr\n::1 1.2.3.4\n- -\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		res := parse(bytes.NewReader(in), Options{Key: key, FallbackAccount: "123456789010", FallbackRegion: "us-east-1", MaxLineBytes: 256})
		if res.n != int64(len(res.rows)+len(res.bad)) {
			t.Fatalf("n=%d rows=%d bad=%d", res.n, len(res.rows), len(res.bad))
		}
		if res.err != nil {
			return
		}
		lines := bytes.Split(in, []byte("\n"))
		fields := func(no int64) []string {
			line := bytes.TrimRight(bytes.TrimPrefix(lines[no-1], []byte("\ufeff")), "\r\n")
			if no == 1 {
				return strings.Fields(string(line))
			}
			return strings.FieldsFunc(string(line), func(r rune) bool { return r == ' ' || r == '\t' })
		}
		seen := map[int64]bool{}
		for _, b := range res.bad {
			if b.reason == "" || b.no < 2 || b.no > int64(len(lines)) || seen[b.no] {
				t.Fatalf("bad line %d of %d (reason %q)", b.no, len(lines), b.reason)
			}
			seen[b.no] = true
		}
		if len(res.rows) == 0 {
			return
		}
		header := fields(1)
		for _, r := range res.rows {
			if r.SourceLine < 2 || r.SourceLine > int64(len(lines)) || seen[r.SourceLine] || r.SourceKey != key || r.EventTime.IsZero() {
				t.Fatalf("row for line %d of %d at %v", r.SourceLine, len(lines), r.EventTime)
			}
			seen[r.SourceLine] = true
			vals := fields(r.SourceLine)
			if len(vals) != len(header) {
				t.Fatalf("line %d: %d fields, header %d, yet a row", r.SourceLine, len(vals), len(header))
			}
			for i, name := range header {
				name = strings.TrimSuffix(strings.TrimPrefix(name, "${"), "}")
				if msg := checkField(r, name, vals[i]); msg != "" {
					t.Fatalf("line %d, %s %q: %s", r.SourceLine, name, vals[i], msg)
				}
			}
		}
	})
}

// checkField says how the row's column for a flow-log field differs from the field's text, or "".
func checkField(r *lake.VPCFlowRecord, name, v string) string {
	null := v == "-"
	num := func(got *int64) string {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case null && got != nil, !null && (got == nil || err != nil || *got != n):
			return "number differs"
		}
		return ""
	}
	num32 := func(got *int32) string {
		if got == nil {
			return num(nil)
		}
		n := int64(*got)
		return num(&n)
	}
	str := func(got *string) string {
		if null && got != nil {
			return "NULL read as text: " + *got
		}
		if !null && (got == nil || *got != v) {
			return "text differs"
		}
		return ""
	}
	unix := func(got *time.Time) string {
		if got == nil {
			return num(nil)
		}
		n := got.Unix()
		return num(&n)
	}
	addr := func(gotp *string, v4 *int64) string {
		if null {
			return str(gotp)
		}
		got := ""
		if gotp != nil {
			got = *gotp
		}
		a, err := netip.ParseAddr(v)
		if err != nil || got != v {
			return "not an address net/netip reads the same"
		}
		if a.Is4() {
			b := a.As4()
			n := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
			if v4 == nil || *v4 != n {
				return "IPv4 number differs"
			}
		} else if v4 != nil {
			return "IPv4 number for an IPv6 address"
		}
		return ""
	}
	switch name {
	case "account-id":
		if (v == "unknown" || null) && r.AccountID != "123456789010" {
			return "the fallback account is not used"
		}
		if v == "unknown" || null {
			return ""
		}
		return str(&r.AccountID)
	case "interface-id":
		return str(r.InterfaceID)
	case "action":
		return str(r.Action)
	case "log-status":
		return str(r.LogStatus)
	case "flow-direction":
		return str(r.FlowDirection)
	case "version":
		return num32(r.Version)
	case "srcport":
		return num32(r.SrcPort)
	case "dstport":
		return num32(r.DstPort)
	case "protocol":
		return num32(r.Protocol)
	case "packets":
		return num(r.Packets)
	case "bytes":
		return num(r.Bytes)
	case "start":
		return unix(r.StartTime)
	case "end":
		return unix(r.EndTime)
	case "srcaddr":
		return addr(r.SrcAddr, r.SrcAddrV4)
	case "dstaddr":
		return addr(r.DstAddr, r.DstAddrV4)
	case "pkt-srcaddr":
		return addr(r.PktSrcAddr, r.PktSrcAddrV4)
	}
	return ""
}
