package html

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
)

// Display limits: the report stays readable and bounded however big the evidence is; every cut says so.
const (
	maxEvidenceRows = 200
	maxValueChars   = 1000
	maxEvidenceCols = 16
	// Evidence text per finding and per report, in characters: bounds the file however many findings.
	maxFindingEvidence = 256 << 10
	maxReportEvidence  = 32 << 20
)

var severities = []string{lake.SeverityCritical, lake.SeverityHigh, lake.SeverityMedium, lake.SeverityLow, lake.SeverityInformational}

// view is everything the template shows, computed here so the template only lays it out.
type view struct {
	Run                       *lake.Run
	Window, Baseline          string
	Duration                  string
	OK, Failed, Skipped       []*lake.HuntRun
	Hunts                     []huntView
	Attack                    []attackRow
	Tables, Accounts, Regions []string
	Rows                      int64
	Partitions, Files         int
	Coverage                  []coverageView
	Unread                    []string // lake tables no hunt of the run read
	Gaps                      []gapView
	Blind                     []string // sentences: where a hunt could not see
	Verdict                   *verdict // nil when there are findings and everything was checked
	NotCheckedClass           string   // the "not checked" panel: alert if hunts failed, else warn
	Findings                  []findingView
	SeverityBars, HuntBars    []bar
	SeverityChart, HuntChart  chart
	FindingsBySeverity        []sevCount
	FindingMismatch           string
	GeneratedAt               string

	Groups                      []groupView
	MultiGroups                 int // groups of more than one finding
	Changes                     *changesView
	PeriodReport                bool
	Merged                      int // findings merged into others because they are the same hunt and entity in another window
	HuntSections                []huntSection
	DayChart, Heatmap, HuntWins picture
}

// verdict is the summary banner. Green (good) only if every hunt ran, over data, and found nothing;
// red (alert) if a hunt failed; amber (warn) if no data was read or not everything was checked.
type verdict struct{ Class, ID, Text string }

type huntView struct {
	*lake.HuntRun
	Window, Baseline, Duration string
	StatusClass                string
	ShortHash                  string
}

type coverageView struct {
	lake.Coverage
	GapCount int
}

type gapView struct {
	lake.Gap
	Table, From, To, Length string
}

type sevCount struct {
	Severity string
	Count    int
}

type bar struct {
	Label, Class string
	Count        int
	Y, Width     int
	TextX        int
}

type chart struct{ Height int }

type findingView struct {
	lake.Finding
	Anchor              string
	EntityPage          string        // the page of the finding's entity in the run directory, relative ("" if none)
	Hunt                *lake.HuntRun // nil if run.json does not list the hunt
	FirstSeen, LastSeen string
	Window              string
	Tactics, Techniques []attackRef
	References          []attackRef // the hunt's references; only http(s) ones are links
	Fields              []fieldView
	EvidenceCols        []string
	Evidence            []evidenceView
	EvidenceCut         string // what the report left out of the evidence
	Timeline            timeline
	Windows             []string // the windows a period report found it in, when more than one
	IDs                 []string
}

type attackRef struct{ Text, URL string }

type fieldView struct{ Key, Value string }

type evidenceView struct {
	Time, Table, Source string
	Values              []string // in EvidenceCols order
}

// timeline places the finding's span and evidence times on its window (1000 x 50 viewBox).
type timeline struct {
	Ok           bool
	From, To     string
	SpanX, SpanW int
	Ticks        []int
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func fmtRange(a, b time.Time) string {
	if a.IsZero() && b.IsZero() {
		return "—"
	}
	return fmtTime(a) + " → " + fmtTime(b)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Round(time.Minute).Minutes()))
	}
	h, m := int(d.Hours()), int(d.Round(time.Minute).Minutes())%60
	if m == 0 {
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %d min", h, m)
}

