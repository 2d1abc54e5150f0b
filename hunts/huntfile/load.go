package huntfile

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

//go:embed hunt.schema.json
var schemaJSON []byte

// SchemaJSON is the JSON Schema of the hunt file format (draft 2020-12).
func SchemaJSON() []byte { return bytes.Clone(schemaJSON) }

var compileSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("hunt.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("hunt.schema.json")
})

// LockFile is the name of the lock file at the root of a hunt directory.
const LockFile = "hunts.lock"

// Load reads every *.yaml / *.yml hunt file under src (recursively) and the lock file at its root.
// Files that do not parse or do not match the schema are left out of the result and reported as
// diagnostics; err is only for an unreadable source or lock file.
func Load(src Source) ([]*Hunt, Lock, []Diagnostic, error) {
	var files []string
	err := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read hunts in %s: %w", src.Name, err)
	}
	sort.Strings(files)
	lock, err := ReadLock(src)
	if err != nil {
		return nil, nil, nil, err
	}
	var hunts []*Hunt
	var diags []Diagnostic
	for _, f := range files {
		b, err := fs.ReadFile(src.FS, f)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read %s: %w", path.Join(src.Name, f), err)
		}
		h, ds := Parse(src, f, b)
		diags = append(diags, ds...)
		if h != nil {
			hunts = append(hunts, h)
		}
	}
	return hunts, lock, diags, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

