package main

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts"
)

//go:embed all:huntsrepo
var huntsRepo embed.FS

var releaseRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)

func newInitHuntsRepoCmd() *cobra.Command {
	var pin string
	c := &cobra.Command{
		Use:   "hunts-repo DIR",
		Short: "Lay out a hunts repository: an example hunt with tests, the lock file, a README, GitHub Actions and GitLab CI",
		Long: `hunts-repo writes into DIR (new or empty) a repository for your team's hunts:
  hunts/example-root-sign-in.yaml  an example hunt with a positive and a negative test
  hunts/hunts.lock                 its pinned version and content hash
  README.md                        how hunters change a hunt, and the read-only IAM role CI needs
  .github/workflows/hunts.yml      GitHub Actions, on every pull request
  .gitlab-ci.yml                   GitLab CI, on every merge request
The CI definitions install the pinned lakehunt release (--lakehunt-version, default this binary's), run
'hunt lint' and 'hunt test' (with a JUnit report), and where the job may read the lake, post
'hunt diff --format markdown' as a comment. Scheduled runs read the repository's main branch (deploy/README.md).`,
		Example: `  lakehunt init hunts-repo ./security-hunts && cd security-hunts && git init`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if pin == "" {
				pin = version
			}
			if !releaseRE.MatchString(pin) {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("this lakehunt is %q, not a release the CI files can pin: give --lakehunt-version vX.Y.Z", pin)}
			}
			if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("%s is not empty: give a new or empty directory", dir)}
			} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			err := fs.WalkDir(huntsRepo, "huntsrepo", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := huntsRepo.ReadFile(p)
				if err != nil {
					return err
				}
				out := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "huntsrepo/")))
				if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
					return err
				}
				return os.WriteFile(out, []byte(strings.ReplaceAll(string(b), "LAKEHUNT_VERSION_PIN", pin)), 0o644)
			})
			if err != nil {
				return err
			}
			huntsDir := filepath.Join(dir, "hunts")
			set, err := hunts.LoadDir(huntsDir)
			if err != nil {
				return err
			}
			lock, _ := hunts.UpdateLock(nil, set.Hunts)
			if err := os.WriteFile(filepath.Join(huntsDir, "hunts.lock"), lock, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (lakehunt %s pinned in its CI files); next: cd %s && git init && lakehunt hunt test --no-library --hunts hunts\n", dir, pin, dir)
			return nil
		},
	}
	c.Flags().StringVar(&pin, "lakehunt-version", "", "the lakehunt release the CI files install, vX.Y.Z (default: this binary's version)")
	return c
}
