// Package rowtest builds rows of the lake tables whose nullable columns hold NULL, the zero value ("" for
// strings) and other values, laid out the way that made parquet-go v0.32 write NULL as "" for optional
// value fields, and checks what DuckDB reads back from a file written from them. For tests only.
package rowtest

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// State is what a nullable column holds in a row.
type State int

const (
	Null  State = iota
	Zero        // '' for strings, 0, false, the Unix epoch for times
	Value       // a value that differs from row to row
)

var base = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

// Pattern is the state of nullable column col in row i. Rows come in blocks of 64 (the width of the null
// bitmaps parquet-go works through), each column cycling through four kinds of block:
//
//	0: NULL, a value, then 62 NULLs (parquet-go v0.32 wrote those 62 as "")
//	1: NULL, NULL, "", a value, then 60 NULLs
//	2: NULL, "", a value, repeated
//	3: values with a NULL and a "" every 16 rows
//
// Any 256 aligned rows give every column every kind.
func Pattern(i, col int) State {
	o := i % 64
	switch (i/64 + col) % 4 {
	case 0:
		if o == 1 {
			return Value
		}
		return Null
	case 1:
		switch o {
		case 2:
			return Zero
		case 3:
			return Value
		}
		return Null
	case 2:
		return State(o % 3)
	default:
		switch o % 16 {
		case 5:
			return Null
		case 9:
			return Zero
		}
		return Value
	}
}

// Rows returns n rows of T, a lake row struct: required columns have values that grow with the row
// (event times, source lines), nullable ones follow Pattern.
func Rows[T any](n int) []T {
	rows := make([]T, n)
	for i := range rows {
		Fill(&rows[i], i, func(col int) State { return Pattern(i, col) })
	}
	return rows
}

// Fill sets every column of row (a pointer to a lake row struct) for row number i; state gives each
// nullable column's state by its position among the nullable columns.
func Fill(row any, i int, state func(col int) State) {
	col := 0
	fill(reflect.ValueOf(row).Elem(), i, state, &col)
}

func fill(v reflect.Value, i int, state func(int) State, col *int) {
	for f := 0; f < v.NumField(); f++ {
		sf, fv := v.Type().Field(f), v.Field(f)
		if sf.Anonymous {
			fill(fv, i, state, col)
			continue
		}
		name := columnName(sf)
		if name == "" {
			continue
		}
		if fv.Kind() != reflect.Pointer {
			fv.Set(value(fv.Type(), name, i, Value))
			continue
		}
		s := state(*col)
		*col++
		if s != Null {
			p := reflect.New(fv.Type().Elem())
			p.Elem().Set(value(fv.Type().Elem(), name, i, s))
			fv.Set(p)
		}
	}
}

func value(t reflect.Type, name string, i int, s State) reflect.Value {
	v := reflect.New(t).Elem()
	if t == reflect.TypeFor[time.Time]() {
		if s == Zero {
			return reflect.ValueOf(time.Unix(0, 0).UTC())
		}
		return reflect.ValueOf(base.Add(time.Duration(i) * time.Second))
	}
	if s == Zero {
		return v
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, i))
	case reflect.Int32, reflect.Int64:
		v.SetInt(int64(i + 1))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Float64:
		v.SetFloat(float64(i) + 0.5)
	default:
		panic(fmt.Sprintf("rowtest: no values for %s", t))
	}
	return v
}

func columnName(sf reflect.StructField) string {
	tag := sf.Tag.Get("parquet")
	if tag == "-" {
		return ""
	}
	return strings.Split(tag, ",")[0]
}

// Cells renders each column of row (a lake row struct or a pointer to one) by name: "NULL" for NULL,
// quoted text for strings, times in UTC.
func Cells(row any) map[string]string {
	out := map[string]string{}
	v := reflect.Indirect(reflect.ValueOf(row))
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for f := 0; f < v.NumField(); f++ {
			sf := v.Type().Field(f)
			if sf.Anonymous {
				walk(v.Field(f))
				continue
			}
			if name := columnName(sf); name != "" {
				out[name] = render(v.Field(f).Interface())
			}
		}
	}
	walk(v)
	return out
}

func render(x any) string {
	v := reflect.ValueOf(x)
	if !v.IsValid() || (v.Kind() == reflect.Pointer && v.IsNil()) {
		return "NULL"
	}
	x = reflect.Indirect(v).Interface()
	if t, ok := x.(time.Time); ok {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%T %q", x, fmt.Sprint(x))
}

// Check reads the Parquet file at path with DuckDB's read_parquet (no view, no cleaning) and fails t
// unless it holds exactly rows, column by column, in the order of orderBy.
func Check[T any](t testing.TB, db *sql.DB, path, orderBy string, rows []T) {
	t.Helper()
	res, err := db.Query(fmt.Sprintf("SELECT * FROM read_parquet('%s', hive_partitioning = false) ORDER BY %s", path, orderBy))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	cols, err := res.Columns()
	if err != nil {
		t.Fatal(err)
	}
	wrong, n := 0, 0
	for ; res.Next(); n++ {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if n >= len(rows) {
			continue
		}
		want := Cells(rows[n])
		if len(want) != len(cols) {
			t.Fatalf("%s has %d columns, the row type %d", path, len(cols), len(want))
		}
		for i, c := range cols {
			if got := render(vals[i]); got != want[c] {
				if wrong++; wrong <= 10 {
					t.Errorf("%s row %d column %s: got %s, want %s", path, n, c, got, want[c])
				}
			}
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(rows) {
		t.Errorf("%s has %d rows, want %d", path, n, len(rows))
	}
	if wrong > 10 {
		t.Errorf("%s: %d wrong cells in all", path, wrong)
	}
}

// EmptyStringsNull is rows as a reader should find them in the lake: every *string column that points to
// "" is NULL (the writers store an empty string as NULL).
func EmptyStringsNull[T any](rows []T) []T {
	out := make([]T, len(rows))
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for f := 0; f < v.NumField(); f++ {
			fv := v.Field(f)
			switch {
			case v.Type().Field(f).Anonymous:
				walk(fv)
			case fv.Type() == reflect.TypeFor[*string]() && !fv.IsNil() && fv.Elem().String() == "":
				fv.SetZero()
			}
		}
	}
	for i := range rows {
		out[i] = rows[i]
		walk(reflect.ValueOf(&out[i]).Elem())
	}
	return out
}
