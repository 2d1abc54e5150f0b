// Package investigate reads the lake for entity pages (package reports/entity) through the hunts'
// sandboxed DuckDB session: read-only, the lake's files and nothing else. Each table that can mention an
// entity is a Source in a registry keyed by table, so a new table adds one entry.
package investigate

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

// DefaultHistory is how far before the window a page looks for what is usual for the entity.
const DefaultHistory = 30 * 24 * time.Hour

// Limits on what one page shows, so a busy entity (a NAT gateway's IP) still gives a readable page.
const (
	maxEvidence  = 100 // raw rows per table
	maxSeries    = 8   // activities drawn per table; the rest are summed as "other"
	maxTop       = 15  // activities listed per table
	maxNewValues = 25  // new values listed per dimension
)

// Span is the time a page covers: the window its activity is shown for, [From, To), and the history
// "new" is measured against, [HistoryFrom, From).
type Span struct {
	HistoryFrom, From, To time.Time
}

// Investigator reads the lake for pages over one span.
type Investigator struct {
	span        Span
	lk          *lake.Lake
	snap        *lake.Snapshot
	limits      engine.Limits
	lakeVersion int64
	lakeURL     string
}

// Open reads the lake's file list for pages over span. Each call of Pages then reads, in a DuckDB session
// of its own locked like a hunt's and within limits, the files of the tables its entities can be in
// (for an S3 lake only those are fetched: a run about principals fetches no flow logs).
func Open(ctx context.Context, lk *lake.Lake, span Span, limits engine.Limits) (*Investigator, error) {
	span = Span{HistoryFrom: span.HistoryFrom.UTC(), From: span.From.UTC(), To: span.To.UTC()}
	if !span.From.Before(span.To) || span.HistoryFrom.After(span.From) {
		return nil, fmt.Errorf("entity pages: the window %s – %s is empty or starts before its history (%s)",
			span.From.Format(time.RFC3339), span.To.Format(time.RFC3339), span.HistoryFrom.Format(time.RFC3339))
	}
	if _, err := limits.WithDefaults(); err != nil {
		return nil, err
	}
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &Investigator{span: span, lk: lk, snap: snap, limits: limits, lakeVersion: snap.Version, lakeURL: lk.URL()}, nil
}

// Request is one page: the entity, and the findings to look through for the ones about it.
type Request struct {
	Entity       group.Link
	Findings     []lake.Finding
	FindingsFrom string       // where the findings came from, as the page says it ("run 2026-…", "3 run directories")
	InRun        bool         // the page is in a run directory's entities/ (links to the report)
	Siblings     []group.Link // the other entities with pages beside it
}

// files returns the local files of each source table some request's entity can be in, among the
// tables the lake holds. A table with no files in the span gets none: its pages say it had no data.
func (iv *Investigator) files(ctx context.Context, reqs []Request) (map[string][]string, error) {
	files := map[string][]string{}
	for _, s := range sources {
		if _, err := lake.LookupTable(s.Table); err != nil {
			continue // a source for a table this build does not have
		}
		if iv.snap.Stats(s.Table).Files == 0 {
			continue // a table this lake has never held (it gets no WAF logs, say): not on the page
		}
		if !slices.ContainsFunc(reqs, func(r Request) bool { return s.Match(r.Entity) != "" }) {
			continue
		}
		paths, err := iv.lk.LocalPaths(ctx, iv.snap.FilesFor(s.Table, iv.span.HistoryFrom, iv.span.To))
		if err != nil {
			return nil, err
		}
		files[s.Table] = paths
	}
	return files, nil
}

// Build reads what the lake says about one entity and picks the findings and groups that involve it.
func (iv *Investigator) Build(ctx context.Context, r Request) (*entity.Page, error) {
	ps, err := iv.Pages(ctx, []Request{r})
	if err != nil {
		return nil, err
	}
	return ps[0], nil
}

