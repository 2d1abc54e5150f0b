package ti

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/tifeed"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

func openLake(t *testing.T, url string) *lake.Lake {
	t.Helper()
	lk, err := lake.Open(context.Background(), url, lake.Options{CacheDir: t.TempDir(), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

func writeFeed(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// feedRows reads the feed's live rows back, keyed "type value@valid_from".
func feedRows(t *testing.T, lk *lake.Lake, feed string) (map[string]lake.TIIndicator, []lake.FileEntry) {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files := feedFiles(snap, feed)
	rows, err := readRows(ctx, lk, files)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]lake.TIIndicator{}
	for _, r := range rows {
		out[r.Indicator+"@"+r.ValidFrom.UTC().Format("01-02")] = r
	}
	return out, files
}

// str is a nullable column's text, "" for NULL.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func day(d int) time.Time { return time.Date(2024, 5, d, 9, 0, 0, 0, time.UTC) }

func TestImportLifecycle(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	v1 := writeFeed(t, "list.txt", "# C2 list\n45.1.1.1 # alpha\n45.2.2.2\n45.3.0.0/16\n10.0.0.0/8\nnot_an_ip!\n")

	// Day 1: three indicators; the bogon and the bad line are reported with their lines, not imported.
	s, err := Import(ctx, lk, "c2", []Source{{URL: v1}}, day(1))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Changed || s.New != 3 || s.Closed != 0 || s.Rows != 3 || s.Indicators != 3 ||
		!reflect.DeepEqual(s.ByType, map[string]int{"ipv4": 2, "cidr4": 1}) {
		t.Fatalf("day 1: %+v", s)
	}
	if s.BogonCount != 1 || s.Bogons[0].Line != 5 || s.MalformedCount != 1 || s.Malformed[0].Line != 6 || s.Malformed[0].Source != v1 {
		t.Fatalf("day 1 issues: bogons %v malformed %v", s.Bogons, s.Malformed)
	}
	rows, files := feedRows(t, lk, "c2")
	a := rows["45.1.1.1@05-01"]
	if len(files) != 1 || !strings.HasPrefix(files[0].Key, "ti_indicators/feed=c2/part-20240501T090000Z-") || len(rows) != 3 ||
		a.Feed != "c2" || a.ValidTo != nil || !a.ValidFrom.Equal(day(1)) || str(a.Description) != "alpha" || str(a.SourceFile) != v1 || a.SourceLine == nil || *a.SourceLine != 2 ||
		*a.StartV4 != 45<<24|1<<16|1<<8|1 {
		t.Fatalf("day 1 rows: %v %+v", files, a)
	}
	if c := rows["45.3.0.0/16@05-01"]; *c.StartV4 != 45<<24|3<<16 || *c.EndV4 != 45<<24|3<<16|0xffff || c.Type != "cidr4" {
		t.Fatalf("CIDR row: %+v", c)
	}
	if !files[0].MinTime.Equal(day(1)) || files[0].Rows != 3 || files[0].Table != lake.TableTIIndicators {
		t.Fatalf("file entry: %+v", files[0])
	}
	snap1, _ := lk.Snapshot(ctx)

	// Day 2: the same content again: nothing changes, nothing is committed.
	s, err = Import(ctx, lk, "c2", []Source{{URL: v1}}, day(2))
	if err != nil {
		t.Fatal(err)
	}
	snap2, _ := lk.Snapshot(ctx)
	if s.Changed || s.New != 0 || s.StillListed != 3 || snap2.Version != snap1.Version {
		t.Fatalf("identical re-import changed the lake: %+v (version %d → %d)", s, snap1.Version, snap2.Version)
	}

	// Day 3: 45.2.2.2 is gone, the CIDR's description changed, 45.4.4.4 is new.
	v3 := writeFeed(t, "list.txt", "45.1.1.1 # alpha\n45.3.0.0/16 # now a scanner net\n45.4.4.4\n")
	s, err = Import(ctx, lk, "c2", []Source{{URL: v3}}, day(3))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Changed || s.New != 1 || s.Closed != 1 || s.StillListed != 2 || s.Updated != 1 || s.Rows != 4 {
		t.Fatalf("day 3: %+v", s)
	}
	rows, files = feedRows(t, lk, "c2")
	if len(files) != 1 || len(rows) != 4 {
		t.Fatalf("day 3: %d files, rows %v", len(files), rows)
	}
	if b := rows["45.2.2.2@05-01"]; b.ValidTo == nil || !b.ValidTo.Equal(day(3)) {
		t.Errorf("dropped indicator not closed at day 3: %+v", b)
	}
	if a := rows["45.1.1.1@05-01"]; a.ValidTo != nil || !a.ImportedAt.Equal(day(1)) || a.SourceLine == nil || *a.SourceLine != 1 {
		t.Errorf("unchanged indicator: %+v", a)
	}
	if c := rows["45.3.0.0/16@05-01"]; !c.ValidFrom.Equal(day(1)) || !c.ImportedAt.Equal(day(3)) || str(c.Description) != "now a scanner net" {
		t.Errorf("updated indicator keeps valid_from, gets imported_at: %+v", c)
	}
	if d := rows["45.4.4.4@05-03"]; !d.ValidFrom.Equal(day(3)) || d.ValidTo != nil {
		t.Errorf("new indicator: %+v", d)
	}

	// Day 4: 45.2.2.2 is listed again: its closed row stays as history, a new open row starts.
	v4 := writeFeed(t, "list.txt", "45.1.1.1 # alpha\n45.3.0.0/16 # now a scanner net\n45.4.4.4\n45.2.2.2\n")
	if s, err = Import(ctx, lk, "c2", []Source{{URL: v4}}, day(4)); err != nil || s.New != 1 || s.Closed != 0 {
		t.Fatalf("day 4: %+v %v", s, err)
	}
	rows, _ = feedRows(t, lk, "c2")
	if old, now := rows["45.2.2.2@05-01"], rows["45.2.2.2@05-04"]; old.ValidTo == nil || !old.ValidTo.Equal(day(3)) || now.ValidTo != nil {
		t.Errorf("re-listed indicator: history %+v, current %+v", old, now)
	}

	feeds, err := List(ctx, lk)
	if err != nil {
		t.Fatal(err)
	}
	want := []FeedInfo{{Feed: "c2", Listed: 4, ByType: map[string]int{"ipv4": 3, "cidr4": 1}, Dropped: 1,
		FirstImport: day(1), LastChange: day(4), Files: 1, Bytes: feeds[0].Bytes}}
	if !reflect.DeepEqual(feeds, want) {
		t.Errorf("List:\n got %+v\nwant %+v", feeds, want)
	}
}

func TestImportMergesRepeatsAcrossSources(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	feodo := writeFeed(t, "ipblocklist.csv", "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n"+
		"\"2024-03-01 10:00:00\",\"45.9.9.9\",\"443\",\"online\",\"2024-04-01\",\"Pikabot\"\n")
	plain := writeFeed(t, "extra.txt", "45.9.9.9\n45.9.9.9\n")
	s, err := Import(ctx, lk, "mixed", []Source{{URL: feodo}, {URL: plain, Format: "plain"}}, day(1))
	if err != nil {
		t.Fatal(err)
	}
	if s.Indicators != 1 || s.Duplicates != 2 || len(s.Sources) != 2 || s.Sources[0].Format != tifeed.FormatFeodoCSV {
		t.Fatalf("%+v", s)
	}
	rows, _ := feedRows(t, lk, "mixed")
	r := rows["45.9.9.9@05-01"]
	if str(r.MalwareFamily) != "Pikabot" || r.FeedFirstSeen == nil || r.FeedFirstSeen.Year() != 2024 || str(r.SourceFile) != feodo {
		t.Errorf("merged row: %+v", r)
	}
}

func TestImportRefusals(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	good := writeFeed(t, "good.txt", "45.1.1.1\n")
	if _, err := Import(ctx, lk, "f", []Source{{URL: good}}, day(1)); err != nil {
		t.Fatal(err)
	}
	before, _ := lk.Snapshot(ctx)
	for _, tc := range []struct {
		name    string
		feed    string
		sources []Source
		want    string
	}{
		// A download that returned an error page: every line malformed. Importing it would close the whole feed.
		{"empty", "f", []Source{{URL: writeFeed(t, "x.txt", "<html>\n<body>503</body>\n")}}, "refusing to import an empty feed"},
		// One good file and one broken one: nothing is committed (the good file alone would close the other's indicators).
		{"broken", "f", []Source{{URL: good}, {URL: writeFeed(t, "b.json", `{"type":"bundle","objects":[{"type":`), Format: "stix2"}}, "b.json"},
		{"missing", "f", []Source{{URL: filepath.Join(t.TempDir(), "nope.txt")}}, "nope.txt"},
		{"name", "Bad/Name", []Source{{URL: good}}, "feed name"},
		{"none", "f", nil, "no feed files"},
	} {
		_, err := Import(ctx, lk, tc.feed, tc.sources, day(2))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	after, _ := lk.Snapshot(ctx)
	if after.Version != before.Version {
		t.Errorf("a refused import committed: version %d → %d", before.Version, after.Version)
	}
	rows, _ := feedRows(t, lk, "f")
	if r := rows["45.1.1.1@05-01"]; r.ValidTo != nil {
		t.Errorf("indicator closed by a refused import: %+v", r)
	}
}

// The samples in their publishers' formats go through a real import, and FireHOL's bogons stay out.
func TestImportSamples(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	dir := filepath.Join("..", "..", "testdata", "ti")
	for _, tc := range []struct {
		feed  string
		files []string
		want  int
	}{
		{"firehol-level1", []string{"firehol/firehol_level1.netset"}, 2882},
		{"spamhaus-drop", []string{"spamhaus/drop.txt", "spamhaus/drop_v4.json"}, 1578},
		{"stix", []string{"stix21/apt1.json", "stix21/poisonivy.json", "stix21/infrastructure.json"}, 54},
		{"misp", []string{"misp/existing_event.json", "misp/long_event.json", "misp/57c4445b-c548-4654-af0b-4be3950d210f.json"}, 304},
	} {
		var srcs []Source
		for _, f := range tc.files {
			srcs = append(srcs, Source{URL: filepath.Join(dir, f)})
		}
		s, err := Import(ctx, lk, tc.feed, srcs, day(1))
		if err != nil {
			t.Fatalf("%s: %v", tc.feed, err)
		}
		if s.Indicators != tc.want || s.Rows != int64(tc.want) {
			t.Errorf("%s: %d indicators (%d rows), want %d; %+v", tc.feed, s.Indicators, s.Rows, tc.want, s.ByType)
		}
	}
	rows, _ := feedRows(t, lk, "firehol-level1")
	for k, r := range rows {
		if r.StartV4 == nil {
			t.Fatalf("%s has no numeric range", k)
		}
		// No row may reach into 10/8, 172.16/12 or 192.168/16.
		for _, p := range [][2]int64{{10 << 24, 11<<24 - 1}, {172<<24 | 16<<16, 172<<24 | 32<<16 - 1}, {192<<24 | 168<<16, 192<<24 | 169<<16 - 1}} {
			if *r.StartV4 <= p[1] && p[0] <= *r.EndV4 {
				t.Errorf("private space imported: %s", r.Indicator)
			}
		}
	}
	feeds, err := List(ctx, lk)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range feeds {
		names = append(names, f.Feed)
	}
	if !sort.StringsAreSorted(names) || len(names) != 4 {
		t.Errorf("feeds %v", names)
	}
}

func TestImportOnS3(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	lakeURL := srv.Bucket(t, "lake")
	feeds := srv.Bucket(t, "feeds")
	st, err := lake.OpenStore(ctx, feeds, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.PutBytes(ctx, st, "daily/drop.txt", []byte("; Spamhaus DROP List\n45.10.0.0/16 ; SBL1\n")); err != nil {
		t.Fatal(err)
	}
	lk := openLake(t, lakeURL)
	s, err := Import(ctx, lk, "drop", []Source{{URL: feeds + "daily/drop.txt"}}, day(1))
	if err != nil {
		t.Fatal(err)
	}
	if s.New != 1 || s.Sources[0].Format != tifeed.FormatSpamhausDROP {
		t.Fatalf("%+v", s)
	}
	// Second import reads the current rows back through the lake's cache: identical, no commit.
	if s, err = Import(ctx, lk, "drop", []Source{{URL: feeds + "daily/drop.txt"}}, day(2)); err != nil || s.Changed {
		t.Fatalf("re-import on S3: %+v %v", s, err)
	}
	if _, err := Import(ctx, lk, "drop", []Source{{URL: feeds + "daily/missing.txt"}}, day(2)); err == nil || !strings.Contains(err.Error(), "missing.txt") {
		t.Errorf("missing S3 object: %v", err)
	}
}

// Two imports of one feed must not interleave (each rewrites the feed whole): the second one is refused.
func TestImportHoldsFeedLease(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	other, err := lk.AcquireLease(ctx, "ti-import-f", "another importer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	src := []Source{{URL: writeFeed(t, "f.txt", "45.1.1.1\n")}}
	if _, err := Import(ctx, lk, "f", src, day(1)); err == nil || !strings.Contains(err.Error(), "another importer") {
		t.Fatalf("import during another import: %v", err)
	}
	if _, err := Import(ctx, lk, "g", src, day(1)); err != nil {
		t.Fatalf("another feed is independent: %v", err)
	}
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, lk, "f", src, day(1)); err != nil {
		t.Fatalf("after the other import: %v", err)
	}
}
