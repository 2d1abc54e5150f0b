// Package vpcflow parses VPC Flow Logs text files (versions 2–8, any field order) into rows of the
// vpc_flow table.
package vpcflow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/compact/lines"

	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/lake"
)

// DefaultMaxLineBytes is used when Options.MaxLineBytes is 0. A record with every field, ECS ARNs
// included, is well under 2 KB.
const DefaultMaxLineBytes = 64 << 10

const sampleBytes = 512

// Options describe the object being parsed.
type Options struct {
	Key             string // object key, copied to every row's SourceKey
	FallbackAccount string // used when account-id is absent, '-' or "unknown" (from the key)
	FallbackRegion  string // used when the region field is absent or '-' (from the key)
	MaxLineBytes    int    // longer lines go to bad(); 0 means DefaultMaxLineBytes
	// FallbackTime is event_time for formats without start and end. Zero means: the delivery
	// timestamp of the object key's file name, else the key's day folder.
	FallbackTime time.Time
}

// ErrHeader is wrapped by the file-level errors about the header line.
var ErrHeader = errors.New("bad flow-log header")

// Parse reads one decompressed flow-log text file. The first line is the header naming the fields in the
// user's order (e.g. "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes
// start end action log-status"); an unknown or repeated field name in it is an error wrapping ErrHeader
// (quarantine the file). A line whose field count differs from the header, with a number or IP address
// that does not parse, or longer than MaxLineBytes goes to bad(lineNo, reason, sample) and parsing goes on;
// bad may be nil, which makes the first bad line a file-level error. '-' is NULL. Blank lines are skipped.
//
// Each emitted row is new; the caller may keep it. Rows share the strings their nullable columns point to:
// treat them as read-only. SourceLine is the line number in the file (the header
// is line 1). event_time is start, else end, else Options.FallbackTime. IngestedAt is left zero.
// Rows emitted before an error come from a file that was not fully read: the caller discards them.
// An error returned by emit stops parsing and is returned wrapped.
// n is the number of records read: rows emitted plus lines handed to bad.
func Parse(r io.Reader, o Options, emit func(*lake.VPCFlowRecord) error, bad func(lineNo int64, reason string, sample []byte)) (n int64, err error) {
	limit := o.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	p := parsers.Get().(*parser)
	defer parsers.Put(p)
	p.o, p.cols, p.has = o, nil, [numFields]bool{}
	if p.o.FallbackTime.IsZero() {
		info := rawkey.Classify(o.Key)
		p.o.FallbackTime = info.FileTime
		if p.o.FallbackTime.IsZero() {
			p.o.FallbackTime = info.Day
		}
	}
	lr := &p.lr
	lr.Reset(r, limit)
	var lineNo int64
	for {
		line, tooLong, rerr := lr.Next()
		if rerr != nil && rerr != io.EOF {
			return n, fmt.Errorf("%s: reading line %d: %w", o.Key, lineNo+1, rerr)
		}
		if len(line) == 0 && tooLong == 0 && rerr == io.EOF {
			break
		}
		lineNo++
		reason := ""
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case tooLong > 0 || len(line) > limit:
			reason = fmt.Sprintf("line is %d bytes, more than the %d-byte limit", max(tooLong, int64(len(line))), limit)
		case p.cols == nil:
			if err := p.header(line); err != nil {
				return 0, fmt.Errorf("%s: line %d: %w", o.Key, lineNo, err)
			}
		case isBlank(line):
		case !utf8.Valid(line):
			reason = "line is not valid UTF-8 text"
		default:
			row, why := p.record(line)
			if why != "" {
				reason = why
				break
			}
			row.SourceKey = o.Key
			row.SourceLine = lineNo
			if err := emit(row); err != nil {
				return n, fmt.Errorf("%s: line %d: %w", o.Key, lineNo, err)
			}
			n++
		}
		if reason != "" {
			if p.cols == nil {
				return 0, fmt.Errorf("%s: line %d: %w: %s", o.Key, lineNo, ErrHeader, reason)
			}
			if bad == nil {
				return n, fmt.Errorf("%s: line %d: %s", o.Key, lineNo, reason)
			}
			bad(lineNo, reason, append([]byte(nil), line[:min(len(line), sampleBytes)]...))
			n++
		}
		if rerr == io.EOF {
			break
		}
	}
	return n, nil
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

type parser struct {
	o    Options
	cols []field // field of each column, from the header
	has  [numFields]bool
	vals [numFields][]byte // scratch: this line's value per field
	strs strCache
	slab []row // rows are allocated in blocks; the rest of a block is left for the next object
	lr   lines.Reader
}

// parsers are reused between objects, with their string cache, line buffer and rows not yet handed out.
var parsers = sync.Pool{New: func() any { return new(parser) }}

