package html

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

var t0 = time.Date(2025, 6, 15, 18, 0, 0, 0, time.UTC)

const ben = "arn:aws:iam::204842927659:user/ben.schmidt"

func planted(id, hunt, sev string, hour int, key string, tactics ...string) lake.Finding {
	return lake.Finding{ID: id, HuntID: hunt, HuntVersion: 1, Severity: sev, Title: hunt + " by " + key, Tactics: tactics,
		Entity: lake.Entity{Type: "principal", Key: key}, AccountID: "204842927659", Region: "eu-west-1", Count: 1,
		FirstSeen: t0.Add(time.Duration(hour) * time.Hour), LastSeen: t0.Add(time.Duration(hour)*time.Hour + 5*time.Minute),
		WindowStart: t0.Add(-18 * time.Hour), WindowEnd: t0.Add(6 * time.Hour)}
}

func plantedRun(fs []lake.Finding, hunts ...string) *lake.Run {
	run := &lake.Run{ID: "r-planted", WindowStart: t0.Add(-18 * time.Hour), WindowEnd: t0.Add(6 * time.Hour), FindingCount: len(fs)}
	for _, h := range hunts {
		run.Hunts = append(run.Hunts, lake.HuntRun{ID: h, Version: 1, Status: "ok", WindowStart: run.WindowStart, WindowEnd: run.WindowEnd})
	}
	return run
}

// One principal's recon, then logging evasion, then contact with a threat-intel IP (three hunts, listed
// here out of order) are one group whose steps are in time order; another principal's finding is apart.
func TestRenderGroupTellsTheStoryInOrder(t *testing.T) {
	fs := []lake.Finding{
		planted("f-ti", "ti-ip-cloudtrail", "CRITICAL", 2, ben, "command-and-control"),
		planted("f-other", "root-account-usage", "LOW", 0, "arn:aws:iam::204842927659:root"),
		planted("f-evasion", "cloudtrail-logging-evasion", "HIGH", 1, ben, "defense-evasion"),
		planted("f-recon", "discovery-burst", "MEDIUM", 0, ben, "discovery"),
	}
	out := render(t, plantedRun(fs, "ti-ip-cloudtrail", "root-account-usage", "cloudtrail-logging-evasion", "discovery-burst"), fs)
	groups := regexp.MustCompile(`(?s)<details class="group" id="group-g-[0-9a-f]+">.*?</details>`).FindAllString(out, -1)
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2 (ben's three steps, and root)", len(groups))
	}
	g := groups[0]
	if !strings.Contains(g, `<span class="sev sev-CRITICAL">CRITICAL</span>`) || !strings.Contains(g, ben) || !strings.Contains(g, "3 findings") {
		t.Errorf("the first group is not ben's, most severe, with 3 findings:\n%s", g)
	}
	var steps []string
	for _, m := range regexp.MustCompile(`<li><span class="time">[^<]+</span> <span class="sev sev-\w+">\w+</span> <code>([^<]+)</code>`).FindAllStringSubmatch(g, -1) {
		steps = append(steps, m[1])
	}
	if want := []string{"discovery-burst", "cloudtrail-logging-evasion", "ti-ip-cloudtrail"}; !slices.Equal(steps, want) {
		t.Errorf("steps %v, want %v", steps, want)
	}
	if !strings.Contains(g, "Discovery → Defense Evasion → Command and Control") {
		t.Errorf("the group does not list its tactics in the order its steps show them:\n%s", g)
	}
	if n := strings.Count(g, `<rect class="bar-`); n != 3 {
		t.Errorf("the group's timeline has %d bars, want one per step", n)
	}
	if !strings.Contains(out, `(1 with several findings)`) {
		t.Error("the contents do not count the groups of several findings")
	}
}

