package route53

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/compact/lines"
	"github.com/lakehunt/lakehunt/compact/logtime"
	"github.com/lakehunt/lakehunt/lake"
)

// The fast decoder reads an entry's bytes once: it checks the JSON grammar, decodes the columns and keeps
// answers and srcids as text, sharing repeated strings through the cache. It handles the entries AWS
// writes (compact JSON, no escapes in the columns, ASCII or valid UTF-8, an RFC 3339 timestamp) and says
// ok=false for anything else — invalid JSON or UTF-8, escapes in a key or column, a key given twice, a
// value of an unexpected type, deep nesting, a timestamp or port that does not parse — and the careful
// path (parseCareful) then decides, so rows and quarantine reasons do not depend on which path ran.

// decoder is what parsing reuses between entries and objects; decoders are pooled, so the cache outlives
// an object (a delivery holds a few minutes of one VPC's queries: a few dozen entries).
type decoder struct {
	strs strCache
	s    scan
	lr   lines.Reader
	seen uint32         // bit per column of the entry being decoded
	last [nCols]*string // each column's last string: most repeat it (account, VPC, class, transport, ...)
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// strCache shares one copy of a string, and of the pointer a nullable column holds, between the many
// entries that repeat it (accounts, VPCs, record types, popular names and their answers): rows share it,
// so it is read-only. It is direct-mapped: a slot holds the last string that hashed to it, so memory is
// fixed.
type strCache [4096]*string

// maxInternedLen: longer strings (long CNAME chains) are copied, not kept.
const maxInternedLen = 512

var cacheSeed = maphash.MakeSeed()

func (c *strCache) get(v []byte) *string {
	if len(v) > maxInternedLen {
		s := string(v)
		return &s
	}
	slot := &c[maphash.Bytes(cacheSeed, v)%uint64(len(c))]
	if *slot == nil || **slot != string(v) {
		s := string(v)
		*slot = &s
	}
	return *slot
}

// ports holds every port number once: srcport points into it, so a row's port costs no allocation.
// Read-only, like the cache's strings.
var ports = func() (p [65536]int32) {
	for i := range p {
		p[i] = int32(i)
	}
	return p
}()

// maxDepth bounds the nesting the fast path follows; deeper values go to the careful path, which applies
// jsonlimit's bound.
const maxDepth = 64

// scan is the cursor of the fast decoder.
type scan struct {
	b        []byte
	i        int
	nonASCII bool // a string held a byte >= 0x80: the line's UTF-8 must be checked
	sp       bool // whitespace inside the value being skipped: its text needs compacting
	stack    [maxDepth]byte
}

// Columns, numbered to refuse keys given twice (the careful path keeps the last) and to remember each
// column's last string.
const (
	bVersion = iota
	bAccount
	bRegion
	bVPC
	bTimestamp
	bName
	bType
	bClass
	bRcode
	bAnswers
	bSrcAddr
	bSrcPort
	bTransport
	bSrcIDs
	bAction
	bGroup
	bList
	bInstance
	bEndpoint
	bIface
	nCols
)

// decode fills q from line (trimmed, starting with '{') and reports whether it could.
func (d *decoder) decode(line []byte, q *lake.Route53ResolverQuery, fallbackAccount, fallbackRegion, fallbackVPC string) bool {
	s := &d.s
	s.b, s.i, s.nonASCII = line, 1, false
	var account, region, ts, port []byte
	d.seen = 0
	ok := true
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for ok {
			key, kok := s.str()
			if !kok || !s.colon() {
				return false
			}
			switch string(key) {
			case "version":
				ok = d.once(bVersion) && d.scalarCol(bVersion, &q.Version)
			case "account_id":
				ok = d.once(bAccount) && s.strBytes(&account)
			case "region":
				ok = d.once(bRegion) && s.strBytes(&region)
			case "vpc_id":
				ok = d.once(bVPC) && d.strCol(bVPC, &q.VPCID)
			case "query_timestamp":
				ok = d.once(bTimestamp) && s.strBytes(&ts)
			case "query_name":
				ok = d.once(bName) && d.strCol(bName, &q.QueryName)
			case "query_type":
				ok = d.once(bType) && d.strCol(bType, &q.QueryType)
			case "query_class":
				ok = d.once(bClass) && d.strCol(bClass, &q.QueryClass)
			case "rcode":
				ok = d.once(bRcode) && d.strCol(bRcode, &q.Rcode)
			case "answers":
				ok = d.once(bAnswers) && d.jsonCol(bAnswers, &q.Answers)
			case "srcaddr":
				ok = d.once(bSrcAddr) && d.strCol(bSrcAddr, &q.SrcAddr)
			case "srcport":
				ok = d.once(bSrcPort) && s.scalarBytes(&port)
			case "transport":
				ok = d.once(bTransport) && d.strCol(bTransport, &q.Transport)
			case "srcids":
				ok = d.once(bSrcIDs) && d.srcIDs(q)
			case "firewall_rule_action":
				ok = d.once(bAction) && d.strCol(bAction, &q.FirewallRuleAction)
			case "firewall_rule_group_id":
				ok = d.once(bGroup) && d.strCol(bGroup, &q.FirewallRuleGroupID)
			case "firewall_domain_list_id":
				ok = d.once(bList) && d.strCol(bList, &q.FirewallDomainListID)
			default:
				ok = s.skip()
			}
			if !ok {
				return false
			}
			if s.ws(); s.next() == ',' {
				s.i++
				s.ws()
			} else if s.next() == '}' {
				s.i++
				break
			} else {
				return false
			}
		}
	}
	if s.ws(); s.i != len(s.b) || (s.nonASCII && !utf8.Valid(line)) || len(ts) == 0 {
		return false
	}
	var err error
	if q.EventTime, ok = timestamp(ts); !ok {
		if q.EventTime, err = logtime.Parse(string(ts)); err != nil {
			return false
		}
	}
	if len(port) > 0 && string(port) != "-" {
		p := 0
		for _, c := range port {
			if c < '0' || c > '9' {
				return false
			}
			if p = p*10 + int(c-'0'); p > 65535 {
				return false
			}
		}
		q.SrcPort = &ports[p]
	}
	q.AccountID, q.Region = fallbackAccount, fallbackRegion
	if len(account) > 0 {
		q.AccountID = *d.intern(bAccount, account)
	}
	if len(region) > 0 {
		q.Region = *d.intern(bRegion, region)
	}
	if (q.VPCID == nil || *q.VPCID == "") && fallbackVPC != "" {
		q.VPCID = d.intern(bVPC, []byte(fallbackVPC))
	}
	return true
}

