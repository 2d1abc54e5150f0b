package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/html"
	"github.com/lakehunt/lakehunt/reports/securityhub"
)

func newExportCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "export",
		Short: "Publish a run's findings: ASFF file, Security Hub import",
	}
	c.AddCommand(newExportASFFCmd(), newExportSecurityHubCmd())
	return c
}

type asffFlags struct {
	run, productARN, region, account, reportURL string
}

func (a *asffFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&a.run, "run", "", "the run directory (written by 'lakehunt hunt run --out')")
	c.Flags().StringVar(&a.productARN, "product-arn", "", "ProductArn (default: arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default per finding account)")
	c.Flags().StringVar(&a.region, "region", "", "Security Hub region (default: each finding's region)")
	c.Flags().StringVar(&a.account, "account", "", "account for findings that have none")
	c.Flags().StringVar(&a.reportURL, "report-url", "", "where report.html is published; findings' SourceUrl points into it")
	_ = c.MarkFlagRequired("run")
}

func (a *asffFlags) build() ([]types.AwsSecurityFinding, []asff.Warning, error) {
	run, findings, err := reports.ReadRunDir(a.run)
	if err != nil {
		return nil, nil, err
	}
	return asff.Build(run, findings, asff.Options{Region: a.region, ProductARN: a.productARN, DefaultAccount: a.account, ReportURL: a.reportURL})
}

func newExportASFFCmd() *cobra.Command {
	var (
		a   asffFlags
		out string
	)
	c := &cobra.Command{
		Use:   "asff --run RUNDIR",
		Short: "Write the run's findings as ASFF 2018-10-08 JSON (the shape batch-import-findings reads)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fs, warns, err := a.build()
			printWarnings(cmd, warns)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(a.run, reports.ASFFFile)
			}
			if out == "-" {
				b, err := asff.MarshalList(fs)
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(append(b, '\n'))
				return err
			}
			if err := asff.WriteFile(out, fs); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d findings to %s\n", len(fs), out)
			return nil
		},
	}
	a.register(c)
	c.Flags().StringVar(&out, "out", "", "file to write (default RUNDIR/asff.json; - for stdout)")
	return c
}

func printWarnings(cmd *cobra.Command, warns []asff.Warning) {
	for _, w := range warns {
		fmt.Fprintf(cmd.ErrOrStderr(), "asff: finding %s: %s: %s\n", w.FindingID, w.Field, w.Message)
	}
}

func newExportSecurityHubCmd() *cobra.Command {
	var (
		a        asffFlags
		endpoint string
		dryRun   bool
		caller   string
	)
	c := &cobra.Command{
		Use:   "securityhub --run RUNDIR",
		Short: "Import the run's findings into AWS Security Hub (BatchImportFindings)",
		Long: `securityhub sends the run's findings with BatchImportFindings in batches of at most 100 findings and 6 MB,
grouped per account, retrying throttling with backoff. Every finding Security Hub refuses is listed with its
reason, and the exit status is 3 if any finding was not imported. Finding ids are deterministic, so a re-run
of the same window updates the same findings. Credentials come from the standard AWS chain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			fs, warns, err := a.build()
			printWarnings(cmd, warns)
			if err != nil {
				return err
			}
			client, err := securityhub.NewClient(ctx, securityhub.ClientOptions{Region: a.region, Endpoint: endpoint})
			if err != nil {
				return err
			}
			sum, err := securityhub.Import(ctx, client, fs, securityhub.Options{DryRun: dryRun, CallerAccount: caller, Log: cmd.ErrOrStderr()})
			sum.WriteText(cmd.OutOrStdout())
			if err != nil {
				return &exitCodeError{code: exitBadInput, msg: err.Error()}
			}
			return nil
		},
	}
	a.register(c)
	c.Flags().StringVar(&endpoint, "endpoint", "", "Security Hub endpoint URL (a VPC endpoint or a test server)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "plan and check the batches without calling Security Hub")
	c.Flags().StringVar(&caller, "caller-account", "", "the account the credentials belong to: other accounts' findings are reported instead of sent")
	return c
}

func newReportCmd() *cobra.Command {
	var run, out string
	c := &cobra.Command{
		Use:   "report --run RUNDIR [--out FILE]",
		Short: "Render the self-contained HTML report of a run directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, findings, err := reports.ReadRunDir(run)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(run, reports.ReportFile)
			}
			if out == "-" {
				return html.Render(os.Stdout, r, findings)
			}
			if err := html.WriteFile(out, r, findings); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out)
			return nil
		},
	}
	c.Flags().StringVar(&run, "run", "", "the run directory")
	c.Flags().StringVar(&out, "out", "", "file to write (default RUNDIR/report.html; - for stdout)")
	_ = c.MarkFlagRequired("run")
	return c
}
