// Command lakehunt compacts AWS security logs into a Parquet lake, runs versioned hunts over it in
// embedded DuckDB, and publishes findings as ASFF and HTML reports.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/internal/safetext"
)

// Exit codes, stable for cron and schedulers.
const (
	exitOK         = 0
	exitError      = 1 // could not run: bad flags, unreachable store, damaged lake
	exitUsage      = 2
	exitBadInput   = 3 // ran, but some input was quarantined (compact), some hunts failed or findings were left out of the ASFF (hunt run, export)
	exitNothingDue = 4 // run --due: nothing was due
)

// exitCodeError carries an exit code out of a command after its output has been written.
type exitCodeError struct {
	code int
	msg  string
}

func (e *exitCodeError) Error() string { return e.msg }

var version = "dev" // set with -ldflags "-X main.version=..."

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // the first signal stops the run cleanly; a second one kills the process
	}()
	root := newRootCmd()
	stopProfile := startProfile()
	err := root.ExecuteContext(ctx)
	stopProfile()
	code := exitCode(err, os.Stderr)
	if code == exitOK && catalogFailures.Load() > 0 {
		code = exitError // the commits stand; their Iceberg metadata is behind (said on stderr)
	}
	if code != exitOK {
		os.Exit(code)
	}
}

// exitCode prints a command's error to stderr and returns the exit code it calls for.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.msg != "" {
			fmt.Fprintln(stderr, "lakehunt:", safetext.Text(ec.msg))
		}
		return ec.code
	}
	fmt.Fprintln(stderr, "lakehunt:", safetext.Text(err.Error())) // errors may quote log values (a DuckDB conversion error, a bad key)
	return exitError
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "lakehunt",
		Short: "Batch threat hunting over AWS logs in a Parquet lake",
		Long: `lakehunt turns the logs AWS writes to S3 (CloudTrail, VPC Flow Logs, Route 53 Resolver query logs)
into a partitioned Parquet lake, runs versioned hunts over all of that history in embedded DuckDB,
and publishes findings as ASFF (AWS Security Hub) and self-contained HTML reports.

Start with:
  lakehunt gen --out ./raw --scale small          # realistic raw logs, no AWS account needed
  lakehunt compact --from ./raw --lake ./lake     # raw logs -> Parquet lake (exactly once)
  lakehunt query --lake ./lake "SELECT event_name, count(*) FROM cloudtrail GROUP BY 1 ORDER BY 2 DESC"

Locations are local directories or s3://bucket/prefix. S3 uses the standard AWS credential chain;
--s3-endpoint (or AWS_ENDPOINT_URL_S3) points at an S3-compatible server with path-style addressing.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("%v\nRun '%s --help' for usage.", err, c.CommandPath())}
	})
	root.AddCommand(newCompactCmd(), newSchemaCmd(), newQueryCmd(), newGenCmd(), newQuarantineCmd(), newVacuumCmd(),
		newHuntCmd(), newExportCmd(), newReportCmd(), newTICmd())
	root.AddCommand(newRunCmd(), newInitCmd(), newStatusCmd(), newInvestigateCmd())
	root.AddCommand(newCatalogCmd())
	rejectUnknownSubcommands(root)
	return root
}

// rejectUnknownSubcommands makes each command that only groups subcommands treat an unknown one as a
// usage error (exit 2) with cobra's suggestions; on its own such a command prints its help.
func rejectUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		rejectUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.SuggestionsMinimumDistance = 2 // cobra's default, which SuggestionsFor does not apply itself
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t") + "\n"
		}
		return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("%s\nRun '%s --help' for usage.", msg, cmd.CommandPath())}
	}
	c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
}
