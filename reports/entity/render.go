package entity

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"path"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
)

var (
	//go:embed page.css
	css string
	//go:embed page.tmpl
	tmplText string

	pageTmpl = template.Must(template.New("entity").Funcs(template.FuncMap{"fmtTime": fmtTime, "reportHref": func() string { return "../" + reports.ReportFile }}).Parse(pageSource()))
)

// pageSource puts the stylesheet into the template and allows exactly it by hash in the CSP, as the
// run report does: no script runs, and no injected style would apply.
func pageSource() string {
	sum := sha256.Sum256([]byte(css))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	return strings.NewReplacer("STYLE_HASH", hash, "<style>STYLE</style>", "<style>"+css+"</style>").Replace(tmplText)
}

// Render writes the page as one self-contained HTML file.
func Render(w io.Writer, p *Page) error {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, newView(p)); err != nil {
		return err
	}
	// As in the report: html/template escapes markup, safetext the characters that act on the text
	// around them (bidi overrides), wherever a value from the logs landed.
	_, err := io.WriteString(w, safetext.Text(buf.String()))
	return err
}

// WriteFile renders the page to path atomically.
func WriteFile(path string, p *Page) error {
	var buf bytes.Buffer
	if err := Render(&buf, p); err != nil {
		return err
	}
	return lake.WriteFileAtomic(path, buf.Bytes())
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

type view struct {
	*Page
	Window, History string
	Steps           []step
	StepChart       chart
	Groups          []groupView
	Tables          []tableView
	NewCount        int
	NoHistory       []string // tables with rows about the entity in the window and none before it
}

type step struct {
	N        int
	Finding  lake.Finding
	Tactics  string
	Anchor   string
	Seen     string
	GroupIDs string
}

type groupView struct {
	group.Group
	Title  string
	Others []linkView // the group's other entities
}

type linkView struct {
	group.Link
	Href string // its page, when the run has one
}

type tableView struct {
	Table
	Chart      chart
	Per        string // the chart's bucket, in words
	NothingNew string // the dimensions with no new value, e.g. "regions, user agents"
	Evidence   []evidenceView
}

type evidenceView struct {
	Time   string
	Cells  []string
	Source string
}

// chart is a strip chart in SVG user units: a label column, then one lane per row over a time axis.
type chart struct {
	Height     int
	Rows       []chartRow
	From, To   string
	AxisY      int
	LabelWidth int
}

type chartRow struct {
	Y     int
	Label string // shown, shortened
	Full  string // in the row's <title>
	Note  string // right of the lane: a count
	Cells []cell
}

type cell struct {
	X, W    int
	Class   string
	Opacity string
	Title   string
}

const (
	chartX0, chartW = 300, 620 // lane area in a 1000-unit wide viewBox
	laneH           = 18
)

func newView(p *Page) *view {
	v := &view{Page: p, Window: fmtTime(p.From) + " → " + fmtTime(p.To), History: fmtTime(p.HistoryFrom) + " → " + fmtTime(p.From)}
	sibling := map[group.Link]string{}
	if p.InRun {
		for _, l := range p.Siblings {
			sibling[l] = path.Base(PageName(l)) // pages of a run sit side by side
		}
	}
	inGroup := map[string][]string{}
	for _, g := range p.Groups {
		for _, f := range g.Findings {
			inGroup[f.ID] = append(inGroup[f.ID], g.ID)
		}
		gv := groupView{Group: g, Title: g.Title()}
		for _, l := range g.Links {
			if l != p.Entity {
				gv.Others = append(gv.Others, linkView{Link: l, Href: sibling[l]})
			}
		}
		v.Groups = append(v.Groups, gv)
	}
	lo, hi := p.From, p.To
	for i, f := range p.Findings {
		tactics := make([]string, len(f.Tactics))
		for j, t := range f.Tactics {
			tactics[j] = t
			if tt, ok := reports.LookupTactic(t); ok {
				tactics[j] = tt.Name
			}
		}
		v.Steps = append(v.Steps, step{N: i + 1, Finding: f, Tactics: strings.Join(tactics, ", "), Anchor: reports.Anchor(f.ID),
			Seen: fmtTime(f.FirstSeen) + " → " + fmtTime(f.LastSeen), GroupIDs: strings.Join(inGroup[f.ID], ", ")})
		if !f.FirstSeen.IsZero() && f.FirstSeen.Before(lo) {
			lo = f.FirstSeen
		}
		if f.LastSeen.After(hi) {
			hi = f.LastSeen
		}
	}
	v.StepChart = stepChart(v.Steps, lo, hi)
	for _, t := range p.Tables {
		tv := tableView{Table: t, Chart: activityChart(t), Per: per(t.Bucket)}
		for _, e := range t.Evidence {
			tv.Evidence = append(tv.Evidence, evidenceView{Time: fmtTime(e.Time), Cells: e.Cells, Source: fmt.Sprintf("%s line %d", e.SourceKey, e.SourceLine)})
		}
		var none []string
		for _, n := range t.New {
			v.NewCount += int(n.Total())
			if len(n.Values) == 0 {
				none = append(none, n.Dim)
			}
		}
		tv.NothingNew = strings.Join(none, ", ")
		if t.Rows > 0 && t.HistoryRows == 0 {
			v.NoHistory = append(v.NoHistory, t.Name)
		}
		v.Tables = append(v.Tables, tv)
	}
	return v
}

func short(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// stepChart draws each finding as a bar from first to last seen, one lane per step, over [lo, hi].
func stepChart(steps []step, lo, hi time.Time) chart {
	c := chart{From: fmtTime(lo), To: fmtTime(hi), LabelWidth: chartX0 - 10}
	span := hi.Sub(lo)
	x := func(t time.Time) int {
		if span <= 0 {
			return chartX0
		}
		return chartX0 + int(float64(t.Sub(lo))/float64(span)*chartW)
	}
	for i, s := range steps {
		y := 4 + i*laneH
		x0 := x(s.Finding.FirstSeen)
		c.Rows = append(c.Rows, chartRow{Y: y, Label: short(fmt.Sprintf("%d. %s", s.N, s.Finding.HuntID), 44), Full: s.Finding.Title,
			Cells: []cell{{X: x0, W: max(x(s.Finding.LastSeen)-x0, 4), Class: "bar-" + s.Finding.Severity, Opacity: "1", Title: s.Seen}}})
	}
	c.AxisY = 4 + len(steps)*laneH + 2
	c.Height = c.AxisY + 16
	return c
}

// activityChart is a heat strip per activity: one cell per time bucket, darker for more rows.
func activityChart(t Table) chart {
	if len(t.Buckets) == 0 {
		return chart{}
	}
	end := t.Buckets[len(t.Buckets)-1].Add(t.Bucket)
	c := chart{From: fmtTime(t.Buckets[0]), To: fmtTime(end), LabelWidth: chartX0 - 10}
	var peak int64
	for _, s := range t.Series {
		for _, n := range s.Counts {
			peak = max(peak, n)
		}
	}
	w := float64(chartW) / float64(len(t.Buckets))
	for i, s := range t.Series {
		row := chartRow{Y: 4 + i*laneH, Label: short(s.Label, 44), Full: s.Label, Note: fmt.Sprint(s.Total)}
		for j, n := range s.Counts {
			if n == 0 {
				continue
			}
			x0 := chartX0 + int(float64(j)*w)
			row.Cells = append(row.Cells, cell{X: x0, W: max(chartX0+int(float64(j+1)*w)-x0, 1), Class: "heat",
				Opacity: fmt.Sprintf("%.2f", 0.2+0.8*float64(n)/float64(peak)),
				Title:   fmt.Sprintf("%s: %d from %s", s.Label, n, fmtTime(t.Buckets[j]))})
		}
		c.Rows = append(c.Rows, row)
	}
	c.AxisY = 4 + len(t.Series)*laneH + 2
	c.Height = c.AxisY + 16
	return c
}

func per(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d == time.Minute:
		return "minute"
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}
