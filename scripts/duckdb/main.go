// Command duckdb runs SQL statements in the DuckDB that lakehunt embeds, with DuckDB's own defaults
// (all cores, 80% of memory) and none of lakehunt's limits: the DuckDB-only side of the compaction
// benchmark (scripts/bench.sh). It prints each statement's result rows, tab-separated.
//
//	go run ./scripts/duckdb "SQL" ["SQL"...]
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, `usage: duckdb "SQL" ["SQL"...]`)
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "duckdb:", err)
		os.Exit(1)
	}
}

func run(stmts []string) error {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // settings are per connection
	for _, q := range stmts {
		rows, err := db.Query(q)
		if err != nil {
			return err
		}
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			out := make([]string, len(vals))
			for i, v := range vals {
				out[i] = fmt.Sprint(v)
			}
			fmt.Println(strings.Join(out, "\t"))
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
