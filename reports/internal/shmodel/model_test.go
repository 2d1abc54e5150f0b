package shmodel

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

var testdata = filepath.Join("..", "..", "..", "testdata")

func load(t *testing.T) *Model {
	t.Helper()
	m, err := LoadSecurityHub(testdata)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// valid is a minimal finding the model and the user guide accept.
func valid() map[string]any {
	return map[string]any{
		"SchemaVersion": "2018-10-08", "Id": "x", "ProductArn": "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default",
		"GeneratorId": "g", "AwsAccountId": "111122223333", "CreatedAt": "2026-03-01T00:00:00.000Z", "UpdatedAt": "2026-03-01T00:00:00.000Z",
		"Title": "t", "Description": "d", "Severity": map[string]any{"Label": "HIGH"}, "Types": []any{"TTPs/Discovery"},
		"Resources": []any{map[string]any{"Type": "Other", "Id": "r"}},
	}
}

func TestLimitsReadFromTheModel(t *testing.T) {
	m := load(t)
	f := m.Shapes["AwsSecurityFinding"].Members
	checks := []struct {
		name string
		got  int
		want int
	}{
		{"Title max length", f["Title"].Limits.MaxLen, 256},
		{"Description max length", f["Description"].Limits.MaxLen, 1024},
		{"Id max length", f["Id"].Limits.MaxLen, 512},
		{"AwsAccountId exact length", f["AwsAccountId"].Limits.MaxLen, 12},
		{"Resources max items", f["Resources"].Limits.MaxItems, 32},
		{"Types max items", f["Types"].Limits.MaxItems, 50},
		{"ProductFields pairs", f["ProductFields"].Limits.MaxPairs, 50},
		{"ProductFields value", f["ProductFields"].Limits.MaxValue, 2048},
		{"Recommendation.Text max", m.Shapes["Recommendation"].Members["Text"].Limits.MaxLen, 512},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if ns := f["Types"].Limits.Namespaces; len(ns) != 5 || ns[1] != "TTPs" {
		t.Errorf("Types namespaces = %q", ns)
	}
	req := strings.Join(m.Shapes["AwsSecurityFinding"].Required, ",")
	for _, r := range []string{"SchemaVersion", "Resources", "Severity", "Types"} {
		if !strings.Contains(req, r) {
			t.Errorf("required %s missing from %s", r, req)
		}
	}
}

func TestValidateCatchesViolations(t *testing.T) {
	m := load(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		change func(f map[string]any)
		want   string // substring of an error; "" means valid
	}{
		{"valid", func(map[string]any) {}, ""},
		{"missing required", func(f map[string]any) { delete(f, "GeneratorId") }, "required member GeneratorId is missing"},
		{"missing guide-required Severity", func(f map[string]any) { delete(f, "Severity") }, "required member Severity"},
		{"title too long", func(f map[string]any) { f["Title"] = long(257) }, "AwsSecurityFinding.Title: length 257 above the documented maximum 256"},
		{"title at limit", func(f map[string]any) { f["Title"] = long(256) }, ""},
		{"whitespace-only title", func(f map[string]any) { f["Title"] = "  " }, "does not match pattern"},
		{"account not 12 digits", func(f map[string]any) { f["AwsAccountId"] = "1234" }, "below the documented minimum 12"},
		{"bad enum", func(f map[string]any) { f["Severity"] = map[string]any{"Label": "SEVERE"} }, `"SEVERE" is not one of`},
		{"unknown member", func(f map[string]any) { f["Titel"] = "x" }, "unknown member Titel"},
		{"wrong type", func(f map[string]any) { f["Types"] = "TTPs" }, "want a list"},
		{"bad namespace", func(f map[string]any) { f["Types"] = []any{"Bogus/Thing"} }, "namespace must be one of"},
		{"too many resources", func(f map[string]any) {
			rs := []any{}
			for i := 0; i < 33; i++ {
				rs = append(rs, map[string]any{"Type": "Other", "Id": "r"})
			}
			f["Resources"] = rs
		}, "33 items, above the documented maximum 32"},
		{"product field value too long", func(f map[string]any) { f["ProductFields"] = map[string]any{"k": long(2049)} }, "length 2049 above the documented maximum 2048"},
		{"product field key too long", func(f map[string]any) { f["ProductFields"] = map[string]any{long(129): "v"} }, "length 129 above the documented maximum 128"},
		{"integer out of range", func(f map[string]any) { f["FindingProviderFields"] = map[string]any{"Confidence": json.Number("101")} }, "FindingProviderFields.Confidence: 101 above the maximum 100"},
		{"integer not integral", func(f map[string]any) { f["Criticality"] = json.Number("1.5") }, "is not an integer"},
		{"resource missing id", func(f map[string]any) { f["Resources"] = []any{map[string]any{"Type": "Other"}} }, "Resources[0]: required member Id is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := valid()
			tt.change(f)
			errs := m.Validate("AwsSecurityFinding", f)
			if tt.want == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %q", errs)
				}
				return
			}
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Fatalf("errors %q do not contain %q", errs, tt.want)
			}
		})
	}
}

func TestValidateRequestListLimit(t *testing.T) {
	m := load(t)
	var list []any
	for i := 0; i < 101; i++ {
		list = append(list, valid())
	}
	errs := m.Validate("BatchImportFindingsRequest", map[string]any{"Findings": list})
	if !strings.Contains(strings.Join(errs, "\n"), "101 items, above the maximum 100") {
		t.Fatalf("errors %q lack the 100-finding limit", errs)
	}
}
