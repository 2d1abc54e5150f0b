package asff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/reports"
)

// ProductFields point back to the hunt, the run and the evidence. Keys are stable for consumers
// (Security Hub filters, SIEM rules):
//
//	lakehunt/FindingId lakehunt/HuntId lakehunt/HuntVersion lakehunt/HuntTitle lakehunt/SqlHash
//	lakehunt/RunId lakehunt/ToolVersion lakehunt/GitRevision lakehunt/Entity lakehunt/EventCount
//	lakehunt/Window lakehunt/Tactics lakehunt/Techniques lakehunt/Report
//	lakehunt/SourceRegion     the finding's region when it is not an AWS region name (Region is then the import region)
//	lakehunt/Field/<column>   the hunt's result row, one pair per column
//	lakehunt/Evidence/NN      one evidence row as JSON {time, table, source, row}
//	lakehunt/EvidenceNote     what of the evidence is (not) here, and where the rest is
const (
	maxResultFields = 15
	keyNote         = "lakehunt/EvidenceNote"
	keySourceRegion = "lakehunt/SourceRegion"
)

type kv struct {
	k, v string
	cut  shortened // what of the value was cut to fit
}

// shortened says which values of a result column or an evidence row were cut, and to what length.
type shortened struct {
	cols  []string // the columns whose values were cut
	limit int      // to this many characters
	whole bool     // the row's text itself was cut (a row with very many columns)
}

type productFields struct {
	fixed    []kv
	fields   []kv // result columns kept
	evidence []kv // evidence rows kept
	// for the note
	huntNote                   string
	runID                      string
	totalFields, totalEvidence int
	detailsDropped             bool
}

// changes says what of the evidence ASFF does not hold as it is: what was dropped (rows, columns) and
// what was shortened (values cut, per column).
func (p *productFields) changes() (dropped, short []string) {
	if len(p.evidence) < p.totalEvidence {
		dropped = append(dropped, fmt.Sprintf("kept %d of %d evidence rows", len(p.evidence), p.totalEvidence))
	}
	if len(p.fields) < p.totalFields {
		dropped = append(dropped, fmt.Sprintf("kept %d of %d result columns", len(p.fields), p.totalFields))
	}
	for _, g := range []struct {
		what string
		kvs  []kv
	}{{"result", p.fields}, {"evidence", p.evidence}} {
		n, wholeRows, minLim, maxLim := 0, 0, 0, 0
		cols := map[string]bool{}
		for _, e := range g.kvs {
			if e.cut.whole {
				wholeRows++
			}
			if len(e.cut.cols) == 0 {
				continue
			}
			n += len(e.cut.cols)
			for _, c := range e.cut.cols {
				cols[c] = true
			}
			if minLim == 0 || e.cut.limit < minLim {
				minLim = e.cut.limit
			}
			maxLim = max(maxLim, e.cut.limit)
		}
		if n > 0 {
			limit := strconv.Itoa(maxLim)
			if minLim != maxLim {
				limit = fmt.Sprintf("%d-%d", minLim, maxLim)
			}
			short = append(short, fmt.Sprintf("%d %s %s cut to %s characters (%s %s)", n, g.what, plural(n, "value", "values"), limit,
				plural(len(cols), "column", "columns"), strings.Join(slices.Sorted(maps.Keys(cols)), ", ")))
		}
		if wholeRows > 0 {
			short = append(short, fmt.Sprintf("%d evidence %s cut to %d characters", wholeRows, plural(wholeRows, "row", "rows"), maxFieldValue))
		}
	}
	return dropped, short
}

// summary is changes as one text, "" when the evidence is all there as it is.
func (p *productFields) summary() string {
	dropped, short := p.changes()
	var parts []string
	if len(dropped) > 0 {
		parts = append(parts, "evidence truncated: "+strings.Join(dropped, ", "))
	}
	if len(short) > 0 {
		parts = append(parts, "evidence shortened: "+strings.Join(short, "; "))
	}
	return strings.Join(parts, "; ")
}