// Pages builds a page per request in one DuckDB session. Each table is read twice for all the entities
// at once (a run's pages would otherwise read the lake once per entity): the window's rows about them, with
// only the columns the page reads, and the history summarised to the values each entity had (so the
// history's rows, most of them, are never kept). Each page's questions are then asked of its entity's
// share of those. The session's time limit covers all pages.
func (iv *Investigator) Pages(ctx context.Context, reqs []Request) ([]*entity.Page, error) {
	for _, r := range reqs {
		if r.Entity.Value == "" || strings.IndexByte(r.Entity.Value, 0) >= 0 {
			return nil, fmt.Errorf("entity %q: the value is empty or holds a NUL byte", safetext.Line(r.Entity.String()))
		}
	}
	w := engine.Window{Start: iv.span.From, End: iv.span.To, BaselineStart: iv.span.HistoryFrom}
	files, err := iv.files(ctx, reqs)
	if err != nil {
		return nil, err
	}
	sess, err := engine.NewSession(ctx, files, iv.limits)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	pages := make([]*entity.Page, len(reqs))
	for i, r := range reqs {
		pages[i] = &entity.Page{Entity: r.Entity, From: w.Start, To: w.End, HistoryFrom: w.BaselineStart,
			FindingsFrom: r.FindingsFrom, InRun: r.InRun, Siblings: r.Siblings, LakeURL: iv.lakeURL, LakeVersion: iv.lakeVersion, Generated: time.Now().UTC()}
		pages[i].Findings, pages[i].Groups = entity.Involving(r.Entity, r.Findings)
	}
	for _, s := range sources {
		paths, ok := files[s.Table]
		if !ok {
			continue
		}
		var ents []group.Link // the k-th entity about which the table's rows are read is ents[k-1]
		var of []int          // its request
		for i, r := range reqs {
			if s.Match(r.Entity) != "" {
				ents, of = append(ents, r.Entity), append(of, i)
			}
		}
		if len(ents) == 0 {
			continue
		}
		has := len(paths) > 0
		if has {
			if err := keep(ctx, sess, s, ents, w); err != nil {
				return nil, fmt.Errorf("read %s: %w", s.Table, err)
			}
		}
		for j, e := range ents {
			t := entity.Table{Name: s.Table, Title: s.Title, NoFiles: !has}
			if has {
				if err := table(ctx, sess, s, e, j+1, w, &t); err != nil {
					return nil, fmt.Errorf("entity %s, table %s: %w", e, s.Table, err)
				}
			}
			p := pages[of[j]]
			p.Tables = append(p.Tables, t)
			if !t.FirstSeen.IsZero() && (p.FirstSeen.IsZero() || t.FirstSeen.Before(p.FirstSeen)) {
				p.FirstSeen = t.FirstSeen
			}
			if t.LastSeen.After(p.LastSeen) {
				p.LastSeen = t.LastSeen
			}
		}
	}
	return pages, nil
}

// keep reads the table for the entities ents (the k-th is ents[k-1]) into two temp tables:
//   - window_rows: the window's rows about them, with k, and the columns Activity, Dims and Evidence read;
//   - history_values: per k, each dimension's values in the history (d = the dimension's index + 1), and a
//     row with d = 0 and no value that counts the history's rows and their first and last time.
func keep(ctx context.Context, sess *engine.Session, s Source, ents []group.Link, w engine.Window) error {
	// Entities of a kind with a narrowing condition are matched only on the rows that meet it; it is
	// computed once per row (narrow_<i>), not once per entity.
	var kinds []string
	byKind := map[string][]string{}
	for _, e := range ents {
		if _, ok := byKind[e.Kind]; !ok {
			kinds = append(kinds, e.Kind)
		}
		byKind[e.Kind] = append(byKind[e.Kind], e.Value)
	}
	narrow := map[string]string{}
	sel := "*"
	for i, kind := range kinds {
		if s.Narrow == nil {
			break
		}
		if n := s.Narrow(kind, byKind[kind]); n != "" {
			narrow[kind] = fmt.Sprintf("narrow_%d", i)
			sel += fmt.Sprintf(", (%s) AS %s", n, narrow[kind])
		}
	}
	var matches, ks []string
	for k, e := range ents {
		m := "(" + s.Match(e) + ")"
		if col, ok := narrow[e.Kind]; ok {
			m = "(" + col + " AND " + m + ")"
		}
		matches = append(matches, m)
		ks = append(ks, fmt.Sprintf("CASE WHEN %s THEN %d END", m, k+1))
	}
	about := func(from, to time.Time) string {
		rows := fmt.Sprintf("SELECT %s FROM %s WHERE event_time >= %s AND event_time < %s", sel, s.Table, timestamp(from), timestamp(to))
		return fmt.Sprintf("SELECT *, unnest(list_filter([%s], lambda k: k IS NOT NULL)) AS k FROM (%s) WHERE %s",
			strings.Join(ks, ", "), rows, strings.Join(matches, " OR "))
	}
	cols, err := s.reads(ents)
	if err != nil {
		return err
	}
	q := fmt.Sprintf("CREATE OR REPLACE TEMP TABLE window_rows AS SELECT k, %s FROM (%s)", strings.Join(cols, ", "), about(w.Start, w.End))
	if err := sess.QueryRows(ctx, q, func(*sql.Rows) error { return nil }); err != nil {
		return err
	}
	values := []string{"[{'d': 0, 'v': NULL::VARCHAR}]"}
	for i, d := range s.Dims {
		expr := perEntity(ents, d.Expr)
		if d.List {
			values = append(values, fmt.Sprintf("list_transform(%s, lambda v: {'d': %d, 'v': v::VARCHAR})", expr, i+1))
		} else {
			values = append(values, fmt.Sprintf("[{'d': %d, 'v': (%s)::VARCHAR}]", i+1, expr))
		}
	}
	q = fmt.Sprintf(`CREATE OR REPLACE TEMP TABLE history_values AS
SELECT k, x.d AS d, x.v AS v, count(*) AS n, min(event_time) AS first_time, max(event_time) AS last_time
FROM (SELECT k, event_time, unnest(flatten([%s])) AS x FROM (%s)) GROUP BY ALL`, strings.Join(values, ", "), about(w.BaselineStart, w.Start))
	return sess.QueryRows(ctx, q, func(*sql.Rows) error { return nil })
}

