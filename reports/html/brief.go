package html

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/entity"
)

// Option adds to what a report shows.
type Option func(*options)

type options struct {
	previous *Previous
	runDir   string // where entity pages may be (RUNDIR/entities/): groups link to those that exist
}

// pageIfWritten is page (relative to the run directory) if the run directory holds it, else "".
func pageIfWritten(runDir, page string) string {
	if page == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(runDir, filepath.FromSlash(page))); err != nil {
		return ""
	}
	return page
}

// existingPage is the page of a finding's own entity, if the run directory holds it.
func existingPage(runDir string, f lake.Finding) string {
	l, ok := entity.FindingLink(f)
	if !ok {
		return ""
	}
	return pageIfWritten(runDir, entity.PageName(l))
}

// WithEntityPages links each finding group to its leading entity's page in dir/entities/, where one
// was written (hunt run writes them before the report).
func WithEntityPages(dir string) Option { return func(o *options) { o.runDir = dir } }

// Previous is the run (or period) a report compares with for "changes since the previous run".
type Previous struct {
	Label    string // how the report names it, e.g. "run 20250608T0000Z-… (runs/2025-06-08)"
	Run      *lake.Run
	Findings []lake.Finding
	// Err is why the previous run could not be read; the report says so instead of showing no changes.
	Err error
}

// WithPrevious compares the report's findings with the previous run's: new, recurring and gone.
func WithPrevious(p Previous) Option { return func(o *options) { o.previous = &p } }

// findingKey names "the same finding" across windows: a finding's id includes its window, so a daily
// hunt that finds the same principal every day has a new id each day.
func findingKey(f lake.Finding) string {
	return f.HuntID + "\x00" + strings.ToLower(f.Entity.Type) + "\x00" + f.Entity.Key
}

// merged is one finding as the report shows it: the same hunt and entity found in several windows of a
// period report is one finding, seen in each of those windows.
type merged struct {
	lake.Finding
	IDs     []string   // every finding id merged into it, oldest window first
	Windows []lake.Gap // the windows it was found in (Start/End only), when more than one
}

// mergeWindows merges findings of the same hunt and entity from different windows. The latest window's
// finding gives the text; first/last seen, count, severity and evidence span all windows.
func mergeWindows(findings []lake.Finding) []merged {
	byKey := map[string][]lake.Finding{}
	var order []string
	for _, f := range findings {
		k := findingKey(f)
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], f)
	}
	out := make([]merged, 0, len(order))
	for _, k := range order {
		fs := byKey[k]
		windows := map[time.Time]bool{}
		for _, f := range fs {
			windows[f.WindowStart] = true
		}
		if len(windows) < len(fs) { // several findings of one window: distinct findings, shown apart
			for _, f := range fs {
				out = append(out, merged{Finding: f, IDs: []string{f.ID}})
			}
			continue
		}
		slices.SortStableFunc(fs, func(a, b lake.Finding) int { return a.WindowStart.Compare(b.WindowStart) })
		m := merged{Finding: fs[len(fs)-1]}
		if len(fs) > 1 {
			m.Evidence = nil
			m.Count = 0
			for _, f := range fs {
				m.IDs = append(m.IDs, f.ID)
				m.Windows = append(m.Windows, lake.Gap{Start: f.WindowStart, End: f.WindowEnd})
				m.Count += f.Count
				m.Evidence = append(m.Evidence, f.Evidence...)
				if f.FirstSeen.Before(m.FirstSeen) {
					m.FirstSeen = f.FirstSeen
				}
				if f.LastSeen.After(m.LastSeen) {
					m.LastSeen = f.LastSeen
				}
				if f.WindowStart.Before(m.WindowStart) {
					m.WindowStart = f.WindowStart
				}
				if f.WindowEnd.After(m.WindowEnd) {
					m.WindowEnd = f.WindowEnd
				}
				if lake.SeverityRank(f.Severity) > lake.SeverityRank(m.Severity) {
					m.Severity = f.Severity
				}
			}
		} else {
			m.IDs = []string{m.ID}
		}
		out = append(out, m)
	}
	return out
}

type groupView struct {
	ID, Anchor, Severity, Title, Span string
	Lead                              group.Link
	Page                              string // the lead entity's page, relative to the report ("" if none)
	Links                             []group.Link
	Tactics                           []attackRef
	Steps                             []stepView
	Timeline                          groupTimeline
}

