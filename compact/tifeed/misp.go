package tifeed

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// mispBool reads MISP's booleans, which older exports write as "0"/"1".
type mispBool bool

func (b *mispBool) UnmarshalJSON(p []byte) error {
	switch strings.Trim(string(p), `"`) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return fmt.Errorf("not a boolean: %s", p)
	}
	return nil
}

type mispTag struct {
	Name string `json:"name"`
}

type mispAttribute struct {
	Type      string    `json:"type"`
	Category  string    `json:"category"`
	Value     string    `json:"value"`
	ToIDS     mispBool  `json:"to_ids"`
	Deleted   mispBool  `json:"deleted"`
	Comment   string    `json:"comment"`
	FirstSeen string    `json:"first_seen"`
	Tag       []mispTag `json:"Tag"`
}

type mispObject struct {
	Name      string          `json:"name"`
	Comment   string          `json:"comment"`
	Deleted   mispBool        `json:"deleted"`
	Attribute []mispAttribute `json:"Attribute"`
}

type mispGalaxy struct {
	Type    string `json:"type"`
	Cluster []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"GalaxyCluster"`
}

// mispEvent is the event-level context, applied to every attribute once the whole event is read.
type mispEvent struct {
	info   string
	date   time.Time
	tags   []string
	galaxy []mispGalaxy
	attrs  []Indicator
	sawAny bool
}

// mispMalwareGalaxies are the galaxy types whose clusters name malware families.
var mispMalwareGalaxies = map[string]bool{
	"mitre-malware": true, "malpedia": true, "ransomware": true, "rat": true, "botnet": true, "banker": true,
	"stealer": true, "backdoor": true, "android": true, "mitre-enterprise-attack-malware": true,
}

// parseMISP reads one MISP event as MISP feeds serve it ({"Event":{...}}, one <uuid>.json per event), or the
// event object itself. Attributes (top-level and inside objects) with to_ids set become indicators:
// ip-src/ip-dst (and |port), domain, hostname (and |port), domain|ip, url, md5/sha1/sha256 (and filename|…),
// AS. Attributes with to_ids false are context, not detection material, and are counted as skipped, like
// every attribute type that holds no indicator we store.
func parseMISP(r *bufio.Reader, s *sink) error {
	d := newJSONDoc(r)
	ev := &mispEvent{}
	err := d.object("MISP event", func(key string) error {
		if key == "Event" {
			ev.sawAny = true
			return d.object("MISP Event", func(k string) error { return ev.field(d, s, k) })
		}
		if key == "response" {
			return errors.New(`a MISP API search response ({"response":[...]}): export each event as {"Event":{...}} (a MISP feed's <uuid>.json) and import those`)
		}
		return ev.field(d, s, key)
	})
	if err == nil {
		err = d.end()
	}
	if err != nil {
		return err
	}
	if !ev.sawAny {
		return errors.New(`not a MISP event: no "Event" object or "Attribute" list (a MISP feed's manifest.json only lists events: import the <uuid>.json files)`)
	}
	return ev.finish(s)
}

func (ev *mispEvent) field(d *jsonDoc, s *sink, key string) error {
	switch key {
	case "Attribute":
		ev.sawAny = true
		return d.array("MISP Attribute list", func(line int) error {
			var a mispAttribute
			if err := d.value(&a); err != nil {
				return mispValueErr(s, line, "attribute", err)
			}
			ev.attribute(s, a, "", line)
			return nil
		})
	case "Object":
		ev.sawAny = true
		return d.array("MISP Object list", func(line int) error {
			var o mispObject
			if err := d.value(&o); err != nil {
				return mispValueErr(s, line, "object", err)
			}
			if o.Deleted {
				s.skip("MISP object deleted")
				return nil
			}
			for _, a := range o.Attribute {
				ev.attribute(s, a, o.Name, line)
			}
			return nil
		})
	case "Tag":
		var tags []mispTag
		if err := d.value(&tags); err != nil {
			return mispValueErr(s, d.nextLine(), "Tag list", err)
		}
		for _, t := range tags {
			ev.tags = append(ev.tags, t.Name)
		}
	case "Galaxy":
		if err := d.value(&ev.galaxy); err != nil {
			return mispValueErr(s, d.nextLine(), "Galaxy list", err)
		}
	case "info":
		if err := d.value(&ev.info); err != nil {
			return mispValueErr(s, d.nextLine(), "info", err)
		}
	case "date":
		line := d.nextLine()
		var v string
		if err := d.value(&v); err != nil {
			return mispValueErr(s, line, "date", err)
		}
		if t, err := time.Parse(time.DateOnly, v); err == nil {
			ev.date = t
		} else {
			s.warn(line, fmt.Sprintf("event date %q is not YYYY-MM-DD; attributes get no first-seen date from it", v), v)
		}
	case "threat_level_id":
		ev.sawAny = true
		return d.skip()
	default:
		return d.skip()
	}
	return nil
}

// mispValueErr reports a value of the wrong JSON type and goes on; broken JSON stops the file.
func mispValueErr(s *sink, line int, what string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		s.st.Records++
		s.bad(line, fmt.Sprintf("MISP %s: field %q has the wrong type (%v)", what, te.Field, te.Value), "")
		return nil
	}
	return err
}

