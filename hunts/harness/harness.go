// Package harness runs hunts' inline tests: each test's raw events are written in their AWS delivery
// layout, compacted by the real compactor into a temporary lake, and the real hunt runs over it.
package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/ti"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// Summary counts test results and lists them, for --json and JUnit reports.
type Summary struct {
	Passed int      `json:"passed"`
	Failed int      `json:"failed"`
	Tests  []Result `json:"tests"`
}

// Result is one test's outcome. A hunt file that does not load is one failed Result with no Hunt.
type Result struct {
	Name     string   `json:"name"` // hunt-id/test_name, or the file that did not load
	Hunt     string   `json:"hunt,omitempty"`
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Passed   bool     `json:"passed"`
	Problems []string `json:"problems,omitempty"`
	Seconds  float64  `json:"seconds"`
}

// RunTests runs the tests of hunts whose "huntid/test_name" matches filter (nil = all) and prints
// go-test-like output. Each file that did not load (unloaded holds the load diagnostics) is one failed
// test, whatever the filter: its tests cannot run. The error is for a harness that could not work at all
// (e.g. no temp dir); failing tests are counted in the summary. Hunts run with limits, as in a run.
func RunTests(ctx context.Context, hunts []*huntfile.Hunt, unloaded []huntfile.Diagnostic, filter *regexp.Regexp, limits engine.Limits, out io.Writer) (Summary, error) {
	sum := Summary{Tests: []Result{}}
	var files []string
	byFile := map[string][]huntfile.Diagnostic{}
	for _, d := range unloaded {
		if d.Warning {
			continue
		}
		if byFile[d.File] == nil {
			files = append(files, d.File)
		}
		byFile[d.File] = append(byFile[d.File], d)
	}
	for _, f := range files {
		sum.Failed++
		fmt.Fprintf(out, "--- FAIL: %s (does not load)\n", f)
		r := Result{Name: f, File: f}
		for _, d := range byFile[f] {
			fmt.Fprintf(out, "    %s\n", d)
			r.Problems = append(r.Problems, d.String())
		}
		sum.Tests = append(sum.Tests, r)
	}
	for _, h := range hunts {
		for i := range h.Tests {
			t := &h.Tests[i]
			name := h.ID + "/" + strings.ReplaceAll(t.Name, " ", "_")
			if filter != nil && !filter.MatchString(name) {
				continue
			}
			fmt.Fprintf(out, "=== RUN   %s\n", name)
			start := time.Now()
			problems, err := runTest(ctx, h, t, limits)
			if err != nil {
				problems = append(problems, err.Error())
			}
			dur := time.Since(start).Seconds()
			sum.Tests = append(sum.Tests, Result{Name: name, Hunt: h.ID, File: h.File, Line: t.Line, Passed: len(problems) == 0, Problems: problems, Seconds: dur})
			if len(problems) == 0 {
				sum.Passed++
				fmt.Fprintf(out, "--- PASS: %s (%.2fs)\n", name, dur)
				continue
			}
			sum.Failed++
			fmt.Fprintf(out, "--- FAIL: %s (%.2fs)\n", name, dur)
			for _, p := range problems {
				fmt.Fprintf(out, "    %s:%d: %s\n", h.File, t.Line, p)
			}
		}
	}
	if sum.Failed > 0 {
		fmt.Fprintln(out, "FAIL")
	} else {
		fmt.Fprintln(out, "PASS")
	}
	fmt.Fprintf(out, "%d passed, %d failed\n", sum.Passed, sum.Failed)
	return sum, nil
}