func newView(run *lake.Run, findings []lake.Finding, o options) *view {
	v := &view{Run: run, Window: fmtRange(run.WindowStart, run.WindowEnd), GeneratedAt: fmtTime(run.FinishedAt),
		PeriodReport: strings.HasPrefix(run.ID, "period-")}
	if !run.FinishedAt.IsZero() && !run.StartedAt.IsZero() {
		v.Duration = fmtDuration(run.FinishedAt.Sub(run.StartedAt))
	}
	hunts := map[string]*lake.HuntRun{}
	var baseline time.Time
	tableSet := map[string]bool{}
	for i := range run.Hunts {
		h := &run.Hunts[i]
		hunts[h.ID] = h
		switch h.Status {
		case "ok":
			v.OK = append(v.OK, h)
		case "failed":
			v.Failed = append(v.Failed, h)
		default:
			v.Skipped = append(v.Skipped, h)
		}
		if !h.BaselineStart.IsZero() && (baseline.IsZero() || h.BaselineStart.Before(baseline)) {
			baseline = h.BaselineStart
		}
		for _, t := range h.Tables {
			tableSet[t] = true
		}
		hv := huntView{HuntRun: h, Window: huntWindow(run, h), Duration: fmtDuration(time.Duration(h.DurationMillis) * time.Millisecond), StatusClass: "status-" + statusClass(h.Status)}
		hv.ShortHash, _ = reports.Truncate(h.SQLHash, 12)
		if !h.BaselineStart.IsZero() {
			hv.Baseline = fmtRange(h.BaselineStart, h.WindowStart)
			if h.BaselineDays > 0 {
				hv.Baseline += fmt.Sprintf(" (%d of %d days hold data)", h.BaselineDaysWithData, h.BaselineDays)
			}
		}
		v.Hunts = append(v.Hunts, hv)
	}
	if !baseline.IsZero() {
		v.Baseline = fmtRange(baseline, run.WindowStart)
	}
	v.coverage(run, tableSet)
	v.attack(run)
	ms := mergeWindows(findings)
	v.Merged = len(findings) - len(ms)
	v.findings(run, ms, hunts)
	if o.runDir != "" {
		for i := range v.Findings {
			v.Findings[i].EntityPage = existingPage(o.runDir, v.Findings[i].Finding)
		}
	}
	anchors := map[string]string{}
	for _, fv := range v.Findings {
		for _, id := range fv.IDs {
			anchors[id] = fv.Anchor
		}
	}
	v.groups(ms, anchors, o.runDir)
	ran := map[string]bool{}
	for _, h := range v.OK {
		ran[h.ID] = true
	}
	v.changes(ms, anchors, o.previous, ran)
	v.huntSections(hunts)
	v.DayChart = findingsPerDay(ms, run.WindowStart, run.WindowEnd)
	v.HuntWins = huntWindows(run)
	v.verdict(run, len(findings))
	if len(findings) != run.FindingCount {
		v.FindingMismatch = fmt.Sprintf("run.json counts %d findings but %d were given to the report", run.FindingCount, len(findings))
	}
	return v
}

func huntWindow(run *lake.Run, h *lake.HuntRun) string {
	if h.WindowStart.Equal(run.WindowStart) && h.WindowEnd.Equal(run.WindowEnd) {
		return "the run's window"
	}
	return fmtRange(h.WindowStart, h.WindowEnd)
}

func statusClass(s string) string {
	switch s {
	case "ok", "failed":
		return s
	}
	return "skipped"
}

