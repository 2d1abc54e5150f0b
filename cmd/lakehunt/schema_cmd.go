package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/iceberg"
)

func newSchemaCmd() *cobra.Command {
	var (
		asJSON bool
		format string
	)
	c := &cobra.Command{
		Use:   "schema [TABLE]",
		Short: "Print the lake tables' columns and types: the reference hunts are written against",
		Long: `Print the lake tables' columns and types. --format iceberg prints each table's Iceberg schema and
partition spec (JSON, as in the table metadata); --format athena prints Athena DDL of the same shape.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tables := lake.Tables()
			if len(args) == 1 {
				t, err := lake.LookupTable(args[0])
				if err != nil {
					return &exitCodeError{code: exitUsage, msg: err.Error()}
				}
				tables = []*lake.Table{t}
			}
			if asJSON && format != "" && format != "json" {
				return &exitCodeError{code: exitUsage, msg: "--json and --format " + format + " conflict: pass one"}
			}
			switch format {
			case "iceberg":
				return printIcebergSchemas(cmd.OutOrStdout(), tables)
			case "athena":
				return printAthenaDDL(cmd.OutOrStdout(), tables)
			case "json":
				asJSON = true
			case "", "text":
			default:
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("unknown --format %q: use text, json, iceberg or athena", format)}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), tables)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			for i, t := range tables {
				if i > 0 {
					fmt.Fprintln(tw)
				}
				fmt.Fprintf(tw, "%s\t\t%s\n", t.Name, t.Doc)
				for _, c := range t.Columns {
					fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Name, c.Type, c.Doc)
				}
				for _, v := range t.Views {
					fmt.Fprintf(tw, "view %s\t\t%s\n", v.Name, v.Doc)
				}
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON (the same as --format json)")
	c.Flags().StringVar(&format, "format", "", "text (default), json, iceberg (schema and partition spec) or athena (DDL)")
	return c
}

func printIcebergSchemas(w io.Writer, tables []*lake.Table) error {
	type def struct {
		Table         string          `json:"table"`
		Schema        json.RawMessage `json:"schema"`
		PartitionSpec json.RawMessage `json:"partition-spec"`
	}
	var out []def
	for _, t := range tables {
		sc, err := iceberg.Schema(t)
		if err != nil {
			return err
		}
		scJSON, err := json.Marshal(sc)
		if err != nil {
			return err
		}
		spec := iceberg.Spec(t, sc)
		specJSON, err := json.Marshal(&spec)
		if err != nil {
			return err
		}
		out = append(out, def{Table: t.Name, Schema: scJSON, PartitionSpec: specJSON})
	}
	return printJSON(w, out)
}

func printAthenaDDL(w io.Writer, tables []*lake.Table) error {
	fmt.Fprintln(w, "-- The lake's tables as Athena sees them once 'lakehunt catalog register' has registered their Iceberg")
	fmt.Fprintln(w, "-- metadata in Glue. Run these only to create empty tables of the same shape elsewhere.")
	for _, t := range tables {
		sc, err := iceberg.Schema(t)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n-- %s\nCREATE TABLE %s (\n", t.Doc, t.Name)
		fields := sc.Fields()
		for i, f := range fields {
			typ, err := iceberg.HiveType(f.Type.String())
			if err != nil {
				return err
			}
			sep := ","
			if i == len(fields)-1 {
				sep = ""
			}
			comment := ""
			if f.Doc != "" {
				comment = " COMMENT '" + strings.ReplaceAll(f.Doc, "'", "''") + "'"
			}
			fmt.Fprintf(w, "  %s %s%s%s\n", f.Name, typ, comment, sep)
		}
		fmt.Fprint(w, ")\n")
		var parts []string
		spec := iceberg.Spec(t, sc)
		for _, pf := range spec.Fields() {
			src, _ := sc.FindColumnName(pf.SourceIDs[0])
			if pf.Transform.String() == "identity" {
				parts = append(parts, src)
			} else {
				parts = append(parts, fmt.Sprintf("%s(%s)", pf.Transform, src))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "PARTITIONED BY (%s)\n", strings.Join(parts, ", "))
		}
		fmt.Fprintf(w, "LOCATION 's3://BUCKET/PREFIX/%s/'\nTBLPROPERTIES ('table_type' = 'ICEBERG', 'format' = 'parquet');\n", t.Name)
	}
	return nil
}
