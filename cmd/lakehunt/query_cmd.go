package main

import (
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
)

func newQueryCmd() *cobra.Command {
	var (
		s3      s3Flags
		lakeURL string
		format  string
		from    string
		to      string
		anyFile bool
	)
	c := &cobra.Command{
		Use:   "query --lake LAKE SQL",
		Short: "Run DuckDB SQL over the lake's tables",
		Long: `query runs one DuckDB SQL statement over views named like the lake tables (see 'lakehunt schema').
Only committed files are read. For an S3 lake, the files are fetched into the local cache first; use
--from/--to to fetch (and read) only the partitions of that event-time range.

Like a hunt's, the SQL reads the lake's tables and nothing else: files outside the lake (read_csv,
read_text, glob), COPY TO, ATTACH of a file, INSTALL/LOAD and SET are refused. --allow-external-access
lifts that for your own SQL, e.g. to COPY a result to a file or join a CSV of your own.`,
		Example: `  lakehunt query --lake ./lake "SELECT event_name, count(*) FROM cloudtrail GROUP BY 1 ORDER BY 2 DESC"
  lakehunt query --lake s3://sec-lake/lake/ --from 2026-11-01 --format csv "SELECT * FROM vpc_flow WHERE action = 'REJECT'"
  lakehunt query --lake ./lake --allow-external-access "COPY (FROM cloudtrail WHERE event_name = 'StopLogging') TO 'stops.parquet'"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if format != "table" && format != "csv" && format != "json" {
				return &exitCodeError{code: exitUsage, msg: "--format must be table, csv or json"}
			}
			var fromT, toT time.Time
			var err error
			if fromT, err = parseTimeFlag(from); err != nil {
				return &exitCodeError{code: exitUsage, msg: "--from: " + err.Error()}
			}
			if toT, err = parseTimeFlag(to); err != nil {
				return &exitCodeError{code: exitUsage, msg: "--to: " + err.Error()}
			}
			var multi *engine.MultipleStatementsError
			if err := engine.OneStatement(args[0]); errors.As(err, &multi) {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("query takes one statement; %v: run them one at a time", err)}
			} else if err != nil {
				return fmt.Errorf("query: %w", err)
			}
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			snap, err := lk.FileSnapshot(ctx)
			if err != nil {
				return err
			}
			files := map[string][]string{}
			for _, t := range lake.Tables() {
				paths, err := lk.LocalPaths(ctx, snap.FilesFor(t.Name, fromT, toT))
				if err != nil {
					return err
				}
				files[t.Name] = paths
			}
			sess, err := engine.NewSession(ctx, files, engine.Limits{AllowExternalAccess: anyFile, Timeout: -1})
			if err != nil {
				return err
			}
			defer sess.Close()
			err = sess.QueryRows(ctx, args[0], func(rows *sql.Rows) error { return writeRows(cmd.OutOrStdout(), rows, format) })
			var se *engine.SQLError
			if errors.As(err, &se) && se.Denied {
				return fmt.Errorf("query: %w (--allow-external-access lifts this for your own SQL)", err)
			}
			if err != nil {
				return fmt.Errorf("query: %w", err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	c.Flags().StringVar(&format, "format", "table", "output format: table, csv or json (one object per line)")
	c.Flags().StringVar(&from, "from", "", "only read partitions with events at or after this time (RFC 3339 or YYYY-MM-DD)")
	c.Flags().StringVar(&to, "to", "", "only read partitions with events before this time")
	c.Flags().BoolVar(&anyFile, "allow-external-access", false, "let the SQL read and write any file and load extensions (default: the lake's tables only)")
	_ = c.MarkFlagRequired("lake")
	s3.register(c)
	return c
}

func parseTimeFlag(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-11-01T00:00:00Z) or YYYY-MM-DD", s)
}

func writeRows(w io.Writer, rows *sql.Rows, format string) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var tw *tabwriter.Writer
	var cw *csv.Writer
	enc := json.NewEncoder(w)
	switch format {
	case "table":
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = safetext.Line(c) // PIVOT names columns after values
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
	case "csv":
		cw = csv.NewWriter(w)
		_ = cw.Write(cols)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		n++
		switch format {
		case "json":
			obj := make(map[string]any, len(cols))
			for i, c := range cols {
				obj[c] = engine.Normalize(vals[i])
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		default:
			cells := make([]string, len(cols))
			for i := range vals {
				cells[i] = engine.Format(engine.Normalize(vals[i]))
			}
			if tw != nil {
				// Values come from the logs: tabs and newlines would break the table, escape sequences
				// would act on the terminal. CSV and JSON keep them (escaped by their own syntax).
				for i, c := range cells {
					cells[i] = safetext.Line(c)
				}
				fmt.Fprintln(tw, strings.Join(cells, "\t"))
			} else {
				_ = cw.Write(cells)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if tw != nil {
		fmt.Fprintf(tw, "(%d rows)\n", n)
		return tw.Flush()
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}