func (v *view) coverage(run *lake.Run, used map[string]bool) {
	accounts, regions, covered := map[string]bool{}, map[string]bool{}, map[string]lake.Coverage{}
	gaps := map[string][]lake.Gap{}
	for _, c := range run.Coverage {
		c.Gaps = mergeGaps(c.Gaps)
		v.Coverage = append(v.Coverage, coverageView{Coverage: c, GapCount: len(c.Gaps)})
		if c.Unread {
			v.Unread = append(v.Unread, c.Table)
			continue
		}
		gaps[c.Table] = c.Gaps
		covered[c.Table] = c
		v.Rows += c.Rows
		v.Partitions += c.Partitions
		v.Files += c.Files
		for _, a := range c.Accounts {
			accounts[a] = true
		}
		for _, r := range c.Regions {
			regions[r] = true
		}
		for _, g := range c.Gaps {
			v.Gaps = append(v.Gaps, gapView{Gap: g, Table: c.Table, From: fmtTime(g.Start), To: fmtTime(g.End), Length: fmtDuration(g.End.Sub(g.Start))})
		}
	}
	v.Heatmap = heatmap(run, gaps)
	v.Accounts, v.Regions = slices.Sorted(maps.Keys(accounts)), slices.Sorted(maps.Keys(regions))
	for t := range used {
		v.Tables = append(v.Tables, t)
	}
	sort.Strings(v.Tables)
	// A hunt is blind where a table it reads has no data, or has gaps: one sentence per table and kind,
	// naming every hunt (a gap is the table's, not each hunt's).
	noData, gapped := map[string][]string{}, map[string][]string{}
	for _, h := range run.Hunts {
		if h.Status != "ok" {
			continue
		}
		for _, t := range h.Tables {
			c, ok := covered[t]
			switch {
			case !ok || c.Rows == 0 || slices.Contains(h.NoData, t):
				if !slices.Contains(noData[t], h.ID) {
					noData[t] = append(noData[t], h.ID)
				}
			case len(c.Gaps) > 0:
				if !slices.Contains(gapped[t], h.ID) {
					gapped[t] = append(gapped[t], h.ID)
				}
			}
		}
	}
	who := func(ids []string) string {
		if len(ids) == 1 {
			return "hunt " + ids[0]
		}
		return "hunts " + strings.Join(ids, ", ")
	}
	for _, t := range slices.Sorted(maps.Keys(noData)) {
		newest := ""
		if c := covered[t]; !c.Newest.IsZero() {
			newest = " (its newest data is from " + fmtTime(c.Newest) + ")"
		}
		v.Blind = append(v.Blind, fmt.Sprintf("Table %s had no data in the window%s: %s saw nothing there.", t, newest, who(noData[t])))
	}
	for _, t := range slices.Sorted(maps.Keys(gapped)) {
		c := covered[t]
		var where []string
		for i, g := range c.Gaps {
			if i == 3 {
				where = append(where, fmt.Sprintf("and %d more", len(c.Gaps)-3))
				break
			}
			where = append(where, fmt.Sprintf("account %s %s from %s to %s", g.AccountID, g.Region, fmtTime(g.Start), fmtTime(g.End)))
		}
		v.Blind = append(v.Blind, fmt.Sprintf("Table %s had gaps (%s): %s %s blind there.", t, strings.Join(where, "; "), who(gapped[t]), map[bool]string{true: "was", false: "were"}[len(gapped[t]) == 1]))
	}
}

