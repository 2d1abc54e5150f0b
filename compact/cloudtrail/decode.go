package cloudtrail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/logtime"
	"github.com/lakehunt/lakehunt/lake"
)

// The record decoder reads a record's bytes once: it validates them as encoding/json does, bounds nesting
// and values as jsonlimit does, decodes the fields the table keeps and keeps the free-form parts
// (requestParameters, userIdentity, ...) as compact JSON text. Keys match exactly, as CloudTrail writes
// them. When a record is not valid JSON, is over jsonlimit or holds invalid UTF-8, the decoder only says
// so (malformed); ParseEvent then explains or repairs, off the fast path.

// field numbers the string columns a record fills.
type field uint8

const (
	fEventVersion field = iota
	fEventTime
	fEventSource
	fEventName
	fAWSRegion
	fSourceIPAddress
	fUserAgent
	fErrorCode
	fErrorMessage
	fRequestID
	fEventID
	fEventType
	fEventCategory
	fRecipientAccountID
	fSharedEventID
	fVPCEndpointID
	fTLSCipherSuite
	fRequestParameters
	fResponseElements
	fAdditionalEventData
	fServiceEventDetails
	fResources
	fUserIdentity
	fUIType
	fUIPrincipalID
	fUIARN
	fUIAccountID
	fUIAccessKeyID
	fUIUserName
	fUIInvokedBy
	fSessionIssuerType
	fSessionIssuerARN
	nFields
)

// value is a decoded string column: absent (NULL), an interned string, or bytes in the record's slab.
type value struct {
	state    uint8 // 0 absent or null, 1 interned, 2 slab
	interned *string
	off, end int
}

// Flexible booleans: true/false or the strings "true"/"false" in any case; anything else is NULL.
var (
	boolTrue  = true
	boolFalse = false
)

// maxInterned bounds the strings a decoder keeps for reuse (event names, sources, regions, accounts,
// ARNs, user agents): about a MB.
const (
	maxInterned    = 16 << 10
	maxInternedLen = 256
)

// interned fields take few distinct values; the others (ids, session ARNs, addresses, messages, JSON
// text) go to the record's slab: interning them would cost a map entry per record.
var interned = [nFields]bool{
	fEventVersion: true, fEventSource: true, fEventName: true, fAWSRegion: true, fUserAgent: true,
	fErrorCode: true, fEventType: true, fEventCategory: true, fRecipientAccountID: true, fVPCEndpointID: true,
	fTLSCipherSuite: true, fUIType: true, fUIAccountID: true, fUIInvokedBy: true, fUIUserName: true,
	fSessionIssuerType: true, fSessionIssuerARN: true,
}

// decoder holds the state of one record's decoding and what is reused from record to record.
// Not safe for concurrent use.
type decoder struct {
	b       []byte
	i       int
	depth   int
	values  int
	space   bool   // whitespace seen between tokens (JSON text must be compacted)
	bad     bool   // malformed
	typeErr error  // the first field of the wrong JSON type
	slab    []byte // the record's non-interned strings, copied into one string at the end
	vals    [nFields]value
	bools   [3]*bool // readOnly, managementEvent, sessionContext.attributes.mfaAuthenticated
	intern  map[string]*string
	last    [nFields]*string // the last interned value of each field
}

func newDecoder() *decoder { return &decoder{intern: map[string]*string{}} }

// row holds a row and the strings its nullable columns point to, in one allocation.
type row struct {
	ev   lake.CloudTrailEvent
	strs [nFields]string
}

// decode reads the record (an object) at the start of b and returns where it ends. ok is false when b
// does not start with a whole, valid record within jsonlimit's bounds and of valid UTF-8 (b may end
// inside it).
func (d *decoder) decode(b []byte) (end int, ok bool) {
	*d = decoder{b: b, slab: d.slab[:0], intern: d.intern, last: d.last}
	d.object(d.recordMember)
	return d.i, !d.bad
}

