package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	iceio "github.com/apache/iceberg-go/io"
	icetable "github.com/apache/iceberg-go/table"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/iceberg"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// icebergCounts scans a table with iceberg-go (its own metadata, manifest and Parquet readers) and returns
// the row count and each column's non-NULL count.
func icebergCounts(t *testing.T, lakeDir, table string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	lk, err := lake.Open(ctx, lakeDir, lake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ptr, _, err := iceberg.ReadPointer(ctx, lk)
	if err != nil || ptr == nil {
		t.Fatalf("no Iceberg pointer in %s: %v", lakeDir, err)
	}
	loc := lk.ObjectURL(ptr.Tables[table])
	tbl, err := icetable.NewFromLocation(ctx, []string{table}, loc, iceio.LoadFSFunc(nil, loc), nil)
	if err != nil {
		t.Fatalf("iceberg-go cannot load %s: %v", loc, err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("iceberg-go scan of %s: %v", table, err)
	}
	defer at.Release()
	counts := map[string]int64{"n": at.NumRows()}
	for i, f := range at.Schema().Fields() {
		var nonNull int64
		for _, c := range at.Column(i).Data().Chunks() {
			nonNull += int64(c.Len() - c.NullN())
			// lakehunt's views read '' as NULL (README: the lake); Iceberg readers see the '' as stored.
			if s, ok := c.(*array.String); ok {
				for j := 0; j < s.Len(); j++ {
					if s.IsValid(j) && s.Value(j) == "" {
						nonNull--
					}
				}
			}
		}
		counts[f.Name] = nonNull
	}
	return counts
}

// queryCounts is the same through 'lakehunt query'.
func queryCounts(t *testing.T, lakeDir, table string) map[string]int64 {
	t.Helper()
	tb, _ := lake.LookupTable(table)
	sel := []string{"count(*) AS n"}
	for _, c := range tb.Columns {
		sel = append(sel, fmt.Sprintf("count(%s) AS %s", c.Name, c.Name))
	}
	out, code := run(t, "query", "--lake", lakeDir, "--format", "json", "SELECT "+strings.Join(sel, ", ")+" FROM "+table)
	if code != 0 {
		t.Fatalf("query %s: exit %d", table, code)
	}
	var m map[string]int64
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		var rows []map[string]int64
		if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) != 1 {
			t.Fatalf("query output: %v\n%s", err, out)
		}
		m = rows[0]
	}
	return m
}

func sameAsQuery(t *testing.T, step, lakeDir string) {
	t.Helper()
	for _, tb := range lake.Tables() {
		want, got := queryCounts(t, lakeDir, tb.Name), icebergCounts(t, lakeDir, tb.Name)
		for col, n := range want {
			if got[col] != n {
				t.Errorf("%s: %s.%s: Iceberg scan counts %d (non-NULL), lakehunt query %d", step, tb.Name, col, got[col], n)
			}
		}
	}
}

// TestIcebergTablesReturnWhatQueryReturns: on a lake built by gen + compact + ti import, iceberg-go's scan
// of every table returns the rows and the per-column NULL counts 'lakehunt query' returns, after ingest,
// after late data, after an orphan file of a killed run, after vacuum and after 'catalog rebuild'.
func TestIcebergTablesReturnWhatQueryReturns(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	if _, code := run(t, "gen", "--out", raw, "--scale", "tiny", "--days", "3", "--seed", "7"); code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	if _, code := run(t, "compact", "--from", raw, "--lake", lk); code != 0 {
		t.Fatalf("compact exit %d", code)
	}
	feeds, _ := filepath.Glob(filepath.Join(raw, "ti", "*"))
	for _, f := range feeds {
		name, _, _ := strings.Cut(filepath.Base(f), "-2025")
		if _, code := run(t, "ti", "import", "--lake", lk, "--feed", name, "--now", "2025-06-12", f); code != 0 {
			t.Fatalf("ti import %s: exit %d", f, code)
		}
	}
	sameAsQuery(t, "after ingest", lk)

	// Late data: another day of logs, compacted into the same lake.
	if _, code := run(t, "gen", "--out", filepath.Join(dir, "raw2"), "--scale", "tiny", "--days", "1", "--seed", "8"); code != 0 {
		t.Fatal("gen late data")
	}
	if _, code := run(t, "compact", "--from", filepath.Join(dir, "raw2"), "--lake", lk); code != 0 {
		t.Fatal("compact late data")
	}
	sameAsQuery(t, "after late data", lk)

	// A killed run's uncommitted file sits next to the live ones; a Hive table would count it.
	parts, _ := filepath.Glob(filepath.Join(lk, "cloudtrail", "*", "*", "*", "*.parquet"))
	if len(parts) == 0 {
		t.Fatal("no cloudtrail files")
	}
	b, _ := os.ReadFile(parts[0])
	os.WriteFile(filepath.Join(filepath.Dir(parts[0]), "part-killed-run.parquet"), b, 0o644)
	sameAsQuery(t, "with an orphan file", lk)

	if _, code := run(t, "vacuum", "--lake", lk, "--min-age", "0s"); code != 0 {
		t.Fatal("vacuum")
	}
	sameAsQuery(t, "after vacuum", lk)

	out, code := run(t, "catalog", "rebuild", "--lake", lk)
	if code != 0 || !strings.Contains(out, "Iceberg metadata at lake commit") {
		t.Fatalf("catalog rebuild: exit %d\n%s", code, out)
	}
	sameAsQuery(t, "after rebuild", lk)
}