func (v *view) verdict(run *lake.Run, findings int) {
	v.NotCheckedClass = "warn"
	if len(v.Failed) > 0 {
		v.NotCheckedClass = "alert"
	}
	// Every completed hunt found every table it reads empty.
	covered := map[string]int64{}
	for _, c := range run.Coverage {
		covered[c.Table] += c.Rows
	}
	nothing := true
	for _, h := range v.OK {
		for _, t := range h.Tables {
			if covered[t] > 0 && !slices.Contains(h.NoData, t) {
				nothing = false
			}
		}
	}
	plural := func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	switch {
	case len(v.Failed) > 0:
		text := plural(len(v.Failed), "hunt", "hunts") + " failed, results incomplete."
		if findings == 0 {
			text += fmt.Sprintf(" No findings from the %s that completed.", plural(len(v.OK), "hunt", "hunts"))
		}
		v.Verdict = &verdict{Class: "alert", ID: "incomplete", Text: text}
	case len(v.OK) == 0:
		v.Verdict = &verdict{Class: "warn", ID: "nothing-checked", Text: "No hunt completed: nothing was checked."}
	case nothing:
		v.Verdict = &verdict{Class: "warn", ID: "no-data", Text: "No data in the window: nothing was checked."}
	case len(v.Skipped) > 0 || len(v.Blind) > 0:
		text := "Not everything was checked: see below."
		if findings == 0 {
			text = "No findings, but not everything was checked: see below."
		}
		v.Verdict = &verdict{Class: "warn", ID: "partly-checked", Text: text}
	case findings == 0:
		v.Verdict = &verdict{Class: "good", ID: "no-findings",
			Text: fmt.Sprintf("No findings. %s ran to completion and none matched.", plural(len(v.OK), "hunt", "hunts"))}
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (v *view) findings(run *lake.Run, findings []merged, hunts map[string]*lake.HuntRun) {
	sorted := slices.Clone(findings)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if ra, rb := lake.SeverityRank(a.Severity), lake.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.HuntID != b.HuntID {
			return a.HuntID < b.HuntID
		}
		return a.FirstSeen.Before(b.FirstSeen)
	})
	bySev := map[string]int{}
	byHunt := map[string]int{}
	budget := maxReportEvidence
	for _, f := range sorted {
		bySev[f.Severity]++
		byHunt[f.HuntID]++
		fv := newFindingView(run, f.Finding, hunts[f.HuntID], &budget)
		fv.IDs = f.IDs
		for _, w := range f.Windows {
			fv.Windows = append(fv.Windows, fmtRange(w.Start, w.End))
		}
		v.Findings = append(v.Findings, fv)
	}
	// Charts: every severity, and every hunt that ran (a hunt that found nothing is a result too).
	top := 1
	for _, n := range bySev {
		top = max(top, n)
	}
	for _, n := range byHunt {
		top = max(top, n)
	}
	for _, s := range severities {
		v.FindingsBySeverity = append(v.FindingsBySeverity, sevCount{s, bySev[s]})
		v.SeverityBars = append(v.SeverityBars, newBar(len(v.SeverityBars), s, "bar-"+s, bySev[s], top))
		delete(bySev, s)
	}
	for _, s := range slices.Sorted(maps.Keys(bySev)) { // labels outside ASFF's, shown rather than dropped
		v.FindingsBySeverity = append(v.FindingsBySeverity, sevCount{s, bySev[s]})
		v.SeverityBars = append(v.SeverityBars, newBar(len(v.SeverityBars), s, "bar-hunt", bySev[s], top))
	}
	huntIDs := map[string]bool{}
	for _, h := range run.Hunts {
		huntIDs[h.ID] = true
	}
	for id := range byHunt {
		huntIDs[id] = true
	}
	for _, id := range slices.Sorted(maps.Keys(huntIDs)) {
		label := id
		if h := hunts[id]; h != nil && h.Status != "ok" {
			label += " (" + statusClass(h.Status) + ")"
		}
		v.HuntBars = append(v.HuntBars, newBar(len(v.HuntBars), label, "bar-hunt", byHunt[id], top))
	}
	v.SeverityChart = chart{Height: len(v.SeverityBars)*22 + 6}
	v.HuntChart = chart{Height: len(v.HuntBars)*22 + 6}
}

// Bars are drawn from x=220 across at most 300 units of a 560-wide viewBox.
func newBar(i int, label, class string, n, max int) bar {
	w := n * 300 / max
	if n > 0 && w < 2 {
		w = 2
	}
	label, _ = reports.Truncate(label, 40)
	return bar{Label: label, Class: class, Count: n, Y: i*22 + 4, Width: w, TextX: 220 + w + 6}
}

func newFindingView(run *lake.Run, f lake.Finding, h *lake.HuntRun, budget *int) findingView {
	fv := findingView{Finding: f, Anchor: reports.Anchor(f.ID), Hunt: h, FirstSeen: fmtTime(f.FirstSeen), LastSeen: fmtTime(f.LastSeen), Window: fmtRange(f.WindowStart, f.WindowEnd)}
	tactics, techniques := f.Tactics, f.Techniques
	if len(tactics) == 0 && h != nil {
		tactics = h.Tactics
	}
	if len(techniques) == 0 && h != nil {
		techniques = h.Techniques
	}
	for _, t := range tactics {
		text := t
		if tac, ok := reports.LookupTactic(t); ok {
			text = tac.Name + " (" + tac.ID + ")"
		}
		fv.Tactics = append(fv.Tactics, attackRef{text, reports.AttackURL(t)})
	}
	for _, t := range techniques {
		fv.Techniques = append(fv.Techniques, attackRef{t, reports.AttackURL(t)})
	}
	if h != nil {
		for _, r := range h.References {
			ref := attackRef{Text: r}
			if strings.HasPrefix(r, "https://") || strings.HasPrefix(r, "http://") {
				ref.URL = r
			}
			fv.References = append(fv.References, ref)
		}
	}
	keys := make([]string, 0, len(f.Fields))
	for k := range f.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fv.Fields = append(fv.Fields, fieldView{k, shortValue(f.Fields[k])})
	}
	fv.evidence(budget)
	from, to := f.WindowStart, f.WindowEnd
	if from.IsZero() || !to.After(from) {
		from, to = run.WindowStart, run.WindowEnd
	}
	fv.Timeline = newTimeline(from, to, f.FirstSeen, f.LastSeen, f.Evidence)
	return fv
}

