package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// summaryVersion goes into baseline cache keys: a change to how a day is summarised invalidates the cache.
const summaryVersion = "2"

// summarySQL is one day's summary of a profile over table t's rows in from (a FROM-able source of the
// table's files, read as the hunt's view of the table reads them). Zero times mean no time filter.
//
// A values profile is summarised in one pass over the day's rows: each row gives one (dim, value) per
// dimension. When its entity and dimensions read only a few columns, and none of them is the event time
// or a JSON document, the rows are first grouped by those columns (a day has far fewer distinct
// principals × APIs × agents than calls), so the expressions run once per group, not once per row. A
// profile the fast forms cannot express safely (see fastForms) gets the plain form, one pass per dimension.
func summarySQL(t *lake.Table, p huntfile.Profile, from string, start, end time.Time) string {
	return summaryForm(t, p, from, start, end, formFast)
}

type summaryFormKind int

const (
	formFast  summaryFormKind = iota // the fastest form fastForms allows
	formPlain                        // a pass per dimension over the day's rows, the oracle the others are held to
	formOnePass
)

func summaryForm(t *lake.Table, p huntfile.Profile, from string, start, end time.Time, kind summaryFormKind) string {
	where := "true"
	if strings.TrimSpace(p.Where) != "" {
		where = "(" + p.Where + ")"
	}
	timeFilter := "true"
	day := "CAST(NULL AS DATE)"
	if !start.IsZero() {
		timeFilter = fmt.Sprintf("event_time >= %s AND event_time < %s", tsLiteral(start), tsLiteral(end))
		day = fmt.Sprintf("DATE '%s'", start.Format(time.DateOnly))
	}
	src := fmt.Sprintf("WITH src AS (SELECT * FROM %s WHERE %s AND %s)\n", from, timeFilter, where)
	if len(p.Values) == 0 {
		cols := []string{fmt.Sprintf("%s AS day", day), fmt.Sprintf("CAST((%s) AS VARCHAR) AS entity", p.Entity),
			"count(*)::BIGINT AS events", "min(event_time) AS first_time", "max(event_time) AS last_time"}
		for _, m := range huntfile.SortedKeys(p.Measures) {
			cols = append(cols, fmt.Sprintf("CAST((%s) AS DOUBLE) AS %s", p.Measures[m], ident(m)))
		}
		return src + fmt.Sprintf("SELECT %s FROM src GROUP BY 2 HAVING entity IS NOT NULL", strings.Join(cols, ", "))
	}
	dims := huntfile.SortedKeys(p.Values)
	onePass, groupBy := fastForms(t, p)
	if kind == formPlain || (kind == formFast && !onePass) {
		var parts []string
		for _, dim := range dims {
			parts = append(parts, fmt.Sprintf("SELECT event_time, CAST((%s) AS VARCHAR) AS entity, %s AS dim, CAST((%s) AS VARCHAR) AS value FROM src",
				p.Entity, literal(dim), p.Values[dim]))
		}
		return src + fmt.Sprintf(`SELECT %s AS day, entity, dim, value, min(event_time) AS first_time, max(event_time) AS last_time, count(*)::BIGINT AS events
FROM (%s) WHERE entity IS NOT NULL AND value IS NOT NULL GROUP BY entity, dim, value`, day, strings.Join(parts, "\nUNION ALL\n"))
	}
	pairs := make([]string, len(dims))
	for i, dim := range dims {
		pairs[i] = fmt.Sprintf("{'d': %s, 'v': CAST((%s) AS VARCHAR)}", literal(dim), p.Values[dim])
	}
	rows, carry, first, last, events := "src", "event_time", "event_time", "event_time", "count(*)"
	if kind == formFast && len(groupBy) > 0 {
		rows = fmt.Sprintf("(SELECT %s, min(event_time) AS __first, max(event_time) AS __last, count(*) AS __n FROM src GROUP BY ALL)",
			strings.Join(groupBy, ", "))
		carry, first, last, events = "__first, __last, __n", "__first", "__last", "sum(__n)"
	}
	return src + fmt.Sprintf(`SELECT %s AS day, entity, x.d AS dim, x.v AS value, min(%s) AS first_time, max(%s) AS last_time, %s::BIGINT AS events
FROM (SELECT %s, CAST((%s) AS VARCHAR) AS entity, unnest([%s]) AS x FROM %s)
WHERE entity IS NOT NULL AND x.v IS NOT NULL GROUP BY entity, x.d, x.v`,
		day, first, last, events, carry, p.Entity, strings.Join(pairs, ", "), rows)
}

// fastForms says whether a values profile can be summarised in one pass (no dimension unnests a list:
// that cannot sit inside the list of a row's values), and the columns to group its rows by first (none
// when that is not known to give the same summary).
//
// The columns are the table's columns named in the entity and the dimensions. Naming is read from the
// SQL text, and only where the text is plain enough to read: no `*` (a COLUMNS(*) or a product), no
// window (OVER), nothing random, no escape strings or $-quoting. A column the text names in a way this
// does not see (through a macro, say) fails to bind over the grouped rows, and the run then falls back
// to the plain form (Session.summarise), so a wrong guess costs time, never a wrong baseline. Grouping
// is skipped where it cannot pay: when the event time or a JSON document is among the columns.
func fastForms(t *lake.Table, p huntfile.Profile) (onePass bool, groupBy []string) {
	exprs := []string{p.Entity}
	for _, dim := range huntfile.SortedKeys(p.Values) {
		exprs = append(exprs, p.Values[dim])
	}
	types := map[string]string{}
	for _, c := range t.Columns {
		types[c.Name] = c.Type
	}
	named := map[string]bool{}
	plain := true
	for _, e := range exprs {
		words, ok := sqlWords(e)
		if !ok {
			plain = false
		}
		for _, w := range words {
			switch {
			case w == "unnest":
				return false, nil
			case w == "over" || w == "columns" || strings.HasPrefix(w, "__") || strings.Contains(w, "random") ||
				strings.Contains(w, "uuid") || w == "nextval" || w == "setseed":
				plain = false
			case types[w] != "":
				named[w] = true
			}
		}
	}
	if !plain || len(named) == 0 {
		return true, nil
	}
	for _, c := range t.Columns { // in the table's order, so the same profile always gives the same SQL
		if !named[c.Name] {
			continue
		}
		if c.Name == "event_time" || c.Type == "JSON" {
			return true, nil
		}
		groupBy = append(groupBy, ident(c.Name))
	}
	return true, groupBy
}

// sqlWords returns the lower-cased words (identifiers and keywords, quoted identifiers unquoted) of a SQL
// expression outside its string literals and comments. ok is false when the text holds what this reading
// does not follow (`*`, `#`, `$`, an E-prefixed escape string, an unterminated quote or comment).
func sqlWords(s string) (words []string, ok bool) {
	ok = true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\'':
			j := i + 1
			for ; j < len(s); j++ {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j++
						continue
					}
					break
				}
			}
			if j >= len(s) {
				return words, false
			}
			i = j + 1
		case c == '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return words, false
			}
			words = append(words, strings.ToLower(s[i+1:i+1+end])) // "a""b" reads as two words: both are kept
			i += end + 2
		case c == '-' && i+1 < len(s) && s[i+1] == '-':
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return words, ok
			}
			i += end
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return words, false
			}
			i += end + 4
		case c == '*' || c == '#' || c == '$':
			ok = false
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			w := strings.ToLower(s[i:j])
			if w == "e" && j < len(s) && s[j] == '\'' {
				ok = false
			}
			words = append(words, w)
			i = j
		default:
			i++
		}
	}
	return words, ok
}
