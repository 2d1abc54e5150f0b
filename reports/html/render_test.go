package html

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
)

func render(t *testing.T, run *lake.Run, findings []lake.Finding) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, run, findings); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func fixture(t *testing.T, name string) (*lake.Run, []lake.Finding) {
	t.Helper()
	run, fs, err := reports.ReadRunDir(filepath.Join("..", "..", "testdata", "reports", name))
	if err != nil {
		t.Fatal(err)
	}
	return run, fs
}

// Independent of the browser: the markup itself carries no live payload.
func TestRenderEscapesLogValues(t *testing.T) {
	run, fs := fixture(t, "run-mixed")
	out := render(t, run, fs)
	for _, bad := range []string{"<script", "<img", "<svg onload", `href="javascript:`, "</style></code>"} {
		if strings.Contains(out, bad) {
			t.Errorf("the report contains %q unescaped", bad)
		}
	}
	if m := regexp.MustCompile(`<[^>]*\son[a-z]+=`).FindString(out); m != "" {
		t.Errorf("the report has an event-handler attribute: %q", m)
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt; aws-cli/2.15.0 &#34;quoted&#34; &#39;single&#39;",
		"&lt;img src=x onerror=&#34;window.__pwned=3&#34;&gt;.evil-c2.example.",
		"/api/v1/items?q=&#34;&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;&amp;x=&#39;1&#39;",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks the escaped text %q", want)
		}
	}
	if strings.Count(out, "<style>") != 1 || !strings.Contains(out, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'none'; style-src 'sha256-`) {
		t.Error("the report lacks its one stylesheet or its Content-Security-Policy")
	}
	// A reference that is not http(s) is text, not a link.
	if !strings.Contains(out, "<li>javascript:alert(&#39;ref&#39;)</li>") {
		t.Error("the javascript: reference is not shown as plain text")
	}
}

// A right-to-left override or a terminal escape in a value (a user name, an evidence value, a hunt's
// error quoting the lake) is shown as an escape wherever it lands in the page, so it cannot reorder what
// the auditor reads. Findings of older runs hold raw titles, so the report does not rely on the engine.
func TestRenderShowsControlAndBidiCharactersEscaped(t *testing.T) {
	run, fs := fixture(t, "run-mixed")
	who := "erin\u202etxt.exe\x1b]0;pwned\x07\u2066x\u2069\u009b"
	f := &fs[0]
	f.Title = "Keys created by " + who
	f.Description = "Made by " + who
	f.Entity.Key = who
	f.Fields = map[string]any{"user": who}
	f.Evidence = append(f.Evidence, lake.Evidence{Table: "cloudtrail", SourceKey: "AWSLogs/" + who, Row: map[string]any{"user_name": who}})
	run.Hunts[0].Error = "query failed on " + who
	out := render(t, run, fs)
	if i := strings.IndexAny(out, "\u202e\u2066\u2069\x1b\x07\u009b"); i >= 0 {
		t.Errorf("the report holds a raw control or bidi character: %q", out[max(0, i-60):min(len(out), i+20)])
	}
	escaped := `erin\u202etxt.exe\x1b]0;pwned\x07\u2066x\u2069\u009b`
	for _, want := range []string{"Keys created by " + escaped + "</span></summary>", "Made by " + escaped, "query failed on " + escaped} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(out, escaped); n < 6 {
		t.Errorf("the escaped value appears %d times; want it in title, description, entity, field, evidence and error", n)
	}
}

// The page's own text (template and stylesheet) has nothing Render escapes: what it escapes came from values.
func TestTemplateHasNoCharactersToEscape(t *testing.T) {
	for name, s := range map[string]string{"report.tmpl": tmplText, "report.css": css} {
		if safetext.Text(s) != s {
			t.Errorf("%s holds a control or invisible character", name)
		}
	}
}

