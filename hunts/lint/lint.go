// Package lint proves hunts well-formed without data: schema (checked when loading), versions against
// hunts.lock, tables, tests, the SQL prepared against the real table schemas, and the expressions
// compiled against the real result columns.
package lint

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
	"github.com/lakehunt/lakehunt/hunts/schedule"
	"github.com/lakehunt/lakehunt/lake"
)

// Lint checks hunts against the lock and returns every problem found, errors and warnings, in file
// order. Suppression expiry is judged against the current time. The SQL runs in the session hunts run
// in, with limits.
func Lint(ctx context.Context, hunts []*huntfile.Hunt, lock huntfile.Lock, limits engine.Limits) []huntfile.Diagnostic {
	return LintAt(ctx, hunts, lock, time.Now(), limits)
}

// LintAt is Lint with a given current time.
func LintAt(ctx context.Context, hunts []*huntfile.Hunt, lock huntfile.Lock, now time.Time, limits engine.Limits) []huntfile.Diagnostic {
	var diags []huntfile.Diagnostic
	first := map[string]*huntfile.Hunt{}
	for _, h := range hunts {
		if prev, dup := first[h.ID]; dup {
			diags = append(diags, h.At(fmt.Sprintf("hunt id %q is already used by %s; ids are unique and stable forever", h.ID, prev.File), "id"))
			continue
		}
		first[h.ID] = h
		diags = append(diags, checkLock(h, lock)...)
		diags = append(diags, checkStatic(h)...)
		diags = append(diags, checkSQL(ctx, h, now, limits)...)
	}
	sort.SliceStable(diags, func(i, j int) bool {
		if diags[i].File != diags[j].File {
			return diags[i].File < diags[j].File
		}
		return diags[i].Line < diags[j].Line
	})
	return diags
}

// HasErrors reports whether any diagnostic is an error (not a warning).
func HasErrors(diags []huntfile.Diagnostic) bool {
	for _, d := range diags {
		if !d.Warning {
			return true
		}
	}
	return false
}

func checkLock(h *huntfile.Hunt, lock huntfile.Lock) []huntfile.Diagnostic {
	e, ok := lock[h.ID]
	hash := h.ContentHash()
	switch {
	case !ok:
		return []huntfile.Diagnostic{h.At(fmt.Sprintf("hunt %s is not in %s: add the line %q (%s rewrites the lock)", h.ID, huntfile.LockFile, fmt.Sprintf("%s %d %s", h.ID, h.Version, hash), lockCommand(h)), "id")}
	case h.Version < e.Version:
		return []huntfile.Diagnostic{h.At(fmt.Sprintf("version %d is lower than %d in %s:%d; versions only go up", h.Version, e.Version, e.File, e.Line), "version")}
	case h.Version == e.Version && hash != e.Hash:
		return []huntfile.Diagnostic{h.At(fmt.Sprintf("the query or its logic changed since %s:%d pinned version %d: bump version to %d, then update the lock: %s", e.File, e.Line, e.Version, e.Version+1, lockCommand(h)), "version")}
	case h.Version > e.Version:
		return []huntfile.Diagnostic{h.At(fmt.Sprintf("version %d is not in %s yet (it pins %d): update the lock: %s", h.Version, e.File, e.Version, lockCommand(h)), "version")}
	}
	return nil
}

// lockCommand is the command that rewrites the lock of h's directory. The shipped library's lock is
// embedded in the binary: it is rewritten in the repository, and takes effect once rebuilt.
func lockCommand(h *huntfile.Hunt) string {
	if h.Dir == library.Name {
		return "`lakehunt hunt lint --no-library --hunts " + library.Name + " --write-lock` at the root of the lakehunt repository, then `make build`"
	}
	dir := h.Dir
	if strings.Trim(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-") != "" {
		dir = "'" + strings.ReplaceAll(dir, "'", `'\''`) + "'"
	}
	return "`lakehunt hunt lint --hunts " + dir + " --write-lock`"
}

var windowParamRE = regexp.MustCompile(`\$window_(start|end)\b`)

