package diff

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// CheckoutBase writes the hunts directory dir as it is at git ref (a branch, tag or commit of the
// repository holding dir) into the empty directory out. found is false when dir did not exist at ref
// (every hunt of the change is new). Only regular files are written.
func CheckoutBase(ctx context.Context, dir, ref, out string) (found bool, err error) {
	git := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return b, nil
	}
	prefix, err := git("rev-parse", "--show-prefix")
	if err != nil {
		return false, fmt.Errorf("--base %s is not a directory, and %s is not in a git repository to read it as a ref from: %w", ref, dir, err)
	}
	top, err := git("rev-parse", "--show-toplevel")
	if err != nil {
		return false, err
	}
	if _, err := git("rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}"); err != nil {
		return false, fmt.Errorf("--base %s is neither a directory nor a commit of the repository holding %s (fetch it first, e.g. 'git fetch origin main' and --base origin/main)", ref, dir)
	}
	dir = strings.TrimSpace(string(top)) // git archive reads a tree's path from the top, not from a subdirectory
	tree := ref + ":" + strings.TrimSuffix(strings.TrimSpace(string(prefix)), "/")
	if _, err := git("cat-file", "-e", "--end-of-options", tree); err != nil {
		return false, nil
	}
	tarball, err := git("archive", "--format=tar", "--end-of-options", tree)
	if err != nil {
		return false, err
	}
	return true, untar(bytes.NewReader(tarball), out)
}

// untar writes the regular files and directories of a tar stream under out; links and names that
// would leave out are skipped.
func untar(r io.Reader, out string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read git archive: %w", err)
		}
		name := path.Clean(hdr.Name)
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			continue
		}
		p := filepath.Join(out, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