func (p *parser) header(line []byte) error {
	names := strings.Fields(string(line))
	if len(names) == 0 {
		return fmt.Errorf("%w: the first line is empty", ErrHeader)
	}
	cols := make([]field, 0, len(names))
	for _, name := range names {
		name = strings.TrimSuffix(strings.TrimPrefix(name, "${"), "}")
		f, ok := fieldByName[name]
		if !ok {
			if len(cols) == 0 && name != "" && name[0] >= '0' && name[0] <= '9' {
				return fmt.Errorf("%w: the first line is a record, not the header of field names (%q…)", ErrHeader, truncate(string(line), 60))
			}
			return fmt.Errorf("%w: unknown field %q (fields of flow-log versions 2-8: %s)", ErrHeader, truncate(name, 60), strings.Join(fieldNames[:], " "))
		}
		if p.has[f] {
			return fmt.Errorf("%w: field %q appears twice", ErrHeader, name)
		}
		p.has[f] = true
		cols = append(cols, f)
	}
	p.cols = cols
	return nil
}

// row is allocated once per record: the record plus the storage its pointer fields point into.
type row struct {
	rec   lake.VPCFlowRecord
	i32   [6]int32
	i64   [6]int64
	times [2]time.Time
}

func (p *parser) record(line []byte) (*lake.VPCFlowRecord, string) {
	// Fields are separated by one space; runs of spaces occur in the wild and count as one.
	n := 0
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		if n < len(p.cols) {
			p.vals[p.cols[n]] = line[i:j]
		}
		n++
		i = j
	}
	if n != len(p.cols) {
		return nil, fmt.Sprintf("%d fields, the header has %d", n, len(p.cols))
	}
	if len(p.slab) == 0 {
		p.slab = make([]row, 64)
	}
	rb := &p.slab[0]
	p.slab = p.slab[1:]
	r := &rb.rec
	for _, f := range p.cols {
		v := p.vals[f]
		if len(v) == 1 && v[0] == '-' {
			continue
		}
		var bad string
		switch f {
		case fVersion:
			bad = p.int32(&r.Version, &rb.i32[0], v, f, 1<<31-1)
		case fSrcPort:
			bad = p.int32(&r.SrcPort, &rb.i32[1], v, f, 65535)
		case fDstPort:
			bad = p.int32(&r.DstPort, &rb.i32[2], v, f, 65535)
		case fProtocol:
			bad = p.int32(&r.Protocol, &rb.i32[3], v, f, 255)
		case fTCPFlags:
			bad = p.int32(&r.TCPFlags, &rb.i32[4], v, f, 1<<31-1)
		case fTrafficPath:
			bad = p.int32(&r.TrafficPath, &rb.i32[5], v, f, 1<<31-1)
		case fPackets:
			bad = p.int64(&r.Packets, &rb.i64[0], v, f)
		case fBytes:
			bad = p.int64(&r.Bytes, &rb.i64[1], v, f)
		case fStart:
			bad = p.time(&r.StartTime, &rb.times[0], v, f)
		case fEnd:
			bad = p.time(&r.EndTime, &rb.times[1], v, f)
		case fSrcAddr:
			bad = p.addr(&r.SrcAddr, &r.SrcAddrV4, &rb.i64[2], v, f)
		case fDstAddr:
			bad = p.addr(&r.DstAddr, &r.DstAddrV4, &rb.i64[3], v, f)
		case fPktSrcAddr:
			bad = p.addr(&r.PktSrcAddr, &r.PktSrcAddrV4, &rb.i64[4], v, f)
		case fPktDstAddr:
			bad = p.addr(&r.PktDstAddr, &r.PktDstAddrV4, &rb.i64[5], v, f)
		case fAccountID:
			r.AccountID = *p.strs.get(v)
		case fRegion:
			r.Region = *p.strs.get(v)
		default:
			*p.stringField(r, f) = p.strs.get(v)
		}
		if bad != "" {
			return nil, bad
		}
	}
	switch {
	case r.StartTime != nil:
		r.EventTime = *r.StartTime
	case r.EndTime != nil:
		r.EventTime = *r.EndTime
	case !p.o.FallbackTime.IsZero():
		r.EventTime = p.o.FallbackTime
	default:
		return nil, "no start or end time, and no timestamp in the object key"
	}
	if r.AccountID == "" || r.AccountID == "unknown" {
		r.AccountID = p.o.FallbackAccount
	}
	if r.Region == "" {
		r.Region = p.o.FallbackRegion
	}
	return r, ""
}

