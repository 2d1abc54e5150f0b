// Package shmodel validates JSON values against an AWS service model (botocore service-2.json), read
// generically: shapes, members, required, enums, patterns, min/max, plus the limits AWS writes only into
// member documentation ("Length Constraints: Maximum length of 512.", "Array Members: Maximum number of
// 32 items.", "Can contain up to 50 key-value pairs."). Tests use it to check what lakehunt sends to
// Security Hub against the real model instead of hand-listed rules.
package shmodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Model is a loaded service model.
type Model struct {
	Shapes     map[string]*Shape
	Operations map[string]*Operation
	// Unchecked lists patterns Go's regexp cannot compile (look-arounds); values of those shapes are
	// checked for everything but the pattern.
	Unchecked []string
}

// Operation is one API operation.
type Operation struct {
	HTTP struct {
		Method     string `json:"method"`
		RequestURI string `json:"requestUri"`
	} `json:"http"`
	Input  *Ref `json:"input"`
	Output *Ref `json:"output"`
}

// Ref points at a shape.
type Ref struct {
	Shape string `json:"shape"`
}

// Shape is a model shape.
type Shape struct {
	Type     string             `json:"type"`
	Required []string           `json:"required"`
	Members  map[string]*Member `json:"members"`
	Member   *Ref               `json:"member"`
	Key      *Ref               `json:"key"`
	Value    *Ref               `json:"value"`
	Min      *float64           `json:"min"`
	Max      *float64           `json:"max"`
	Pattern  string             `json:"pattern"`
	Enum     []string           `json:"enum"`
	Error    *struct {
		HTTPStatusCode int `json:"httpStatusCode"`
	} `json:"error"`

	re *regexp.Regexp
}

// Member is a structure member with the limits its documentation states.
type Member struct {
	Shape         string `json:"shape"`
	Documentation string `json:"documentation"`

	Limits Limits `json:"-"`
}

// Limits are documented constraints; 0 means none.
type Limits struct {
	MinLen, MaxLen   int
	MaxItems         int
	MaxPairs         int
	MaxKey, MaxValue int
	Namespaces       []string // "Valid namespace values are: A | B": the first path segment of each item
}

// Load reads a botocore service-2.json.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	for name, s := range m.Shapes {
		if s.Pattern != "" {
			// botocore writes Java escapes (\u0009); RE2 spells them \x{0009}.
			if s.re, err = regexp.Compile(javaEscapeRe.ReplaceAllString(s.Pattern, `\x{$1}`)); err != nil {
				m.Unchecked = append(m.Unchecked, name+": "+s.Pattern)
			}
		}
		for _, mem := range s.Members {
			mem.Limits = parseLimits(mem.Documentation)
		}
	}
	sort.Strings(m.Unchecked)
	return &m, nil
}

var (
	javaEscapeRe = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)
	tagRe        = regexp.MustCompile(`<[^>]*>`)
	lengthRe     = regexp.MustCompile(`Length Constraints:([^.]*\.(?:\s*Maximum[^.]*\.)?)`)
	exactRe      = regexp.MustCompile(`^\s*(\d+)\.`)
	minLenRe     = regexp.MustCompile(`Minimum (?:length )?of (\d+)`)
	maxLenRe     = regexp.MustCompile(`Maximum (?:length )?of (\d+)`)
	maxItemsRe   = regexp.MustCompile(`Maximum number of (\d+) items`)
	maxPairsRe   = regexp.MustCompile(`up to (\d+) key-value pairs`)
	maxKeyRe     = regexp.MustCompile(`key can contain up to (\d+) characters`)
	maxValueRe   = regexp.MustCompile(`value can contain up to (\d+) characters`)
	namespacesRe = regexp.MustCompile(`Valid namespace values are: ([^<]+)</p>`)
)

