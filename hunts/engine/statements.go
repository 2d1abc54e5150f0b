package engine

import (
	"errors"
	"fmt"

	"github.com/duckdb/duckdb-go/v2/mapping"
)

// MultipleStatementsError is OneStatement's error for SQL text that holds more than one statement.
type MultipleStatementsError struct{ N int }

func (e *MultipleStatementsError) Error() string {
	return fmt.Sprintf("the SQL text holds %d statements", e.N)
}

// OneStatement checks, with DuckDB's own parser and without running anything, that query is exactly one
// SQL statement. Given several, database/sql runs all of them and returns only the last one's rows, and
// splitting on ';' would break on string literals and comments. A syntax error is returned as such.
func OneStatement(query string) error {
	n, err := countStatements(query)
	switch {
	case err != nil:
		return sqlError(err)
	case n == 0:
		return errors.New("no SQL statement given")
	case n > 1:
		return &MultipleStatementsError{N: n}
	}
	return nil
}

// countStatements parses query in a throwaway in-memory database: the statements are only extracted,
// never prepared or run, so nothing in the text can have an effect.
func countStatements(query string) (int, error) {
	var cfg mapping.Config
	if mapping.CreateConfig(&cfg) == mapping.StateError {
		return 0, errors.New("DuckDB: cannot create a configuration")
	}
	defer mapping.DestroyConfig(&cfg)
	if mapping.SetConfig(cfg, "threads", "1") == mapping.StateError {
		return 0, errors.New("DuckDB: cannot set threads")
	}
	var db mapping.Database
	var msg string
	if mapping.OpenExt(":memory:", &db, cfg, &msg) == mapping.StateError {
		mapping.Close(&db)
		return 0, fmt.Errorf("open DuckDB: %s", msg)
	}
	defer mapping.Close(&db)
	var conn mapping.Connection
	if mapping.Connect(db, &conn) == mapping.StateError {
		return 0, errors.New("DuckDB: cannot connect")
	}
	defer mapping.Disconnect(&conn)
	var stmts mapping.ExtractedStatements
	n := mapping.ExtractStatements(conn, query, &stmts)
	defer mapping.DestroyExtracted(&stmts)
	if n == 0 {
		if msg := mapping.ExtractStatementsError(stmts); msg != "" {
			return 0, errors.New(msg)
		}
	}
	return int(n), nil
}
