package engine

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
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
	// Denied is set when the SQL reached outside the session: a file not in the lake, an extension.
	Denied bool
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

// maxResultRows bounds what a hunt's query may return: its rows become findings, and reading millions of
// them would exhaust the process's memory, which DuckDB's memory_limit does not cover.
const maxResultRows = 1_000_000

// Query runs a hunt's query, one SELECT, with the window's named parameters, and reads every row.
func (s *Session) Query(ctx context.Context, query string, w Window) (*Result, error) {
	ctx, done, err := s.begin(ctx, query, duckdb.STATEMENT_TYPE_SELECT)
	if err != nil {
		return nil, err
	}
	res, err := readResult(ctx, s.db, query, w)
	return res, done(err)
}

func readResult(ctx context.Context, db *sql.DB, query string, w Window) (*Result, error) {
	rows, err := db.QueryContext(ctx, query, w.params()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
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
		if len(res.Rows) == maxResultRows {
			return nil, &SQLError{Msg: fmt.Sprintf("the query returns more than %d rows; a hunt's rows become findings: aggregate or filter them", maxResultRows)}
		}
		vals := make([]any, len(cts))
		ptrs := make([]any, len(cts))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i] = Normalize(vals[i])
		}
		res.Rows = append(res.Rows, vals)
	}
	return res, rows.Err()
}

// QueryRows runs an analyst's SQL (lakehunt query), one statement of any kind, in a session locked like
// a hunt's unless it allows external access, and hands the rows to read, all within the time limit.
func (s *Session) QueryRows(ctx context.Context, query string, read func(*sql.Rows) error) error {
	ctx, done, err := s.begin(ctx, query, 0)
	if err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return done(err)
	}
	defer rows.Close()
	if err := read(rows); err != nil {
		return done(err)
	}
	return done(rows.Err())
}

// execHunt runs a statement that holds hunt text (a baseline summary): in the locked session, of type
// want, within the time limit.
func (s *Session) execHunt(ctx context.Context, q string, want duckdb.StmtType) error {
	ctx, done, err := s.begin(ctx, q, want)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, q)
	return done(err)
}

// begin readies q to run: it locks the session, checks that q is one statement of type want (any type
// if want is 0) without running anything, and bounds ctx by what is left of the time limit. done
// records the time taken and turns err into the message a hunt author can act on. The check comes after
// the lock: preparing binds, and binding already touches files (read_csv sniffs its file, EXPORT
// DATABASE creates its directory).
func (s *Session) begin(ctx context.Context, q string, want duckdb.StmtType) (_ context.Context, done func(error) error, _ error) {
	if err := s.lock(ctx); err != nil {
		return nil, nil, err
	}
	if err := s.checkStatement(ctx, q, want); err != nil {
		return nil, nil, err
	}
	parent, started := ctx, time.Now()
	cancel := context.CancelFunc(func() {})
	if s.limits.Timeout > 0 {
		left := s.limits.Timeout - s.spent
		if left <= 0 {
			return nil, nil, s.timeoutError()
		}
		ctx, cancel = context.WithTimeout(ctx, left)
	}
	return ctx, func(err error) error {
		timedOut := ctx.Err() != nil && parent.Err() == nil
		cancel()
		s.spent += time.Since(started)
		switch {
		case err == nil:
			return nil
		case timedOut:
			return s.timeoutError()
		}
		return s.sqlError(err)
	}, nil
}

func (s *Session) timeoutError() error {
	return &SQLError{Msg: fmt.Sprintf("stopped: the hunt's SQL ran for its whole time limit of %s (hunts.timeout in lakehunt.yaml, --timeout)", s.limits.Timeout)}
}

// sqlError is sqlError with the session's limits named where DuckDB hit one.
func (s *Session) sqlError(err error) error {
	var se *SQLError
	if errors.As(err, &se) {
		return se
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypePermission:
			se := sqlError(err).(*SQLError)
			msg := strings.TrimPrefix(se.Msg, "Permission Error: ")
			msg = strings.TrimSuffix(msg, " - file system operations are disabled by configuration")
			se.Msg = "outside the lake: " + msg + " (SQL here reads the lake's tables and nothing else)"
			se.Denied = true
			return se
		case duckdb.ErrorTypeOutOfMemory:
			se := sqlError(err).(*SQLError)
			se.Msg = fmt.Sprintf("out of memory at the %s limit (hunts.memory_limit in lakehunt.yaml, --memory-limit): %s", s.limits.MemoryLimit, se.Msg)
			return se
		}
	}
	return sqlError(err)
}