func TestRenderSections(t *testing.T) {
	run, fs := fixture(t, "run-mixed")
	out := render(t, run, fs)
	for _, want := range []string{
		`<section id="summary">`, `<section id="what-ran">`, `<section id="data">`, `<section id="findings">`, `id="chart"`,
		// what ran
		"1a2b3c4d5e6f", "schedule: lakehunt run --due (cron on hunt-01)", "sha256:9f2c1e0b7a4d", "s3://acme-security-lake/prod</code> at commit version 118",
		"5 hunt entries: 3 ok, 1 failed, 1 skipped.",
		// how much baseline a hunt had, and its cold-start rule when the lake is new
		"(2 of 45 days hold data)", "cold start: 2 of 45 baseline days hold data (the hunt needs 7); severity capped at LOW",
		// failures, skips and blindness, up front
		`Hunt <code>flow-ti-ips</code> v4 <span class="status status-failed">failed</span> and checked nothing: <span class="wrap">Binder Error: Referenced column &#34;pkt_srcaddr&#34;`,
		"was <span class=\"status status-skipped\">skipped</span>: table waf has no data in the window",
		// one sentence per table gap, naming every hunt that read it (not once per hunt)
		"Table cloudtrail had gaps (account 444455556666 eu-west-1 from 2026-03-01 13:00:00Z to 2026-03-01 16:00:00Z): hunts ct-logging-evasion, ua-offensive-tooling were blind there.",
		// over which data
		"2026-01-15 00:00:00Z → 2026-03-01 00:00:00Z", "242583 rows in 6 partitions (14 files)", "no events for 3 h; the baseline has 41 events/hour", "<td class=\"num\">3 h</td>",
		// what was found
		`5 findings:`, `<span class="sev sev-CRITICAL">1 CRITICAL</span>`, "flow-ti-ips (failed)",
		`<a href="https://attack.mitre.org/techniques/T1562/008/">T1562.008</a>`, `<a href="https://attack.mitre.org/tactics/TA0005/">Defense Evasion (TA0005)</a>`,
		"Planned trail migrations by the platform team", "Confirm with the account owner",
		"AWSLogs/444455556666/CloudTrail/eu-west-1/2026/03/01/444455556666_CloudTrail_eu-west-1_20260301T1245Z_ffee.json.gz line 2",
		"Hunt: showing 2 of 14 rows",
		`id="` + reports.Anchor("f-1b9e0c") + `"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Hunts with the most severe finding first, each hunt's findings most severe first.
	order := regexp.MustCompile(`<details class="finding" id="[^"]+">\n<summary><span class="sev sev-(\w+)">`).FindAllStringSubmatch(out, -1)
	var got []string
	for _, m := range order {
		got = append(got, m[1])
	}
	if strings.Join(got, ",") != "CRITICAL,HIGH,INFORMATIONAL,MEDIUM,LOW" {
		t.Errorf("findings in order %v", got)
	}
}

func TestRenderNoFindingsSaysWhatWasChecked(t *testing.T) {
	run, fs := fixture(t, "run-empty")
	out := render(t, run, fs)
	for _, want := range []string{
		`<div class="panel good" id="no-findings">`,
		"No findings. 3 hunts ran to completion and none matched.",
		"<code>ct-logging-evasion</code> v3, <code>ua-offensive-tooling</code> v2, <code>dns-ti-domains</code> v1",
		"reading <code>cloudtrail</code>, <code>route53_resolver</code>",
		"(1500 rows in 2 partitions; accounts 111122223333;\nregions us-east-1)",
		"No findings in this run.",
		"The run recorded no gaps in the tables it read.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the no-findings report lacks %q", want)
		}
	}
	if strings.Contains(out, `id="not-checked"`) {
		t.Error("a clean run shows a not-checked panel")
	}
}

