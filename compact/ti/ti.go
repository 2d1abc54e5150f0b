// Package ti imports threat-intel feeds into the lake's ti_indicators table and lists them.
//
// A feed's state is rewritten as a whole by each import, in one commit: one Parquet file per feed
// (ti_indicators/feed=NAME/part-….parquet) holds every indicator the feed ever listed. An indicator still
// listed keeps its valid_from; one that is gone gets valid_to = the import time; a new one (or one listed
// again after it was dropped) gets a row with valid_from = the import time. Closed rows are never changed
// again, so a hunt can ask both "with today's intel, what happened in the past" (valid_to IS NULL) and
// "what did we know at the time" (valid_from <= event_time < coalesce(valid_to, +inf)).
// Importing the same content twice changes nothing and commits nothing.
package ti

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/compact/tifeed"
	"github.com/lakehunt/lakehunt/lake"
)

// Source is one feed file to import.
type Source struct {
	// URL is a local path or s3://bucket/key. It names the source in messages and in source_file.
	URL string
	// Format is one of tifeed.Formats, or "" / "auto" to detect it.
	Format string
	// Open, if set, reads the source instead of URL (e.g. an S3 client with a custom endpoint).
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// SourceSummary is what was read from one source.
type SourceSummary struct {
	URL string `json:"url"`
	tifeed.Stats
}

// maxIssues bounds each issue list kept in a summary; the counts stay exact.
const maxIssues = 1000

// ImportSummary is what an import did; `ti import --json` prints it.
type ImportSummary struct {
	Feed       string          `json:"feed"`
	ImportedAt time.Time       `json:"imported_at"`
	Sources    []SourceSummary `json:"sources"`

	Indicators int            `json:"indicators"` // distinct indicators listed by this import
	ByType     map[string]int `json:"by_type"`
	Duplicates int            `json:"duplicates"` // repeats of an indicator (within or across sources), merged into one row

	New         int `json:"new"`          // listed for the first time, or again after being dropped: valid_from = now
	StillListed int `json:"still_listed"` // listed before and now: valid_from kept
	Updated     int `json:"updated"`      // still listed, but confidence/tags/family/description/first-seen changed
	Closed      int `json:"closed"`       // listed before, not now: valid_to = now

	Bogons         []tifeed.Issue `json:"bogons,omitempty"` // excluded special-purpose ranges, with their lines
	BogonCount     int            `json:"bogon_count"`
	Malformed      []tifeed.Issue `json:"malformed,omitempty"` // lines not imported, with the reason
	MalformedCount int            `json:"malformed_count"`
	Warnings       []tifeed.Issue `json:"warnings,omitempty"`
	WarningCount   int            `json:"warning_count"`
	Skipped        map[string]int `json:"skipped,omitempty"` // well-formed records with no storable indicator, by reason

	Changed     bool   `json:"changed"` // false: identical to the feed's state in the lake, nothing was committed
	File        string `json:"file,omitempty"`
	Rows        int64  `json:"rows"` // rows of the feed after the import (listed + history)
	LakeVersion int64  `json:"lake_version"`
}

var feedNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ValidateFeedName checks a feed name: it names the Hive folder ti_indicators/feed=NAME.
func ValidateFeedName(feed string) error {
	if !feedNameRE.MatchString(feed) {
		return fmt.Errorf("feed name %q: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit (it names the folder %s/feed=NAME)", feed, lake.TableTIIndicators)
	}
	return nil
}

// FeedPrefix is the folder of a feed's files.
func FeedPrefix(feed string) string { return lake.TableTIIndicators + "/feed=" + feed + "/" }

// Import reads sources as the complete current content of feed and commits the feed's new state.
// Nothing is committed if any source cannot be read as a whole (an error naming it), if the sources hold
// no indicator at all (which would close every indicator of the feed), or if nothing changed.
// Malformed lines and bogons do not stop the import: they are in the summary with their line numbers.
func Import(ctx context.Context, lk *lake.Lake, feed string, sources []Source, now time.Time) (*ImportSummary, error) {
	if err := ValidateFeedName(feed); err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, errors.New("no feed files given")
	}
	now = now.UTC().Truncate(time.Microsecond)
	sum := &ImportSummary{Feed: feed, ImportedAt: now, ByType: map[string]int{}}
	listed, err := readSources(ctx, sources, sum)
	if err != nil {
		return sum, err
	}
	lease, err := lk.AcquireLease(ctx, "ti-import-"+feed, leaseOwner(), 15*time.Minute)
	if err != nil {
		return sum, fmt.Errorf("another import of feed %s is running: %w", feed, err)
	}
	defer lease.Release(context.WithoutCancel(ctx))

	snap, err := lk.Snapshot(ctx)
	if err != nil {
		return sum, err
	}
	files := feedFiles(snap, feed)
	old, err := readRows(ctx, lk, files)
	if err != nil {
		return sum, err
	}
	if len(listed) == 0 {
		open := 0
		for _, r := range old {
			if r.ValidTo == nil {
				open++
			}
		}
		return sum, fmt.Errorf("no indicators in %s (%d malformed lines, %d bogons): refusing to import an empty feed, which would close all %d listed indicators of feed %s; check the file and --format",
			sourceNames(sources), sum.MalformedCount, sum.BogonCount, open, feed)
	}
	rows, changed := merge(old, listed, feed, now, sum)
	sum.Rows = int64(len(rows))
	sum.LakeVersion = snap.Version
	if !changed && len(files) == 1 {
		return sum, nil
	}
	fe, err := writeFile(ctx, lk, feed, rows, now)
	if err != nil {
		return sum, err
	}
	var remove []string
	for _, f := range files {
		remove = append(remove, f.Key)
	}
	next, err := lk.Commit(ctx, snap, lake.Commit{
		Time: now, Operation: "ti-import", Add: []lake.FileEntry{fe}, Remove: remove,
		Meta: map[string]string{"feed": feed, "new": fmt.Sprint(sum.New), "closed": fmt.Sprint(sum.Closed), "updated": fmt.Sprint(sum.Updated)},
	})
	if err != nil {
		// The uncommitted file is an orphan `lakehunt vacuum` removes; deleting it here could remove a
		// file whose commit did land despite the error.
		if errors.Is(err, lake.ErrConflict) {
			return sum, fmt.Errorf("feed %s was changed by another writer during this import; run the import again: %w", feed, err)
		}
		return sum, err
	}
	sum.Changed, sum.File, sum.LakeVersion = true, fe.Key, next.Version
	return sum, nil
}