func checkStatic(h *huntfile.Hunt) []huntfile.Diagnostic {
	var diags []huntfile.Diagnostic
	errAt := func(msg string, path ...string) { diags = append(diags, h.At(msg, path...)) }
	if _, err := schedule.Parse(h.Schedule); err != nil {
		errAt(fmt.Sprintf("schedule: %v", err), "schedule")
	}
	declared := map[string]bool{}
	for i, t := range h.Tables {
		if _, err := lake.LookupTable(t); err != nil {
			errAt(err.Error(), "tables", strconv.Itoa(i))
		}
		declared[t] = true
	}
	if h.Baseline != nil {
		names := map[string]bool{}
		for i, p := range h.Baseline.Profiles {
			if _, err := lake.LookupTable(p.Table); err != nil {
				errAt(err.Error(), "baseline", "profiles", strconv.Itoa(i), "table")
			}
			if names[p.Name] {
				errAt(fmt.Sprintf("profile name %q is used twice", p.Name), "baseline", "profiles", strconv.Itoa(i), "name")
			}
			names[p.Name] = true
			if _, err := lake.LookupTable(p.Name); err == nil {
				errAt(fmt.Sprintf("profile name %q is a lake table name; choose another", p.Name), "baseline", "profiles", strconv.Itoa(i), "name")
			}
		}
		if !strings.Contains(h.Query, "$baseline_start") && !strings.Contains(h.Query, "first_seen(") &&
			!strings.Contains(h.Query, "known_entity(") && !profileUsed(h) {
			errAt("the hunt declares a baseline but the query uses neither its profiles nor $baseline_start", "baseline")
		}
	}
	for i, d := range h.Data {
		if _, err := lake.LookupTable(d.Table); err == nil {
			errAt(fmt.Sprintf("data table %q would hide the lake table of that name; choose another", d.Table), "data", strconv.Itoa(i), "table")
		}
	}
	found := map[string]bool{}
	for _, m := range windowParamRE.FindAllStringSubmatch(h.Query, -1) {
		found[m[1]] = true
	}
	if !found["start"] || !found["end"] {
		errAt("the query must filter on $window_start and $window_end (e.g. WHERE event_time >= $window_start AND event_time < $window_end); without them it reads every row of every file it is given", "query")
	}
	var positive, negative bool
	for i, t := range h.Tests {
		path := []string{"tests", strconv.Itoa(i)}
		if t.Expect.Count > 0 {
			positive = true
		} else {
			negative = true
		}
		if len(t.Expect.Findings) > t.Expect.Count {
			errAt(fmt.Sprintf("test %q lists %d expected findings but expects count %d", t.Name, len(t.Expect.Findings), t.Expect.Count), append(path, "expect")...)
		}
		for _, table := range slices.Sorted(maps.Keys(t.Events)) {
			if _, err := lake.LookupTable(table); err != nil {
				errAt(fmt.Sprintf("test %q: %q is not a test key nor a source table: %v", t.Name, table, err), append(path, table)...)
				continue
			}
			if !empty(t.Events[table]) && !declared[table] && !profileReads(h, table) {
				errAt(fmt.Sprintf("test %q has %s events but the hunt does not read %s", t.Name, table, table), append(path, table)...)
			}
		}
	}
	if !positive {
		errAt("missing test: add a positive test (events the hunt must find, expect.count > 0)", "tests")
	}
	if !negative {
		errAt("missing test: add a negative test (look-alike events the hunt must not find, expect.count: 0)", "tests")
	}
	return diags
}

// empty reports whether a test's raw events are none (an empty list or blank text).
func empty(events any) bool {
	switch v := events.(type) {
	case []any:
		return len(v) == 0
	case string:
		return strings.TrimSpace(v) == ""
	}
	return events == nil
}

func profileUsed(h *huntfile.Hunt) bool {
	for _, p := range h.Baseline.Profiles {
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(p.Name) + `\b`).MatchString(h.Query) {
			return true
		}
	}
	return false
}

func profileReads(h *huntfile.Hunt, table string) bool {
	if h.Baseline == nil {
		return false
	}
	for _, p := range h.Baseline.Profiles {
		if p.Table == table {
			return true
		}
	}
	return false
}

// checkSQL runs the hunt in a session with empty views of its tables: DuckDB binds every table, column
// and macro, and the result columns are the real ones the expressions compile against. It is the locked
// session a run uses, so SQL that reaches outside the lake fails here too, and writes nothing.
func checkSQL(ctx context.Context, h *huntfile.Hunt, now time.Time, limits engine.Limits) []huntfile.Diagnostic {
	files := map[string][]string{}
	for _, t := range h.Tables {
		if _, err := lake.LookupTable(t); err != nil {
			return nil // reported by checkStatic
		}
		files[t] = nil
	}
	s, err := engine.NewSession(ctx, files, limits)
	if err != nil {
		return []huntfile.Diagnostic{h.At(err.Error(), "tables")}
	}
	defer s.Close()
	for i, dt := range h.DataTables {
		if err := s.LoadData(ctx, dt); err != nil {
			return []huntfile.Diagnostic{h.At(err.Error(), "data", strconv.Itoa(i))}
		}
	}
	w := engine.HuntWindow(h, time.Time{}, time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC))
	if _, err := s.BuildBaselines(ctx, h, engine.BaselineInput{}, ""); err != nil {
		var pe *engine.ProfileError
		if errors.As(err, &pe) {
			return []huntfile.Diagnostic{h.At(fmt.Sprintf("baseline profile %q: %s", h.Baseline.Profiles[pe.Index].Name, unwrapSQL(pe.Err)), "baseline", "profiles", strconv.Itoa(pe.Index))}
		}
		return []huntfile.Diagnostic{h.At(err.Error(), "baseline")}
	}
	res, err := s.Query(ctx, h.Query, w)
	if err != nil {
		d := h.At("SQL: "+unwrapSQL(err), "query")
		var se *engine.SQLError
		if errors.As(err, &se) && se.Line > 0 {
			d.Line, d.Col = h.QueryLine(se.Line), 0
			d.Message = fmt.Sprintf("SQL line %d: %s", se.Line, se.Msg)
		}
		if strings.Contains(d.Message, "Table with name") {
			d.Message += fmt.Sprintf(" (the hunt can read the tables it lists under tables: %s, its data tables and its baseline profiles)", strings.Join(h.Tables, ", "))
		}
		return []huntfile.Diagnostic{d}
	}
	_, diags := engine.Compile(h, res.Columns, now)
	return diags
}

func unwrapSQL(err error) string {
	var se *engine.SQLError
	if errors.As(err, &se) {
		return se.Msg
	}
	return err.Error()
}