// perEntity is expr for each entity as one SQL expression over rows with k: one branch per distinct
// expression (most are the same for every entity).
func perEntity(ents []group.Link, expr func(group.Link) string) string {
	var exprs []string
	ks := map[string][]string{}
	for k, e := range ents {
		x := expr(e)
		if _, ok := ks[x]; !ok {
			exprs = append(exprs, x)
		}
		ks[x] = append(ks[x], fmt.Sprint(k+1))
	}
	if len(exprs) == 1 {
		return exprs[0]
	}
	var b strings.Builder
	b.WriteString("CASE")
	for _, x := range exprs {
		fmt.Fprintf(&b, " WHEN k IN (%s) THEN (%s)", strings.Join(ks[x], ", "), x)
	}
	b.WriteString(" END")
	return b.String()
}

// table reads what one table says about the k-th entity e, from the rows and values keep kept.
func table(ctx context.Context, sess *engine.Session, s Source, e group.Link, k int, w engine.Window, t *entity.Table) error {
	res, err := sess.Query(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM window_rows WHERE k = %[1]d), n, least(w_first, h_first), greatest(w_last, h_last)
FROM (SELECT min(event_time) AS w_first, max(event_time) AS w_last FROM window_rows WHERE k = %[1]d),
     (SELECT coalesce(sum(n), 0) AS n, min(first_time) AS h_first, max(last_time) AS h_last FROM history_values WHERE k = %[1]d AND d = 0)`, k), w)
	if err != nil {
		return err
	}
	row := res.Rows[0]
	t.Rows, t.HistoryRows = toInt(row[0]), toInt(row[1])
	t.FirstSeen, t.LastSeen = toTime(row[2]), toTime(row[3])
	if t.Rows == 0 {
		return nil
	}
	from := fmt.Sprintf("FROM window_rows WHERE k = %d", k)
	if err := activity(ctx, sess, s, e, from, w, t); err != nil {
		return err
	}
	if err := newValues(ctx, sess, s, e, k, from, w, t); err != nil {
		return err
	}
	return evidence(ctx, sess, s, from, w, t)
}

func timestamp(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

// bucketSize divides a window into at most 60 buckets of a whole number of hours (or minutes, for a
// window under a day), so the chart's columns fall on clock boundaries.
func bucketSize(window time.Duration) time.Duration {
	unit := time.Hour
	if window < 24*time.Hour {
		unit = time.Minute
	}
	n := (window/60 + unit - 1) / unit
	return max(n, 1) * unit
}

// activity lists the busiest activities and counts the busiest few per bucket, the rest as one "other"
// series: an IP that talks to a hundred thousand peers still gives a few hundred rows.
func activity(ctx context.Context, sess *engine.Session, s Source, e group.Link, from string, w engine.Window, t *entity.Table) error {
	t.Bucket = bucketSize(w.End.Sub(w.Start))
	for b := w.Start; b.Before(w.End); b = b.Add(t.Bucket) {
		t.Buckets = append(t.Buckets, b)
	}
	acts := fmt.Sprintf("SELECT coalesce(%s, '(none)') AS a, event_time %s", s.Activity(e), from)
	top := fmt.Sprintf("SELECT a, count(*) AS n, min(event_time), max(event_time), count(*) OVER () FROM (%s) GROUP BY a ORDER BY n DESC, a LIMIT %d", acts, maxTop)
	res, err := sess.Query(ctx, top, w)
	if err != nil {
		return err
	}
	distinct := int64(0)
	for _, row := range res.Rows {
		t.Top = append(t.Top, entity.Activity{Label: engine.Format(row[0]), Count: toInt(row[1]), First: toTime(row[2]), Last: toTime(row[3])})
		distinct = toInt(row[4])
	}
	series := t.Top[:min(len(t.Top), maxSeries)]
	idx := map[string]int{}
	for i, a := range series {
		idx[a.Label] = i
		t.Series = append(t.Series, entity.Series{Label: a.Label, Counts: make([]int64, len(t.Buckets)), Total: a.Count})
	}
	other := distinct > int64(len(series))
	if other {
		t.Series = append(t.Series, entity.Series{Label: fmt.Sprintf("%d other", distinct-int64(len(series))), Counts: make([]int64, len(t.Buckets))})
	}
	q := fmt.Sprintf(`WITH x AS (%s), top AS (SELECT a FROM x GROUP BY a ORDER BY count(*) DESC, a LIMIT %d)
SELECT b, label, count(*) FROM (SELECT CAST(floor((epoch(event_time) - epoch($window_start)) / %d) AS BIGINT) AS b,
       CASE WHEN a IN (SELECT a FROM top) THEN a END AS label FROM x) GROUP BY ALL`, acts, maxSeries, int64(t.Bucket/time.Second))
	res, err = sess.Query(ctx, q, w)
	if err != nil {
		return err
	}
	for _, row := range res.Rows {
		b, n := toInt(row[0]), toInt(row[2])
		if b < 0 || int(b) >= len(t.Buckets) {
			continue
		}
		i, ok := idx[engine.Format(row[1])]
		if row[1] == nil || !ok { // activities are never NULL: NULL is "not among the busiest"
			if !other {
				continue
			}
			i = len(t.Series) - 1
			t.Series[i].Total += n
		}
		t.Series[i].Counts[b] += n
	}
	return nil
}

func newValues(ctx context.Context, sess *engine.Session, s Source, e group.Link, k int, from string, w engine.Window, t *entity.Table) error {
	if t.HistoryRows == 0 {
		return nil // with no history everything is new: the page says so instead of listing it all
	}
	for i, d := range s.Dims {
		if d.Of == e.Kind {
			continue
		}
		expr := d.Expr(e)
		if d.List {
			expr = "unnest(" + expr + ")"
		}
		q := fmt.Sprintf(`WITH w AS (SELECT %[1]s AS v, event_time %[2]s),
h AS (SELECT v FROM history_values WHERE k = %[4]d AND d = %[5]d)
SELECT v, min(event_time) AS first, count(*) AS n, count(*) OVER () AS total FROM w
WHERE v IS NOT NULL AND v <> '' AND NOT EXISTS (SELECT 1 FROM h WHERE h.v = w.v::VARCHAR)
GROUP BY v ORDER BY first, v LIMIT %[3]d`, expr, from, maxNewValues, k, i+1)
		res, err := sess.Query(ctx, q, w)
		if err != nil {
			return fmt.Errorf("new %s: %w", d.Name, err)
		}
		nv := entity.NewValues{Dim: d.Name}
		for _, row := range res.Rows {
			nv.Values = append(nv.Values, entity.NewValue{Value: engine.Format(row[0]), First: toTime(row[1]), Count: toInt(row[2])})
			nv.More = toInt(row[3]) - int64(len(res.Rows))
		}
		t.New = append(t.New, nv)
	}
	return nil
}

func evidence(ctx context.Context, sess *engine.Session, s Source, from string, w engine.Window, t *entity.Table) error {
	q := fmt.Sprintf("SELECT event_time, %s, source_key, source_line %s ORDER BY event_time, source_key, source_line LIMIT %d",
		strings.Join(s.Evidence, ", "), from, maxEvidence)
	res, err := sess.Query(ctx, q, w)
	if err != nil {
		return err
	}
	t.EvidenceCols = s.Evidence
	for _, row := range res.Rows {
		ev := entity.Evidence{Time: toTime(row[0]), SourceKey: engine.Format(row[len(row)-2]), SourceLine: toInt(row[len(row)-1])}
		for _, v := range row[1 : len(row)-2] {
			ev.Cells = append(ev.Cells, engine.Format(v))
		}
		t.Evidence = append(t.Evidence, ev)
	}
	if t.Rows > int64(len(t.Evidence)) {
		t.EvidenceNote = fmt.Sprintf("the first %d of %d rows", len(t.Evidence), t.Rows)
	}
	return nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}

func toTime(v any) time.Time {
	if t, ok := v.(time.Time); ok {
		return t.UTC()
	}
	return time.Time{}
}