func (p *productFields) note() string {
	var parts []string
	if p.huntNote != "" {
		parts = append(parts, "hunt: "+p.huntNote)
	}
	s := p.summary()
	if p.detailsDropped {
		s = strings.TrimPrefix(s+"; resource details removed to stay under 240 KB", "; ")
	}
	if s != "" {
		parts = append(parts, "for ASFF, "+s+"; the full evidence is in findings.jsonl and report.html of run "+p.runID)
	}
	note, _ := reports.Truncate(strings.Join(parts, ". "), maxFieldValue)
	return note
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (p *productFields) asMap() map[string]string {
	m := make(map[string]string, len(p.fixed)+len(p.fields)+len(p.evidence)+1)
	for _, group := range [][]kv{p.fixed, p.fields, p.evidence} {
		for _, e := range group {
			m[e.k] = e.v
		}
	}
	if n := p.note(); n != "" {
		m[keyNote] = n
	}
	return m
}

func (b *builder) productFields() *productFields {
	f := b.f
	p := &productFields{huntNote: f.EvidenceNote, runID: b.run.ID, totalFields: len(f.Fields), totalEvidence: len(f.Evidence)}
	put := func(k, v string) {
		if strings.TrimSpace(v) != "" {
			p.fixed = append(p.fixed, kv{k: k, v: b.text("ProductFields["+k+"]", v, maxFieldValue)})
		}
	}
	put("lakehunt/FindingId", f.ID)
	put("lakehunt/HuntId", f.HuntID)
	put("lakehunt/HuntVersion", strconv.Itoa(f.HuntVersion))
	put("lakehunt/HuntTitle", f.HuntTitle)
	put("lakehunt/SqlHash", f.SQLHash)
	put("lakehunt/RunId", b.run.ID)
	put("lakehunt/ToolVersion", b.run.ToolVersion)
	put("lakehunt/GitRevision", b.run.GitRevision)
	if f.Entity.Key != "" {
		put("lakehunt/Entity", f.Entity.Type+": "+f.Entity.Key)
	}
	put("lakehunt/EventCount", strconv.FormatInt(f.Count, 10))
	if !f.WindowStart.IsZero() || !f.WindowEnd.IsZero() {
		put("lakehunt/Window", stamp(f.WindowStart)+"/"+stamp(f.WindowEnd))
	}
	put("lakehunt/Tactics", strings.Join(f.Tactics, ", "))
	put("lakehunt/Techniques", strings.Join(f.Techniques, ", "))
	put(keySourceRegion, b.sourceRegion)
	if b.opts.ReportURL != "" {
		put("lakehunt/Report", b.reportLink())
	} else {
		put("lakehunt/Report", reports.ReportFile+"#"+reports.Anchor(f.ID))
	}

	budget := maxFieldPairs - len(p.fixed) - 1 // one pair for the note
	cols := make([]string, 0, len(f.Fields))
	for c := range f.Fields {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	for _, c := range cols {
		if len(p.fields) == maxResultFields || len(p.fields) == budget {
			break
		}
		v := valueText(f.Fields[c])
		if strings.TrimSpace(v) == "" {
			v = "(empty)"
		}
		k, _ := reports.Truncate("lakehunt/Field/"+c, maxFieldKey)
		e := kv{k: k}
		var cut bool
		if e.v, cut = reports.Truncate(v, maxFieldValue); cut {
			e.cut = shortened{cols: []string{c}, limit: maxFieldValue}
		}
		p.fields = append(p.fields, e)
	}
	budget -= len(p.fields)
	for i, e := range f.Evidence {
		if i == budget {
			break
		}
		v, cut := evidenceText(e.Time, e.Table, e.SourceKey, e.SourceLine, e.Row)
		p.evidence = append(p.evidence, kv{fmt.Sprintf("lakehunt/Evidence/%02d", i+1), v, cut})
	}
	return p
}

// fit keeps the encoded finding under MaxFindingBytes: first resource details go (as Security Hub itself
// does), then evidence rows from the end, each time with a note saying so.
func (b *builder) fit(af *types.AwsSecurityFinding, p *productFields) error {
	for {
		raw, err := Marshal(*af)
		if err != nil {
			return err
		}
		if len(raw) <= MaxFindingBytes {
			if s := p.summary(); s != "" {
				b.warn("ProductFields", "%s", s)
			}
			return nil
		}
		switch {
		case !p.detailsDropped && hasDetails(af.Resources):
			for i := range af.Resources {
				af.Resources[i].Details = nil
			}
			p.detailsDropped = true
			b.warn("Resources.Details", "removed: the finding was %d bytes, over the 240 KB limit", len(raw))
		case len(p.evidence) > 0:
			p.evidence = p.evidence[:len(p.evidence)-1]
		case len(p.fields) > 0:
			p.fields = p.fields[:len(p.fields)-1]
		default:
			return fmt.Errorf("the finding is %d bytes even without evidence, over Security Hub's 240 KB limit", len(raw))
		}
		af.ProductFields = p.asMap()
	}
}

func hasDetails(rs []types.Resource) bool {
	for _, r := range rs {
		if r.Details != nil {
			return true
		}
	}
	return false
}

// valueText is a result value as text: strings as they are, everything else as JSON.
func valueText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}

func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// evidenceText is one evidence row as JSON within maxFieldValue characters. Long values are shortened
// first so the text stays valid JSON; only a row with very many columns is cut as text.
func evidenceText(t time.Time, table, source string, line int64, row map[string]any) (string, shortened) {
	if line > 0 {
		source += "#" + strconv.FormatInt(line, 10)
	}
	ev := map[string]any{"time": stamp(t), "row": row}
	if table != "" {
		ev["table"] = table
	}
	if source != "" {
		ev["source"] = source
	}
	s := jsonText(ev)
	if len([]rune(s)) <= maxFieldValue {
		return s, shortened{}
	}
	var cut shortened
	for _, limit := range []int{512, 128, 32} {
		cut = shortened{limit: limit}
		short := make(map[string]any, len(row))
		for k, v := range row {
			var c bool
			if short[k], c = reports.Truncate(valueText(v), limit); c {
				cut.cols = append(cut.cols, k)
			}
		}
		ev["row"] = short
		if s = jsonText(ev); len([]rune(s)) <= maxFieldValue {
			return s, cut
		}
	}
	s, _ = reports.Truncate(s, maxFieldValue)
	cut.whole = true
	return s, cut
}
