package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// BaselineInput is the history a hunt's profiles summarise: for each table, its files grouped by
// UTC day. Whole days are summarised once and cached (when a cache dir is set), keyed by the SHA-256
// of the day's files, so new or merged files for a day invalidate just that day's summary. A
// trailing partial day (from midnight to the window start) is summarised fresh every run and only
// feeds values profiles; measures profiles are per whole day.
type BaselineInput struct {
	// Tables maps a table to its day slices (whole days and an optional partial day).
	Tables map[string][]DaySlice
	// Fetch makes a day's files local and returns their paths, in the order of DaySlice.Files. It is
	// called only for days whose summary is not cached, so an S3 lake downloads only those. Nil means
	// the files' Path fields are already local.
	Fetch func(ctx context.Context, table string, day DaySlice) ([]string, error)
}

// DaySlice is one table's files for [Start, End) — a whole UTC day, or the partial day before the window.
type DaySlice struct {
	Start, End time.Time
	Files      []LocalFile
}

// LocalFile is a lake file: its local path (empty until fetched) and the checksum its commit recorded.
type LocalFile struct {
	Path   string
	SHA256 string
}

// Whole reports whether the slice is a complete UTC day (cacheable).
func (d DaySlice) Whole() bool { return d.End.Sub(d.Start) == 24*time.Hour }

// BaselineStats says how much of the baseline came from the cache.
type BaselineStats struct {
	DaysComputed int // day summaries computed from raw rows
	DaysCached   int // day summaries reused from the cache
}

// daysWithData is how many baseline days hold data in every profile table (the fewest over the tables).
func (in BaselineInput) daysWithData() int {
	least := -1
	for _, days := range in.Tables {
		n := 0
		for _, d := range days {
			if len(d.Files) > 0 {
				n++
			}
		}
		if least < 0 || n < least {
			least = n
		}
	}
	return max(least, 0)
}

// BuildBaselines materialises every profile of h as a table named after the profile.
// cacheDir "" computes every day in memory.
//
// A values profile becomes TABLE(entity, dim, value, first_time, last_time, events, days);
// a measures profile TABLE(entity, days, events, first_time, last_time, <m>_sum, <m>_sumsq, <m>_max) where
// days counts the days the entity was active (divide sums by $baseline_days, not days, for a daily mean).
//
// Every day is first found in the cache or fetched, and only then summarised: the profiles' expressions
// are hunt SQL, which runs in the locked session, and that reads only the files it knew of when it locked.
func (s *Session) BuildBaselines(ctx context.Context, h *huntfile.Hunt, in BaselineInput, cacheDir string) (BaselineStats, error) {
	var st BaselineStats
	if h.Baseline == nil {
		return st, nil
	}
	days := make([][]daySource, len(h.Baseline.Profiles))
	for i, p := range h.Baseline.Profiles {
		if _, err := lake.LookupTable(p.Table); err != nil {
			return st, &ProfileError{Index: i, Err: err}
		}
		for j, day := range in.Tables[p.Table] {
			if len(day.Files) == 0 || (len(p.Measures) > 0 && !day.Whole()) {
				continue
			}
			d, err := s.findDay(ctx, h.ID, p, day, j, cacheDir, in.Fetch)
			if err == nil && d.cache != "" {
				// Read back once summarised, so allowed whether or not it exists yet.
				var abs []string
				if abs, err = s.allow([]string{d.cache}); err == nil {
					d.cache = abs[0]
				}
			}
			if err != nil {
				return st, &ProfileError{Index: i, Err: err}
			}
			days[i] = append(days[i], d)
		}
	}
	for i, p := range h.Baseline.Profiles {
		t, _ := lake.LookupTable(p.Table)
		var sources []string
		for _, d := range days[i] {
			src, err := s.summarise(ctx, p, d)
			if err != nil {
				return st, &ProfileError{Index: i, Err: err}
			}
			if d.cached {
				st.DaysCached++
			} else {
				st.DaysComputed++
			}
			sources = append(sources, src)
		}
		if len(sources) == 0 {
			// No history: the profile's table is empty but typed, so the hunt still prepares.
			sources = []string{"(" + summarySQL(t, p, "("+t.EmptySelect()+")", time.Time{}, time.Time{}) + ")"}
		}
		if err := s.createProfileTable(ctx, p, sources); err != nil {
			return st, &ProfileError{Index: i, Err: err}
		}
	}
	return st, nil
}

