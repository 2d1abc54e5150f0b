// Package tifeed reads threat-intel feeds in their publishers' formats (plain IP/CIDR lists, abuse.ch Feodo
// CSV, Spamhaus DROP text and JSON lines, FireHOL netsets, STIX 2.1 bundles, MISP events) into indicators.
//
// Parsing is streaming: text formats line by line, JSON documents object by object (STIX and MISP keep only
// the extracted indicators, not the document, until the end, because malware families and event tags may
// come after the indicators they describe). Nothing is dropped silently: a line that cannot be read is a
// "malformed" Issue with its line number; an IP indicator overlapping private, loopback, link-local,
// multicast or other special-purpose space is a "bogon" Issue and is not emitted; a well-formed record that
// holds no storable indicator (a MISP "link", a STIX email pattern) is counted in Stats.Skipped by reason.
package tifeed

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/lake"
)

// Format names accepted by Parse (plus "auto").
const (
	FormatPlain        = "plain"
	FormatFeodoCSV     = "csv-feodo"
	FormatSpamhausDROP = "spamhaus-drop"
	FormatSpamhausJSON = "spamhaus-json"
	FormatNetset       = "netset"
	FormatSTIX2        = "stix2"
	FormatMISP         = "misp"
	FormatAuto         = "auto"
)

// Formats lists the formats Parse reads, for help texts.
var Formats = []string{FormatPlain, FormatFeodoCSV, FormatSpamhausDROP, FormatSpamhausJSON, FormatNetset, FormatSTIX2, FormatMISP}

// Indicator is one indicator as a feed gave it, normalised (lower-case domains, canonical IPs and CIDRs).
type Indicator struct {
	Value string
	Type  string     // one of the Type constants
	Start netip.Addr // first address (IP types only)
	End   netip.Addr // last address (IP types only)

	Confidence    *int32 // 0-100 where the feed gives one
	Tags          []string
	MalwareFamily string
	Description   string
	FirstSeen     time.Time // the date the feed itself states, zero if none
	Line          int       // line in the feed file where the indicator was read
}

// Key identifies an indicator within a feed.
func (i Indicator) Key() string { return i.Type + " " + i.Value }

