package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
)

// Program is a hunt compiled against the columns its query returns: expr-lang programs compiled once,
// output mapping checked. Compile it once per run and apply it to every row.
type Program struct {
	hunt       *huntfile.Hunt
	cols       []Column
	index      map[string]int
	filter     *vm.Program
	severity   *vm.Program
	suppress   []suppression
	evidenceAt int
}

type suppression struct {
	prog *vm.Program
	huntfile.Suppression
	expires time.Time
}

var placeholderRE = regexp.MustCompile(`\{\{\s*([^}]*?)\s*\}\}`)

// Placeholders lists the column names a template refers to as {{column}}.
func Placeholders(tmpl string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(tmpl, -1) {
		out = append(out, m[1])
	}
	return out
}

// Compile checks the output mapping against the result columns and compiles the expressions.
// Every problem comes back as a diagnostic at the hunt file line it concerns; the program is usable
// only when there are no errors (warnings, e.g. an expired suppression, are fine).
func Compile(h *huntfile.Hunt, cols []Column, now time.Time) (*Program, []huntfile.Diagnostic) {
	p := &Program{hunt: h, cols: cols, index: map[string]int{}, evidenceAt: -1}
	for i, c := range cols {
		p.index[c.Name] = i
	}
	var diags []huntfile.Diagnostic
	errAt := func(msg string, path ...string) { diags = append(diags, h.At(msg, path...)) }
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	known := strings.Join(names, ", ")
	need := func(col string, path ...string) (Column, bool) {
		i, ok := p.index[col]
		if !ok {
			errAt(fmt.Sprintf("%s: column %q is not in the query result (columns: %s)", strings.Join(path, "."), col, known), path...)
			return Column{}, false
		}
		return cols[i], true
	}
	o := h.Output
	need(o.Entity.Key, "output", "entity", "key")
	for i, q := range o.Entity.Qualifiers {
		need(q, "output", "entity", "qualifiers", strconv.Itoa(i))
	}
	need(o.Account, "output", "account")
	need(o.Region, "output", "region")
	for _, tc := range []struct{ col, key string }{{o.FirstSeen, "first_seen"}, {o.LastSeen, "last_seen"}} {
		if c, ok := need(tc.col, "output", tc.key); ok && !strings.HasPrefix(c.Type, "TIMESTAMP") {
			errAt(fmt.Sprintf("output.%s: column %q is %s; it must be a TIMESTAMP (e.g. min(event_time))", tc.key, tc.col, c.Type), "output", tc.key)
		}
	}
	if c, ok := need(o.Count, "output", "count"); ok && !isInteger(c.Type) {
		errAt(fmt.Sprintf("output.count: column %q is %s; it must be an integer (e.g. count(*))", o.Count, c.Type), "output", "count")
	}
	for i, f := range o.Fields {
		need(f, "output", "fields", strconv.Itoa(i))
	}
	if c, ok := need(o.Evidence, "output", "evidence"); ok {
		if msg := checkEvidenceType(c.Type); msg != "" {
			errAt(fmt.Sprintf("output.evidence: column %q is %s; %s", o.Evidence, c.Type, msg), "output", "evidence")
		} else {
			p.evidenceAt = p.index[o.Evidence]
		}
	}
	checkTemplate := func(tmpl string, path ...string) {
		for _, ph := range Placeholders(tmpl) {
			if _, ok := p.index[ph]; !ok {
				errAt(fmt.Sprintf("%s: template refers to {{%s}}, which is not a result column (columns: %s)", strings.Join(path, "."), ph, known), path...)
			}
		}
	}
	checkTemplate(o.Title, "output", "title")
	checkTemplate(o.Description, "output", "description")
	for i, r := range o.Resources {
		checkTemplate(r.Type, "output", "resources", strconv.Itoa(i), "type")
		checkTemplate(r.ID, "output", "resources", strconv.Itoa(i), "id")
		checkTemplate(r.Region, "output", "resources", strconv.Itoa(i), "region")
	}

	env := p.zeroEnv()
	compile := func(src string, kind reflect.Kind, path ...string) *vm.Program {
		opts := []expr.Option{expr.Env(env)}
		if kind == reflect.Bool {
			opts = append(opts, expr.AsBool())
		} else {
			opts = append(opts, expr.AsKind(kind))
		}
		prog, err := expr.Compile(src, opts...)
		if err != nil {
			errAt(fmt.Sprintf("%s: %s", strings.Join(path, "."), oneLine(err.Error())), path...)
			return nil
		}
		return prog
	}
	if strings.TrimSpace(h.Filter) != "" {
		p.filter = compile(h.Filter, reflect.Bool, "filter")
	}
	if h.Severity.Expr != "" {
		p.severity = compile(h.Severity.Expr, reflect.String, "severity", "expr")
	}
	for i, s := range h.Suppressions {
		path := []string{"suppressions", strconv.Itoa(i)}
		exp, err := s.ExpiresAt()
		if err != nil {
			errAt(err.Error(), append(path, "expires")...)
			continue
		}
		prog := compile(s.Match, reflect.Bool, append(path, "match")...)
		if prog == nil {
			continue
		}
		if !now.Before(exp) {
			d := h.At(fmt.Sprintf("suppression owned by %s expired on %s and no longer applies: renew or remove it", s.Owner, s.Expires), append(path, "expires")...)
			d.Warning = true
			diags = append(diags, d)
			continue
		}
		p.suppress = append(p.suppress, suppression{prog: prog, Suppression: s, expires: exp})
	}
	return p, diags
}