// Parse parses one hunt file. name is the file's path inside src; data files are resolved next to it.
// It returns nil and the diagnostics when the file is not a valid hunt.
func Parse(src Source, name string, data []byte) (*Hunt, []Diagnostic) {
	display := path.Join(src.Name, name)
	fail := func(line int, format string, args ...any) (*Hunt, []Diagnostic) {
		return nil, []Diagnostic{{File: display, Line: line, Message: fmt.Sprintf(format, args...)}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return fail(line, "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return fail(1, "empty file: a hunt file is a YAML mapping (see hunts/huntfile/hunt.schema.json)")
	}
	root := doc.Content[0]
	inst, err := toJSON(root, 0)
	if err != nil {
		line := root.Line
		var le *lineError
		if errors.As(err, &le) {
			line = le.line
		}
		return fail(line, "%v", err)
	}
	if diags := validate(root, inst, display); len(diags) > 0 {
		return nil, diags
	}
	h := &Hunt{File: display, Dir: src.Name, root: root}
	if err := root.Decode(h); err != nil {
		line := root.Line
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			if m := yamlLineRE.FindStringSubmatch(te.Errors[0]); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
		}
		return fail(line, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var diags []Diagnostic
	obj := inst.(map[string]any)
	h.Output.setDefaults()
	tests, _ := obj["tests"].([]any)
	for i := range h.Tests {
		t := &h.Tests[i]
		t.Line, _ = h.Pos("tests", strconv.Itoa(i))
		tm := tests[i].(map[string]any)
		for k, v := range tm {
			if !testKeys[k] {
				if t.Events == nil {
					t.Events = map[string]any{}
				}
				t.Events[k] = v
			}
		}
		if exp, ok := tm["expect"].(map[string]any); ok {
			fs, _ := exp["findings"].([]any)
			for j := range t.Expect.Findings {
				t.Expect.Findings[j].Fields, _ = fs[j].(map[string]any)["fields"].(map[string]any)
			}
		}
		for _, w := range []struct {
			text string
			dst  *time.Time
			key  string
		}{{t.Window.StartText, &t.Window.Start, "start"}, {t.Window.EndText, &t.Window.End, "end"}} {
			v, err := time.Parse(time.RFC3339, w.text)
			if err != nil {
				diags = append(diags, h.At(fmt.Sprintf("test %q: window %s %q is not an RFC 3339 time such as 2024-05-01T00:00:00Z", t.Name, w.key, w.text), "tests", strconv.Itoa(i), "window", w.key))
				continue
			}
			*w.dst = v.UTC()
		}
		if !t.Window.Start.IsZero() && !t.Window.End.After(t.Window.Start) {
			diags = append(diags, h.At(fmt.Sprintf("test %q: window end must be after its start", t.Name), "tests", strconv.Itoa(i), "window"))
		}
	}
	for i, ref := range h.Data {
		dt, err := loadCSV(src, path.Join(path.Dir(name), ref.File), ref.Table)
		if err != nil {
			diags = append(diags, h.At(err.Error(), "data", strconv.Itoa(i), "file"))
			continue
		}
		h.DataTables = append(h.DataTables, dt)
	}
	if len(diags) > 0 {
		return nil, diags
	}
	return h, nil
}

// testKeys are a test's own keys; every other key names a source table and holds its raw events.
var testKeys = map[string]bool{"name": true, "window": true, "organization": true, "ti_indicators": true, "expect": true}

func loadCSV(src Source, name, table string) (DataTable, error) {
	if src.FS == nil {
		return DataTable{}, fmt.Errorf("data file %s: the hunt was not loaded from a directory, so its data files cannot be read", name)
	}
	b, err := fs.ReadFile(src.FS, name)
	if err != nil {
		return DataTable{}, fmt.Errorf("data file %s: %v", path.Join(src.Name, name), err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	recs, err := r.ReadAll()
	if err != nil {
		return DataTable{}, fmt.Errorf("data file %s: %v", path.Join(src.Name, name), err)
	}
	if len(recs) < 2 {
		return DataTable{}, fmt.Errorf("data file %s: needs a header line and at least one row", path.Join(src.Name, name))
	}
	for _, c := range recs[0] {
		if !regexp.MustCompile(`^[a-z_][a-z0-9_]*$`).MatchString(c) {
			return DataTable{}, fmt.Errorf("data file %s: header column %q must be a lower-case SQL name", path.Join(src.Name, name), c)
		}
	}
	return DataTable{Name: table, File: path.Join(src.Name, name), Columns: recs[0], Rows: recs[1:], SHA256: sha256Hex(b)}, nil
}

// toJSON converts a YAML node to the values a JSON Schema validator expects, resolving aliases and
// merge keys. Timestamps stay strings (the schema, not YAML, decides what a date is).
func toJSON(n *yaml.Node, depth int) (any, error) {
	if depth > 100 {
		return nil, &lineError{n.Line, "YAML nested too deeply"}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toJSON(n.Content[0], depth+1)
	case yaml.AliasNode:
		return toJSON(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := toJSON(c, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		keyLine := map[string]int{}
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, &lineError{k.Line, "mapping keys must be plain strings"}
			}
			if first, dup := keyLine[k.Value]; dup {
				return nil, &lineError{k.Line, fmt.Sprintf("key %q appears twice (first at line %d)", k.Value, first)}
			}
			keyLine[k.Value] = k.Line
			val, err := toJSON(v, depth+1)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		for _, m := range merges {
			srcs := []*yaml.Node{m}
			if m.Kind == yaml.SequenceNode {
				srcs = m.Content
			}
			for _, s := range srcs {
				v, err := toJSON(s, depth+1)
				if err != nil {
					return nil, err
				}
				mm, ok := v.(map[string]any)
				if !ok {
					return nil, &lineError{s.Line, "<< must merge a mapping"}
				}
				for k, x := range mm {
					if _, set := out[k]; !set {
						out[k] = x
					}
				}
			}
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, err
			}
			return b, nil
		case "!!int", "!!float":
			var f any
			if err := n.Decode(&f); err != nil {
				return nil, err
			}
			if i, ok := f.(int); ok {
				return json.Number(strconv.Itoa(i)), nil
			}
			return json.Number(strconv.FormatFloat(f.(float64), 'g', -1, 64)), nil
		default:
			return n.Value, nil
		}
	}
	return nil, &lineError{n.Line, "unsupported YAML node"}
}

type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

func validate(root *yaml.Node, inst any, file string) []Diagnostic {
	sch, err := compileSchema()
	if err != nil {
		return []Diagnostic{{File: file, Message: "internal error: the hunt JSON Schema does not compile: " + err.Error()}}
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Diagnostic{{File: file, Line: root.Line, Message: err.Error()}}
	}
	p := message.NewPrinter(language.English)
	var diags []Diagnostic
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		loc := e.InstanceLocation
		n := nodeAt(root, loc)
		if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
			if k := keyAt(root, loc, ap.Properties[0]); k != nil {
				n = k
			}
		}
		where := "/" + strings.Join(loc, "/")
		msg := fmt.Sprintf("%s: %s", where, e.ErrorKind.LocalizedString(p))
		if seen[msg] {
			return
		}
		seen[msg] = true
		d := Diagnostic{File: file, Message: msg}
		if n != nil {
			d.Line, d.Col = n.Line, n.Column
		}
		diags = append(diags, d)
	}
	walk(ve)
	sort.SliceStable(diags, func(i, j int) bool { return diags[i].Line < diags[j].Line })
	return diags
}

// nodeAt walks mapping keys and sequence indexes; it returns the deepest node found. A block mapping or
// sequence under a key is reported at its key: that is the line a reader looks for.
func nodeAt(n *yaml.Node, path []string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	var key *yaml.Node
	for _, seg := range path {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		k, next := child(n, seg)
		if next == nil {
			break
		}
		key, n = k, next
	}
	if key != nil && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && n.Style&yaml.FlowStyle == 0 {
		return key
	}
	return n
}

// child returns the key node (nil for a sequence item) and the value node of seg.
func child(n *yaml.Node, seg string) (*yaml.Node, *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == seg {
				return n.Content[i], n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(n.Content) {
			return nil, n.Content[i]
		}
	}
	return nil, nil
}

func keyAt(root *yaml.Node, path []string, key string) *yaml.Node {
	n := valueAt(root, path)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}

// valueAt is nodeAt without the move to the key: the node itself, or nil if path does not exist.
func valueAt(n *yaml.Node, path []string) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, seg := range path {
		if n == nil {
			return nil
		}
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		_, n = child(n, seg)
	}
	return n
}
