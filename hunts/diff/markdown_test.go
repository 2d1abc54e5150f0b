package diff

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// The comment renders as CommonMark (with GitHub's tables), and what an attacker put in a log (HTML, a
// link, a mention, a backtick fence, a </details>, a terminal escape, a right-to-left override) is shown
// as text in a code span: it neither formats the comment nor reaches the page as HTML.
func TestMarkdownNeutralisesLogText(t *testing.T) {
	hostile := []string{
		`<img src=x onerror=alert(1)>`,
		`[click me](https://evil.example/)`,
		"@octo-org/security please approve",
		"``` fence ` and ``",
		"</details><script>alert(1)</script>",
		"\x1b]0;owned\x07 line\nbreak | cell",
		"erin\u202etxt.exe",
	}
	rep := &Report{Lake: "s3://sec-lake/lake/", LakeVersion: 7, WindowStart: windowStart, WindowEnd: windowEnd}
	h := Hunt{ID: "root-account-usage", Change: Changed, Title: hostile[0],
		Base: &Side{Version: 1, Status: "ok", Findings: 1}, Head: &Side{Version: 2, Status: "failed", Error: hostile[4]}}
	for i, s := range hostile {
		h.Added = append(h.Added, Finding{ID: fmt.Sprintf("id%d", i), Severity: "HIGH", Title: s, Entity: s, AccountID: "123456789012", Count: 1})
	}
	h.Removed = []Finding{{ID: "gone", Severity: "LOW", Title: "`", Entity: " "}}
	rep.Hunts = []Hunt{h, {ID: "new-hunt", Change: New, Title: "x", Head: &Side{Version: 1, Status: "ok"}}}

	md := rep.Markdown(len(hostile))
	var out bytes.Buffer
	// Unsafe passes raw HTML through as GitHub passes <details>: any HTML from a log would show up too.
	gm := goldmark.New(goldmark.WithExtensions(extension.Table), goldmark.WithRendererOptions(html.WithUnsafe()))
	if err := gm.Convert([]byte(md), &out); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, bad := range []string{"<img", "<a ", "<script", "\x1b", "\u202e", "<strong>click"} {
		if strings.Contains(page, bad) {
			t.Errorf("rendered comment holds %q:\n%s\n---\n%s", bad, md, page)
		}
	}
	if n, want := strings.Count(page, "<details>"), len(rep.Hunts); n != want || strings.Count(page, "</details>") != want {
		t.Errorf("%d <details> and %d </details>, want %d each: a log value closed one\n%s", n, strings.Count(page, "</details>"), want, page)
	}
	for _, s := range []string{"&lt;img src=x onerror=alert(1)&gt;", "[click me](https://evil.example/)", "@octo-org/security please approve",
		"``` fence ` and ``", `\x1b]0;owned\x07 line\nbreak | cell`, `erin\u202etxt.exe`, "&lt;/details&gt;&lt;script&gt;"} {
		if !strings.Contains(page, "<code>"+s) && !strings.Contains(page, "<code> "+s) {
			t.Errorf("%q is not shown as code:\n%s", s, page)
		}
	}
	if !strings.Contains(page, "<table>") || !strings.Contains(page, "<td>v1 → v2</td>") {
		t.Errorf("the summary table does not render:\n%s", page)
	}
	// A changed hunt whose version did not go up is pointed out: lint will refuse it.
	same := &Report{Hunts: []Hunt{{ID: "a", Change: Changed, Base: &Side{Version: 3, Status: "ok"}, Head: &Side{Version: 3, Status: "ok"}}}}
	if md := same.Markdown(5); !strings.Contains(md, "v3 → v3, **version not raised**") {
		t.Errorf("a change without a version bump is not pointed out:\n%s", md)
	}
	// Only as many examples as asked for.
	if md := rep.Markdown(2); !strings.Contains(md, "- and 5 more") {
		t.Errorf("2 examples of 7: no '- and 5 more':\n%s", md)
	}
}

// A diff too large for one comment shows fewer examples rather than a comment GitHub refuses.
func TestMarkdownFitsAComment(t *testing.T) {
	h := Hunt{ID: "noisy", Change: New, Title: "noisy", Head: &Side{Version: 1, Status: "ok"}}
	for i := range 2000 {
		h.Added = append(h.Added, Finding{ID: fmt.Sprint(i), Severity: "LOW", Title: strings.Repeat("t", 100), Entity: fmt.Sprint(i)})
	}
	rep := &Report{WindowStart: time.Time{}, WindowEnd: time.Time{}.Add(time.Hour), Hunts: []Hunt{h}}
	md := rep.Markdown(2000)
	if len(md) > commentLimit || !strings.Contains(md, "more (`--json` lists them all)") {
		t.Errorf("%d characters (limit %d)", len(md), commentLimit)
	}
}