// row makes the decoded record a row; raw is its bytes (for the id of events that predate eventID).
func (d *decoder) row(raw []byte, fallbackAccount, fallbackRegion string) (*lake.CloudTrailEvent, error) {
	if d.typeErr != nil {
		return nil, fmt.Errorf("invalid record: %w", d.typeErr)
	}
	r := new(row)
	all := string(d.slab)
	ptrs := [nFields]*string{}
	for f, v := range d.vals {
		switch v.state {
		case 1:
			ptrs[f] = v.interned
		case 2:
			r.strs[f] = all[v.off:v.end]
			ptrs[f] = &r.strs[f]
		}
	}
	str := func(f field) string {
		if p := ptrs[f]; p != nil {
			return *p
		}
		return ""
	}
	ev := &r.ev
	ev.EventID = str(fEventID)
	if ev.EventID == "" {
		if v := str(fEventVersion); v != "1.0" && v != "1.00" {
			return nil, errors.New("record has no eventID")
		}
		ev.EventID = derivedEventID(raw)
	}
	eventTime := str(fEventTime)
	if eventTime == "" {
		return nil, errors.New("record has no eventTime")
	}
	t, err := logtime.Parse(eventTime)
	if err != nil {
		return nil, fmt.Errorf("eventTime %q is not an ISO 8601 UTC time", truncate(eventTime, 64))
	}
	principal := ptrs[fUIARN]
	if a := ptrs[fSessionIssuerARN]; a != nil && *a != "" {
		principal = a
	}
	*ev = lake.CloudTrailEvent{
		EventTime:               t,
		AccountID:               str(fRecipientAccountID),
		Region:                  str(fAWSRegion),
		EventID:                 ev.EventID,
		EventVersion:            ptrs[fEventVersion],
		EventName:               str(fEventName),
		EventSource:             str(fEventSource),
		EventType:               ptrs[fEventType],
		EventCategory:           ptrs[fEventCategory],
		ReadOnly:                d.bools[0],
		ManagementEvent:         d.bools[1],
		SourceIPAddress:         ptrs[fSourceIPAddress],
		UserAgent:               ptrs[fUserAgent],
		ErrorCode:               ptrs[fErrorCode],
		ErrorMessage:            ptrs[fErrorMessage],
		UserIdentityType:        ptrs[fUIType],
		UserIdentityARN:         ptrs[fUIARN],
		UserIdentityAccountID:   ptrs[fUIAccountID],
		UserIdentityPrincipalID: ptrs[fUIPrincipalID],
		UserIdentityUserName:    ptrs[fUIUserName],
		UserIdentityInvokedBy:   ptrs[fUIInvokedBy],
		PrincipalARN:            principal,
		AccessKeyID:             ptrs[fUIAccessKeyID],
		SessionIssuerARN:        ptrs[fSessionIssuerARN],
		SessionIssuerType:       ptrs[fSessionIssuerType],
		SessionMFAAuthenticated: d.bools[2],
		RequestID:               ptrs[fRequestID],
		SharedEventID:           ptrs[fSharedEventID],
		RecipientAccountID:      ptrs[fRecipientAccountID],
		VPCEndpointID:           ptrs[fVPCEndpointID],
		TLSCipherSuite:          ptrs[fTLSCipherSuite],
		RequestParameters:       ptrs[fRequestParameters],
		ResponseElements:        ptrs[fResponseElements],
		AdditionalEventData:     ptrs[fAdditionalEventData],
		ServiceEventDetails:     ptrs[fServiceEventDetails],
		Resources:               ptrs[fResources],
		UserIdentity:            ptrs[fUserIdentity],
	}
	if ev.AccountID == "" {
		ev.AccountID = fallbackAccount
	}
	if ev.Region == "" {
		ev.Region = fallbackRegion
	}
	return ev, nil
}

func (d *decoder) recordMember(key []byte) {
	switch string(key) {
	case "eventVersion":
		d.str(fEventVersion, "eventVersion", true)
	case "userIdentity":
		d.userIdentity()
	case "eventTime":
		d.str(fEventTime, "eventTime", false)
	case "eventSource":
		d.str(fEventSource, "eventSource", false)
	case "eventName":
		d.str(fEventName, "eventName", false)
	case "awsRegion":
		d.str(fAWSRegion, "awsRegion", false)
	case "sourceIPAddress":
		d.str(fSourceIPAddress, "sourceIPAddress", true)
	case "userAgent":
		d.str(fUserAgent, "userAgent", true)
	case "errorCode":
		d.str(fErrorCode, "errorCode", true)
	case "errorMessage":
		d.str(fErrorMessage, "errorMessage", true)
	case "requestParameters":
		d.text(fRequestParameters)
	case "responseElements":
		d.text(fResponseElements)
	case "additionalEventData":
		d.text(fAdditionalEventData)
	case "serviceEventDetails":
		d.text(fServiceEventDetails)
	case "resources":
		d.text(fResources)
	case "requestID":
		d.str(fRequestID, "requestID", true)
	case "eventID":
		d.str(fEventID, "eventID", false)
	case "eventType":
		d.str(fEventType, "eventType", true)
	case "eventCategory":
		d.str(fEventCategory, "eventCategory", true)
	case "readOnly":
		d.bools[0] = d.flexBool()
	case "managementEvent":
		d.bools[1] = d.flexBool()
	case "recipientAccountId":
		d.str(fRecipientAccountID, "recipientAccountId", true)
	case "sharedEventID":
		d.str(fSharedEventID, "sharedEventID", true)
	case "vpcEndpointId":
		d.str(fVPCEndpointID, "vpcEndpointId", true)
	case "tlsDetails":
		d.nested("tlsDetails", d.lowerKeys(func(key []byte) {
			if string(key) == "cipherSuite" {
				d.str(fTLSCipherSuite, "tlsDetails.cipherSuite", true)
			} else {
				d.skip()
			}
		}))
	default:
		if k, ok := lowerKey(key); ok {
			d.recordMember([]byte(k))
			return
		}
		d.skip()
	}
}