// WarmBaselines puts the summaries of the whole days in in into the cache without building profile
// tables: a run calls it for its window, which is part of the next runs' baselines. The days' files
// must be among the session's (the window's files are).
func (s *Session) WarmBaselines(ctx context.Context, h *huntfile.Hunt, in BaselineInput, cacheDir string) error {
	if h.Baseline == nil || cacheDir == "" {
		return nil
	}
	for i, p := range h.Baseline.Profiles {
		if _, err := lake.LookupTable(p.Table); err != nil {
			return &ProfileError{Index: i, Err: err}
		}
		for j, day := range in.Tables[p.Table] {
			if len(day.Files) == 0 || !day.Whole() {
				continue
			}
			d, err := s.findDay(ctx, h.ID, p, day, j, cacheDir, in.Fetch)
			if err == nil && !d.cached {
				_, err = s.summarise(ctx, p, d)
			}
			if err != nil {
				return &ProfileError{Index: i, Err: err}
			}
		}
	}
	return nil
}

// ProfileError is a baseline profile that failed; Index is its position in baseline.profiles.
type ProfileError struct {
	Index int
	Err   error
}

func (e *ProfileError) Error() string {
	return fmt.Sprintf("baseline profile %d: %v", e.Index+1, e.Err)
}
func (e *ProfileError) Unwrap() error { return e.Err }

// daySource is one day of a profile's history: its summary in the cache, or the files to summarise.
type daySource struct {
	day    DaySlice
	idx    int
	cache  string   // the day's summary file ("" without a cache dir, and for the partial day)
	cached bool     // the cache holds it
	paths  []string // the day's local files, when not cached
}

// findDay looks the day's summary up in the cache; if it is not there, it fetches the day's files.
func (s *Session) findDay(ctx context.Context, huntID string, p huntfile.Profile, day DaySlice, idx int, cacheDir string,
	fetch func(context.Context, string, DaySlice) ([]string, error)) (daySource, error) {
	d := daySource{day: day, idx: idx}
	if cacheDir != "" && day.Whole() {
		d.cache = filepath.Join(cacheDir, "baselines", huntID, p.Name, fmt.Sprintf("%s-%s.parquet", day.Start.Format(time.DateOnly), dayKey(p, day)))
		if _, err := os.Stat(d.cache); err == nil {
			d.cached = true
			return d, nil
		}
	}
	paths := make([]string, len(day.Files))
	for i, f := range day.Files {
		paths[i] = f.Path
	}
	var err error
	if fetch != nil {
		if paths, err = fetch(ctx, p.Table, day); err != nil {
			return d, err
		}
	}
	d.paths, err = s.allow(paths)
	return d, err
}

