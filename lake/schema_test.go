package lake_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/rowtest"
)

// A nullable column must be a pointer field: parquet-go v0.32 writes some NULLs of optional value fields
// as "" or 0 (see lake.CloudTrailEvent).
func TestNullableColumnsArePointerFields(t *testing.T) {
	for _, tab := range lake.Tables() {
		var walk func(rt reflect.Type)
		walk = func(rt reflect.Type) {
			for i := 0; i < rt.NumField(); i++ {
				f := rt.Field(i)
				if f.Anonymous {
					walk(f.Type)
					continue
				}
				optional := strings.Contains(f.Tag.Get("parquet"), ",optional")
				if ptr := f.Type.Kind() == reflect.Pointer; optional != ptr {
					t.Errorf("%s.%s: tagged optional %v, pointer %v; nullable columns are pointer fields tagged optional", tab.Name, f.Name, optional, ptr)
				}
			}
		}
		walk(tab.RowType())
	}
}

// Files written before nullable columns were pointer fields have the same logical schema (columns,
// repetition, physical and logical types), so the lakes they make stay readable and mergeable.
// testdata/v1/schema.txt was printed by that code. Encodings and compression are not part of it: readers
// take them from each file, so files that differ only in them read and merge together.
func TestParquetSchemaUnchanged(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "v1", "schema.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tab := range lake.Tables() {
		fmt.Fprintf(&b, "== %s\n%s\n", tab.Name, parquet.SchemaOf(reflect.New(tab.RowType()).Interface()))
	}
	if got := b.String(); got != string(want) {
		t.Errorf("the Parquet schema changed: old files would no longer read or merge.\n got:\n%s\nwant:\n%s", got, want)
	}
}

// testdata/v1/TABLE.parquet were written by the code before nullable columns were pointer fields: rows 0
// and 2 with every column set, row 1 with every nullable column empty (NULL). The row types read them.
func TestFilesOfTheFirstLayoutRead(t *testing.T) {
	read := map[string]func(string) ([]any, error){
		lake.TableCloudTrail:      readAll[lake.CloudTrailEvent],
		lake.TableVPCFlow:         readAll[lake.VPCFlowRecord],
		lake.TableRoute53Resolver: readAll[lake.Route53ResolverQuery],
		lake.TableTIIndicators:    readAll[lake.TIIndicator],
	}
	for _, tab := range lake.Tables() {
		rows, err := read[tab.Name](filepath.Join("testdata", "v1", tab.Name+".parquet"))
		if err != nil {
			t.Fatalf("%s: %v", tab.Name, err)
		}
		if len(rows) != 3 {
			t.Fatalf("%s: %d rows", tab.Name, len(rows))
		}
		for i, row := range rows {
			want := reflect.New(tab.RowType())
			rowtest.Fill(want.Interface(), i, func(int) rowtest.State {
				if i == 1 {
					return rowtest.Null
				}
				return rowtest.Value
			})
			exp, got := rowtest.Cells(want.Interface()), rowtest.Cells(row)
			for c, v := range exp {
				if got[c] != v {
					t.Errorf("%s row %d column %s: got %s, want %s", tab.Name, i, c, got[c], v)
				}
			}
		}
	}
}

func readAll[T any](path string) ([]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := parquet.NewGenericReader[T](f)
	defer r.Close()
	buf := make([]T, 10)
	n, err := r.Read(buf)
	if err != nil && err != io.EOF {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		out[i] = buf[i]
	}
	return out, nil
}

// A hunt that lists a view (guardduty_latest) under tables: is told which table to list instead.
func TestLookupTableNamesTheTableOfAView(t *testing.T) {
	type row struct {
		ID string `parquet:"id"`
	}
	lake.RegisterTable("lookup_test_findings", "test", row{})
	lake.AddViews("lookup_test_findings", lake.View{Name: "lookup_test_findings_latest", SQL: "SELECT * FROM lookup_test_findings"})
	for _, tc := range []struct{ name, want string }{
		{"lookup_test_findings_latest", `"lookup_test_findings_latest" is a view over table "lookup_test_findings"`},
		{"no_such_table", `unknown table "no_such_table" (known tables: `},
	} {
		_, err := lake.LookupTable(tc.name)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LookupTable(%q) = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := lake.LookupTable("lookup_test_findings"); err != nil {
		t.Errorf("the table itself: %v", err)
	}
}