// lowerKey returns CloudTrail's spelling of an all-lower-case key it reads.
func lowerKey(key []byte) (string, bool) {
	for _, c := range key {
		if 'A' <= c && c <= 'Z' {
			return "", false
		}
	}
	k, ok := lowerKeys[string(key)]
	return k, ok
}

// lowerKeys maps the all-lower-case spelling of the keys read to CloudTrail's: pipelines that lower-case
// keys write "eventid" (the Panther samples do), and the record decoder before this one read them.
var lowerKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
		"sourceIPAddress", "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements",
		"additionalEventData", "serviceEventDetails", "requestID", "eventID", "eventType", "eventCategory",
		"readOnly", "managementEvent", "recipientAccountId", "sharedEventID", "vpcEndpointId", "tlsDetails",
		"cipherSuite", "principalId", "accountId", "accessKeyId", "userName", "invokedBy", "sessionContext",
		"sessionIssuer", "mfaAuthenticated"} {
		m[strings.ToLower(k)] = k
	}
	return m
}()

// lowerKeys makes member read the lower-case spellings of its keys too.
func (d *decoder) lowerKeys(member func(key []byte)) func(key []byte) {
	return func(key []byte) {
		if k, ok := lowerKey(key); ok {
			key = []byte(k)
		}
		member(key)
	}
}

// userIdentity keeps the whole object as JSON text and decodes the identity columns from it.
func (d *decoder) userIdentity() {
	if d.peek() == 'n' {
		d.text(fUserIdentity)
		return
	}
	if d.peek() != '{' {
		d.wrongType("userIdentity", "object")
		return
	}
	space := d.space
	d.space = false
	start := d.i
	d.object(d.lowerKeys(func(key []byte) {
		switch string(key) {
		case "type":
			d.str(fUIType, "userIdentity.type", true)
		case "principalId":
			d.str(fUIPrincipalID, "userIdentity.principalId", true)
		case "arn":
			d.str(fUIARN, "userIdentity.arn", true)
		case "accountId":
			d.str(fUIAccountID, "userIdentity.accountId", true)
		case "accessKeyId":
			d.str(fUIAccessKeyID, "userIdentity.accessKeyId", true)
		case "userName":
			d.str(fUIUserName, "userIdentity.userName", true)
		case "invokedBy":
			d.str(fUIInvokedBy, "userIdentity.invokedBy", true)
		case "sessionContext":
			d.nested("userIdentity.sessionContext", d.lowerKeys(func(key []byte) {
				switch string(key) {
				case "sessionIssuer":
					d.nested("userIdentity.sessionContext.sessionIssuer", d.lowerKeys(func(key []byte) {
						switch string(key) {
						case "type":
							d.str(fSessionIssuerType, "userIdentity.sessionContext.sessionIssuer.type", true)
						case "arn":
							d.str(fSessionIssuerARN, "userIdentity.sessionContext.sessionIssuer.arn", true)
						default:
							d.skip()
						}
					}))
				case "attributes":
					d.nested("userIdentity.sessionContext.attributes", d.lowerKeys(func(key []byte) {
						if string(key) == "mfaAuthenticated" {
							d.bools[2] = d.flexBool()
						} else {
							d.skip()
						}
					}))
				default:
					d.skip()
				}
			}))
		default:
			d.skip()
		}
	}))
	d.keepText(fUserIdentity, start)
	d.space = space || d.space
}

// nested decodes an object member whose fields are columns; null leaves them as they are.
func (d *decoder) nested(name string, member func(key []byte)) {
	switch d.peek() {
	case '{':
		d.object(member)
	case 'n':
		d.skip()
	default:
		d.wrongType(name, "object")
	}
}