// summarise returns a FROM-able source with the day's summary: its cache file (written now if it was not
// cached) or, without a cache file, a temp table. DuckDB writes the summary into the session's scratch
// directory, the only place the locked session may write; Go moves it into the cache.
func (s *Session) summarise(ctx context.Context, p huntfile.Profile, d daySource) (string, error) {
	if d.cached {
		return s.readParquet([]string{d.cache}), nil
	}
	t, err := lake.LookupTable(p.Table)
	if err != nil {
		return "", err
	}
	from := "(" + t.ViewSelect(s.readParquet(d.paths)) + ")"
	fail := func(err error) (string, error) {
		return "", fmt.Errorf("summarise %s %s: %w", p.Table, d.day.Start.Format(time.DateOnly), err)
	}
	// The fast form is the plain one rewritten (summaryForm); should it not bind for a profile whose
	// columns it misread, the plain form runs and reports its own errors, if any.
	exec := func(into func(q string) (string, duckdb.StmtType)) error {
		stmt, typ := into(summarySQL(t, p, from, d.day.Start, d.day.End))
		err := s.execHunt(ctx, stmt, typ)
		if err != nil && ctx.Err() == nil && (s.limits.Timeout <= 0 || s.spent < s.limits.Timeout) {
			stmt, typ = into(summaryForm(t, p, from, d.day.Start, d.day.End, formPlain))
			err = s.execHunt(ctx, stmt, typ)
		}
		return err
	}
	if d.cache == "" {
		name := ident(fmt.Sprintf("__profile_%s_%d", p.Name, d.idx))
		if err := exec(func(q string) (string, duckdb.StmtType) {
			return fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s AS %s", name, q), duckdb.STATEMENT_TYPE_CREATE
		}); err != nil {
			return fail(err)
		}
		return name, nil
	}
	scratch := filepath.Join(s.dir, p.Name+"-"+filepath.Base(d.cache))
	defer os.Remove(scratch)
	if err := exec(func(q string) (string, duckdb.StmtType) {
		return fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet, COMPRESSION zstd)", q, literal(scratch)), duckdb.STATEMENT_TYPE_COPY
	}); err != nil {
		return fail(err)
	}
	b, err := os.ReadFile(scratch)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(d.cache), 0o755)
	}
	if err == nil {
		err = lake.WriteFileAtomic(d.cache, b)
	}
	if err != nil {
		return "", fmt.Errorf("baseline cache: %w", err)
	}
	return s.readParquet([]string{d.cache}), nil
}

// dayKey identifies a day summary: the profile definition, the macros and the exact files of the day.
func dayKey(p huntfile.Profile, day DaySlice) string {
	hashes := make([]string, len(day.Files))
	for i, f := range day.Files {
		hashes[i] = f.SHA256
		if f.SHA256 == "" {
			// Without a checksum the day cannot be proven unchanged: key on the path and never match twice.
			hashes[i] = f.Path + "@" + time.Now().String()
		}
	}
	sort.Strings(hashes)
	def, _ := json.Marshal(p)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s", def, macroVersion, summaryVersion, day.Start.Format(time.RFC3339), strings.Join(hashes, ","))
	return hex.EncodeToString(h.Sum(nil))[:24]
}

func tsLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

func (s *Session) createProfileTable(ctx context.Context, p huntfile.Profile, sources []string) error {
	union := make([]string, len(sources))
	for i, src := range sources {
		union[i] = "SELECT * FROM " + src
	}
	all := strings.Join(union, "\nUNION ALL BY NAME\n")
	var q string
	if len(p.Values) > 0 {
		q = fmt.Sprintf(`CREATE OR REPLACE TABLE %s AS SELECT entity, dim, value, min(first_time) AS first_time, max(last_time) AS last_time,
sum(events)::BIGINT AS events, count(DISTINCT day)::BIGINT AS days FROM (%s) GROUP BY entity, dim, value`, ident(p.Name), all)
	} else {
		cols := []string{"entity", "count(DISTINCT day)::BIGINT AS days", "sum(events)::BIGINT AS events", "min(first_time) AS first_time", "max(last_time) AS last_time"}
		for _, m := range huntfile.SortedKeys(p.Measures) {
			cols = append(cols, fmt.Sprintf("sum(%[1]s) AS %[2]s, sum(%[1]s * %[1]s) AS %[3]s, max(%[1]s) AS %[4]s",
				ident(m), ident(m+"_sum"), ident(m+"_sumsq"), ident(m+"_max")))
		}
		q = fmt.Sprintf("CREATE OR REPLACE TABLE %s AS SELECT %s FROM (%s) GROUP BY entity", ident(p.Name), strings.Join(cols, ", "), all)
	}
	if err := s.execHunt(ctx, q, duckdb.STATEMENT_TYPE_CREATE); err != nil {
		return fmt.Errorf("build %s: %w", p.Name, err)
	}
	return nil
}
