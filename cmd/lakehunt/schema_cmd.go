package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/lake"
)

func newSchemaCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "schema [TABLE]",
		Short: "Print the lake tables' columns and types: the reference hunts are written against",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tables := lake.Tables()
			if len(args) == 1 {
				t, err := lake.LookupTable(args[0])
				if err != nil {
					return &exitCodeError{code: exitUsage, msg: err.Error()}
				}
				tables = []*lake.Table{t}
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
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
