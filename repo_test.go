// Package lakehunt_test holds checks on the repository as a whole.
package lakehunt_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"
)

var (
	// A run of parent-directory steps as a path ("../../x") or as filepath.Join arguments ("..", "..", "x"),
	// and the name that follows them.
	parentSteps = regexp.MustCompile(`(\.\.(?:(?:/|\\|"\s*,\s*")\.\.)*)(?:(?:/|\\|"\s*,\s*")([\w-][\w.-]*))?`)
	// Absolute paths into this machine's /work folders or someone's home (paths inside a container image are fine).
	absoluteOutside = regexp.MustCompile(`(?:^|[^\w.])(/work/|/home/\w|/Users/\w)`)
)

// outsideRefs returns "line: text" for each reference in a file (at repository path name, read from the
// repository root) to a path outside the repository: more parent steps than the file's folder is deep, or
// steps to a name that is not there (Go tests run in their package's folder; scripts and docs are held to
// the same rule), or an absolute path into /work or a home.
func outsideRefs(name string, content []byte) []string {
	dir := path.Dir(name)
	depth := strings.Count(dir, "/") + 1
	if dir == "." {
		depth = 0
	}
	var out []string
	for i, line := range strings.Split(string(content), "\n") {
		report := func(why string) { out = append(out, fmt.Sprintf("%d: %s (%s)", i+1, strings.TrimSpace(line), why)) }
		if m := absoluteOutside.FindStringSubmatch(line); m != nil {
			report("absolute path " + m[1])
			continue
		}
		for _, m := range parentSteps.FindAllStringSubmatchIndex(line, -1) {
			start, end := m[2], m[3]
			// ".." must be a whole path element: not part of "...", "parts...", "a..b" or "x/..".
			if start > 0 && (pathChar(line[start-1]) || line[start-1] == '/') || end < len(line) && pathChar(line[end]) {
				continue
			}
			steps := strings.Count(line[start:end], "..")
			if steps > depth {
				report(fmt.Sprintf("%d steps up from %s", steps, dir))
				break
			}
			if m[4] >= 0 {
				target := path.Join(dir, strings.Repeat("../", steps), line[m[4]:m[5]])
				if _, err := os.Stat(target); err != nil {
					report(fmt.Sprintf("%s is not in the repository", target))
					break
				}
			}
		}
	}
	return out
}

func pathChar(c byte) bool {
	return c == '.' || c == '_' || c == '-' || c == '\\' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func TestOutsideRefsCatchesEscapes(t *testing.T) {
	// Assembled, so that this table is not itself a reference outside the repository.
	shared := "shared" + "/datasets"
	for _, tc := range []struct {
		name, line string
		bad        bool
	}{
		{"compact/cloudtrail/x_test.go", `var d = filepath.Join("..", "..", "..", "shared", "datasets")`, true},
		{"compact/cloudtrail/x_test.go", `var d = filepath.Join("..", "..", "testdata")`, false},
		{"compact/x_test.go", `os.ReadFile("../../` + shared + `/x.json")`, true},
		{"compact/x_test.go", `os.ReadFile("../testdata/x.json")`, false},
		{"reports/internal/shmodel/model.go", "// from a datasets folder (../" + shared + ")", true},
		{"hunts/lint/x_test.go", `os.WriteFile(filepath.Join("..", "library", huntfile.LockFile), b, 0o644)`, false},
		{"deploy/README.md", "see [the README](../README.md)", false},
		{"Makefile", "\tcp ../" + shared + "/x testdata/", true},
		{"scripts/bench.sh", `cd "$(dirname "$0")/.."`, false},
		{"README.md", "Tests read /work/" + shared + ".", true},
		{"README.md", "see [x](../other/README.md)", true},
		{"README.md", "laid out as AWSLogs/.../vpcflowlogs/... and parts...", false},
		{"scripts/bench.sh", `WORK=${BENCH_DIR:-$(mktemp -d /tmp/lakehunt-bench.XXXX)}`, false},
		{"hunts/x.go", `dir := "/home/alice/data"`, true},
	} {
		if got := outsideRefs(tc.name, []byte(tc.line)); (len(got) > 0) != tc.bad {
			t.Errorf("%s: %q: found %q, want outside reference %v", tc.name, tc.line, got, tc.bad)
		}
	}
}

// A fresh clone must pass its tests and run its scripts on its own: nothing in the repository may read
// from a path outside it (test data lives in testdata/, see testdata/PROVENANCE.md).
func TestNoReferencesOutsideTheRepository(t *testing.T) {
	if _, err := os.Stat(".git"); err != nil {
		t.Skipf("not a git checkout (%v): the files to check are the ones git tracks", err)
	}
	out, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	names := strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
	if len(names) < 50 {
		t.Fatalf("git ls-files listed only %d files", len(names))
	}
	for _, name := range names {
		if name == "repo_test.go" { // its examples are the patterns it looks for
			continue
		}
		// Test data is input, not instructions (a MISP event holds "...?file=../APTnotes/x.pdf"), but the
		// Markdown beside it (testdata/PROVENANCE.md) says how to rebuild it and is checked.
		inTestdata := strings.HasPrefix(name, "testdata/") || strings.Contains(name, "/testdata/")
		if inTestdata && !(path.Base(path.Dir(name)) == "testdata" && path.Ext(name) == ".md") {
			continue
		}
		b, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet in the index
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			continue
		}
		for _, ref := range outsideRefs(name, b) {
			t.Errorf("%s:%s refers to a path outside the repository; put what it needs under testdata/ (with its provenance in testdata/PROVENANCE.md) or in the repository", name, ref)
		}
	}
}