type stepView struct {
	Time, Severity, Hunt string
	Title, Anchor        string
	Tactics              string
}

// groupTimeline draws a group's findings as rows on its span (1000-wide viewBox): one bar per step.
type groupTimeline struct {
	Height   int
	From, To string
	Bars     []svgRect
}

type svgRect struct {
	X, Y, W, H int
	Class      string
	Title      string
	Label      string
	LabelX     int
}

func (v *view) groups(ms []merged, anchors map[string]string, runDir string) {
	fs := make([]lake.Finding, len(ms))
	for i, m := range ms {
		fs[i] = m.Finding
	}
	for _, g := range group.Build(fs) {
		gv := groupView{ID: g.ID, Anchor: "group-" + g.ID, Severity: g.Severity, Span: fmtRange(g.Start, g.End), Links: g.Links}
		if len(g.Links) > 0 {
			gv.Lead = g.Links[0]
			gv.Title = g.Links[0].Value
			if runDir != "" {
				gv.Page = pageIfWritten(runDir, entity.PageOf(g))
			}
		} else {
			gv.Title = g.Findings[0].Entity.Key
		}
		for _, t := range g.Tactics {
			text := t
			if tac, ok := reports.LookupTactic(t); ok {
				text = tac.Name
			}
			gv.Tactics = append(gv.Tactics, attackRef{text, reports.AttackURL(t)})
		}
		for _, f := range g.Findings {
			var tactics []string
			for _, t := range f.Tactics {
				if tac, ok := reports.LookupTactic(t); ok {
					t = tac.Name
				}
				tactics = append(tactics, t)
			}
			gv.Steps = append(gv.Steps, stepView{Time: fmtTime(f.FirstSeen), Severity: f.Severity, Hunt: f.HuntID,
				Title: f.Title, Anchor: anchors[f.ID], Tactics: strings.Join(tactics, ", ")})
		}
		gv.Timeline = newGroupTimeline(g)
		v.Groups = append(v.Groups, gv)
		if len(g.Findings) > 1 {
			v.MultiGroups++
		}
	}
}

const gtX0, gtW, gtRow = 40, 940, 16

func newGroupTimeline(g group.Group) groupTimeline {
	from, to := g.Start, g.End
	if !to.After(from) {
		from, to = from.Add(-30*time.Minute), to.Add(30*time.Minute)
	}
	span := to.Sub(from)
	x := func(t time.Time) int {
		if t.Before(from) {
			t = from
		}
		if t.After(to) {
			t = to
		}
		return gtX0 + int(float64(t.Sub(from))/float64(span)*gtW)
	}
	tl := groupTimeline{From: fmtTime(from), To: fmtTime(to), Height: len(g.Findings)*gtRow + 22}
	for i, f := range g.Findings {
		x0, x1 := x(f.FirstSeen), x(f.LastSeen)
		tl.Bars = append(tl.Bars, svgRect{X: x0, Y: i*gtRow + 2, W: max(x1-x0, 3), H: gtRow - 4, Class: "bar-" + f.Severity,
			Title: fmt.Sprintf("%d. %s %s: %s", i+1, fmtTime(f.FirstSeen), f.HuntID, f.Title), Label: fmt.Sprint(i + 1), LabelX: gtX0 - 6})
	}
	return tl
}

// changesView compares the report's findings with the previous run's.
type changesView struct {
	Label, Error         string
	New, Recurring, Gone []changeRow
	Compared             bool
}

type changeRow struct {
	Severity, Hunt, Entity, Title, Anchor, Note string
}