func oneLine(s string) string {
	// expr errors end with the source line and a caret; the message comes first.
	first, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(first)
}

func isInteger(t string) bool {
	switch t {
	case "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT":
		return true
	}
	return false
}

// checkEvidenceType requires a LIST of STRUCT carrying lineage: event_time, source_key, source_line.
func checkEvidenceType(t string) string {
	const want = "it must be a list of structs with event_time, source_key and source_line, e.g. " +
		"list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line, 'event_name': event_name} ORDER BY event_time)"
	if !strings.HasPrefix(t, "STRUCT(") || !strings.HasSuffix(t, ")[]") {
		return want
	}
	for _, f := range [][2]string{{"event_time", "TIMESTAMP"}, {"source_key", "VARCHAR"}, {"source_line", "BIGINT"}} {
		if !strings.Contains(t, `"`+f[0]+`" `+f[1]) && !strings.Contains(t, f[0]+" "+f[1]) {
			return want + " (missing " + f[0] + " " + f[1] + ")"
		}
	}
	return ""
}

func zeroOf(t string) any {
	switch {
	case strings.HasSuffix(t, "[]"):
		return []any{}
	case strings.HasPrefix(t, "STRUCT(") || strings.HasPrefix(t, "MAP("):
		return map[string]any{}
	case t == "VARCHAR" || t == "JSON" || t == "UUID" || strings.HasPrefix(t, "ENUM"):
		return ""
	case isInteger(t):
		return int64(0)
	case t == "DOUBLE" || t == "FLOAT" || strings.HasPrefix(t, "DECIMAL"):
		return float64(0)
	case t == "BOOLEAN":
		return false
	case strings.HasPrefix(t, "TIMESTAMP") || t == "DATE":
		return time.Time{}
	}
	return nil
}

func (p *Program) zeroEnv() map[string]any {
	env := make(map[string]any, len(p.cols))
	for _, c := range p.cols {
		env[c.Name] = zeroOf(c.Type)
	}
	return env
}

// rowEnv is the expr environment of one row; NULL becomes the column type's zero value, so an
// expression such as `errors > 5` is false on NULL instead of a runtime error.
func (p *Program) rowEnv(row []any) map[string]any {
	env := make(map[string]any, len(p.cols))
	for i, c := range p.cols {
		if row[i] == nil {
			env[c.Name] = zeroOf(c.Type)
		} else {
			env[c.Name] = row[i]
		}
	}
	return env
}

