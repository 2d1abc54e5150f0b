package harness

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
)

func loadLibrary(t *testing.T) []*huntfile.Hunt {
	t.Helper()
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: library.FS, Name: "hunts/library"})
	if err != nil || len(diags) > 0 {
		t.Fatalf("load library: %v %v", err, diags)
	}
	return hs
}

// Every shipped hunt's inline tests pass through the real compactor and the real SQL.
func TestLibrary(t *testing.T) {
	var out bytes.Buffer
	sum, err := RunTests(context.Background(), loadLibrary(t), nil, nil, engine.Limits{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 || sum.Passed < 10 {
		t.Fatalf("%d passed, %d failed:\n%s", sum.Passed, sum.Failed, out.String())
	}
	t.Log(out.String())
}

// A test whose expectation the hunt does not meet fails, and says how: the harness is not a rubber stamp.
// Each case breaks one expectation of a shipped hunt's first test that expects findings.
func TestWrongExpectationsFail(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(e *huntfile.Expect)
		want   string
	}{
		{"count", func(e *huntfile.Expect) { e.Count++ }, "want %d findings, got"},
		{"severity", func(e *huntfile.Expect) { e.Findings[0].Severity = "INFORMATIONAL" }, "severity"},
		{"entity", func(e *huntfile.Expect) { e.Findings[0].Entity = "arn:aws:iam::000000000000:user/nobody" }, `no finding for entity "arn:aws:iam::000000000000:user/nobody"`},
		{"field", func(e *huntfile.Expect) { e.Findings[0].Fields = map[string]any{"event_count": 987654} }, "event_count"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h *huntfile.Hunt
			var test *huntfile.Test
			for _, lh := range loadLibrary(t) {
				if lh.ID == "root-account-usage" {
					h = lh
				}
			}
			for i := range h.Tests {
				if h.Tests[i].Expect.Count > 0 && len(h.Tests[i].Expect.Findings) > 0 {
					test = &h.Tests[i]
					break
				}
			}
			if test == nil {
				t.Fatal("root-account-usage has no test that expects findings")
			}
			want := c.want
			if strings.Contains(want, "%d") {
				want = fmt.Sprintf(want, test.Expect.Count+1)
			}
			c.mutate(&test.Expect)
			h.Tests = []huntfile.Test{*test}
			var out bytes.Buffer
			sum, err := RunTests(context.Background(), []*huntfile.Hunt{h}, nil, nil, engine.Limits{}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Failed != 1 || sum.Passed != 0 || !strings.Contains(out.String(), "--- FAIL") || !strings.Contains(out.String(), want) {
				t.Errorf("broken %s expectation: %d passed, %d failed; want 1 failure mentioning %q:\n%s", c.name, sum.Passed, sum.Failed, want, out.String())
			}
		})
	}
}