// runTest returns the test's failures; err means the test could not run.
func runTest(ctx context.Context, h *huntfile.Hunt, t *huntfile.Test, limits engine.Limits) ([]string, error) {
	dir, err := os.MkdirTemp("", "lakehunt-hunt-test-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	raw := filepath.Join(dir, "raw")
	if err := Materialize(t, raw); err != nil {
		return nil, err
	}
	lk, err := compactFixtures(ctx, raw, filepath.Join(dir, "lake"), t.Window.End)
	if err != nil {
		return nil, err
	}
	if err := importFeeds(ctx, lk, t); err != nil {
		return nil, err
	}
	run, findings, err := engine.Run(ctx, engine.RunOptions{
		Lake: lk, Hunts: []*huntfile.Hunt{h}, From: t.Window.Start, To: t.Window.End,
		Now: func() time.Time { return t.Window.End }, Trigger: "hunt test", Organization: t.Organization, Limits: limits,
	})
	if err != nil {
		return nil, err
	}
	if hr := run.Hunts[0]; hr.Status != "ok" {
		return []string{"hunt failed: " + hr.Error}, nil
	}
	return Check(t.Expect, findings), nil
}

// compactFixtures is the one place the harness turns raw objects into a lake: the real compactor.
func compactFixtures(ctx context.Context, rawDir, lakeDir string, now time.Time) (*lake.Lake, error) {
	from, err := lake.OpenStore(ctx, rawDir, lake.StoreOptions{})
	if err != nil {
		return nil, err
	}
	lk, err := lake.Open(ctx, lakeDir, lake.Options{Create: true})
	if err != nil {
		return nil, err
	}
	// Sources delivered under configured prefixes (Firehose, agents) write their test events under
	// TABLE/, mapped here as a user maps their prefix.
	prefixes := map[string][]string{}
	for _, d := range compact.Descriptors() {
		if d.Prefixed() {
			prefixes[d.Table()] = []string{d.Table() + "/"}
		}
	}
	sum, err := compact.Run(ctx, compact.Options{From: from, Lake: lk, Now: func() time.Time { return now }, Workers: 1, Prefixes: prefixes})
	if err != nil {
		return nil, fmt.Errorf("compact the test's events: %w", err)
	}
	if sum.Quarantined() {
		var reasons []string
		for _, q := range sum.Quarantine {
			reasons = append(reasons, fmt.Sprintf("%s record %d: %s", q.SourceKey, q.Record, q.Reason))
		}
		return nil, fmt.Errorf("the compactor quarantined test events (fix the fixture): %s", strings.Join(reasons, "; "))
	}
	return lk, nil
}

// importFeeds imports the test's threat-intel feeds with the real importer.
func importFeeds(ctx context.Context, lk *lake.Lake, t *huntfile.Test) error {
	for i, f := range t.TIIndicators {
		at := t.Window.End
		if f.Imported != "" {
			v, err := time.Parse(time.RFC3339, f.Imported)
			if err != nil {
				return fmt.Errorf("ti_indicators %d: imported %q is not an RFC 3339 time", i+1, f.Imported)
			}
			at = v
		}
		content := f.Content
		src := ti.Source{URL: fmt.Sprintf("ti_indicators[%d]", i), Format: f.Format,
			Open: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
		sum, err := ti.Import(ctx, lk, f.Feed, []ti.Source{src}, at)
		if err != nil {
			return fmt.Errorf("import the test's feed %s: %w", f.Feed, err)
		}
		if sum.MalformedCount > 0 {
			return fmt.Errorf("the test's feed %s has malformed lines (fix the fixture): %v", f.Feed, sum.Malformed)
		}
	}
	return nil
}

// Check compares findings with the expectation and returns what differs.
func Check(exp huntfile.Expect, findings []lake.Finding) []string {
	var problems []string
	if len(findings) != exp.Count {
		var got []string
		for _, f := range findings {
			got = append(got, fmt.Sprintf("%s %s", f.Severity, f.Entity.Key))
		}
		problems = append(problems, fmt.Sprintf("want %d findings, got %d [%s]", exp.Count, len(findings), strings.Join(got, "; ")))
	}
	used := map[int]bool{}
	for _, want := range exp.Findings {
		var best []string
		matched := false
		for i, f := range findings {
			if used[i] || f.Entity.Key != want.Entity {
				continue
			}
			diffs := diff(want, f)
			if len(diffs) == 0 {
				used[i], matched = true, true
				break
			}
			if best == nil {
				best = diffs
			}
		}
		switch {
		case matched:
		case best == nil:
			problems = append(problems, fmt.Sprintf("no finding for entity %q", want.Entity))
		default:
			problems = append(problems, fmt.Sprintf("finding for %q: %s", want.Entity, strings.Join(best, "; ")))
		}
	}
	return problems
}

func diff(want huntfile.ExpectFinding, f lake.Finding) []string {
	var d []string
	if want.Severity != "" && want.Severity != f.Severity {
		d = append(d, fmt.Sprintf("severity %s, want %s", f.Severity, want.Severity))
	}
	if want.Title != "" && !strings.Contains(f.Title, want.Title) {
		d = append(d, fmt.Sprintf("title %q does not contain %q", f.Title, want.Title))
	}
	if want.Count != nil && *want.Count != f.Count {
		d = append(d, fmt.Sprintf("count %d, want %d", f.Count, *want.Count))
	}
	keys := make([]string, 0, len(want.Fields))
	for k := range want.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		got, ok := f.Fields[k]
		if !ok {
			d = append(d, fmt.Sprintf("field %s is not among the finding's fields", k))
			continue
		}
		if !sameJSON(want.Fields[k], got) {
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want.Fields[k])
			d = append(d, fmt.Sprintf("field %s = %s, want %s", k, gb, wb))
		}
	}
	return d
}

// sameJSON compares values as JSON documents (YAML numbers and DuckDB integers compare equal).
func sameJSON(a, b any) bool {
	norm := func(v any) any {
		bs, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		var out any
		_ = json.Unmarshal(bs, &out)
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// Materialize writes a test's raw events under dir in their sources' delivery layouts.
func Materialize(t *huntfile.Test, dir string) error {
	put := func(key string, body []byte) error {
		path := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, body, 0o644)
	}
	for _, table := range slices.Sorted(maps.Keys(t.Events)) {
		d, ok := compact.Lookup(table)
		if !ok || d.Fixture() == nil {
			return fmt.Errorf("test has %q events, but %s is not a source with test events (sources: %s)", table, table, strings.Join(compact.Sources, ", "))
		}
		if err := d.Fixture()(t.Events[table], t.Window.Start, put); err != nil {
			return err
		}
	}
	return nil
}
