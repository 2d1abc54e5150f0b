// Package hunts is the hunt runner's front door for the CLI: load hunt files (the shipped library and
// the user's directories), lint them, run their inline tests, run them over a lake and write the run
// directory. The work is done in sub-packages: huntfile (format), lint, engine (DuckDB), harness (tests).
package hunts

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/harness"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
	"github.com/lakehunt/lakehunt/hunts/lint"
	"github.com/lakehunt/lakehunt/lake"
)

type (
	// Hunt is one parsed hunt file.
	Hunt = huntfile.Hunt
	// Diagnostic is a problem in a hunt file, printed "file:line:col: message".
	Diagnostic = huntfile.Diagnostic
	// Lock pins hunt versions to content hashes (hunts.lock).
	Lock = huntfile.Lock
	// RunOptions configures Run.
	RunOptions = engine.RunOptions
	// Limits bounds each hunt's DuckDB session (memory, threads, time), in lint, tests and runs alike.
	Limits = engine.Limits
	// TestSummary counts hunt test results.
	TestSummary = harness.Summary
)

// The default limits of a hunt's DuckDB session.
const (
	DefaultMemoryLimit = engine.DefaultMemoryLimit
	DefaultThreads     = engine.DefaultThreads
	DefaultTimeout     = engine.DefaultTimeout
)

// Set is a collection of loaded hunts with their lock entries and the diagnostics of files that did
// not load (a file with a syntax or schema error is left out of Hunts and reported here).
type Set struct {
	Hunts       []*Hunt
	Lock        Lock
	Diagnostics []Diagnostic
}

// LibraryName is how the shipped library's files are named in messages.
const LibraryName = library.Name

// LoadLibrary loads the hunts embedded in the binary.
func LoadLibrary() (*Set, error) {
	return load(huntfile.Source{FS: library.FS, Name: LibraryName})
}

// LoadDir loads the hunt files under dir (recursively) and dir/hunts.lock.
func LoadDir(dir string) (*Set, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("hunt directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("hunt directory %s is not a directory", dir)
	}
	return load(huntfile.Source{FS: os.DirFS(dir), Name: filepath.ToSlash(filepath.Clean(dir))})
}

// Load loads the library (when withLibrary) and each directory, in that order.
func Load(withLibrary bool, dirs ...string) (*Set, error) {
	all := &Set{Lock: Lock{}}
	if withLibrary {
		s, err := LoadLibrary()
		if err != nil {
			return nil, err
		}
		all.add(s)
	}
	for _, d := range dirs {
		s, err := LoadDir(d)
		if err != nil {
			return nil, err
		}
		all.add(s)
	}
	return all, nil
}

func (s *Set) add(o *Set) {
	s.Hunts = append(s.Hunts, o.Hunts...)
	s.Lock = s.Lock.Merge(o.Lock)
	s.Diagnostics = append(s.Diagnostics, o.Diagnostics...)
}

func load(src huntfile.Source) (*Set, error) {
	hs, lock, diags, err := huntfile.Load(src)
	if err != nil {
		return nil, err
	}
	return &Set{Hunts: hs, Lock: lock, Diagnostics: diags}, nil
}

// Lint returns the set's load diagnostics plus every lint finding. lint.HasErrors tells whether to fail.
func Lint(ctx context.Context, s *Set, limits Limits) []Diagnostic {
	return append(append([]Diagnostic(nil), s.Diagnostics...), lint.Lint(ctx, s.Hunts, s.Lock, limits)...)
}

// HasErrors reports whether any diagnostic is an error rather than a warning.
func HasErrors(diags []Diagnostic) bool { return lint.HasErrors(diags) }

// UpdateLock renders hunts.lock for hunts (write it to DIR/hunts.lock after review), keeping old's entry
// for hunts whose logic changed without a version bump; kept names them.
func UpdateLock(old Lock, hunts []*Hunt) (b []byte, kept []string) {
	return huntfile.UpdateLock(old, hunts)
}

// RunTests runs the inline tests of the set's hunts (ids and test names matching filter, nil = all)
// through the real compactor and the real SQL, printing go-test-like output to out. A file of the set
// that did not load is a failed test.
func RunTests(ctx context.Context, s *Set, filter *regexp.Regexp, limits Limits, out io.Writer) (TestSummary, error) {
	return harness.RunTests(ctx, s.Hunts, s.Diagnostics, filter, limits, out)
}

// Run runs hunts over a lake; see engine.Run.
func Run(ctx context.Context, opts RunOptions) (*lake.Run, []lake.Finding, error) {
	return engine.Run(ctx, opts)
}

// WriteRunDir writes RUNDIR/run.json and RUNDIR/findings.jsonl.
func WriteRunDir(dir string, run *lake.Run, findings []lake.Finding) error {
	return engine.WriteRunDir(dir, run, findings)
}

// Select keeps the hunts whose ids are listed (all when ids is empty); an unknown id is an error.
func Select(hunts []*Hunt, ids []string) ([]*Hunt, error) {
	if len(ids) == 0 {
		return hunts, nil
	}
	byID := map[string]*Hunt{}
	for _, h := range hunts {
		byID[h.ID] = h
	}
	var out []*Hunt
	for _, id := range ids {
		h, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("no hunt with id %q (see lakehunt hunt list)", id)
		}
		out = append(out, h)
	}
	return out, nil
}