// str decodes a string column. null is NULL for a nullable column and leaves the others as they are.
func (d *decoder) str(f field, name string, nullable bool) {
	switch d.peek() {
	case '"':
	case 'n':
		d.skip()
		if nullable && !d.bad {
			d.vals[f] = value{}
		}
		return
	default:
		d.wrongType(name, "string")
		return
	}
	start := d.i
	end, escaped := d.string()
	if d.bad {
		return
	}
	s := d.b[start+1 : end-1]
	if escaped {
		var u string
		if err := json.Unmarshal(d.b[start:end], &u); err != nil {
			d.bad = true
			return
		}
		d.toSlab(f, []byte(u))
		return
	}
	if interned[f] && len(s) <= maxInternedLen {
		// Records of a file mostly repeat the last record's version, region, account, type...
		if p := d.last[f]; p != nil && *p == string(s) {
			d.vals[f] = value{state: 1, interned: p}
			return
		}
		p, ok := d.intern[string(s)]
		if !ok {
			if len(d.intern) >= maxInterned {
				clear(d.intern)
				d.last = [nFields]*string{}
			}
			v := string(s)
			p = &v
			d.intern[v] = p
		}
		d.last[f] = p
		d.vals[f] = value{state: 1, interned: p}
		return
	}
	d.toSlab(f, s)
}

func (d *decoder) toSlab(f field, s []byte) {
	off := len(d.slab)
	d.slab = append(d.slab, s...)
	d.vals[f] = value{state: 2, off: off, end: len(d.slab)}
}

// text keeps any JSON value as compact JSON text; null is NULL.
func (d *decoder) text(f field) {
	if d.peek() == 'n' {
		d.skip()
		if !d.bad {
			d.vals[f] = value{}
		}
		return
	}
	space := d.space
	d.space = false
	start := d.i
	d.skip()
	d.keepText(f, start)
	d.space = space || d.space
}

// keepText stores the value from start to the current position as compact JSON text.
func (d *decoder) keepText(f field, start int) {
	if d.bad {
		return
	}
	raw := d.b[start:d.i]
	if !d.space {
		d.toSlab(f, raw)
		return
	}
	buf := bytes.NewBuffer(d.slab)
	off := buf.Len()
	if err := json.Compact(buf, raw); err != nil {
		d.bad = true
		return
	}
	d.slab = buf.Bytes()
	d.vals[f] = value{state: 2, off: off, end: len(d.slab)}
}

// flexBool reads any value: true/false or a string saying so in any case, else NULL.
func (d *decoder) flexBool() *bool {
	start := d.i
	d.skip()
	if d.bad {
		return nil
	}
	s := strings.Trim(string(d.b[start:d.i]), `"`)
	switch {
	case strings.EqualFold(s, "true"):
		return &boolTrue
	case strings.EqualFold(s, "false"):
		return &boolFalse
	}
	return nil
}

// wrongType notes a value of the wrong JSON type (the record is rejected, once it is known to be valid)
// and skips it.
func (d *decoder) wrongType(name, want string) {
	got := "number"
	switch d.peek() {
	case '{':
		got = "object"
	case '[':
		got = "array"
	case '"':
		got = "string"
	case 't', 'f':
		got = "bool"
	}
	d.skip()
	if d.typeErr == nil {
		d.typeErr = fmt.Errorf("field %s: JSON %s where CloudTrail has %s", name, got, want)
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (d *decoder) peek() byte {
	for d.i < len(d.b) {
		switch c := d.b[d.i]; c {
		case ' ', '\t', '\r', '\n':
			d.space = true
			d.i++
		default:
			return c
		}
	}
	return 0
}

func (d *decoder) fail() { d.bad = true }

// object reads {"key": value, ...}, calling member with each key (unescaped) positioned at its value.
func (d *decoder) object(member func(key []byte)) {
	if d.peek() != '{' {
		d.fail()
		return
	}
	d.i++
	if d.depth++; d.depth > jsonlimit.MaxDepth {
		d.fail()
		return
	}
	if d.peek() == '}' {
		d.i++
		d.depth--
		return
	}
	for !d.bad {
		if d.peek() != '"' {
			d.fail()
			return
		}
		start := d.i
		end, escaped := d.string()
		if d.bad {
			return
		}
		key := d.b[start+1 : end-1]
		if escaped {
			var k string
			if json.Unmarshal(d.b[start:end], &k) != nil {
				d.fail()
				return
			}
			key = []byte(k)
		}
		if d.peek() != ':' {
			d.fail()
			return
		}
		d.i++
		if d.values++; d.values > jsonlimit.MaxValues {
			d.fail()
			return
		}
		d.peek()
		member(key)
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			d.depth--
			return
		default:
			d.fail()
			return
		}
	}
}

func (d *decoder) array() {
	d.i++ // '['
	if d.depth++; d.depth > jsonlimit.MaxDepth {
		d.fail()
		return
	}
	if d.peek() == ']' {
		d.i++
		d.depth--
		return
	}
	for !d.bad {
		if d.values++; d.values > jsonlimit.MaxValues {
			d.fail()
			return
		}
		d.skip()
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			d.depth--
			return
		default:
			d.fail()
			return
		}
	}
}

