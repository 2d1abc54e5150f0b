package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

func newInitCmd() *cobra.Command {
	var (
		out, lakeURL string
		raws         []string
		force        bool
	)
	c := &cobra.Command{
		Use:   "init [--out lakehunt.yaml] [--lake LAKE] [--from RAW...]",
		Short: "Write a commented lakehunt.yaml for scheduled operation (run --due, status)",
		Long: `init writes a configuration file with every setting and a comment on each: the lake, the raw log
locations, accounts, threat-intel feeds, hunt directories, outputs (run directories, ASFF, Security Hub)
and the schedule defaults (window close delay, catch-up bound, late-data lookback, lease TTL).
Edit it, then run 'lakehunt run --due' from cron or EventBridge Scheduler (see deploy/).`,
		Example: `  lakehunt init
  lakehunt init --lake s3://sec-lake/lake/ --from s3://org-trail-bucket/ --out /etc/lakehunt/lakehunt.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			flag := os.O_WRONLY | os.O_CREATE | os.O_EXCL
			if force {
				flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flag, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("%s exists; pass --force to overwrite it or --out to write elsewhere", out)}
			}
			if err != nil {
				return err
			}
			if _, err := f.WriteString(renderInitConfig(lakeURL, raws)); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; edit it, then: lakehunt run --due --config %s\n", out, out)
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", defaultConfigFile, "file to write")
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake to put in the file (default ./lake)")
	c.Flags().StringArrayVar(&raws, "from", nil, "a raw log location to put in the file (repeatable; default ./raw)")
	c.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	c.AddCommand(newInitHuntsRepoCmd())
	return c
}