// evidence lays out the evidence rows within the display limits, spending from the report's budget.
func (fv *findingView) evidence(budget *int) {
	ev := fv.Finding.Evidence
	seen := map[string]bool{}
	var cols []string
	for _, e := range ev {
		for k := range e.Row {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	sort.Slice(cols, func(i, j int) bool { // event_time first, then by name
		if (cols[i] == "event_time") != (cols[j] == "event_time") {
			return cols[i] == "event_time"
		}
		return cols[i] < cols[j]
	})
	var cut []string
	if len(cols) > maxEvidenceCols {
		cut = append(cut, fmt.Sprintf("showing %d of %d columns", maxEvidenceCols, len(cols)))
		cols = cols[:maxEvidenceCols]
	}
	if len(ev) > maxEvidenceRows {
		cut = append(cut, fmt.Sprintf("showing %d of %d rows", maxEvidenceRows, len(ev)))
		ev = ev[:maxEvidenceRows]
	}
	shortened, spent := 0, 0
	limit := min(maxFindingEvidence, *budget)
	for i, e := range ev {
		if spent >= limit {
			cut = append(cut, fmt.Sprintf("showing %d of %d rows to keep the report a readable size", i, len(fv.Finding.Evidence)))
			break
		}
		row := evidenceView{Time: fmtTime(e.Time), Table: e.Table, Source: e.SourceKey}
		if e.SourceLine > 0 {
			row.Source += fmt.Sprintf(" line %d", e.SourceLine)
		}
		for _, c := range cols {
			val, present := e.Row[c]
			s := ""
			if present {
				var was bool
				s, was = truncValue(val)
				if was {
					shortened++
				}
			}
			spent += len(s)
			row.Values = append(row.Values, s)
		}
		spent += len(row.Source) + len(row.Table)
		fv.Evidence = append(fv.Evidence, row)
	}
	if shortened > 0 {
		cut = append(cut, fmt.Sprintf("%d values shortened to %d characters", shortened, maxValueChars))
	}
	*budget -= spent
	fv.EvidenceCols = cols
	if len(cut) > 0 {
		fv.EvidenceCut = "Report display limits: " + strings.Join(cut, "; ") + ". The full evidence is in findings.jsonl of this run."
	}
}

func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func truncValue(v any) (string, bool) { return reports.Truncate(valueText(v), maxValueChars) }

func shortValue(v any) string {
	s, _ := truncValue(v)
	return s
}

const timelineX0, timelineW = 10, 980

func newTimeline(from, to, first, last time.Time, ev []lake.Evidence) timeline {
	tl := timeline{From: fmtTime(from), To: fmtTime(to)}
	if from.IsZero() || !to.After(from) {
		return tl
	}
	tl.Ok = true
	span := to.Sub(from)
	x := func(t time.Time) int {
		if t.Before(from) {
			t = from
		}
		if t.After(to) {
			t = to
		}
		return timelineX0 + int(float64(t.Sub(from))/float64(span)*timelineW)
	}
	if !first.IsZero() {
		end := last
		if end.Before(first) {
			end = first
		}
		tl.SpanX = x(first)
		tl.SpanW = max(x(end)-tl.SpanX, 2)
	}
	seen := map[int]bool{}
	for _, e := range ev {
		if e.Time.IsZero() {
			continue
		}
		px := x(e.Time)
		if !seen[px] {
			seen[px] = true
			tl.Ticks = append(tl.Ticks, px)
		}
	}
	sort.Ints(tl.Ticks)
	return tl
}