func TestRenderNamesWhatWasNotChecked(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	run := &lake.Run{ID: "r", WindowStart: t0, WindowEnd: t0.Add(24 * time.Hour), Hunts: []lake.HuntRun{
		{ID: "needs-waf", Status: "ok", Tables: []string{"waf"}},
		{ID: "broken", Status: "failed", Error: "boom"},
	}}
	out := render(t, run, nil)
	for _, want := range []string{
		`<div class="panel alert" id="incomplete">`,
		"1 hunt failed, results incomplete. No findings from the 1 hunt that completed.",
		"Table waf had no data in the window: hunt needs-waf saw nothing there.",
		"and checked nothing: <span class=\"wrap\">boom</span>",
		"The run recorded no coverage: which data the hunts saw is unknown.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// The banner is green only if every hunt ran, over data, and found nothing. A failed hunt is red; a run
// that read no data, or left something unchecked, is amber.
func TestRenderVerdict(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	partly, _ := fixture(t, "run-empty")
	partly.Hunts[2].NoData = []string{"route53_resolver"} // its own window had no DNS rows
	for _, c := range []struct {
		name    string
		fixture string // a run directory under testdata/reports, or run
		run     *lake.Run
		banner  string // the banner's panel class and id
		text    string
	}{
		{"clean", "run-empty", nil, `class="panel good" id="no-findings"`, "No findings. 3 hunts ran to completion and none matched."},
		{"only hunt failed", "run-failed", nil, `class="panel alert" id="incomplete"`, "1 hunt failed, results incomplete. No findings from the 0 hunts that completed."},
		{"no rows read", "run-nodata", nil, `class="panel warn" id="no-data"`, "No data in the window: nothing was checked."},
		{"findings and a failure", "run-mixed", nil, `class="panel alert" id="incomplete"`, "1 hunt failed, results incomplete."},
		{"no hunts", "", &lake.Run{ID: "r", WindowStart: t0, WindowEnd: t0.Add(time.Hour)}, `class="panel warn" id="nothing-checked"`, "No hunt completed: nothing was checked."},
		{"one hunt without data", "", partly, `class="panel warn" id="partly-checked"`, "No findings, but not everything was checked: see below."},
	} {
		t.Run(c.name, func(t *testing.T) {
			run, findings := c.run, []lake.Finding(nil)
			if c.fixture != "" {
				run, findings = fixture(t, c.fixture)
			}
			out := render(t, run, findings)
			if !strings.Contains(out, c.banner) || !strings.Contains(out, c.text) {
				t.Errorf("the summary lacks the banner %s %q", c.banner, c.text)
			}
			if c.name != "clean" && strings.Contains(out, "panel good") {
				t.Error("the report shows a green panel")
			}
		})
	}
	run, _ := fixture(t, "run-nodata")
	out := render(t, run, nil)
	for _, want := range []string{
		"Table cloudtrail had no data in the window (its newest data is from 2025-12-01 23:59:00Z): hunts ct-logging-evasion, ua-offensive-tooling saw nothing there.",
		"What ran: <code>ct-logging-evasion</code> v3",
		"no cloudtrail data in the window; the last data for this account and region is from 2025-12-01T23:59:00Z",
		`<div class="panel warn" id="not-checked">`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the no-data report lacks %q", want)
		}
	}
}

func TestRenderBoundsEvidence(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	run := &lake.Run{ID: "r", FindingCount: 2}
	huge := func(id string, rows, cols int) lake.Finding {
		f := lake.Finding{ID: id, HuntID: "h", Severity: lake.SeverityHigh, Title: id}
		for i := 0; i < rows; i++ {
			row := map[string]any{}
			for c := 0; c < cols; c++ {
				row[fmt.Sprintf("c%02d", c)] = strings.Repeat("v", 5000)
			}
			f.Evidence = append(f.Evidence, lake.Evidence{Time: t0, Row: row})
		}
		return f
	}
	out := render(t, run, []lake.Finding{huge("a", 300, 20), huge("b", 3, 1)})
	for _, want := range []string{
		"showing 16 of 20 columns",
		"rows to keep the report a readable size",
		"values shortened to 1000 characters",
		"The full evidence is in findings.jsonl of this run.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if len(out) > 2<<20 {
		t.Errorf("the report is %d bytes for two findings", len(out))
	}
	if strings.Count(out, `<table class="evidence">`) != 2 {
		t.Error("the second finding lost its evidence to the first one's")
	}
}

func TestRenderDeterministic(t *testing.T) {
	run, fs := fixture(t, "run-mixed")
	a, b := render(t, run, fs), render(t, run, fs)
	if a != b {
		t.Error("two renders of the same run differ")
	}
}

func TestRenderUnknownHuntAndSeverity(t *testing.T) {
	out := render(t, &lake.Run{ID: "r", FindingCount: 2}, []lake.Finding{{ID: "x", HuntID: "ghost", Severity: "WEIRD", Title: "odd"}})
	for _, want := range []string{"This hunt is not listed in run.json: no triage guidance.", "WEIRD", "run.json counts 2 findings but 1 were given to the report"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// The coverage table: per technique the hunts that claimed it and how they ended, their Stratus ids,
// and "not checked" where none ran to completion over data. Every value from run.json is escaped.
func TestRenderAttackCoverage(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	run := &lake.Run{ID: "r", WindowStart: t0, WindowEnd: t0.Add(24 * time.Hour), Hunts: []lake.HuntRun{
		{ID: "evasion", Status: "ok", Tables: []string{"cloudtrail"}, Techniques: []string{"T1562.008", "T1562.001"}, Stratus: []string{"aws.defense-evasion.cloudtrail-stop", `aws.x.<script>alert(1)</script>`}},
		{ID: "evasion", Status: "skipped", Tables: []string{"cloudtrail"}, Techniques: []string{"T1562.008", "T1562.001"}, Stratus: []string{"aws.defense-evasion.cloudtrail-stop"}},
		{ID: "dns", Status: "failed", Tables: []string{"route53_resolver"}, Techniques: []string{"T1071.004"}},
		{ID: "dns-ti", Status: "ok", Tables: []string{"route53_resolver", "ti_indicators"}, Techniques: []string{"T1071.004"}},
		{ID: `<b>odd</b>`, Status: "ok", Tables: []string{"cloudtrail"}, Techniques: []string{`<img src=x onerror=alert(1)>`}},
	}, Coverage: []lake.Coverage{{Table: "cloudtrail", Rows: 10}, {Table: "ti_indicators", Rows: 3}, {Table: "route53_resolver", Rows: 0}}}
	out := render(t, run, nil)
	rows := regexp.MustCompile(`(?s)<table class="attack">.*?</table>`).FindString(out)
	if rows == "" {
		t.Fatal("the report has no ATT&CK coverage table")
	}
	for _, want := range []string{
		`<tr><td>&lt;img src=x onerror=alert(1)&gt;</td>` + "\n" + `<td><code>&lt;b&gt;odd&lt;/b&gt;</code> <span class="status status-ok">ok</span></td>`,
		`<tr><td><a href="https://attack.mitre.org/techniques/T1071/004/">T1071.004</a><br><span class="status status-failed">not checked</span></td>` + "\n" +
			`<td><code>dns</code> <span class="status status-failed">failed</span><br><code>dns-ti</code> <span class="status status-ok">ok</span>, saw no data in <code>route53_resolver</code></td>` + "\n<td>—</td></tr>",
		`<tr><td><a href="https://attack.mitre.org/techniques/T1562/001/">T1562.001</a></td>` + "\n" +
			`<td><code>evasion</code> <span class="status status-ok">ok</span> <span class="status status-skipped">skipped</span></td>` + "\n" +
			`<td><code>aws.defense-evasion.cloudtrail-stop</code><br><code>aws.x.&lt;script&gt;alert(1)&lt;/script&gt;</code></td></tr>`,
		`<a href="https://attack.mitre.org/techniques/T1562/008/">T1562.008</a></td>`,
	} {
		if !strings.Contains(rows, want) {
			t.Errorf("the coverage table lacks %q:\n%s", want, rows)
		}
	}
	if strings.Contains(out, "<script") || strings.Contains(out, "<img") || strings.Contains(out, "<b>odd") {
		t.Error("a value from run.json is in the report unescaped")
	}
	out = render(t, &lake.Run{ID: "r", Hunts: []lake.HuntRun{{ID: "h", Status: "ok"}}}, nil)
	if !strings.Contains(out, "No hunt of this run declared ATT&amp;CK techniques.") {
		t.Error("a run without techniques does not say so")
	}
}

// Every lake table is in the coverage table; those no hunt read say so, and their rows are not counted as
// scanned, drawn in the heatmap or listed as gaps.
func TestRenderListsUnreadTables(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	gap := lake.Gap{AccountID: "111122223333", Region: "us-east-1", Start: t0, End: t0.Add(3 * time.Hour)}
	run := &lake.Run{ID: "r", WindowStart: t0, WindowEnd: t0.Add(24 * time.Hour), Hunts: []lake.HuntRun{
		{ID: "h", Status: "ok", Tables: []string{"cloudtrail"}},
	}, Coverage: []lake.Coverage{
		{Table: "alb", Rows: 7000, Files: 5, Partitions: 2, Unread: true, Gaps: []lake.Gap{gap}},
		{Table: "cloudtrail", Rows: 10, Files: 1, Partitions: 1, Hourly: make([]int64, 24)},
		{Table: "waf", Rows: 0, Unread: true},
	}}
	out := render(t, run, nil)
	for _, want := range []string{
		`<p id="unread">No hunt of this run read <code>alb</code>, <code>waf</code>: the lake holds these tables`,
		`<td class="num">7000</td><td class="num">not checked</td><td>no hunt read it</td></tr>`,
		`<td class="num">10</td><td class="num">0</td><td>yes</td></tr>`,
		`<p>10 rows in 1 partitions (1 files).</p>`,
		`<summary>Gaps: 0</summary>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if hm := regexp.MustCompile(`(?s)<figure id="heatmap">.*?</figure>`).FindString(out); strings.Contains(hm, ">alb<") || !strings.Contains(hm, ">cloudtrail<") {
		t.Errorf("the heatmap should draw cloudtrail and not the unread alb:\n%s", hm)
	}
}