func (p *parser) stringField(r *lake.VPCFlowRecord, f field) **string {
	switch f {
	case fInterfaceID:
		return &r.InterfaceID
	case fAction:
		return &r.Action
	case fLogStatus:
		return &r.LogStatus
	case fVPCID:
		return &r.VPCID
	case fSubnetID:
		return &r.SubnetID
	case fInstanceID:
		return &r.InstanceID
	case fType:
		return &r.Type
	case fAZID:
		return &r.AZID
	case fSublocationType:
		return &r.SublocationType
	case fSublocationID:
		return &r.SublocationID
	case fPktSrcAWSService:
		return &r.PktSrcAWSService
	case fPktDstAWSService:
		return &r.PktDstAWSService
	case fFlowDirection:
		return &r.FlowDirection
	case fECSClusterARN:
		return &r.ECSClusterARN
	case fECSClusterName:
		return &r.ECSClusterName
	case fECSContainerInstanceARN:
		return &r.ECSContainerInstanceARN
	case fECSContainerInstanceID:
		return &r.ECSContainerInstanceID
	case fECSContainerID:
		return &r.ECSContainerID
	case fECSSecondContainerID:
		return &r.ECSSecondContainerID
	case fECSServiceName:
		return &r.ECSServiceName
	case fECSTaskDefinitionARN:
		return &r.ECSTaskDefinitionARN
	case fECSTaskARN:
		return &r.ECSTaskARN
	case fECSTaskID:
		return &r.ECSTaskID
	case fRejectReason:
		return &r.RejectReason
	}
	panic(fmt.Sprintf("vpcflow: field %s has no string column", fieldNames[f])) // unreachable: fields are a closed set
}

// strCache shares one copy of a string, and of the pointer a nullable column holds, between the many
// records that repeat it (interface ids, accounts, actions, addresses of busy hosts): rows share it, so it
// is read-only. It is direct-mapped: a slot holds the last string that hashed to it, so memory is fixed.
type strCache [4096]*string

func (c *strCache) get(v []byte) *string {
	slot := &c[strHash(v)%uint32(len(c))]
	if *slot != nil && **slot == string(v) {
		return *slot
	}
	s := string(v)
	*slot = &s
	return *slot
}

// strHash mixes the length and the first and last 8 bytes: enough to spread ids and addresses.
func strHash(v []byte) uint32 {
	var h uint64
	if len(v) >= 8 {
		h = binary.LittleEndian.Uint64(v) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(v[len(v)-8:]), 29)
	} else {
		for _, b := range v {
			h = h<<8 | uint64(b)
		}
	}
	h = (h ^ uint64(len(v))) * 0x9E3779B97F4A7C15
	return uint32(h >> 32)
}

func (p *parser) int32(dst **int32, store *int32, v []byte, f field, max uint64) string {
	u, ok := parseUint(v)
	if !ok || u > max {
		return badValue(f, v, fmt.Sprintf("a number up to %d", max))
	}
	*store = int32(u)
	*dst = store
	return ""
}

func (p *parser) int64(dst **int64, store *int64, v []byte, f field) string {
	u, ok := parseUint(v)
	if !ok || u > 1<<63-1 {
		return badValue(f, v, "a non-negative number")
	}
	*store = int64(u)
	*dst = store
	return ""
}

// maxUnix is 9999-12-31: a larger start/end is garbage (or milliseconds), not Unix seconds.
const maxUnix = 253402300799

func (p *parser) time(dst **time.Time, store *time.Time, v []byte, f field) string {
	u, ok := parseUint(v)
	if !ok || u > maxUnix {
		return badValue(f, v, "Unix seconds")
	}
	*store = time.Unix(int64(u), 0).UTC()
	*dst = store
	return ""
}

func (p *parser) addr(dst **string, v4 **int64, store *int64, v []byte, f field) string {
	if a, ok := parseIPv4(v); ok {
		*store = int64(a)
		*v4 = store
		*dst = p.strs.get(v)
		return ""
	}
	if bytes.IndexByte(v, ':') < 0 {
		return badValue(f, v, "an IP address")
	}
	s := p.strs.get(v)
	if a, err := netip.ParseAddr(*s); err != nil || !a.Is6() {
		return badValue(f, v, "an IP address")
	}
	*dst = s
	return ""
}

func badValue(f field, v []byte, want string) string {
	return fmt.Sprintf("%s %q is not %s", fieldNames[f], truncate(string(v), 60), want)
}

// parseUint reads a decimal number of up to 19 digits (no sign).
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// parseIPv4 reads dotted-quad IPv4 text as netip does (no leading zeros) without allocating.
func parseIPv4(b []byte) (uint32, bool) {
	var a uint32
	octets := 0
	for i := 0; i <= len(b); {
		j := i
		var o uint32
		for j < len(b) && b[j] >= '0' && b[j] <= '9' && j-i < 3 {
			o = o*10 + uint32(b[j]-'0')
			j++
		}
		if j == i || o > 255 || (j-i > 1 && b[i] == '0') {
			return 0, false
		}
		a = a<<8 | o
		octets++
		if j == len(b) {
			return a, octets == 4
		}
		if b[j] != '.' || octets == 4 {
			return 0, false
		}
		i = j + 1
	}
	return 0, false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