// stateFunctions are table functions that change the database's state although the configuration is
// locked: enable_logging(storage = 'stdout') would write DuckDB's log into our own output.
var stateFunctions = regexp.MustCompile(`(?i)\b"?(enable_logging|disable_logging|truncate_duckdb_logs|enable_profiling|disable_profiling)"?\s*\(`)

// checkStatement prepares q without running it and checks that it is one statement of type want. The
// driver's Prepare (unlike PrepareContext, which runs all statements but the last) refuses several.
func (s *Session) checkStatement(ctx context.Context, q string, want duckdb.StmtType) error {
	if m := stateFunctions.FindStringSubmatch(q); m != nil {
		return &SQLError{Msg: fmt.Sprintf("%s() is not allowed here: it changes DuckDB's logging or profiling, which the configuration lock does not cover", strings.ToLower(m[1]))}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var got duckdb.StmtType
	err = conn.Raw(func(dc any) error {
		st, err := dc.(driver.Conn).Prepare(q)
		if err != nil {
			return err
		}
		defer st.Close()
		got, err = st.(*duckdb.Stmt).StatementType()
		return err
	})
	switch {
	case err != nil && strings.Contains(err.Error(), "multi-statement"):
		return &SQLError{Msg: "give one SQL statement: DuckDB reads several here (statements separated by ';', or a PIVOT without IN (...), which runs more than one)"}
	case err != nil && strings.TrimSpace(err.Error()) == "empty query":
		return &SQLError{Msg: "the SQL is empty"}
	case err != nil:
		return s.sqlError(err)
	case want != 0 && got != want:
		return &SQLError{Msg: fmt.Sprintf("%s statements are not allowed here (only %s)", stmtName(got), stmtName(want))}
	}
	return nil
}

func stmtName(t duckdb.StmtType) string {
	names := map[duckdb.StmtType]string{
		duckdb.STATEMENT_TYPE_SELECT: "SELECT", duckdb.STATEMENT_TYPE_INSERT: "INSERT", duckdb.STATEMENT_TYPE_UPDATE: "UPDATE",
		duckdb.STATEMENT_TYPE_EXPLAIN: "EXPLAIN", duckdb.STATEMENT_TYPE_DELETE: "DELETE", duckdb.STATEMENT_TYPE_PREPARE: "PREPARE",
		duckdb.STATEMENT_TYPE_CREATE: "CREATE", duckdb.STATEMENT_TYPE_EXECUTE: "EXECUTE", duckdb.STATEMENT_TYPE_ALTER: "ALTER",
		duckdb.STATEMENT_TYPE_TRANSACTION: "transaction", duckdb.STATEMENT_TYPE_COPY: "COPY", duckdb.STATEMENT_TYPE_ANALYZE: "ANALYZE",
		duckdb.STATEMENT_TYPE_VARIABLE_SET: "SET VARIABLE", duckdb.STATEMENT_TYPE_CREATE_FUNC: "CREATE FUNCTION",
		duckdb.STATEMENT_TYPE_DROP: "DROP", duckdb.STATEMENT_TYPE_EXPORT: "EXPORT", duckdb.STATEMENT_TYPE_PRAGMA: "PRAGMA",
		duckdb.STATEMENT_TYPE_VACUUM: "VACUUM", duckdb.STATEMENT_TYPE_CALL: "CALL", duckdb.STATEMENT_TYPE_SET: "SET",
		duckdb.STATEMENT_TYPE_LOAD: "INSTALL/LOAD", duckdb.STATEMENT_TYPE_EXTENSION: "extension",
		duckdb.STATEMENT_TYPE_ATTACH: "ATTACH", duckdb.STATEMENT_TYPE_DETACH: "DETACH",
	}
	if n, ok := names[t]; ok {
		return n
	}
	return fmt.Sprintf("type-%d", t)
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