func (v *view) changes(ms []merged, anchors map[string]string, prev *Previous, ran map[string]bool) {
	if prev == nil {
		return
	}
	c := &changesView{Label: prev.Label}
	v.Changes = c
	if prev.Err != nil {
		c.Error = prev.Err.Error()
		return
	}
	if prev.Run == nil {
		return
	}
	c.Compared = true
	prevIDs, prevKeys := map[string]bool{}, map[string]bool{}
	for _, f := range prev.Findings {
		prevIDs[f.ID] = true
		prevKeys[findingKey(f)] = true
	}
	curIDs, curKeys := map[string]bool{}, map[string]bool{}
	for _, m := range ms {
		row := changeRow{Severity: m.Severity, Hunt: m.HuntID, Entity: m.Entity.Key, Title: m.Title, Anchor: anchors[m.ID]}
		recurring := prevKeys[findingKey(m.Finding)]
		for _, id := range m.IDs {
			curIDs[id] = true
			recurring = recurring || prevIDs[id]
		}
		curKeys[findingKey(m.Finding)] = true
		if recurring {
			c.Recurring = append(c.Recurring, row)
		} else {
			c.New = append(c.New, row)
		}
	}
	for _, f := range prev.Findings {
		if curIDs[f.ID] || curKeys[findingKey(f)] {
			continue
		}
		curKeys[findingKey(f)] = true // a period's windows list one gone finding once
		row := changeRow{Severity: f.Severity, Hunt: f.HuntID, Entity: f.Entity.Key, Title: f.Title}
		if !ran[f.HuntID] {
			row.Note = "not re-checked: the hunt did not complete in this report"
		}
		c.Gone = append(c.Gone, row)
	}
	bySev := func(a, b changeRow) int {
		return cmp.Or(cmp.Compare(lake.SeverityRank(b.Severity), lake.SeverityRank(a.Severity)), cmp.Compare(a.Hunt, b.Hunt), cmp.Compare(a.Entity, b.Entity))
	}
	slices.SortStableFunc(c.New, bySev)
	slices.SortStableFunc(c.Recurring, bySev)
	slices.SortStableFunc(c.Gone, bySev)
}

// huntSection is one hunt's findings with the hunt's guidance shown once.
type huntSection struct {
	ID, Anchor, Title, Severity string
	Hunt                        *lake.HuntRun
	Tactics, Techniques         []attackRef
	References                  []attackRef
	Findings                    []findingView
}

func (v *view) huntSections(hunts map[string]*lake.HuntRun) {
	idx := map[string]int{}
	for _, fv := range v.Findings {
		i, ok := idx[fv.HuntID]
		if !ok {
			i = len(v.HuntSections)
			idx[fv.HuntID] = i
			hs := huntSection{ID: fv.HuntID, Anchor: "hunt-" + reports.Anchor(fv.HuntID), Title: fv.HuntTitle, Hunt: hunts[fv.HuntID],
				Tactics: fv.Tactics, Techniques: fv.Techniques, References: fv.References, Severity: fv.Severity}
			v.HuntSections = append(v.HuntSections, hs)
		}
		hs := &v.HuntSections[i]
		hs.Findings = append(hs.Findings, fv)
		if lake.SeverityRank(fv.Severity) > lake.SeverityRank(hs.Severity) {
			hs.Severity = fv.Severity
		}
	}
	slices.SortStableFunc(v.HuntSections, func(a, b huntSection) int {
		return cmp.Or(cmp.Compare(lake.SeverityRank(b.Severity), lake.SeverityRank(a.Severity)), cmp.Compare(len(b.Findings), len(a.Findings)), cmp.Compare(a.ID, b.ID))
	})
}

// mergeGaps joins a table's gaps of one account and region that overlap or touch: runs and windows
// report the same silence in pieces (1-hour gaps inside a 3-hour one).
func mergeGaps(gaps []lake.Gap) []lake.Gap {
	gs := slices.Clone(gaps)
	slices.SortFunc(gs, func(a, b lake.Gap) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Region, b.Region), a.Start.Compare(b.Start), b.End.Compare(a.End))
	})
	var out []lake.Gap
	for _, g := range gs {
		if n := len(out); n > 0 && out[n-1].AccountID == g.AccountID && out[n-1].Region == g.Region && !g.Start.After(out[n-1].End) {
			last := &out[n-1]
			if g.End.After(last.End) {
				if g.End.Sub(g.Start) > last.End.Sub(last.Start) {
					last.Reason = g.Reason
				}
				last.End = g.End
			}
			continue
		}
		out = append(out, g)
	}
	return out
}

// Pictures: inline SVG, 1000 units wide, drawn from x=150 (labels left of it).
const picX0, picW = 150, 840

type picture struct {
	Height int
	Rects  []svgRect
	Labels []svgLabel
}

type svgLabel struct {
	X, Y   int
	Text   string
	Anchor string // text-anchor
}