func atoi(m []string) int {
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func parseLimits(doc string) Limits {
	var l Limits
	if m := namespacesRe.FindStringSubmatch(doc); m != nil {
		for _, ns := range strings.Split(m[1], "|") {
			l.Namespaces = append(l.Namespaces, strings.TrimSpace(ns))
		}
	}
	text := tagRe.ReplaceAllString(doc, " ")
	if m := lengthRe.FindStringSubmatch(text); m != nil {
		if e := exactRe.FindStringSubmatch(m[1]); e != nil {
			l.MinLen, l.MaxLen = atoi(e), atoi(e)
		} else {
			l.MinLen, l.MaxLen = atoi(minLenRe.FindStringSubmatch(m[1])), atoi(maxLenRe.FindStringSubmatch(m[1]))
		}
	}
	l.MaxItems = atoi(maxItemsRe.FindStringSubmatch(text))
	l.MaxPairs = atoi(maxPairsRe.FindStringSubmatch(text))
	l.MaxKey = atoi(maxKeyRe.FindStringSubmatch(text))
	l.MaxValue = atoi(maxValueRe.FindStringSubmatch(text))
	return l
}

// Decode parses JSON for Validate, keeping numbers exact.
func Decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Validate checks a decoded JSON value (see Decode) against a shape and returns every violation,
// each prefixed with its path.
func (m *Model) Validate(shape string, v any) []string {
	var errs []string
	m.validate(&errs, shape, Limits{}, v, shape)
	return errs
}

func (m *Model) validate(errs *[]string, name string, lim Limits, v any, path string) {
	add := func(format string, args ...any) { *errs = append(*errs, path+": "+fmt.Sprintf(format, args...)) }
	s, ok := m.Shapes[name]
	if !ok {
		add("model has no shape %q", name)
		return
	}
	if v == nil {
		add("null is not a %s", s.Type)
		return
	}
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			add("want an object (%s), got %T", name, v)
			return
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				add("required member %s is missing", r)
			}
		}
		keys := slices.Sorted(maps.Keys(obj))
		for _, k := range keys {
			mem, ok := s.Members[k]
			if !ok {
				add("unknown member %s (not in shape %s)", k, name)
				continue
			}
			m.validate(errs, mem.Shape, mem.Limits, obj[k], path+"."+k)
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			add("want a list, got %T", v)
			return
		}
		checkCount(add, len(arr), s, lim.MaxItems, "items")
		for i, e := range arr {
			if len(lim.Namespaces) > 0 {
				if str, ok := e.(string); ok && !contains(lim.Namespaces, strings.SplitN(str, "/", 2)[0]) {
					add("[%d] %q: namespace must be one of %s", i, str, strings.Join(lim.Namespaces, " | "))
				}
			}
			m.validate(errs, s.Member.Shape, Limits{}, e, fmt.Sprintf("%s[%d]", path, i))
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			add("want a map, got %T", v)
			return
		}
		checkCount(add, len(obj), s, lim.MaxPairs, "pairs")
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			m.validate(errs, s.Key.Shape, Limits{MaxLen: lim.MaxKey}, k, path+" key "+strconv.Quote(k))
			m.validate(errs, s.Value.Shape, Limits{MaxLen: lim.MaxValue}, obj[k], path+"["+strconv.Quote(k)+"]")
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			add("want a string, got %T", v)
			return
		}
		n := utf8.RuneCountInString(str)
		if !utf8.ValidString(str) {
			add("not valid UTF-8")
		}
		if len(s.Enum) > 0 && !contains(s.Enum, str) {
			add("%q is not one of %s", str, strings.Join(s.Enum, ", "))
		}
		if s.re != nil && !s.re.MatchString(str) {
			add("%q does not match pattern %s", clip(str), s.Pattern)
		}
		if s.Min != nil && float64(n) < *s.Min {
			add("length %d below the minimum %v", n, *s.Min)
		}
		if s.Max != nil && float64(n) > *s.Max {
			add("length %d above the maximum %v", n, *s.Max)
		}
		if lim.MinLen > 0 && n < lim.MinLen {
			add("length %d below the documented minimum %d", n, lim.MinLen)
		}
		if lim.MaxLen > 0 && n > lim.MaxLen {
			add("length %d above the documented maximum %d", n, lim.MaxLen)
		}
	case "integer", "long":
		num, ok := v.(json.Number)
		if !ok {
			add("want an integer, got %T", v)
			return
		}
		i, err := num.Int64()
		if err != nil {
			add("%s is not an integer", num)
			return
		}
		if s.Type == "integer" && (i < -1<<31 || i > 1<<31-1) {
			add("%d overflows a 32-bit integer", i)
		}
		checkRange(add, float64(i), s)
	case "double", "float":
		switch n := v.(type) {
		case json.Number:
			f, err := n.Float64()
			if err != nil {
				add("%s is not a number", n)
				return
			}
			checkRange(add, f, s)
		case string:
			if n != "NaN" && n != "Infinity" && n != "-Infinity" {
				add("want a number, got string %q", clip(n))
			}
		default:
			add("want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			add("want a boolean, got %T", v)
		}
	case "timestamp":
		switch v.(type) {
		case json.Number, string:
		default:
			add("want a timestamp, got %T", v)
		}
	case "blob":
		if _, ok := v.(string); !ok {
			add("want base64 text, got %T", v)
		}
	default:
		add("shape type %q is not supported by the validator", s.Type)
	}
}