// FindingID is hex(sha256(hunt id, entity type, entity key, qualifiers, window))[:32]. The hunt version
// is deliberately left out: a new version of a hunt updates the findings of the old one.
func FindingID(huntID, entityType, entityKey string, qualifiers []string, start, end time.Time) string {
	h := sha256.New()
	parts := append([]string{huntID, entityType, entityKey}, qualifiers...)
	parts = append(parts, start.UTC().Format(time.RFC3339Nano), end.UTC().Format(time.RFC3339Nano))
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Outcome is what a hunt's rows turned into.
type Outcome struct {
	Findings   []lake.Finding
	Suppressed int
	Filtered   int
}

// Findings maps the result rows to findings.
func (p *Program) Findings(res *Result, w Window, now time.Time) (*Outcome, error) {
	h := p.hunt
	o := h.Output
	out := &Outcome{}
	byID := map[string]int{}
	sqlHash := h.SQLHash()
	for rowNum, row := range res.Rows {
		env := p.rowEnv(row)
		if p.filter != nil {
			keep, err := expr.Run(p.filter, env)
			if err != nil {
				return nil, fmt.Errorf("filter on row %d: %v", rowNum+1, oneLine(err.Error()))
			}
			if keep != true {
				out.Filtered++
				continue
			}
		}
		suppressed := false
		for _, s := range p.suppress {
			m, err := expr.Run(s.prog, env)
			if err != nil {
				return nil, fmt.Errorf("suppression owned by %s on row %d: %v", s.Owner, rowNum+1, oneLine(err.Error()))
			}
			if m == true {
				suppressed = true
				break
			}
		}
		if suppressed {
			out.Suppressed++
			continue
		}
		key := Format(row[p.index[o.Entity.Key]])
		if key == "" {
			return nil, fmt.Errorf("row %d: the entity key column %q is empty; filter such rows out in the query", rowNum+1, o.Entity.Key)
		}
		var quals []string
		for _, q := range o.Entity.Qualifiers {
			quals = append(quals, Format(row[p.index[q]]))
		}
		f := lake.Finding{
			ID:          FindingID(h.ID, o.Entity.Type, key, quals, w.Start, w.End),
			HuntID:      h.ID,
			HuntVersion: h.Version,
			HuntTitle:   h.Title,
			SQLHash:     sqlHash,
			Severity:    h.Severity.Label,
			Title:       truncate(p.render(o.Title, row, safetext.Line), 256),
			Description: p.render(o.Description, row, safetext.Line),
			Entity:      lake.Entity{Type: o.Entity.Type, Key: key},
			AccountID:   first(row[p.index[o.Account]]),
			Region:      first(row[p.index[o.Region]]),
			WindowStart: w.Start.UTC(),
			WindowEnd:   w.End.UTC(),
			Tactics:     h.Attack.Tactics,
			Techniques:  h.Attack.Techniques,
			Types:       o.Types,
			CreatedAt:   now.UTC(),
		}
		if t, ok := row[p.index[o.FirstSeen]].(time.Time); ok {
			f.FirstSeen = t
		}
		if t, ok := row[p.index[o.LastSeen]].(time.Time); ok {
			f.LastSeen = t
		}
		if n, ok := row[p.index[o.Count]].(int64); ok {
			f.Count = n
		}
		if p.severity != nil {
			v, err := expr.Run(p.severity, env)
			if err != nil {
				return nil, fmt.Errorf("severity on row %d: %v", rowNum+1, oneLine(err.Error()))
			}
			if label, _ := v.(string); label != "" {
				if lake.SeverityRank(label) == 0 && label != lake.SeverityInformational {
					return nil, fmt.Errorf("severity on row %d returned %q; return one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL (or \"\" for the default)", rowNum+1, label)
				}
				f.Severity = label
			}
		}
		if len(o.Fields) > 0 {
			f.Fields = map[string]any{}
			for _, c := range o.Fields {
				f.Fields[c] = row[p.index[c]]
			}
		}
		for _, r := range o.Resources {
			f.Resources = append(f.Resources, lake.Resource{Type: p.render(r.Type, row, raw), ID: p.render(r.ID, row, raw), Region: p.render(r.Region, row, raw)})
		}
		if p.evidenceAt >= 0 {
			f.Evidence, f.EvidenceNote = p.evidence(row[p.evidenceAt])
		}
		if prev, dup := byID[f.ID]; dup {
			return nil, fmt.Errorf("rows %d and %d both map to entity %q over the same window; add the column that tells them apart to output.entity.qualifiers", prev+1, rowNum+1, key)
		}
		byID[f.ID] = rowNum
		out.Findings = append(out.Findings, f)
	}
	sort.SliceStable(out.Findings, func(i, j int) bool {
		a, b := out.Findings[i], out.Findings[j]
		if ra, rb := lake.SeverityRank(a.Severity), lake.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		return a.ID < b.ID
	})
	return out, nil
}

func (p *Program) evidence(v any) ([]lake.Evidence, string) {
	list, _ := v.([]any)
	limit := p.hunt.Output.EvidenceLimit
	var out []lake.Evidence
	for _, item := range list {
		if len(out) == limit {
			break
		}
		m, ok := item.(map[string]any)
		if !ok {
			continue
		}
		e := lake.Evidence{Row: map[string]any{}}
		for k, x := range m {
			switch k {
			case "event_time":
				e.Time, _ = x.(time.Time)
			case "source_key":
				e.SourceKey, _ = x.(string)
			case "source_line":
				e.SourceLine, _ = x.(int64)
			case "table":
				e.Table, _ = x.(string)
			default:
				e.Row[k] = x
			}
		}
		if e.Table == "" && len(p.hunt.Tables) > 0 {
			e.Table = p.hunt.Tables[0]
		}
		out = append(out, e)
	}
	note := ""
	if len(list) > len(out) {
		note = fmt.Sprintf("showing %d of %d rows", len(out), len(list))
	}
	return out, note
}

// render fills {{column}} placeholders with the row's values, each passed through show. Titles and
// descriptions are read by people, so their values are shown with safetext.Line (a control or
// right-to-left character in a user name must not reorder or hide the text); resource ids are data
// matched by machines and stay raw, as do fields and evidence.
func (p *Program) render(tmpl string, row []any, show func(string) string) string {
	return placeholderRE.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		if i, ok := p.index[name]; ok {
			return show(Format(row[i]))
		}
		return m
	})
}

func raw(s string) string { return s }

// Format renders a result value as text: lists joined with ", ", times in RFC 3339.
func Format(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Format(e)
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'g', 6, 64)
	}
	return fmt.Sprint(v)
}

func first(v any) string {
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if s := Format(e); s != "" {
				return s
			}
		}
		return ""
	}
	return Format(v)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