// findingsPerDay stacks each day's findings by severity.
func findingsPerDay(ms []merged, from, to time.Time) picture {
	if from.IsZero() || !to.After(from) {
		return picture{}
	}
	day0 := from.UTC().Truncate(24 * time.Hour)
	days := int(to.Sub(day0)/(24*time.Hour)) + 1
	if to.Equal(day0.Add(time.Duration(days-1) * 24 * time.Hour)) {
		days--
	}
	days = max(min(days, 366), 1)
	counts := make([]map[string]int, days)
	top := 1
	for _, m := range ms {
		d := int(m.FirstSeen.Sub(day0) / (24 * time.Hour))
		if d < 0 || d >= days {
			continue
		}
		if counts[d] == nil {
			counts[d] = map[string]int{}
		}
		counts[d][m.Severity]++
	}
	for _, c := range counts {
		n := 0
		for _, k := range c {
			n += k
		}
		top = max(top, n)
	}
	const h = 120
	p := picture{Height: h + 40}
	step := picW / days
	every := max(1, days/14)
	for d := range days {
		x, y := picX0+d*step, h+4
		for _, s := range severities {
			n := counts[d][s]
			if n == 0 {
				continue
			}
			bh := max(n*h/top, 2)
			y -= bh
			p.Rects = append(p.Rects, svgRect{X: x + 1, Y: y, W: max(step-2, 1), H: bh, Class: "bar-" + s,
				Title: fmt.Sprintf("%s: %d %s", day0.AddDate(0, 0, d).Format("2006-01-02"), n, s)})
		}
		if d%every == 0 {
			p.Labels = append(p.Labels, svgLabel{X: x + step/2, Y: h + 20, Text: day0.AddDate(0, 0, d).Format("01-02"), Anchor: "middle"})
		}
	}
	p.Labels = append(p.Labels, svgLabel{X: picX0 - 8, Y: 14, Text: fmt.Sprintf("%d findings", top), Anchor: "end"},
		svgLabel{X: picX0 - 8, Y: h + 4, Text: "0", Anchor: "end"})
	for i, s := range severities {
		x := picX0 + i*130
		p.Rects = append(p.Rects, svgRect{X: x, Y: h + 28, W: 10, H: 10, Class: "bar-" + s})
		p.Labels = append(p.Labels, svgLabel{X: x + 14, Y: h + 37, Text: strings.ToLower(s)})
	}
	return p
}

// heatmap draws each table (data stream) across the window by hour: how many rows (run.json's hourly
// counts; a period report has none and shows only where there was data), a gap (no data where there
// normally is some), or no rows.
func heatmap(run *lake.Run, gaps map[string][]lake.Gap) picture {
	from, to := run.WindowStart, run.WindowEnd
	if from.IsZero() || !to.After(from) || len(run.Coverage) == 0 {
		return picture{}
	}
	hours := int(to.Sub(from) / time.Hour)
	unit := time.Hour * time.Duration(max(1, (hours+picW/2-1)/(picW/2))) // cells at least 2 units wide
	cells := int((to.Sub(from) + unit - 1) / unit)
	const row = 18
	var read []lake.Coverage
	for _, c := range run.Coverage {
		if !c.Unread {
			read = append(read, c)
		}
	}
	if len(read) == 0 {
		return picture{}
	}
	p := picture{Height: len(read)*row + 44}
	x := func(t time.Time) int { return picX0 + int(float64(t.Sub(from))/float64(to.Sub(from))*picW) }
	for i, c := range read {
		y := i*row + 2
		p.Labels = append(p.Labels, svgLabel{X: picX0 - 8, Y: y + 12, Text: c.Table, Anchor: "end"})
		// Rows per cell, from the run's hourly counts; shaded in four steps of the table's busiest cell.
		var perCell []int64
		var top int64
		if first := from.Truncate(time.Hour); len(c.Hourly) > 0 {
			perCell = make([]int64, cells)
			for h, n := range c.Hourly {
				if k := int(first.Add(time.Duration(h)*time.Hour).Sub(from) / unit); k >= 0 && k < cells {
					perCell[k] += n
					top = max(top, perCell[k])
				}
			}
		}
		state := func(t time.Time) string {
			for _, g := range gaps[c.Table] {
				if t.Before(g.End) && t.Add(unit).After(g.Start) {
					return "hm-gap"
				}
			}
			if perCell != nil {
				n := perCell[int(t.Sub(from)/unit)]
				if n == 0 {
					return "hm-none"
				}
				return fmt.Sprintf("hm-%d", (4*n+top-1)/top) // 1 to 4: quarters of the busiest cell
			}
			if c.Rows == 0 || (!c.Newest.IsZero() && t.After(c.Newest)) {
				return "hm-none"
			}
			return "hm-data"
		}
		start, cur := 0, state(from)
		for k := 1; k <= cells; k++ {
			s := ""
			if k < cells {
				s = state(from.Add(time.Duration(k) * unit))
			}
			if s == cur {
				continue
			}
			a, b := from.Add(time.Duration(start)*unit), from.Add(time.Duration(k)*unit)
			if b.After(to) {
				b = to
			}
			what := map[string]string{"hm-none": "no rows", "hm-gap": "gap"}[cur]
			if what == "" {
				what = "data"
				if perCell != nil {
					var n int64
					for _, v := range perCell[start:k] {
						n += v
					}
					what = fmt.Sprintf("%d rows", n)
				}
			}
			p.Rects = append(p.Rects, svgRect{X: x(a), Y: y, W: max(x(b)-x(a), 1), H: row - 4, Class: cur,
				Title: fmt.Sprintf("%s %s: %s", c.Table, fmtRange(a, b), what)})
			start, cur = k, s
		}
	}
	y := len(read)*row + 4
	p.Labels = append(p.Labels, svgLabel{X: picX0, Y: y + 12, Text: fmtTime(from)}, svgLabel{X: picX0 + picW, Y: y + 12, Text: fmtTime(to), Anchor: "end"})
	for i, k := range []string{"hm-1", "hm-4", "hm-none", "hm-gap"} {
		x := picX0 + i*150
		p.Rects = append(p.Rects, svgRect{X: x, Y: y + 22, W: 10, H: 10, Class: k})
		p.Labels = append(p.Labels, svgLabel{X: x + 14, Y: y + 31, Text: map[string]string{"hm-1": "few rows", "hm-4": "most rows", "hm-none": "no rows", "hm-gap": "gap (stream normally has data)"}[k]})
	}
	return p
}

