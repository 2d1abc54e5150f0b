package engine

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Window is what a hunt runs over: its named SQL parameters.
type Window struct {
	Start, End    time.Time // $window_start, $window_end: [Start, End)
	BaselineStart time.Time // $baseline_start (UTC midnight); equals Start when the hunt has no baseline
	BaselineDays  int       // $baseline_days: whole days in [BaselineStart, midnight of Start)
	// $window_days is (End − Start) in days, a DOUBLE: scales daily baselines to the window.
}

func (w Window) params() []any {
	bs := w.BaselineStart
	if bs.IsZero() {
		bs = w.Start
	}
	return []any{
		sql.Named("window_start", w.Start.UTC()),
		sql.Named("window_end", w.End.UTC()),
		sql.Named("baseline_start", bs.UTC()),
		sql.Named("baseline_days", int64(w.BaselineDays)),
		sql.Named("window_days", w.End.Sub(w.Start).Hours()/24),
	}
}

// Column is one result column and its DuckDB type as DuckDB names it (e.g. VARCHAR[], STRUCT(...)[]).
type Column struct {
	Name string
	Type string
}

// Result is a query's columns and rows; values are normalised to JSON-friendly Go values
// (string, int64, float64, bool, time.Time, []any, map[string]any, nil).
type Result struct {
	Columns []Column
	Rows    [][]any
}

// SQLError is a DuckDB error with the line of the SQL it points at (0 when DuckDB gives none).
type SQLError struct {
	Line int
	Msg  string
}

func (e *SQLError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("SQL line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

var duckLineRE = regexp.MustCompile(`LINE (\d+):`)

// sqlError turns DuckDB's multi-line error text into one line plus the SQL line it names.
func sqlError(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	se := &SQLError{}
	if m := duckLineRE.FindStringSubmatch(text); m != nil {
		se.Line, _ = strconv.Atoi(m[1])
	}
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "LINE ") || strings.Trim(l, "^ ") == "" {
			continue
		}
		keep = append(keep, l)
	}
	se.Msg = strings.Join(keep, " ")
	return se
}

// Query runs SQL with the window's named parameters and reads every row.
func (s *Session) Query(ctx context.Context, query string, w Window) (*Result, error) {
	rows, err := s.db.QueryContext(ctx, query, w.params()...)
	if err != nil {
		return nil, sqlError(err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, sqlError(err)
	}
	res := &Result{Columns: make([]Column, len(cts))}
	seen := map[string]bool{}
	for i, ct := range cts {
		res.Columns[i] = Column{Name: ct.Name(), Type: ct.DatabaseTypeName()}
		if seen[ct.Name()] {
			return nil, &SQLError{Msg: fmt.Sprintf("the result has two columns named %q; give each column its own name", ct.Name())}
		}
		seen[ct.Name()] = true
	}
	for rows.Next() {
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, sqlError(err)
		}
		for i := range vals {
			vals[i] = Normalize(vals[i])
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, sqlError(err)
	}
	return res, nil
}

// Normalize converts a value scanned from DuckDB into a JSON-friendly Go value.
func Normalize(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return x
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= 1<<63-1 {
			return int64(x)
		}
		return strconv.FormatUint(x, 10)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case duckdb.Decimal:
		return x.Float64()
	case time.Time:
		return x.UTC()
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return hex.EncodeToString(x)
	case duckdb.UUID:
		return x.String()
	case *duckdb.UUID:
		return x.String()
	case duckdb.Interval:
		return fmt.Sprintf("%d months %d days %d µs", x.Months, x.Days, x.Micros)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Normalize(e)
		}
		return out
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(Normalize(k))] = Normalize(e)
		}
		return out
	}
	return fmt.Sprint(v)
}