// New, recurring (same id, or the same hunt and entity in another window) and gone, against the previous run.
func TestRenderChangesSincePreviousRun(t *testing.T) {
	cur := []lake.Finding{
		planted("f-same", "discovery-burst", "MEDIUM", 0, ben),
		planted("f-today", "cloudtrail-logging-evasion", "HIGH", 1, ben),
		planted("f-new", "ti-ip-cloudtrail", "CRITICAL", 2, ben),
	}
	prev := []lake.Finding{
		planted("f-same", "discovery-burst", "MEDIUM", -24, ben),
		planted("f-yesterday", "cloudtrail-logging-evasion", "HIGH", -23, ben), // another window's id
		planted("f-fixed", "root-account-usage", "LOW", -22, "arn:aws:iam::204842927659:root"),
		planted("f-unchecked", "s3-ransomware", "HIGH", -22, ben),
	}
	run := plantedRun(cur, "discovery-burst", "cloudtrail-logging-evasion", "ti-ip-cloudtrail", "root-account-usage")
	var buf strings.Builder
	if err := Render(&buf, run, cur, WithPrevious(Previous{Label: "run r-yesterday", Run: &lake.Run{ID: "r-yesterday"}, Findings: prev})); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, "Compared with run r-yesterday: <strong>1 new</strong>, 2 recurring, 2 gone") {
		t.Errorf("the changes line is wrong:\n%s", section(out, "changes"))
	}
	tests := []struct {
		list string
		want []string // hunts in the list
	}{
		{"changes-new", []string{"ti-ip-cloudtrail"}},
		{"changes-recurring", []string{"cloudtrail-logging-evasion", "discovery-burst"}},
		{"changes-gone", []string{"s3-ransomware", "root-account-usage"}},
	}
	for _, tt := range tests {
		m := regexp.MustCompile(`(?s)<details id="` + tt.list + `">.*?</details>`).FindString(out)
		var got []string
		for _, h := range regexp.MustCompile(`<td><code>([^<]+)</code></td>`).FindAllStringSubmatch(m, -1) {
			got = append(got, h[1])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s lists %v, want %v", tt.list, got, tt.want)
		}
	}
	if !strings.Contains(out, "not re-checked: the hunt did not complete in this report") {
		t.Error("a finding gone because its hunt did not run is not marked as not re-checked")
	}

	out = render(t, run, cur)
	if !strings.Contains(section(out, "changes"), "Not compared with a previous run.") {
		t.Error("without a previous run the report does not say it did not compare")
	}
	buf.Reset()
	if err := Render(&buf, run, cur, ComparedWith("")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "--previous DIR") {
		t.Error("with no previous run found, the report does not say how to give one")
	}
	buf.Reset()
	if err := Render(&buf, run, cur, WithPrevious(Previous{Label: "runs/mon", Err: errors.New("runs/mon/run.json not found")})); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `The previous run (runs/mon) could not be read, so nothing is compared: <span class="wrap">runs/mon/run.json not found</span>`) {
		t.Errorf("an unreadable previous run is not reported:\n%s", section(buf.String(), "changes"))
	}
}

func section(out, id string) string {
	return regexp.MustCompile(`(?s)<section id="` + id + `">.*?</section>`).FindString(out)
}

// A period report holds one finding per window for a hunt that finds the same entity every day: it is
// one finding, seen in each window. Two findings of one window about the same entity stay two.
func TestRenderPeriodMergesTheSameFindingAcrossWindows(t *testing.T) {
	var fs []lake.Finding
	for day := range 3 {
		f := planted("dns-"+string(rune('a'+day)), "dns-tunnelling", "HIGH", 24*day, "i-0891743d0fd2bcb57")
		f.Entity.Type = "instance"
		f.WindowStart, f.WindowEnd = t0.Add(time.Duration(24*day)*time.Hour), t0.Add(time.Duration(24*day+24)*time.Hour)
		f.Count = 10
		fs = append(fs, f)
	}
	fs[0].Severity = "CRITICAL"
	ua1, ua2 := planted("ua-1", "suspicious-user-agents", "HIGH", 1, ben), planted("ua-2", "suspicious-user-agents", "HIGH", 2, ben)
	fs = append(fs, ua1, ua2)
	run := plantedRun(fs, "dns-tunnelling", "suspicious-user-agents")
	run.ID, run.WindowEnd = "period-20250615T1800Z-20250618T1800Z", t0.Add(72*time.Hour)
	out := render(t, run, fs)
	cards := regexp.MustCompile(`(?s)<details class="finding" id="[^"]+">.*?</details>`).FindAllString(out, -1)
	if len(cards) != 3 {
		t.Fatalf("%d finding cards, want 3 (the DNS finding once, both user-agent findings)", len(cards))
	}
	var dns string
	for _, c := range cards {
		if strings.Contains(c, "dns-tunnelling by") {
			dns += c
		}
	}
	for _, want := range []string{"<dt>Found in</dt><dd>3 windows:", "(30 events)", `<span class="sev sev-CRITICAL">CRITICAL</span>`,
		"2025-06-15 18:00:00Z → 2025-06-18 18:00:00Z"} {
		if !strings.Contains(dns, want) {
			t.Errorf("the merged DNS finding lacks %q:\n%s", want, dns)
		}
	}
	if !strings.Contains(out, "2 findings of the same hunt and entity in other windows are merged into one.") ||
		!strings.Contains(out, "Changes since the previous period") {
		t.Error("the period report does not say what it merged, or does not speak of periods")
	}
}