// glueServer answers the AWS Glue JSON 1.1 API the way Glue does for the calls 'catalog register' makes,
// and records each request. It refuses requests missing what the real API requires.
type glueServer struct {
	mu       sync.Mutex
	ops      []string
	tables   map[string]map[string]any // name → TableInput as sent, plus VersionId
	database bool
	t        *testing.T
}

func (g *glueServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "AWSGlue.")
	if r.Method != http.MethodPost || !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" || !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		g.t.Errorf("not a signed Glue JSON 1.1 request: %s %s target %q type %q", r.Method, r.URL, target, r.Header.Get("Content-Type"))
		w.WriteHeader(400)
		return
	}
	g.ops = append(g.ops, op)
	body, _ := io.ReadAll(r.Body)
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		g.t.Errorf("%s: body is not JSON: %s", op, body)
	}
	fail := func(typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"__type":%q,"Message":%q}`, typ, msg)
	}
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(v)
	}
	switch op {
	case "GetDatabase":
		if !g.database {
			fail("EntityNotFoundException", "Database sec not found.")
			return
		}
		reply(map[string]any{"Database": map[string]any{"Name": in["Name"]}})
	case "CreateDatabase":
		if get(in, "DatabaseInput", "Name") != "sec" {
			g.t.Errorf("CreateDatabase: %s", body)
		}
		g.database = true
		reply(map[string]any{})
	case "GetTable":
		tb := g.tables[fmt.Sprint(in["Name"])]
		if tb == nil || in["DatabaseName"] != "sec" {
			fail("EntityNotFoundException", "Table not found.")
			return
		}
		reply(map[string]any{"Table": tb})
	case "CreateTable", "UpdateTable":
		ti, _ := in["TableInput"].(map[string]any)
		if in["DatabaseName"] != "sec" || ti == nil || ti["Name"] == nil {
			g.t.Errorf("%s without DatabaseName or TableInput.Name: %s", op, body)
		}
		name := fmt.Sprint(ti["Name"])
		if op == "CreateTable" && g.tables[name] != nil {
			fail("AlreadyExistsException", "Table already exists.")
			return
		}
		if op == "UpdateTable" {
			if g.tables[name] == nil {
				fail("EntityNotFoundException", "Table not found.")
				return
			}
			if in["VersionId"] != g.tables[name]["VersionId"] {
				fail("ConcurrentModificationException", "version mismatch")
				return
			}
		}
		version := 1
		if old := g.tables[name]; old != nil {
			fmt.Sscan(fmt.Sprint(old["VersionId"]), &version)
			version++
		}
		ti["VersionId"] = fmt.Sprint(version)
		g.tables[name] = ti
		reply(map[string]any{})
	default:
		g.t.Errorf("unexpected Glue call %s", op)
		fail("InvalidInputException", "unexpected")
	}
}

func get(m any, path ...string) any {
	for _, p := range path {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[p]
	}
	return m
}

// TestCatalogRegisterGlue registers an S3 lake's tables against a server speaking the Glue API's request
// and error shapes (no Glue is reachable here), then again after a new commit: created, then updated with
// the version read and the previous metadata location. The IAM policy in deploy/ allows every call made.
func TestCatalogRegisterGlue(t *testing.T) {
	srv := s3test.Start(t)
	rawURL := srv.Bucket(t, "raw") + "AWSLogs-copy/"
	lakeURL := srv.Bucket(t, "lake") + "lake/"
	s3 := []string{"--s3-endpoint", srv.Endpoint, "--cache-dir", t.TempDir()}
	if _, code := run(t, append([]string{"gen", "--out", rawURL, "--scale", "tiny", "--days", "1"}, s3[:2]...)...); code != 0 {
		t.Fatal("gen")
	}
	if _, code := run(t, append([]string{"compact", "--from", rawURL, "--lake", lakeURL}, s3...)...); code != 0 {
		t.Fatal("compact")
	}
	g := &glueServer{t: t, tables: map[string]map[string]any{}}
	gs := httptest.NewServer(g)
	defer gs.Close()
	register := func() []iceberg.GlueTable {
		t.Helper()
		out, code := run(t, append([]string{"catalog", "register", "--lake", lakeURL, "--glue-database", "sec", "--region", "eu-west-1", "--glue-endpoint", gs.URL, "--json"}, s3...)...)
		if code != 0 {
			t.Fatalf("catalog register: exit %d", code)
		}
		var done []iceberg.GlueTable
		if err := json.Unmarshal([]byte(out), &done); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return done
	}
	first := register()
	if len(first) != len(lake.Tables()) {
		t.Fatalf("registered %d tables, want %d: %+v", len(first), len(lake.Tables()), first)
	}
	ctx := context.Background()
	lk, err := lake.Open(ctx, lakeURL, lake.Options{Store: lake.StoreOptions{S3Endpoint: srv.Endpoint}})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range first {
		ti := g.tables[d.Table]
		tb, _ := lake.LookupTable(d.Table)
		loc := fmt.Sprint(get(ti, "Parameters", "metadata_location"))
		if d.Action != "created" || ti["TableType"] != "EXTERNAL_TABLE" || get(ti, "Parameters", "table_type") != "ICEBERG" {
			t.Errorf("%s: action %s, table %v", d.Table, d.Action, ti)
		}
		key, ok := strings.CutPrefix(loc, "s3://lake/lake/")
		if !ok || !strings.HasSuffix(key, ".metadata.json") {
			t.Errorf("%s: metadata_location %s is not a metadata file in the lake", d.Table, loc)
		} else if _, err := lk.Store().Stat(ctx, key); err != nil {
			t.Errorf("%s: metadata_location %s: %v", d.Table, loc, err)
		}
		if get(ti, "StorageDescriptor", "Location") != "s3://lake/lake/"+d.Table {
			t.Errorf("%s: location %v", d.Table, get(ti, "StorageDescriptor", "Location"))
		}
		cols, _ := get(ti, "StorageDescriptor", "Columns").([]any)
		if len(cols) != len(tb.Columns) {
			t.Errorf("%s: %d Glue columns, the table has %d", d.Table, len(cols), len(tb.Columns))
		}
		for _, c := range cols {
			if typ := get(c, "Type"); !slices.Contains([]any{"string", "bigint", "int", "boolean", "timestamp", "double"}, typ) {
				t.Errorf("%s.%v: Glue type %v", d.Table, get(c, "Name"), typ)
			}
		}
	}

	// A new commit moves the metadata; registering again updates each changed table.
	before := fmt.Sprint(get(g.tables["cloudtrail"], "Parameters", "metadata_location"))
	if _, code := run(t, append([]string{"gen", "--out", srv.Bucket(t, "raw2"), "--scale", "tiny", "--days", "1", "--seed", "9"}, s3[:2]...)...); code != 0 {
		t.Fatal("gen 2")
	}
	if _, code := run(t, append([]string{"compact", "--from", "s3://raw2/", "--lake", lakeURL}, s3...)...); code != 0 {
		t.Fatal("compact 2")
	}
	second := register()
	var updated bool
	for _, d := range second {
		if d.Table == "cloudtrail" {
			updated = d.Action == "updated"
		}
	}
	if !updated || get(g.tables["cloudtrail"], "Parameters", "previous_metadata_location") != before || g.tables["cloudtrail"]["VersionId"] != "2" {
		t.Errorf("second register: %+v; cloudtrail now %v", second, g.tables["cloudtrail"]["Parameters"])
	}

	// compact --glue-database updates Glue itself: Athena sees the commit without a separate register.
	before = fmt.Sprint(get(g.tables["cloudtrail"], "Parameters", "metadata_location"))
	if _, code := run(t, append([]string{"gen", "--out", srv.Bucket(t, "raw3"), "--scale", "tiny", "--days", "1", "--seed", "11"}, s3[:2]...)...); code != 0 {
		t.Fatal("gen 3")
	}
	glueFlags := []string{"--glue-database", "sec", "--glue-region", "eu-west-1", "--glue-endpoint", gs.URL}
	_, errs, code := cli(t, append(append([]string{"compact", "--from", "s3://raw3/", "--lake", lakeURL}, glueFlags...), s3...)...)
	after := fmt.Sprint(get(g.tables["cloudtrail"], "Parameters", "metadata_location"))
	if code != 0 || after == before || !strings.Contains(errs, "tables in sec updated to the lake's current snapshot") {
		t.Errorf("compact --glue-database: exit %d, cloudtrail metadata %s (before %s)\n%s", code, after, before, errs)
	}
	for _, d := range register() {
		if d.Action != "unchanged" {
			t.Errorf("register after compact --glue-database: %s %s, want unchanged", d.Table, d.Action)
		}
	}
	// A Glue that cannot be reached: the commit stands, the user is told, and the process exits 1.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	failed := catalogFailures.Load()
	if _, code := run(t, append([]string{"gen", "--out", srv.Bucket(t, "raw4"), "--scale", "tiny", "--days", "1", "--seed", "12"}, s3[:2]...)...); code != 0 {
		t.Fatal("gen 4")
	}
	_, errs, _ = cli(t, append([]string{"compact", "--from", "s3://raw4/", "--lake", lakeURL, "--glue-region", "eu-west-1", "--glue-database", "sec", "--glue-endpoint", dead.URL}, s3...)...)
	if catalogFailures.Load() != failed+1 || !strings.Contains(errs, "the lake's commits stand, but the Glue tables in sec were not updated") {
		t.Errorf("compact with an unreachable Glue: catalog failures %d → %d, stderr:\n%s", failed, catalogFailures.Load(), errs)
	}
	catalogFailures.Store(failed)
	if _, errs, code := cli(t, "compact", "--from", t.TempDir(), "--lake", t.TempDir(), "--glue-database", "sec"); code != exitUsage || !strings.Contains(errs, "needs an S3 lake") {
		t.Errorf("compact --glue-database into a local lake: exit %d, %s", code, errs)
	}

	// Every call made is allowed by the policy deploy/ documents.
	var policy struct{ Statement []struct{ Action any } }
	b, err := os.ReadFile("../../deploy/iam-catalog-register.json")
	if err != nil || json.Unmarshal(b, &policy) != nil {
		t.Fatalf("deploy/iam-catalog-register.json: %v", err)
	}
	allowed := map[string]bool{}
	for _, s := range policy.Statement {
		switch a := s.Action.(type) {
		case string:
			allowed[a] = true
		case []any:
			for _, x := range a {
				allowed[fmt.Sprint(x)] = true
			}
		}
	}
	for _, op := range g.ops {
		if !allowed["glue:"+op] {
			t.Errorf("catalog register calls glue:%s, which deploy/iam-catalog-register.json does not allow", op)
		}
	}

	if _, code := run(t, "catalog", "register", "--lake", t.TempDir(), "--glue-database", "sec"); code != exitUsage && code != exitError {
		t.Errorf("register of a local lake: exit %d", code)
	}
}

// TestSchemaFormats: --format iceberg prints each table's Iceberg schema and partition spec; athena its DDL.
func TestSchemaFormats(t *testing.T) {
	out, code := run(t, "schema", "--format", "iceberg", "cloudtrail")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var defs []struct {
		Table  string `json:"table"`
		Schema struct {
			Fields []struct {
				ID       int    `json:"id"`
				Name     string `json:"name"`
				Type     string `json:"type"`
				Required bool   `json:"required"`
			} `json:"fields"`
		} `json:"schema"`
		Spec struct {
			Fields []struct {
				Transform string `json:"transform"`
				SourceID  int    `json:"source-id"`
			} `json:"fields"`
		} `json:"partition-spec"`
	}
	if err := json.Unmarshal([]byte(out), &defs); err != nil || len(defs) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	d := defs[0]
	var transforms []string
	for _, f := range d.Spec.Fields {
		transforms = append(transforms, f.Transform)
	}
	if d.Schema.Fields[0].Name != "event_time" || d.Schema.Fields[0].Type != "timestamp" || !d.Schema.Fields[0].Required ||
		strings.Join(transforms, ",") != "identity,identity,day" {
		t.Errorf("cloudtrail Iceberg definition: %s", out)
	}
	out, code = run(t, "schema", "--format", "athena")
	if code != 0 || strings.Count(out, "CREATE TABLE") != len(lake.Tables()) ||
		!strings.Contains(out, "PARTITIONED BY (account_id, region, day(event_time))") || !strings.Contains(out, "'table_type' = 'ICEBERG'") {
		t.Errorf("athena DDL: exit %d\n%s", code, out)
	}
	if _, code := run(t, "schema", "--format", "avro"); code != exitUsage {
		t.Errorf("unknown format: exit %d, want %d", code, exitUsage)
	}
}

// rowsAt sums the rows of a table's live files as of lake commit v, replaying the log.
func rowsAt(t *testing.T, lk *lake.Lake, table string, v int64) int64 {
	t.Helper()
	files := map[string]int64{}
	for i := int64(1); i <= v; i++ {
		c, err := lk.ReadCommit(context.Background(), i)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range c.Remove {
			delete(files, k)
		}
		for _, f := range c.Add {
			if f.Table == table {
				files[f.Key] = f.Rows
			}
		}
	}
	var n int64
	for _, r := range files {
		n += r
	}
	return n
}

// TestKilledCompactLeavesIcebergAtMostOneBehind kills compact (SIGKILL) at random points after it made a
// commit, several times over: each time the Iceberg pointer is at the lake's last commit or the one
// before, and iceberg-go's scan returns exactly the rows of that commit. The next run catches up, and
// 'catalog rebuild' matches 'lakehunt query'.
func TestKilledCompactLeavesIcebergAtMostOneBehind(t *testing.T) {
	dir := t.TempDir()
	raw, lkDir := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	writeTrailObjects(t, raw, 120, 200)
	ctx := context.Background()
	kills := 0
	for round := 0; round < 6; round++ {
		cmd, out := child(t, "compact", "--from", raw, "--lake", lkDir, "--batch-rows", "500")
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		logDir := filepath.Join(lkDir, "_lakehunt", "log")
		before, _ := os.ReadDir(logDir)
		finished := false
		for waited := 0; ; waited++ {
			select {
			case <-done:
				finished = true
			case <-time.After(2 * time.Millisecond):
			}
			if es, _ := os.ReadDir(logDir); finished || len(es) > len(before)+round%3 || waited > 30000 {
				break
			}
		}
		if !finished {
			time.Sleep(time.Duration(round*3) * time.Millisecond)
			cmd.Process.Kill()
			<-done
			kills++
		} else {
			t.Logf("round %d finished before the kill:\n%s", round, out)
		}
		lk, err := lake.Open(ctx, lkDir, lake.Options{})
		if err != nil {
			continue // killed before its first commit
		}
		snap, _ := lk.FileSnapshot(ctx)
		ptr, _, err := iceberg.ReadPointer(ctx, lk)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if ptr == nil {
			if snap.Version > 1 {
				t.Fatalf("round %d: lake at commit %d and no Iceberg pointer", round, snap.Version)
			}
			continue
		}
		if ptr.Version != snap.Version && ptr.Version != snap.Version-1 {
			t.Fatalf("round %d: Iceberg at commit %d, lake at %d: more than one behind", round, ptr.Version, snap.Version)
		}
		got := icebergCounts(t, lkDir, lake.TableCloudTrail)["n"]
		if want := rowsAt(t, lk, lake.TableCloudTrail, ptr.Version); got != want {
			t.Fatalf("round %d: Iceberg scan %d rows, the lake had %d at commit %d", round, got, want, ptr.Version)
		}
	}
	if kills == 0 {
		t.Fatal("no run was killed: make the corpus bigger")
	}
	if _, code := run(t, "compact", "--from", raw, "--lake", lkDir); code != 0 {
		t.Fatalf("final compact: exit %d", code)
	}
	sameAsQuery(t, "after the runs that were killed", lkDir)
	if _, code := run(t, "catalog", "rebuild", "--lake", lkDir); code != 0 {
		t.Fatal("rebuild")
	}
	sameAsQuery(t, "after rebuild", lkDir)
}