func leaseOwner() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("lakehunt ti import on %s pid %d", h, os.Getpid())
}

func sourceNames(sources []Source) string {
	var names []string
	for _, s := range sources {
		names = append(names, s.URL)
	}
	return strings.Join(names, ", ")
}

// readSources parses every source into distinct indicators (repeats merged), filling the summary.
func readSources(ctx context.Context, sources []Source, sum *ImportSummary) (map[string]*listedIndicator, error) {
	listed := map[string]*listedIndicator{}
	for _, src := range sources {
		rc, err := openSource(ctx, src)
		if err != nil {
			return nil, err
		}
		st, err := tifeed.Parse(rc, src.Format, src.URL, func(ind tifeed.Indicator) error {
			if cur, ok := listed[ind.Key()]; ok {
				sum.Duplicates++
				cur.absorb(ind)
				return nil
			}
			listed[ind.Key()] = &listedIndicator{ind: ind, source: src.URL}
			return nil
		}, func(is tifeed.Issue) {
			switch is.Kind {
			case tifeed.IssueBogon:
				sum.BogonCount++
				sum.Bogons = appendCapped(sum.Bogons, is)
			case tifeed.IssueMalformed:
				sum.MalformedCount++
				sum.Malformed = appendCapped(sum.Malformed, is)
			default:
				sum.WarningCount++
				sum.Warnings = appendCapped(sum.Warnings, is)
			}
		})
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("import stopped, nothing committed: %w", err)
		}
		sum.Sources = append(sum.Sources, SourceSummary{URL: src.URL, Stats: st})
		for k, n := range st.Skipped {
			if sum.Skipped == nil {
				sum.Skipped = map[string]int{}
			}
			sum.Skipped[k] += n
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	for _, l := range listed {
		sum.ByType[l.ind.Type]++
	}
	sum.Indicators = len(listed)
	return listed, nil
}

func appendCapped(xs []tifeed.Issue, is tifeed.Issue) []tifeed.Issue {
	if len(xs) < maxIssues {
		xs = append(xs, is)
	}
	return xs
}

// openSource opens a local file or an s3://bucket/key object (default store options: the AWS
// environment, AWS_ENDPOINT_URL_S3 for S3-compatible servers).
func openSource(ctx context.Context, src Source) (io.ReadCloser, error) {
	if src.Open != nil {
		rc, err := src.Open(ctx)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", src.URL, err)
		}
		return rc, nil
	}
	if rest, ok := strings.CutPrefix(src.URL, "s3://"); ok {
		dir, key := path.Split(rest)
		if key == "" || dir == "" {
			return nil, fmt.Errorf("%s: give the feed file's full key, s3://bucket/path/file", src.URL)
		}
		st, err := lake.OpenStore(ctx, "s3://"+strings.TrimSuffix(dir, "/"), lake.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", src.URL, err)
		}
		rc, err := st.Open(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", src.URL, err)
		}
		return rc, nil
	}
	f, err := os.Open(src.URL)
	if err != nil {
		return nil, err // *PathError names the file
	}
	return f, nil
}