func TestMergeGaps(t *testing.T) {
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	gap := func(acct string, a, b int, reason string) lake.Gap {
		return lake.Gap{AccountID: acct, Region: "eu-west-1", Start: h(a), End: h(b), Reason: reason}
	}
	tests := []struct {
		name string
		in   []lake.Gap
		want []lake.Gap
	}{
		{"hourly gaps inside a 3-hour gap", []lake.Gap{gap("1", 1, 2, "1h"), gap("1", 0, 3, "3h"), gap("1", 2, 3, "1h")}, []lake.Gap{gap("1", 0, 3, "3h")}},
		{"touching gaps join, the longer reason stays", []lake.Gap{gap("1", 0, 1, "short"), gap("1", 1, 4, "long")}, []lake.Gap{gap("1", 0, 4, "long")}},
		{"apart stay apart", []lake.Gap{gap("1", 0, 1, "a"), gap("1", 2, 3, "b")}, []lake.Gap{gap("1", 0, 1, "a"), gap("1", 2, 3, "b")}},
		{"other accounts stay apart", []lake.Gap{gap("2", 0, 3, "x"), gap("1", 1, 2, "y")}, []lake.Gap{gap("1", 1, 2, "y"), gap("2", 0, 3, "x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mergeGaps(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("mergeGaps = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The heatmap shades each stream's hours by rows (quarters of its busiest hour) and marks its gaps.
func TestHeatmapShowsRowsAndGaps(t *testing.T) {
	hourly := []int64{1, 1, 0, 0, 0, 50, 100, 100}
	gap := lake.Gap{AccountID: "1", Region: "eu-west-1", Start: t0.Add(3 * time.Hour), End: t0.Add(5 * time.Hour)}
	run := &lake.Run{WindowStart: t0, WindowEnd: t0.Add(8 * time.Hour), Coverage: []lake.Coverage{{Table: "cloudtrail", Rows: 252, Hourly: hourly, Gaps: []lake.Gap{gap}}}}
	p := heatmap(run, map[string][]lake.Gap{"cloudtrail": {gap}})
	var got []string
	for _, r := range p.Rects {
		if r.Y == 2 { // the cloudtrail row, not the legend
			got = append(got, r.Class+" "+r.Title[strings.LastIndex(r.Title, ": ")+2:])
		}
	}
	want := []string{"hm-1 2 rows", "hm-none no rows", "hm-gap gap", "hm-2 50 rows", "hm-4 200 rows"}
	if !slices.Equal(got, want) {
		t.Errorf("cloudtrail row %q, want %q", got, want)
	}
}

// A group and a finding link to their entity's page where the run directory holds one, and only there.
func TestGroupLinksToItsEntityPage(t *testing.T) {
	fs := []lake.Finding{
		planted("f-recon", "discovery-burst", "MEDIUM", 0, ben, "discovery"),
		planted("f-other", "root-account-usage", "LOW", 0, "arn:aws:iam::204842927659:root"),
	}
	dir := t.TempDir()
	page := entity.PageName(group.Link{Kind: group.KindPrincipal, Value: ben})
	if err := os.MkdirAll(filepath.Join(dir, entity.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(page)), []byte("<html></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, plantedRun(fs, "discovery-burst", "root-account-usage"), fs, WithEntityPages(dir)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, `">entity page</a>`); n != 2 {
		t.Errorf("%d entity page links, want 2 (ben's group and ben's finding; root's page does not exist)", n)
	}
	if !strings.Contains(out, `<a href="`+page+`">entity page</a>`) {
		t.Errorf("no link to %s", page)
	}
	if strings.Contains(render(t, plantedRun(fs, "discovery-burst"), fs), "entity page</a>") {
		t.Error("a report rendered without a run directory links to entity pages")
	}
}