// Row is the indicator as a ti_indicators row. Feed, ValidFrom, ValidTo and ImportedAt are left to the importer.
// A feed has no empty value distinct from none: empty texts and line 0 are NULL.
func (i Indicator) Row(sourceFile string) lake.TIIndicator {
	r := lake.TIIndicator{
		Indicator: i.Value, Type: i.Type, Confidence: i.Confidence, Tags: nullIfEmpty(strings.Join(i.Tags, ",")),
		MalwareFamily: nullIfEmpty(i.MalwareFamily), Description: nullIfEmpty(i.Description), SourceFile: nullIfEmpty(sourceFile),
	}
	if i.Line != 0 {
		line := int64(i.Line)
		r.SourceLine = &line
	}
	if !i.FirstSeen.IsZero() {
		t := i.FirstSeen.UTC().Truncate(time.Microsecond)
		r.FeedFirstSeen = &t
	}
	switch {
	case i.Start.Is4():
		s, e := int64(v4Num(i.Start)), int64(v4Num(i.End))
		r.StartV4, r.EndV4 = &s, &e
	case i.Start.Is6():
		s, e := i.Start.As16(), i.End.As16()
		r.StartV6, r.EndV6 = nullIfEmpty(hex.EncodeToString(s[:])), nullIfEmpty(hex.EncodeToString(e[:]))
	}
	return r
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func v4Num(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Issue kinds.
const (
	IssueMalformed = "malformed" // the line or record was not imported
	IssueBogon     = "bogon"     // a special-purpose IP range, excluded from matching and not imported
	IssueWarning   = "warning"   // imported, but part of the record was unreadable (e.g. a bad date)
)

// Issue is a problem with one line (or JSON object) of a feed file.
type Issue struct {
	Source string `json:"source"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	Text   string `json:"text,omitempty"`
}

func (i Issue) String() string {
	s := fmt.Sprintf("%s:%d: %s: %s", i.Source, i.Line, i.Kind, i.Reason)
	if i.Text != "" {
		s += fmt.Sprintf(" (%q)", i.Text)
	}
	return s
}

// Stats counts what Parse read.
type Stats struct {
	Format     string         `json:"format"`
	Records    int            `json:"records"`    // lines, JSON records, STIX objects or MISP attributes that could hold indicators
	Indicators int            `json:"indicators"` // emitted
	ByType     map[string]int `json:"by_type"`
	Malformed  int            `json:"malformed"`
	Bogons     int            `json:"bogons"`
	Warnings   int            `json:"warnings"`
	Skipped    map[string]int `json:"skipped,omitempty"` // well-formed records without a storable indicator, by reason
}

// maxTextLine bounds one line of a text feed; longer lines are reported, not buffered.
const maxTextLine = 64 << 10

// Parse reads one feed file (gzip is recognised and decompressed) in the given format ("auto" or "" to
// detect it) and calls emit for each indicator, in file order. src names the file in Issues.
// report receives every malformed line, excluded bogon and warning (it may be nil).
// An error means the file as a whole could not be read (I/O, unknown format, broken JSON document) or
// emit failed; indicators emitted before it came from a file that was not read to the end.
func Parse(r io.Reader, format, src string, emit func(Indicator) error, report func(Issue)) (Stats, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: corrupt gzip: %w", src, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	if format == "" || format == FormatAuto {
		head, err := br.Peek(64 << 10)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return Stats{}, fmt.Errorf("%s: %w", src, err)
		}
		if format, err = Detect(head, src); err != nil {
			return Stats{}, fmt.Errorf("%s: %w", src, err)
		}
	}
	s := &sink{src: src, emit: emit, report: report, st: Stats{Format: format, ByType: map[string]int{}, Skipped: map[string]int{}}}
	var err error
	switch format {
	case FormatPlain:
		err = parseText(br, s, false, false)
	case FormatNetset:
		err = parseText(br, s, true, false)
	case FormatSpamhausDROP:
		err = parseText(br, s, true, true)
	case FormatFeodoCSV:
		err = parseFeodo(br, s)
	case FormatSpamhausJSON:
		err = parseSpamhausJSON(br, s)
	case FormatSTIX2:
		err = parseSTIX(br, s)
	case FormatMISP:
		err = parseMISP(br, s)
	default:
		return Stats{}, fmt.Errorf("unknown feed format %q (known: auto, %s)", format, strings.Join(Formats, ", "))
	}
	if len(s.st.Skipped) == 0 {
		s.st.Skipped = nil
	}
	var stop stopError
	if errors.As(err, &stop) {
		return s.st, stop.err
	}
	if err != nil {
		return s.st, fmt.Errorf("%s: %w", src, err)
	}
	return s.st, nil
}

// stopError carries an error from emit out of a parser unchanged.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// sink is what every parser writes to: it drops bogons, counts, and reports.
type sink struct {
	src    string
	emit   func(Indicator) error
	report func(Issue)
	st     Stats
}

func (s *sink) indicator(ind Indicator) error {
	if why, ok := bogon(ind); ok {
		s.st.Bogons++
		s.issue(ind.Line, IssueBogon, why+": excluded from matching", ind.Value)
		return nil
	}
	sort.Strings(ind.Tags)
	ind.Tags = dedupSorted(ind.Tags)
	s.st.Indicators++
	s.st.ByType[ind.Type]++
	if err := s.emit(ind); err != nil {
		return stopError{err}
	}
	return nil
}

func (s *sink) bad(line int, reason, text string) {
	s.st.Malformed++
	s.issue(line, IssueMalformed, reason, text)
}

func (s *sink) warn(line int, reason, text string) {
	s.st.Warnings++
	s.issue(line, IssueWarning, reason, text)
}

func (s *sink) skip(reason string) { s.st.Skipped[reason]++ }

func (s *sink) issue(line int, kind, reason, text string) {
	if s.report == nil {
		return
	}
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	s.report(Issue{Source: s.src, Line: line, Kind: kind, Reason: reason, Text: strings.ToValidUTF8(text, "?")})
}

func dedupSorted(xs []string) []string {
	out := xs[:0]
	for i, x := range xs {
		if x == "" || (i > 0 && x == xs[i-1]) {
			continue
		}
		out = append(out, x)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Detect names the format of a feed from its first bytes (decompressed) and its file name or URL.
func Detect(head []byte, name string) (string, error) {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	lname := strings.ToLower(name)
	if len(trimmed) == 0 {
		return "", errors.New("empty file: nothing to import")
	}
	if !utf8.Valid(head[:utf8Prefix(head)]) {
		return "", errors.New("not a text feed (binary data); give --format if it is one")
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		first := trimmed
		if i := bytes.IndexByte(first, '\n'); i >= 0 {
			first = first[:i]
		}
		switch {
		case bytes.Contains(first, []byte(`"sblid"`)) || bytes.Contains(first, []byte(`"asname"`)) ||
			(bytes.Contains(first, []byte(`"cidr"`)) && bytes.HasSuffix(bytes.TrimSpace(first), []byte("}"))):
			return FormatSpamhausJSON, nil
		case jsonKey(trimmed, "Event") || jsonKey(trimmed, "Attribute") || jsonKey(trimmed, "threat_level_id"):
			return FormatMISP, nil
		case jsonKey(trimmed, "objects") || jsonKey(trimmed, "spec_version") || jsonKey(trimmed, "pattern"):
			return FormatSTIX2, nil
		}
		return "", errors.New("JSON, but neither a STIX 2 bundle, a MISP event nor Spamhaus JSON lines; give --format")
	}
	text := string(head)
	switch {
	case strings.Contains(text, "; Spamhaus") || strings.Contains(lname, "drop.txt") || strings.Contains(lname, "drop_v6.txt"):
		return FormatSpamhausDROP, nil
	case strings.Contains(text, `"dst_ip"`) || strings.Contains(text, "dst_ip,") || strings.Contains(text, "DstIP") ||
		strings.Contains(text, "Feodo Tracker"):
		return FormatFeodoCSV, nil
	case strings.Contains(text, "hash:net ipset") || strings.Contains(text, "hash:ip ipset") ||
		strings.HasSuffix(lname, ".netset") || strings.HasSuffix(lname, ".ipset"):
		return FormatNetset, nil
	}
	return FormatPlain, nil
}

// utf8Prefix cuts a possibly split rune at the end of a peeked buffer.
func utf8Prefix(b []byte) int {
	n := len(b)
	for i := 0; i < 3 && n > 0 && !utf8.RuneStart(b[n-1]); i++ {
		n--
	}
	if n > 0 && !utf8.FullRune(b[n-1:]) {
		n--
	}
	return n
}

// jsonKey reports whether "key" appears as an object key in the head of a JSON document.
func jsonKey(head []byte, key string) bool {
	k := []byte(`"` + key + `"`)
	for off := 0; ; {
		i := bytes.Index(head[off:], k)
		if i < 0 {
			return false
		}
		rest := bytes.TrimLeft(head[off+i+len(k):], " \t\r\n")
		if len(rest) > 0 && rest[0] == ':' {
			return true
		}
		off += i + len(k)
	}
}
