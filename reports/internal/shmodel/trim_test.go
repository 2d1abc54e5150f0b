package shmodel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// The repository keeps the botocore Security Hub model cut down to the operations the tests call: those
// operations and every shape they reach, each copied verbatim (testdata/PROVENANCE.md).
var keptOperations = []string{"BatchImportFindings"}

// serviceModel is a botocore service-2.json with its operations and shapes left as they are in the file.
type serviceModel struct {
	Version    string                     `json:"version"`
	Metadata   json.RawMessage            `json:"metadata"`
	Operations map[string]json.RawMessage `json:"operations"`
	Shapes     map[string]json.RawMessage `json:"shapes"`
}

// trimModel keeps ops and the closure of the shapes they refer to (input, output, errors and, from each
// shape, its members, list member, map key and value). A reference to a shape the model lacks is an error.
func trimModel(m serviceModel, ops []string) (serviceModel, error) {
	out := serviceModel{Version: m.Version, Metadata: m.Metadata, Operations: map[string]json.RawMessage{}, Shapes: map[string]json.RawMessage{}}
	var todo []string
	for _, op := range ops {
		raw, ok := m.Operations[op]
		if !ok {
			return out, fmt.Errorf("the model has no operation %s", op)
		}
		out.Operations[op] = raw
		refs, err := shapeRefs(raw)
		if err != nil {
			return out, fmt.Errorf("operation %s: %v", op, err)
		}
		todo = append(todo, refs...)
	}
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if _, done := out.Shapes[name]; done {
			continue
		}
		raw, ok := m.Shapes[name]
		if !ok {
			return out, fmt.Errorf("shape %s is referenced but not in the model", name)
		}
		out.Shapes[name] = raw
		refs, err := shapeRefs(raw)
		if err != nil {
			return out, fmt.Errorf("shape %s: %v", name, err)
		}
		todo = append(todo, refs...)
	}
	return out, nil
}

// shapeRefs returns the value of every "shape" string in a JSON value: how botocore refers to a shape.
func shapeRefs(raw json.RawMessage) ([]string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "shape" {
					refs = append(refs, s)
				} else {
					walk(e)
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return refs, nil
}

// encodeModel writes one operation or shape per line, compacted, sorted by name, so a model update
// shows up as a reviewable diff.
func encodeModel(m serviceModel) ([]byte, error) {
	var b bytes.Buffer
	version, _ := json.Marshal(m.Version)
	fmt.Fprintf(&b, "{\"version\":%s,\n\"metadata\":", version)
	if err := json.Compact(&b, m.Metadata); err != nil {
		return nil, err
	}
	for _, section := range []struct {
		name string
		m    map[string]json.RawMessage
	}{{"operations", m.Operations}, {"shapes", m.Shapes}} {
		fmt.Fprintf(&b, ",\n%q:{", section.name)
		names := make([]string, 0, len(section.m))
		for n := range section.m {
			names = append(names, n)
		}
		slices.Sort(names)
		for i, n := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			key, _ := json.Marshal(n)
			fmt.Fprintf(&b, "\n%s:", key)
			if err := json.Compact(&b, section.m[n]); err != nil {
				return nil, fmt.Errorf("%s %s: %v", section.name, n, err)
			}
		}
		b.WriteString("\n}")
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func readServiceModel(t *testing.T, path string) serviceModel {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m serviceModel
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// The committed model must be exactly the closure of the kept operations: a missing shape would make
// validation fail for the wrong reason, an extra one means the file was not made by trimModel.
// LAKEHUNT_SECURITYHUB_MODEL=<full botocore service-2.json> rewrites it from the full model instead.
func TestTrimmedModel(t *testing.T) {
	path := filepath.Join(testdata, filepath.FromSlash(securityHubModel))
	if full := os.Getenv("LAKEHUNT_SECURITYHUB_MODEL"); full != "" {
		trimmed, err := trimModel(readServiceModel(t, full), keptOperations)
		if err != nil {
			t.Fatalf("%s: %v", full, err)
		}
		b, err := encodeModel(trimmed)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: %d operations, %d shapes, %d bytes", path, len(trimmed.Operations), len(trimmed.Shapes), len(b))
	}
	committed := readServiceModel(t, path)
	closure, err := trimModel(committed, keptOperations)
	if err != nil {
		t.Fatalf("%s is not closed: %v", path, err)
	}
	if len(closure.Operations) != len(committed.Operations) || len(closure.Shapes) != len(committed.Shapes) {
		t.Errorf("%s has %d operations and %d shapes; the kept operations reach %d and %d",
			path, len(committed.Operations), len(committed.Shapes), len(closure.Operations), len(closure.Shapes))
	}
	for _, name := range []string{"BatchImportFindingsRequest", "AwsSecurityFinding", "ResourceDetails", "Severity"} {
		if _, ok := committed.Shapes[name]; !ok {
			t.Errorf("%s lacks shape %s", path, name)
		}
	}
}