// huntWindows draws each hunt's windows over the report's window: ran, skipped or failed.
func huntWindows(run *lake.Run) picture {
	from, to := run.WindowStart, run.WindowEnd
	if from.IsZero() || !to.After(from) || len(run.Hunts) == 0 {
		return picture{}
	}
	x := func(t time.Time) int {
		if t.Before(from) {
			t = from
		}
		if t.After(to) {
			t = to
		}
		return picX0 + int(float64(t.Sub(from))/float64(to.Sub(from))*picW)
	}
	rows := map[string]int{}
	for _, h := range run.Hunts {
		if _, ok := rows[h.ID]; !ok {
			rows[h.ID] = len(rows)
		}
	}
	const row = 16
	p := picture{Height: len(rows)*row + 44}
	for _, id := range slices.Sorted(maps.Keys(rows)) {
		label, _ := reports.Truncate(id, 24)
		p.Labels = append(p.Labels, svgLabel{X: picX0 - 8, Y: rows[id]*row + 13, Text: label, Anchor: "end"})
	}
	for _, h := range run.Hunts {
		a, b := h.WindowStart, h.WindowEnd
		if a.IsZero() || !b.After(a) {
			a, b = from, to
		}
		st := statusClass(h.Status)
		p.Rects = append(p.Rects, svgRect{X: x(a), Y: rows[h.ID]*row + 2, W: max(x(b)-x(a), 2), H: row - 4, Class: "win-" + st,
			Title: fmt.Sprintf("%s %s: %s", h.ID, fmtRange(a, b), st)})
	}
	y := len(rows)*row + 4
	p.Labels = append(p.Labels, svgLabel{X: picX0, Y: y + 12, Text: fmtTime(from)}, svgLabel{X: picX0 + picW, Y: y + 12, Text: fmtTime(to), Anchor: "end"})
	for i, k := range []string{"ok", "skipped", "failed"} {
		x := picX0 + i*160
		p.Rects = append(p.Rects, svgRect{X: x, Y: y + 22, W: 10, H: 10, Class: "win-" + k})
		p.Labels = append(p.Labels, svgLabel{X: x + 14, Y: y + 31, Text: map[string]string{"ok": "ran", "skipped": "skipped", "failed": "failed"}[k]})
	}
	return p
}

// ComparedWith compares the report with the run directory prev ("" when there is no previous run).
func ComparedWith(prev string) Option {
	if prev == "" {
		return WithPrevious(Previous{})
	}
	run, findings, err := reports.ReadRunDir(prev)
	if err != nil {
		return WithPrevious(Previous{Label: prev, Err: err})
	}
	return WithPrevious(Previous{Label: fmt.Sprintf("run %s (window %s) in %s", run.ID, fmtRange(run.WindowStart, run.WindowEnd), prev), Run: run, Findings: findings})
}