func checkCount(add func(string, ...any), n int, s *Shape, docMax int, what string) {
	if s.Min != nil && float64(n) < *s.Min {
		add("%d %s, below the minimum %v", n, what, *s.Min)
	}
	if s.Max != nil && float64(n) > *s.Max {
		add("%d %s, above the maximum %v", n, what, *s.Max)
	}
	if docMax > 0 && n > docMax {
		add("%d %s, above the documented maximum %d", n, what, docMax)
	}
}

func checkRange(add func(string, ...any), f float64, s *Shape) {
	if s.Min != nil && f < *s.Min {
		add("%v below the minimum %v", f, *s.Min)
	}
	if s.Max != nil && f > *s.Max {
		add("%v above the maximum %v", f, *s.Max)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// DocRequired reads the attribute names of an AWS documentation page of required attributes (the
// "## Name<a name=...>" headings of securityhub-asff-required-attributes.md). The user guide requires
// Severity and Types, which the API model leaves optional.
func DocRequired(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	re := regexp.MustCompile(`(?m)^## (\w+)<a name=`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no \"## Name<a name=\" headings", path)
	}
	return out, nil
}

// Require adds required members to a structure shape.
func (m *Model) Require(shape string, members ...string) error {
	s, ok := m.Shapes[shape]
	if !ok || s.Type != "structure" {
		return fmt.Errorf("no structure shape %q", shape)
	}
	for _, mem := range members {
		if _, ok := s.Members[mem]; !ok {
			return fmt.Errorf("shape %s has no member %s", shape, mem)
		}
		if !contains(s.Required, mem) {
			s.Required = append(s.Required, mem)
		}
	}
	return nil
}

// securityHubModel is the botocore Security Hub model, cut down to BatchImportFindings and the shapes it
// reaches, in the repository's testdata folder (testdata/PROVENANCE.md).
const securityHubModel = "schemas/botocore-securityhub-2018-10-26-service-2.BatchImportFindings.json"

// LoadSecurityHub loads the Security Hub model from the repository's testdata folder with the user
// guide's required ASFF attributes added to AwsSecurityFinding.
func LoadSecurityHub(testdata string) (*Model, error) {
	m, err := Load(filepath.Join(testdata, filepath.FromSlash(securityHubModel)))
	if err != nil {
		return nil, err
	}
	req, err := DocRequired(filepath.Join(testdata, "awsdocs", "securityhub-asff-required-attributes.md"))
	if err != nil {
		return nil, err
	}
	if err := m.Require("AwsSecurityFinding", req...); err != nil {
		return nil, err
	}
	return m, nil
}
