package lake

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestOpenBeneathAgreesWithRoot: the one-call open of local objects (openat2 on Linux) opens what os.Root
// opens and refuses what it refuses: paths through symbolic links that lead out of the root, "..", and
// absolute paths; links that stay inside are followed, as os.Root follows them. A FIFO or a folder is
// refused, with the same message, and a FIFO without blocking.
func TestOpenBeneathAgreesWithRoot(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	var b beneath
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "a", "b", "c"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "a", "b", "c", "file.gz"), []byte("deep"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "top"), []byte("top"), 0o644))
	must(os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "a", "out")))
	must(os.Symlink(outside, filepath.Join(dir, "a", "outdir")))
	must(os.Symlink(up(2)+"top", filepath.Join(dir, "a", "b", "up"))) // stays inside
	must(os.Symlink("b/c", filepath.Join(dir, "a", "cdir")))          // a folder inside
	must(os.Symlink(up(4), filepath.Join(dir, "a", "b", "c", "x")))   // leads out
	must(os.Symlink("/proc/self/root", filepath.Join(dir, "magic")))
	must(syscall.Mkfifo(filepath.Join(dir, "a", "fifo"), 0o644))

	for _, tc := range []struct {
		key  string
		want string // content; "" when the open must fail
	}{
		{"a/b/c/file.gz", "deep"},
		{"top", "top"},
		{"a/b/up", "top"},
		{"a/cdir/file.gz", "deep"},
		{"a/b/../b/c/file.gz", "deep"},
		{"a/out", ""},
		{"a/outdir/secret", ""},
		{"a/b/c/x/" + filepath.Base(outside) + "/secret", ""},
		{"../" + filepath.Base(dir) + "/top", ""},
		{"a/../../" + filepath.Base(dir) + "/top", ""},
		{filepath.Join(dir, "top"), ""},
		{"magic" + filepath.Join(outside, "secret"), ""},
		{"a/missing", ""},
		{"a/fifo", ""}, // refused without blocking
		{"a/b", ""},    // a folder
	} {
		key := filepath.FromSlash(tc.key)
		f, ok, err := b.open(dir, key)
		if !ok {
			if runtime.GOOS == "linux" {
				t.Logf("openat2 is not available here: only os.Root is tested")
			}
			f, err = openInRoot(dir, key)
		}
		rf, rerr := openInRoot(dir, key)
		got, rgot := read(t, f, err), read(t, rf, rerr)
		if got != tc.want || rgot != tc.want {
			t.Errorf("open %s: openBeneath read %q (%v), os.Root %q (%v); want %q", tc.key, got, err, rgot, rerr, tc.want)
		}
		if (err == nil) != (rerr == nil) || (os.IsNotExist(err) != os.IsNotExist(rerr)) ||
			(err != nil && strings.Contains(rerr.Error(), "not a regular file") && err.Error() != rerr.Error()) {
			t.Errorf("open %s: openBeneath error %v, os.Root error %v", tc.key, err, rerr)
		}
	}
}

// up is n steps up to the parent folder, for link targets.
func up(n int) string { return strings.Repeat("../", n) }

func read(t *testing.T, f io.ReadCloser, err error) string {
	t.Helper()
	if err != nil {
		return ""
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