func (ev *mispEvent) attribute(s *sink, a mispAttribute, object string, line int) {
	s.st.Records++
	if a.Deleted {
		s.skip("MISP attribute deleted")
		return
	}
	values, ok := mispTypes[a.Type]
	if !ok {
		s.skip("MISP attribute type " + a.Type + " (not an indicator lakehunt stores)")
		return
	}
	if !a.ToIDS {
		s.skip("MISP attribute with to_ids false (context, not for detection)")
		return
	}
	parts := []string{a.Value}
	if strings.Contains(a.Type, "|") {
		i := strings.LastIndexByte(a.Value, '|')
		if i < 0 {
			s.bad(line, fmt.Sprintf("MISP %s attribute without '|' in its value", a.Type), a.Value)
			return
		}
		parts = []string{a.Value[:i], a.Value[i+1:]}
	}
	var tags []string
	for _, t := range a.Tag {
		tags = append(tags, t.Name)
	}
	var first time.Time
	if a.FirstSeen != "" {
		if t, err := time.Parse(time.RFC3339Nano, a.FirstSeen); err == nil {
			first = t.UTC()
		} else {
			s.warn(line, fmt.Sprintf("MISP attribute first_seen %q is not RFC 3339; the event date is used", a.FirstSeen), a.Value)
		}
	}
	for i, mk := range values {
		if mk == nil {
			continue
		}
		ind, err := mk(strings.TrimSpace(parts[i]))
		if err != nil {
			s.bad(line, fmt.Sprintf("MISP %s attribute: %v", a.Type, err), a.Value)
			continue
		}
		ind.Line, ind.Tags, ind.FirstSeen = line, tags, first
		ind.Description = strings.Join(nonEmpty(object, a.Comment), ": ")
		if strings.HasPrefix(a.Type, "filename|") {
			ind.Description = strings.Join(nonEmpty("file "+parts[0], ind.Description), "; ")
		}
		ev.attrs = append(ev.attrs, ind)
	}
}

// mispTypes maps attribute types to one constructor per '|'-separated part (nil: part not stored).
var mispTypes = map[string][]func(string) (Indicator, error){
	"ip-src":          {ipIndicator},
	"ip-dst":          {ipIndicator},
	"ip-src|port":     {ipIndicator, nil},
	"ip-dst|port":     {ipIndicator, nil},
	"domain":          {domainIndicator},
	"hostname":        {domainIndicator},
	"hostname|port":   {domainIndicator, nil},
	"domain|ip":       {domainIndicator, ipIndicator},
	"url":             {urlIndicator},
	"md5":             {hashOf(TypeMD5)},
	"sha1":            {hashOf(TypeSHA1)},
	"sha256":          {hashOf(TypeSHA256)},
	"filename|md5":    {nil, hashOf(TypeMD5)},
	"filename|sha1":   {nil, hashOf(TypeSHA1)},
	"filename|sha256": {nil, hashOf(TypeSHA256)},
	"AS": {func(v string) (Indicator, error) {
		n, err := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(v), "AS"), 10, 64)
		if err != nil {
			return Indicator{}, fmt.Errorf("%q is not an AS number", v)
		}
		return asnIndicator(n)
	}},
}

func (ev *mispEvent) finish(s *sink) error {
	var families []string
	for _, g := range ev.galaxy {
		for _, c := range g.Cluster {
			if mispMalwareGalaxies[g.Type] || mispMalwareGalaxies[c.Type] {
				families = append(families, c.Value)
			}
		}
	}
	for _, t := range ev.tags {
		if f := mispTagFamily(t); f != "" {
			families = append(families, f)
		}
	}
	sort.Strings(families)
	families = dedupSorted(families)
	for _, ind := range ev.attrs {
		if ind.FirstSeen.IsZero() {
			ind.FirstSeen = ev.date
		}
		ind.Confidence = mispConfidence(ind.Tags)
		if ind.Confidence == nil {
			ind.Confidence = mispConfidence(ev.tags)
		}
		ind.Tags = append(append([]string(nil), ev.tags...), ind.Tags...)
		for i, t := range ind.Tags {
			ind.Tags[i] = strings.ReplaceAll(t, ",", ";") // the column is comma-separated
		}
		attrFamilies := families
		for _, t := range ind.Tags {
			if f := mispTagFamily(t); f != "" {
				attrFamilies = append(attrFamilies, f)
			}
		}
		sort.Strings(attrFamilies)
		ind.MalwareFamily = strings.Join(dedupSorted(append([]string(nil), attrFamilies...)), ",")
		ind.Description = strings.Join(nonEmpty(ev.info, ind.Description), ": ")
		if err := s.indicator(ind); err != nil {
			return err
		}
	}
	return nil
}

// mispTagFamily reads a malware family from a galaxy tag such as misp-galaxy:mitre-malware="JHUHUGIT".
func mispTagFamily(tag string) string {
	rest, ok := strings.CutPrefix(tag, "misp-galaxy:")
	if !ok {
		return ""
	}
	typ, val, ok := strings.Cut(rest, "=")
	if !ok || !mispMalwareGalaxies[typ] {
		return ""
	}
	return strings.Trim(val, `"`)
}

// mispConfidence reads osint:certainty="93" or the estimative-language confidence tags.
func mispConfidence(tags []string) *int32 {
	for _, t := range tags {
		if v, ok := strings.CutPrefix(t, "osint:certainty="); ok {
			if n, err := strconv.Atoi(strings.Trim(v, `"`)); err == nil && n >= 0 && n <= 100 {
				c := int32(n)
				return &c
			}
		}
		if v, ok := strings.CutPrefix(t, "estimative-language:confidence-in-analytic-judgment="); ok {
			if n, ok := map[string]int32{"high": 85, "moderate": 50, "low": 15}[strings.Trim(v, `"`)]; ok {
				return &n
			}
		}
	}
	return nil
}