// once reports whether the column was not yet seen in this entry.
func (d *decoder) once(col uint) bool {
	if d.seen&(1<<col) != 0 {
		return false
	}
	d.seen |= 1 << col
	return true
}

// intern returns the shared copy of column col's string v.
func (d *decoder) intern(col int, v []byte) *string {
	if p := d.last[col]; p != nil && *p == string(v) {
		return p
	}
	p := d.strs.get(v)
	d.last[col] = p
	return p
}

// srcIDs reads srcids: null, or an object whose three known members are columns; the object is kept as
// text too.
func (d *decoder) srcIDs(q *lake.Route53ResolverQuery) bool {
	s := &d.s
	switch s.next() {
	case 'n':
		return s.literal("null")
	case '{':
	default:
		return false
	}
	start := s.i
	s.i++
	sp := false
	if s.wsIn(&sp); s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			key, ok := s.str()
			if !ok {
				return false
			}
			if s.wsIn(&sp); s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			s.wsIn(&sp)
			switch string(key) {
			case "instance":
				ok = d.once(bInstance) && d.strCol(bInstance, &q.SrcInstanceID)
			case "resolver_endpoint":
				ok = d.once(bEndpoint) && d.strCol(bEndpoint, &q.SrcResolverEndpoint)
			case "resolver_network_interface":
				ok = d.once(bIface) && d.strCol(bIface, &q.SrcResolverNetworkIface)
			default:
				ok = s.skip()
				sp = sp || s.sp
			}
			if !ok {
				return false
			}
			if s.wsIn(&sp); s.i >= len(s.b) {
				return false
			} else if c := s.b[s.i]; c == ',' {
				s.i++
				s.wsIn(&sp)
			} else if c == '}' {
				s.i++
				break
			} else {
				return false
			}
		}
	}
	q.SrcIDs = d.text(bSrcIDs, s.b[start:s.i], sp)
	return true
}

// text is a JSON value's text as a column: compact, shared when short.
func (d *decoder) text(col int, t []byte, sp bool) *string {
	if sp {
		return jsonText(t)
	}
	return d.intern(col, t)
}

// strCol reads a string without escapes, or null.
func (d *decoder) strCol(col int, dst **string) bool {
	s := &d.s
	switch s.next() {
	case '"':
		body, ok := s.str()
		if ok {
			*dst = d.intern(col, body)
		}
		return ok
	case 'n':
		return s.literal("null")
	}
	return false
}

// scalarCol reads a string without escapes, a number (as its text), or null.
func (d *decoder) scalarCol(col int, dst **string) bool {
	var b []byte
	if !d.s.scalarBytes(&b) {
		return false
	}
	if b != nil {
		*dst = d.intern(col, b)
	}
	return true
}

// jsonCol reads any value and keeps its text; null is NULL.
func (d *decoder) jsonCol(col int, dst **string) bool {
	s := &d.s
	start := s.i
	if !s.skip() {
		return false
	}
	if t := s.b[start:s.i]; string(t) != "null" {
		*dst = d.text(col, t, s.sp)
	}
	return true
}

// strBytes reads a string without escapes (its bytes, not copied) or null (nil).
func (s *scan) strBytes(dst *[]byte) bool {
	switch s.next() {
	case '"':
		body, ok := s.str()
		*dst = body
		return ok
	case 'n':
		return s.literal("null")
	}
	return false
}