// listedIndicator is one distinct indicator of this import, merged over its repeats.
type listedIndicator struct {
	ind    tifeed.Indicator
	source string
}

// absorb merges a repeat: earliest first-seen, highest confidence, union of tags and families,
// first non-empty description; the first occurrence's line stays.
func (l *listedIndicator) absorb(o tifeed.Indicator) {
	i := &l.ind
	if !o.FirstSeen.IsZero() && (i.FirstSeen.IsZero() || o.FirstSeen.Before(i.FirstSeen)) {
		i.FirstSeen = o.FirstSeen
	}
	if o.Confidence != nil && (i.Confidence == nil || *o.Confidence > *i.Confidence) {
		i.Confidence = o.Confidence
	}
	i.Tags = union(i.Tags, o.Tags)
	if o.MalwareFamily != "" {
		i.MalwareFamily = strings.Join(union(splitList(i.MalwareFamily), splitList(o.MalwareFamily)), ",")
	}
	if i.Description == "" {
		i.Description = o.Description
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func union(a, b []string) []string {
	out := append(append([]string(nil), a...), b...)
	sort.Strings(out)
	return slices.Compact(out)
}

func feedFiles(snap *lake.Snapshot, feed string) []lake.FileEntry {
	var out []lake.FileEntry
	for _, f := range snap.FilesFor(lake.TableTIIndicators, time.Time{}, time.Time{}) {
		if strings.HasPrefix(f.Key, FeedPrefix(feed)) {
			out = append(out, f)
		}
	}
	return out
}

func readRows(ctx context.Context, lk *lake.Lake, files []lake.FileEntry) ([]lake.TIIndicator, error) {
	if len(files) == 0 {
		return nil, nil
	}
	paths, err := lk.LocalPaths(ctx, files)
	if err != nil {
		return nil, err
	}
	var out []lake.TIIndicator
	for _, p := range paths {
		rows, err := readFile[lake.TIIndicator](p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		for i := range rows {
			clean(&rows[i])
		}
		out = append(out, rows...)
	}
	return out, nil
}

// clean turns the "" and 0 that files written before nullable columns were pointer fields hold for some
// NULLs (see lake.CloudTrailEvent) back into NULL: a feed has no empty values (Indicator.Row), and an
// import rewrites the feed's rows, so the next one leaves the files right.
func clean(r *lake.TIIndicator) {
	for _, p := range []**string{&r.StartV6, &r.EndV6, &r.Tags, &r.MalwareFamily, &r.Description, &r.SourceFile} {
		if *p != nil && **p == "" {
			*p = nil
		}
	}
	if r.SourceLine != nil && *r.SourceLine == 0 {
		r.SourceLine = nil
	}
}

func readFile[T any](p string) ([]T, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	out := make([]T, 0, r.NumRows())
	buf := make([]T, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// merge computes the feed's new rows from its current rows and this import's indicators.
// changed is false when the result equals the current rows.
func merge(old []lake.TIIndicator, listed map[string]*listedIndicator, feed string, now time.Time, sum *ImportSummary) ([]lake.TIIndicator, bool) {
	rows := make([]lake.TIIndicator, 0, len(old)+len(listed))
	changed := false
	seen := map[string]bool{}
	for _, r := range old {
		if r.ValidTo != nil { // history: never rewritten
			rows = append(rows, r)
			continue
		}
		key := r.Type + " " + r.Indicator
		l, still := listed[key]
		if !still || seen[key] {
			// A second open row for one key can only come from a damaged feed; close it like a dropped one.
			t := now
			r.ValidTo, r.ImportedAt = &t, now
			rows = append(rows, r)
			sum.Closed++
			changed = true
			continue
		}
		seen[key] = true
		sum.StillListed++
		next := l.ind.Row(l.source)
		next.Feed, next.ValidFrom, next.ImportedAt = feed, r.ValidFrom, r.ImportedAt
		if !sameIntel(r, next) {
			next.ImportedAt = now
			sum.Updated++
			changed = true
		} else if !eqPtr(r.SourceFile, next.SourceFile) || !eqPtr(r.SourceLine, next.SourceLine) {
			changed = true
		}
		rows = append(rows, next)
	}
	for key, l := range listed {
		if seen[key] {
			continue
		}
		r := l.ind.Row(l.source)
		r.Feed, r.ValidFrom, r.ImportedAt = feed, now, now
		rows = append(rows, r)
		sum.New++
		changed = true
	}
	sort.Slice(rows, func(i, j int) bool { return rowLess(&rows[i], &rows[j]) })
	return rows, changed
}

// sameIntel compares what the feed says about an indicator (not where in the file it said it).
func sameIntel(a, b lake.TIIndicator) bool {
	return eqPtr(a.Confidence, b.Confidence) && eqPtr(a.Tags, b.Tags) && eqPtr(a.MalwareFamily, b.MalwareFamily) &&
		eqPtr(a.Description, b.Description) && eqTime(a.FeedFirstSeen, b.FeedFirstSeen)
}

func eqPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func eqTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

// rowLess orders a feed's file: by type, then address (so row-group statistics on start_v4 are tight),
// then indicator and valid_from.
func rowLess(a, b *lake.TIIndicator) bool {
	if a.Type != b.Type {
		return a.Type < b.Type
	}
	if av, bv := deref(a.StartV4), deref(b.StartV4); av != bv {
		return av < bv
	}
	if av, bv := derefStr(a.StartV6), derefStr(b.StartV6); av != bv {
		return av < bv
	}
	if a.Indicator != b.Indicator {
		return a.Indicator < b.Indicator
	}
	return a.ValidFrom.Before(b.ValidFrom)
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func derefStr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// writeFile stores the feed's rows as one new Parquet file (zstd, statistics on) and describes it.
func writeFile(ctx context.Context, lk *lake.Lake, feed string, rows []lake.TIIndicator, now time.Time) (lake.FileEntry, error) {
	lake.NullEmptyStrings(rows)
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[lake.TIIndicator](&buf,
		parquet.Compression(&parquet.Zstd),
		parquet.DataPageStatistics(true),
		parquet.MaxRowsPerRowGroup(256*1024),
		parquet.CreatedBy("lakehunt", "1", ""))
	if _, err := w.Write(rows); err != nil {
		return lake.FileEntry{}, fmt.Errorf("write feed %s: %w", feed, err)
	}
	if err := w.Close(); err != nil {
		return lake.FileEntry{}, fmt.Errorf("write feed %s: %w", feed, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	key := fmt.Sprintf("%spart-%s-%s.parquet", FeedPrefix(feed), now.Format("20060102T150405Z"), hex.EncodeToString(rnd[:]))
	sha := sha256.Sum256(buf.Bytes())
	fe := lake.FileEntry{Table: lake.TableTIIndicators, Key: key, Rows: int64(len(rows)), Size: int64(buf.Len()), SHA256: hex.EncodeToString(sha[:])}
	for i, r := range rows {
		if i == 0 || r.ValidFrom.Before(fe.MinTime) {
			fe.MinTime = r.ValidFrom
		}
		if i == 0 || r.ValidFrom.After(fe.MaxTime) {
			fe.MaxTime = r.ValidFrom
		}
		if i == 0 || r.ImportedAt.Before(fe.MinIngested) {
			fe.MinIngested = r.ImportedAt
		}
		if i == 0 || r.ImportedAt.After(fe.MaxIngested) {
			fe.MaxIngested = r.ImportedAt
		}
	}
	if err := lk.Store().Put(ctx, key, bytes.NewReader(buf.Bytes()), int64(buf.Len())); err != nil {
		return lake.FileEntry{}, fmt.Errorf("write feed %s: %w", feed, err)
	}
	return fe, nil
}

// FeedInfo describes one feed in the lake, for `ti list`.
type FeedInfo struct {
	Feed        string         `json:"feed"`
	Listed      int            `json:"listed"` // indicators currently listed (valid_to NULL)
	ByType      map[string]int `json:"by_type"`
	Dropped     int            `json:"dropped"`      // history rows: indicators no longer listed (or listed again later)
	FirstImport time.Time      `json:"first_import"` // earliest valid_from
	LastChange  time.Time      `json:"last_change"`  // the last import that changed the feed (identical re-imports commit nothing)
	Files       int            `json:"files"`
	Bytes       int64          `json:"bytes"`
}

// listRow is the subset of columns List needs.
type listRow struct {
	Type       string     `parquet:"type"`
	ValidFrom  time.Time  `parquet:"valid_from,timestamp(microsecond:local)"`
	ValidTo    *time.Time `parquet:"valid_to,timestamp(microsecond:local),optional"`
	ImportedAt time.Time  `parquet:"imported_at,timestamp(microsecond:local)"`
}

// List describes every feed in the lake, by name.
func List(ctx context.Context, lk *lake.Lake) ([]FeedInfo, error) {
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	byFeed := map[string][]lake.FileEntry{}
	for _, f := range snap.FilesFor(lake.TableTIIndicators, time.Time{}, time.Time{}) {
		rest, ok := strings.CutPrefix(f.Key, lake.TableTIIndicators+"/feed=")
		if !ok || !strings.Contains(rest, "/") {
			continue
		}
		name := rest[:strings.IndexByte(rest, '/')]
		byFeed[name] = append(byFeed[name], f)
	}
	var out []FeedInfo
	for name, files := range byFeed {
		info := FeedInfo{Feed: name, ByType: map[string]int{}, Files: len(files)}
		paths, err := lk.LocalPaths(ctx, files)
		if err != nil {
			return nil, err
		}
		for i, p := range paths {
			info.Bytes += files[i].Size
			rows, err := readFile[listRow](p)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", files[i].Key, err)
			}
			for _, r := range rows {
				if r.ValidTo == nil {
					info.Listed++
					info.ByType[r.Type]++
				} else {
					info.Dropped++
				}
				if info.FirstImport.IsZero() || r.ValidFrom.Before(info.FirstImport) {
					info.FirstImport = r.ValidFrom
				}
				if r.ImportedAt.After(info.LastChange) {
					info.LastChange = r.ImportedAt
				}
				if r.ValidTo != nil && r.ValidTo.After(info.LastChange) {
					info.LastChange = *r.ValidTo
				}
			}
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Feed < out[j].Feed })
	return out, nil
}
