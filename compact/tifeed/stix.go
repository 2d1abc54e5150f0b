package tifeed

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// stixObject holds the fields of STIX 2.0/2.1 objects that become indicators or give them context.
type stixObject struct {
	Type           string   `json:"type"`
	ID             string   `json:"id"`
	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	ValidFrom      string   `json:"valid_from"`
	ValidUntil     string   `json:"valid_until"`
	Created        string   `json:"created"`
	Revoked        bool     `json:"revoked"`
	Labels         []string `json:"labels"`
	IndicatorTypes []string `json:"indicator_types"`
	Confidence     *int32   `json:"confidence"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	Value          string   `json:"value"` // SCOs: ipv4-addr, ipv6-addr, domain-name, url
	RelType        string   `json:"relationship_type"`
	SourceRef      string   `json:"source_ref"`
	TargetRef      string   `json:"target_ref"`
}

// stixPending is an indicator (or an observable of malicious infrastructure) waiting for the end of the
// bundle, where its relationships to malware, actors and infrastructure are known.
type stixPending struct {
	ind    Indicator
	objID  string
	viaSCO bool
}

type stixBundle struct {
	s       *sink
	pending []stixPending
	named   map[string]stixNamed // SDOs with names: malware, infrastructure, threat actors, …
	scos    map[string]stixSCO   // observables that may turn out to be malicious infrastructure
	rels    map[string][]string  // object id → ids related to it (both directions)
}

type stixNamed struct{ typ, name string }

type stixSCO struct {
	obj  stixObject
	line int
}

// parseSTIX reads a STIX 2.x bundle ({"type":"bundle","objects":[...]}), a bare array of objects, or a
// single object. Indicators with pattern_type stix give one indicator per ipv4-addr/ipv6-addr/domain-name/
// url/file-hash comparison in their pattern (so "[a OR b]" gives two). Observables (ipv4-addr, domain-name,
// …) are imported only when a relationship ties them to malware, infrastructure, a threat actor, an
// intrusion set or a campaign ("consists-of", "communicates-with"): on their own they are just data.
func parseSTIX(r *bufio.Reader, s *sink) error {
	b := &stixBundle{s: s, named: map[string]stixNamed{}, scos: map[string]stixSCO{}, rels: map[string][]string{}}
	first := firstByte(r)
	d := newJSONDoc(r)
	var err error
	switch first {
	case '[':
		err = d.array("STIX objects", func(line int) error { return b.element(d, line) })
	case '{':
		err = b.top(d)
	default:
		return errors.New("not a STIX document (expected a JSON object or array)")
	}
	if err != nil {
		return err
	}
	if err := d.end(); err != nil {
		return err
	}
	return b.finish()
}

// top reads the top-level object: a bundle (whose objects are streamed) or a single STIX object.
func (b *stixBundle) top(d *jsonDoc) error {
	var single map[string]json.RawMessage
	line := d.nextLine()
	sawObjects := false
	err := d.object("STIX bundle", func(key string) error {
		if key == "objects" {
			sawObjects = true
			return d.array("bundle objects", func(line int) error { return b.element(d, line) })
		}
		var raw json.RawMessage
		if err := d.value(&raw); err != nil {
			return err
		}
		if single == nil {
			single = map[string]json.RawMessage{}
		}
		single[key] = raw
		return nil
	})
	if err != nil {
		return err
	}
	var typ string
	_ = json.Unmarshal(single["type"], &typ)
	if sawObjects || typ == "bundle" {
		return nil
	}
	if typ == "" {
		return fmt.Errorf("line %d: not a STIX bundle or object (no \"type\" and no \"objects\")", line)
	}
	if typ != "indicator" && !stixSCOTypes[typ] {
		b.s.skip("STIX " + typ + " object (the file holds no bundle)")
	}
	raw, _ := json.Marshal(single)
	var o stixObject
	if err := json.Unmarshal(raw, &o); err != nil {
		b.s.st.Records++
		b.s.bad(line, "STIX object with fields of the wrong type: "+err.Error(), typ)
		return nil
	}
	return b.add(o, line)
}

func (b *stixBundle) element(d *jsonDoc, line int) error {
	var o stixObject
	if err := d.value(&o); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			b.s.st.Records++
			b.s.bad(line, fmt.Sprintf("STIX %s %s: field %q has the wrong type (%v)", o.Type, o.ID, te.Field, te.Value), o.ID)
			return nil
		}
		return err
	}
	return b.add(o, line)
}

var stixSCOTypes = map[string]bool{"ipv4-addr": true, "ipv6-addr": true, "domain-name": true, "url": true}

var stixContext = map[string]bool{"malware": true, "infrastructure": true, "threat-actor": true, "intrusion-set": true, "campaign": true, "tool": true}

func (b *stixBundle) add(o stixObject, line int) error {
	switch {
	case o.Type == "indicator":
		b.s.st.Records++
		b.indicator(o, line)
	case o.Type == "relationship":
		if o.SourceRef != "" && o.TargetRef != "" {
			b.rels[o.SourceRef] = append(b.rels[o.SourceRef], o.TargetRef)
			b.rels[o.TargetRef] = append(b.rels[o.TargetRef], o.SourceRef)
		}
	case stixContext[o.Type]:
		b.named[o.ID] = stixNamed{o.Type, o.Name}
	case stixSCOTypes[o.Type]:
		b.scos[o.ID] = stixSCO{o, line}
	}
	return nil
}

func (b *stixBundle) indicator(o stixObject, line int) {
	if o.Revoked {
		b.s.skip("STIX indicator revoked")
		return
	}
	if o.PatternType != "" && o.PatternType != "stix" {
		b.s.skip("STIX indicator with pattern_type " + o.PatternType)
		return
	}
	if o.Pattern == "" {
		b.s.bad(line, "STIX indicator "+o.ID+" has no pattern", o.ID)
		return
	}
	cmps, err := stixComparisons(o.Pattern)
	if err != nil {
		b.s.bad(line, "STIX pattern: "+err.Error(), o.Pattern)
		return
	}
	base := Indicator{Line: line, Confidence: clampConfidence(o.Confidence), Description: stixDescription(o)}
	base.Tags = append(append([]string(nil), o.IndicatorTypes...), o.Labels...)
	if t, err := stixTime(o.ValidFrom, o.Created); err == nil {
		base.FirstSeen = t
	} else {
		b.s.warn(line, "STIX indicator "+o.ID+": valid_from "+err.Error()+"; indicator kept without it", o.ValidFrom)
	}
	found := 0
	for _, c := range cmps {
		mk, ok := stixPaths[c.path]
		if !ok || c.negated || !(c.op == "=" || c.op == "IN" || (c.op == "ISSUBSET" && mk.ip)) {
			continue
		}
		for _, v := range c.values {
			ind, err := mk.make(v)
			if err != nil {
				b.s.bad(line, fmt.Sprintf("STIX indicator %s: %s: %v", o.ID, c.path, err), v)
				found++
				continue
			}
			found++
			ind.Line, ind.Confidence, ind.Description, ind.FirstSeen = base.Line, base.Confidence, base.Description, base.FirstSeen
			ind.Tags = append([]string(nil), base.Tags...)
			b.pending = append(b.pending, stixPending{ind: ind, objID: o.ID})
		}
	}
	if found == 0 {
		b.s.skip("STIX indicator without an IP, domain, URL or file-hash comparison")
	}
}

func stixDescription(o stixObject) string {
	d := strings.TrimSpace(o.Name)
	if desc := strings.TrimSpace(o.Description); desc != "" && desc != d {
		if d != "" {
			d += ": "
		}
		d += desc
	}
	if o.ValidUntil != "" {
		d = strings.TrimSpace(d + " (valid until " + o.ValidUntil + " per the feed)")
	}
	return d
}

func stixTime(vs ...string) (time.Time, error) {
	for _, v := range vs {
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", v)
		}
		return t.UTC(), nil
	}
	return time.Time{}, nil
}

func clampConfidence(c *int32) *int32 {
	if c == nil || *c < 0 || *c > 100 {
		return nil
	}
	v := *c
	return &v
}

// finish resolves relationships and emits everything in file order.
func (b *stixBundle) finish() error {
	for id, sco := range b.scos {
		var ctx []stixNamed
		for _, rel := range b.rels[id] {
			if n, ok := b.named[rel]; ok {
				ctx = append(ctx, n)
			}
		}
		if len(ctx) == 0 {
			b.s.skip("STIX " + sco.obj.Type + " observable not tied to malware or infrastructure")
			continue
		}
		b.s.st.Records++
		var ind Indicator
		var err error
		switch sco.obj.Type {
		case "ipv4-addr", "ipv6-addr":
			ind, err = ipIndicator(sco.obj.Value)
		case "domain-name":
			ind, err = domainIndicator(sco.obj.Value)
		case "url":
			ind, err = urlIndicator(sco.obj.Value)
		}
		if err != nil {
			b.s.bad(sco.line, fmt.Sprintf("STIX %s %s: %v", sco.obj.Type, id, err), sco.obj.Value)
			continue
		}
		ind.Line = sco.line
		var names []string
		for _, n := range ctx {
			if n.typ == "infrastructure" && n.name != "" {
				names = append(names, n.name)
			}
		}
		sort.Strings(names)
		ind.Description = strings.Join(names, "; ")
		b.pending = append(b.pending, stixPending{ind: ind, objID: id, viaSCO: true})
	}
	sort.SliceStable(b.pending, func(i, j int) bool { return b.pending[i].ind.Line < b.pending[j].ind.Line })
	for _, p := range b.pending {
		ind := p.ind
		families, tags := b.context(p.objID)
		ind.MalwareFamily = strings.Join(families, ",")
		ind.Tags = append(ind.Tags, tags...)
		if err := b.s.indicator(ind); err != nil {
			return err
		}
	}
	return nil
}

// context collects malware families and actor/campaign tags one relationship away, and through
// infrastructure one more (indicator → infrastructure → malware).
func (b *stixBundle) context(id string) (families, tags []string) {
	seen := map[string]bool{id: true}
	var visit func(id string, depth int)
	visit = func(id string, depth int) {
		for _, rel := range b.rels[id] {
			if seen[rel] {
				continue
			}
			seen[rel] = true
			n, ok := b.named[rel]
			if !ok || n.name == "" {
				continue
			}
			switch n.typ {
			case "malware":
				families = append(families, n.name)
			case "infrastructure":
				if depth == 0 {
					visit(rel, 1)
				}
			default:
				tags = append(tags, n.typ+":"+n.name)
			}
		}
	}
	visit(id, 0)
	sort.Strings(families)
	return dedupSorted(families), tags
}

// stixPath says how a comparison's value becomes an indicator.
type stixPath struct {
	ip   bool // the value may be a CIDR (ISSUBSET allowed)
	make func(string) (Indicator, error)
}

func ipv4Only(v string) (Indicator, error) {
	ind, err := ipIndicator(v)
	if err == nil && !ind.Start.Is4() {
		err = fmt.Errorf("%q is not an IPv4 address or network", v)
	}
	return ind, err
}

func ipv6Only(v string) (Indicator, error) {
	ind, err := ipIndicator(v)
	if err == nil && !ind.Start.Is6() {
		err = fmt.Errorf("%q is not an IPv6 address or network", v)
	}
	return ind, err
}

func ipOrDomain(v string) (Indicator, error) {
	if ind, err := ipIndicator(v); err == nil {
		return ind, nil
	}
	return domainIndicator(v)
}

func hashOf(t string) func(string) (Indicator, error) {
	return func(v string) (Indicator, error) { return hashIndicator(v, t) }
}

var stixPaths = func() map[string]stixPath {
	m := map[string]stixPath{
		"ipv4-addr:value":                       {true, ipv4Only},
		"ipv6-addr:value":                       {true, ipv6Only},
		"domain-name:value":                     {false, domainIndicator},
		"url:value":                             {false, urlIndicator},
		"network-traffic:dst_ref.value":         {true, ipOrDomain},
		"network-traffic:src_ref.value":         {true, ipOrDomain},
		"domain-name:resolves_to_refs[*].value": {true, ipIndicator},
	}
	for _, obj := range []string{"file", "artifact"} {
		for _, h := range []struct {
			names []string
			t     string
		}{
			{[]string{"MD5", "'MD5'", "md5"}, TypeMD5},
			{[]string{"'SHA-1'", "SHA1", "'SHA1'", "sha1"}, TypeSHA1},
			{[]string{"'SHA-256'", "SHA256", "'SHA256'", "sha256"}, TypeSHA256},
		} {
			for _, n := range h.names {
				m[obj+":hashes."+n] = stixPath{false, hashOf(h.t)}
			}
		}
	}
	return m
}()

// stixCmp is one comparison expression of a pattern: path [NOT] op value(s).
type stixCmp struct {
	path    string
	op      string
	negated bool
	values  []string
}

type stixTok struct {
	kind byte // 'p' punctuation, 's' string, 'w' word or path, 'o' comparison operator, 'n' number
	text string
}

// stixComparisons extracts the comparison expressions of a STIX pattern. It is not a full pattern
// parser: the boolean and observation structure (AND, OR, FOLLOWEDBY, qualifiers) is checked for balanced
// brackets but otherwise ignored, because each IP/domain/URL/hash an indicator names is worth matching
// on its own in a retro-hunt.
func stixComparisons(p string) ([]stixCmp, error) {
	toks, err := stixLex(p)
	if err != nil {
		return nil, err
	}
	depth := 0
	var out []stixCmp
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == 'p' && (t.text == "[" || t.text == "("):
			depth++
		case t.kind == 'p' && (t.text == "]" || t.text == ")"):
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced %q", t.text)
			}
		case t.kind == 'w' && strings.Contains(t.text, ":"):
			if i > 0 && strings.EqualFold(toks[i-1].text, "EXISTS") {
				continue
			}
			c := stixCmp{path: t.text}
			j := i + 1
			if j < len(toks) && strings.EqualFold(toks[j].text, "NOT") {
				c.negated = true
				j++
			}
			if j >= len(toks) {
				return nil, fmt.Errorf("%s: comparison without operator", t.text)
			}
			op := toks[j]
			switch {
			case op.kind == 'o':
				c.op = op.text
			case op.kind == 'w' && stixWordOps[strings.ToUpper(op.text)]:
				c.op = strings.ToUpper(op.text)
			default:
				return nil, fmt.Errorf("%s: expected a comparison operator, found %q", t.text, op.text)
			}
			j++
			if j < len(toks) && toks[j].kind == 'p' && toks[j].text == "(" {
				for j++; j < len(toks) && !(toks[j].kind == 'p' && toks[j].text == ")"); j++ {
					if toks[j].kind == 's' || toks[j].kind == 'n' {
						c.values = append(c.values, toks[j].text)
					}
				}
				if j >= len(toks) {
					return nil, fmt.Errorf("%s: unterminated value list", t.text)
				}
			} else if j < len(toks) && (toks[j].kind == 's' || toks[j].kind == 'n' || toks[j].kind == 'w') {
				c.values = []string{toks[j].text}
			} else {
				return nil, fmt.Errorf("%s %s: missing value", t.text, c.op)
			}
			out = append(out, c)
			i = j
		}
	}
	if depth != 0 {
		return nil, errors.New("unbalanced brackets")
	}
	if len(out) == 0 {
		return nil, errors.New("no comparison expression")
	}
	return out, nil
}

var stixWordOps = map[string]bool{"IN": true, "LIKE": true, "MATCHES": true, "ISSUBSET": true, "ISSUPERSET": true}

func stixLex(p string) ([]stixTok, error) {
	var toks []stixTok
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '[' || c == ']' || c == '(' || c == ')' || c == ',':
			toks = append(toks, stixTok{'p', string(c)})
			i++
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(p) && p[j] == '=' {
				j++
			}
			if p[i:j] == "!" {
				return nil, fmt.Errorf("stray '!' at offset %d", i)
			}
			toks = append(toks, stixTok{'o', p[i:j]})
			i = j
		case c == '\'' || ((c == 't' || c == 'b' || c == 'h') && i+1 < len(p) && p[i+1] == '\''):
			if c != '\'' {
				i++
			}
			s, n, err := stixString(p[i:])
			if err != nil {
				return nil, fmt.Errorf("offset %d: %v", i, err)
			}
			toks = append(toks, stixTok{'s', s})
			i += n
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(p) && (p[j] >= '0' && p[j] <= '9' || p[j] == '.') {
				j++
			}
			toks = append(toks, stixTok{'n', p[i:j]})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_':
			j := i
			for j < len(p) {
				d := p[j]
				if d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' || d >= '0' && d <= '9' || d == '_' || d == '-' || d == ':' {
					j++
				} else if d == '.' && j+1 < len(p) && p[j+1] == '\'' {
					_, n, err := stixString(p[j+1:])
					if err != nil {
						return nil, fmt.Errorf("offset %d: %v", j, err)
					}
					j += 1 + n
				} else if d == '.' {
					j++
				} else if d == '[' && j+2 < len(p) && strings.Contains(p[j:], "]") && stixIndex(p[j+1:strings.IndexByte(p[j:], ']')+j]) {
					j = strings.IndexByte(p[j:], ']') + j + 1
				} else {
					break
				}
			}
			toks = append(toks, stixTok{'w', p[i:j]})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", c, i)
		}
	}
	return toks, nil
}

func stixIndex(s string) bool {
	if s == "*" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// stixString reads a quoted string starting at s[0] == '\” and returns its value and length.
func stixString(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '\'':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("unterminated string")
}
