package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/iceberg"
)

// catalogFailures counts this process's commits whose Iceberg metadata was not written: the commit
// stands, so the command goes on, but main exits 1 instead of 0.
var catalogFailures atomic.Int64

// reportingCatalog writes each commit's Iceberg metadata and says so on stderr when it cannot.
type reportingCatalog struct{ iceberg.Catalog }

func (r reportingCatalog) Committed(ctx context.Context, l *lake.Lake, c *lake.Commit) error {
	return reportCatalog(c.Version, r.Catalog.Committed(ctx, l, c))
}

func (r reportingCatalog) CatchUp(ctx context.Context, l *lake.Lake, version int64) error {
	return reportCatalog(version, r.Catalog.CatchUp(ctx, l, version))
}

func reportCatalog(version int64, err error) error {
	if err != nil {
		catalogFailures.Add(1)
		fmt.Fprintln(os.Stderr, "lakehunt: warning:", safetext.Text((&lake.CatalogError{Version: version, Err: err}).Error()))
	}
	return err
}

// glueTarget is the Glue database the lake's Iceberg tables are registered in.
type glueTarget struct{ Database, Region, Endpoint string }

var errNoGlueRegion = errors.New("no AWS region for Glue: pass --region (compact: --glue-region, lakehunt.yaml: catalog.region) or set AWS_REGION")

// register creates or updates the Glue tables of lk to its current Iceberg metadata.
func (g glueTarget) register(ctx context.Context, lk *lake.Lake) ([]iceberg.GlueTable, error) {
	var load []func(*awsconfig.LoadOptions) error
	if g.Region != "" {
		load = append(load, awsconfig.WithRegion(g.Region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, errNoGlueRegion
	}
	client := glue.NewFromConfig(cfg, func(o *glue.Options) {
		if g.Endpoint != "" {
			o.BaseEndpoint = aws.String(g.Endpoint)
		}
	})
	return iceberg.RegisterGlue(ctx, lk, client, g.Database)
}

// syncGlue registers the lake in Glue after a command committed to it, if a Glue database is configured.
// A failure does not undo the commits: it is reported, and main exits 1 (catalogFailures).
func (g glueTarget) sync(ctx context.Context, lk *lake.Lake, stderr io.Writer) {
	if g.Database == "" {
		return
	}
	done, err := g.register(ctx, lk)
	if err != nil {
		catalogFailures.Add(1)
		fmt.Fprintf(stderr, "lakehunt: warning: the lake's commits stand, but the Glue tables in %s were not updated (Athena reads the previous snapshot): %s; run 'lakehunt catalog register --lake %s --glue-database %s' once it is fixed\n",
			g.Database, safetext.Line(err.Error()), lk.URL(), g.Database)
		return
	}
	changed := 0
	for _, d := range done {
		if d.Action != "unchanged" {
			changed++
		}
	}
	fmt.Fprintf(stderr, "glue: %d of %d tables in %s updated to the lake's current snapshot\n", changed, len(done), g.Database)
}

func newCatalogCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "catalog",
		Short: "The lake's tables as Apache Iceberg tables: rebuild their metadata, register them in AWS Glue for Athena",
		Long: `Every commit to the lake also writes the Iceberg (format v2) metadata of the tables it changed, beside
their data (TABLE/metadata/), so Athena, Spark, Trino and other Iceberg readers see exactly the rows
lakehunt sees: no uncommitted files of killed runs, no inputs of merges. _lakehunt/iceberg.json names
each table's current metadata file.`,
	}
	c.AddCommand(newCatalogRebuildCmd(), newCatalogRegisterCmd())
	return c
}

func newCatalogRebuildCmd() *cobra.Command {
	var (
		s3      s3Flags
		lakeURL string
	)
	c := &cobra.Command{
		Use:   "rebuild --lake LAKE",
		Short: "Write every table's Iceberg metadata afresh from the lake's commit log (one snapshot per table at the latest commit)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := s3.openLake(cmd.Context(), lakeURL)
			if err != nil {
				return err
			}
			ptr, err := iceberg.Rebuild(cmd.Context(), lk)
			if err != nil {
				return fmt.Errorf("rebuild Iceberg metadata: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Iceberg metadata at lake commit %d\n", ptr.Version)
			for _, t := range lake.Tables() {
				if k := ptr.Tables[t.Name]; k != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "  %-18s %s\n", t.Name, lk.ObjectURL(k))
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	_ = c.MarkFlagRequired("lake")
	s3.register(c)
	return c
}

func newCatalogRegisterCmd() *cobra.Command {
	var (
		s3       s3Flags
		lakeURL  string
		database string
		region   string
		endpoint string
		asJSON   bool
	)
	c := &cobra.Command{
		Use:   "register --lake s3://BUCKET/PREFIX --glue-database DB [--region R]",
		Short: "Create or update the AWS Glue tables (Iceberg, current metadata location) so Athena queries the lake",
		Long: `Creates the Glue database if it is missing, then one Glue table per lake table, of Iceberg type, whose
metadata_location is the table's current Iceberg metadata. Athena reads the snapshot registered: run it
again after compacting (in the same cron job) for Athena to see the new commits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			if lk.IsLocal() {
				return &exitCodeError{code: exitUsage, msg: "catalog register needs an S3 lake (--lake s3://bucket/prefix): Glue and Athena read Iceberg tables in S3 only"}
			}
			done, err := glueTarget{Database: database, Region: region, Endpoint: endpoint}.register(ctx, lk)
			if errors.Is(err, errNoGlueRegion) {
				return &exitCodeError{code: exitUsage, msg: err.Error()}
			}
			if asJSON && err == nil {
				return printJSON(cmd.OutOrStdout(), done)
			}
			for _, d := range done {
				fmt.Fprintf(cmd.OutOrStdout(), "%s.%s %s: %s\n", database, d.Table, d.Action, d.MetadataLocation)
			}
			return err
		},
	}
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake: s3://bucket/prefix")
	c.Flags().StringVar(&database, "glue-database", "", "Glue database to hold the tables (created if missing)")
	c.Flags().StringVar(&region, "region", "", "AWS region of the Glue catalog (default: AWS_REGION or the profile's)")
	c.Flags().StringVar(&endpoint, "glue-endpoint", "", "Glue endpoint URL (a VPC endpoint or a test server)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("lake")
	_ = c.MarkFlagRequired("glue-database")
	s3.register(c)
	return c
}