// scalarBytes is strBytes that also takes a number's text.
func (s *scan) scalarBytes(dst *[]byte) bool {
	if c := s.next(); c == '-' || (c >= '0' && c <= '9') {
		start := s.i
		if !s.number() {
			return false
		}
		*dst = s.b[start:s.i]
		return true
	}
	return s.strBytes(dst)
}

func (s *scan) next() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// wsIn skips whitespace inside a value kept as text, noting that there was some.
func (s *scan) wsIn(sp *bool) {
	start := s.i
	s.ws()
	if s.i > start {
		*sp = true
	}
}

// colon reads the ':' after a key and the whitespace around it.
func (s *scan) colon() bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i++
	s.ws()
	return true
}

// str reads a string at s.i that has no escapes and returns its body.
func (s *scan) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	i := start
	// Eight bytes at a time while none is a quote, a backslash, a control character or non-ASCII.
	for ; i+8 <= len(s.b); i += 8 {
		w := binary.LittleEndian.Uint64(s.b[i:])
		q, bs := w^0x2222222222222222, w^0x5c5c5c5c5c5c5c5c
		if ((q-lsb)&^q|(bs-lsb)&^bs|(w-0x2020202020202020)&^w|w)&msb != 0 {
			break
		}
	}
	for ; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			s.nonASCII = true
		}
	}
	return nil, false
}

const lsb, msb = 0x0101010101010101, 0x8080808080808080

// strAny reads a string at s.i, escapes included (checked, not decoded).
func (s *scan) strAny() bool {
	for i := s.i + 1; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(s.b) {
				return false
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+6 > len(s.b) || !isHex(s.b[i+2]) || !isHex(s.b[i+3]) || !isHex(s.b[i+4]) || !isHex(s.b[i+5]) {
					return false
				}
				i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		case c >= 0x80:
			s.nonASCII = true
		}
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scan) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// number checks the JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scan) number() bool {
	b := s.b
	digits := func() bool {
		start := s.i
		for s.i < len(b) && b[s.i] >= '0' && b[s.i] <= '9' {
			s.i++
		}
		return s.i > start
	}
	if s.i < len(b) && b[s.i] == '-' {
		s.i++
	}
	if s.i < len(b) && b[s.i] == '0' {
		s.i++
	} else if !digits() {
		return false
	}
	if s.i < len(b) && b[s.i] == '.' {
		s.i++
		if !digits() {
			return false
		}
	}
	if s.i < len(b) && (b[s.i] == 'e' || b[s.i] == 'E') {
		s.i++
		if s.i < len(b) && (b[s.i] == '+' || b[s.i] == '-') {
			s.i++
		}
		if !digits() {
			return false
		}
	}
	return true
}

// skip checks one JSON value at s.i, without recursion, and sets s.sp when whitespace occurs inside it.
func (s *scan) skip() bool {
	b := s.b
	s.sp = false
	depth := 0
	for {
		// A value.
		if s.i >= len(b) {
			return false
		}
		switch c := b[s.i]; {
		case c == '"':
			if !s.strAny() {
				return false
			}
		case c == '{' || c == '[':
			if depth == maxDepth {
				return false
			}
			s.i++
			s.wsIn(&s.sp)
			if s.i < len(b) && b[s.i] == c+2 { // '}' is '{'+2, ']' is '['+2
				s.i++
				break
			}
			s.stack[depth] = c
			depth++
			if c == '{' && !s.key() {
				return false
			}
			continue
		case c == 't':
			if !s.literal("true") {
				return false
			}
		case c == 'f':
			if !s.literal("false") {
				return false
			}
		case c == 'n':
			if !s.literal("null") {
				return false
			}
		case c == '-' || (c >= '0' && c <= '9'):
			if !s.number() {
				return false
			}
		default:
			return false
		}
		// After a value: the end of the containers it closes, then a comma and the next value.
		for {
			if depth == 0 {
				return true
			}
			s.wsIn(&s.sp)
			if s.i >= len(b) {
				return false
			}
			top := s.stack[depth-1]
			if c := b[s.i]; c == top+2 {
				s.i++
				depth--
				continue
			} else if c != ',' {
				return false
			}
			s.i++
			s.wsIn(&s.sp)
			if top == '{' && !s.key() {
				return false
			}
			break
		}
	}
}

// key reads an object's key and the ':' after it, inside a value kept as text.
func (s *scan) key() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' || !s.strAny() {
		return false
	}
	s.wsIn(&s.sp)
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i++
	s.wsIn(&s.sp)
	return true
}

// timestamp parses the form AWS writes, YYYY-MM-DDTHH:MM:SS[.fraction]Z, as time.Parse does; other forms
// (and days past the 28th, whose range depends on the month) are left to logtime.Parse.
func timestamp(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day, hour, minute, sec := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		if nsec = num(20, len(frac)-1); nsec < 0 {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			nsec *= 10
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}