// skip validates and passes over one value.
func (d *decoder) skip() {
	switch c := d.peek(); c {
	case '{':
		d.object(func([]byte) { d.skip() })
	case '[':
		d.array()
	case '"':
		d.string()
	case 't':
		d.literal("true")
	case 'f':
		d.literal("false")
	case 'n':
		d.literal("null")
	default:
		d.number()
	}
}

func (d *decoder) literal(lit string) {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		d.fail()
		return
	}
	d.i += len(lit)
}

// number passes over a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() {
	b, i := d.b, d.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		d.i = i
		d.fail()
		return
	}
	if i < len(b) && b[i] == '.' {
		i++
		n := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == n {
			d.fail()
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		n := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == n {
			d.fail()
			return
		}
	}
	d.i = i
}

// stringClass marks the bytes a string scan must stop at: '"', '\\', control characters and non-ASCII.
var stringClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// string passes over the string starting at the current '"' and returns the index after its closing quote.
func (d *decoder) string() (end int, escaped bool) {
	b := d.b
	i := d.i + 1
	for {
		for i < len(b) && !stringClass[b[i]] {
			i++
		}
		if i >= len(b) {
			d.fail()
			return 0, false
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return d.i, escaped
		case c == '\\':
			escaped = true
			if i+1 >= len(b) {
				d.fail()
				return 0, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) {
					d.fail()
					return 0, false
				}
				for _, h := range b[i+2 : i+6] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						d.fail()
						return 0, false
					}
				}
				i += 6
			default:
				d.fail()
				return 0, false
			}
		case c < 0x20:
			d.fail()
			return 0, false
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				d.fail()
				return 0, false
			}
			i += n
		}
	}
}

// ParseEvent turns one CloudTrail record (a JSON object) into a row. Lineage is left for the caller
// (Parse fills SourceKey and SourceLine). Invalid UTF-8 is replaced by U+FFFD. The row's pointers may be
// shared between rows: treat them as read-only.
func ParseEvent(raw []byte, fallbackAccount, fallbackRegion string) (lake.CloudTrailEvent, error) {
	ev, err := newDecoder().parseEvent(raw, fallbackAccount, fallbackRegion)
	if err != nil {
		return lake.CloudTrailEvent{}, err
	}
	return *ev, nil
}

// parseEvent decodes a whole record, explaining why it is not a row.
func (d *decoder) parseEvent(raw []byte, fallbackAccount, fallbackRegion string) (*lake.CloudTrailEvent, error) {
	if err := jsonlimit.Check(raw); err != nil {
		return nil, err
	}
	// Every column must be valid UTF-8 (DuckDB rejects other VARCHARs); encoding/json does the same.
	if !utf8.Valid(raw) {
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	start := 0
	for start < len(raw) && strings.IndexByte(" \t\r\n", raw[start]) >= 0 {
		start++
	}
	end, ok := d.decode(raw[start:])
	for end += start; ok && end < len(raw) && strings.IndexByte(" \t\r\n", raw[end]) >= 0; end++ {
	}
	if !ok || end != len(raw) {
		if err := json.Unmarshal(raw, new(any)); err != nil {
			return nil, fmt.Errorf("invalid record: %w", err)
		}
		return nil, errors.New("record is not a JSON object")
	}
	return d.row(raw, fallbackAccount, fallbackRegion)
}

// derivedEventID names an event of eventVersion 1.0, which predates the eventID field, by a hash of
// its compact JSON, so copies delivered by several trails still deduplicate.
func derivedEventID(raw []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		buf.Reset()
		buf.Write(raw)
	}
	sum := sha256.Sum256(buf.Bytes())
	return "derived-" + hex.EncodeToString(sum[:16])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
