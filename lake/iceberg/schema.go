// Package iceberg keeps each lake table readable as an Apache Iceberg (format v2) table: after every lake
// commit it writes the Iceberg snapshot that adds and removes the same Parquet files (no data is
// rewritten), with github.com/apache/iceberg-go's manifest, manifest-list and metadata writers.
//
// The lake's commit log stays the source of truth. All Iceberg state hangs off one pointer object,
// _lakehunt/iceberg.json, that names the current metadata file of every table and the lake commit they
// reflect; it is replaced only after every metadata file it names is written. So a crash leaves Iceberg at
// the previous commit, never at a mixture, and the next commit (or Rebuild) catches up.
package iceberg

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"time"

	ice "github.com/apache/iceberg-go"

	"github.com/lakehunt/lakehunt/lake"
)

// Schema is the Iceberg schema of a lake table: the lake's columns in order, field IDs 1..n, with the
// lake's docs. Columns of non-pointer Go fields are required. JSON columns are strings (as stored).
func Schema(t *lake.Table) (*ice.Schema, error) {
	required := map[string]bool{}
	requiredFields(t.RowType(), required)
	fields := make([]ice.NestedField, 0, len(t.Columns))
	for i, c := range t.Columns {
		typ, err := icebergType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
		}
		fields = append(fields, ice.NestedField{ID: i + 1, Name: c.Name, Type: typ, Required: required[c.Name], Doc: c.Doc})
	}
	return ice.NewSchema(0, fields...), nil
}

func requiredFields(t reflect.Type, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			requiredFields(f.Type, out)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		if name != "" && name != "-" {
			out[name] = f.Type.Kind() != reflect.Pointer
		}
	}
}

func icebergType(duck string) (ice.Type, error) {
	switch duck {
	case "VARCHAR", "JSON":
		return ice.PrimitiveTypes.String, nil
	case "BOOLEAN":
		return ice.PrimitiveTypes.Bool, nil
	case "INTEGER":
		return ice.PrimitiveTypes.Int32, nil
	case "BIGINT":
		return ice.PrimitiveTypes.Int64, nil
	case "DOUBLE":
		return ice.PrimitiveTypes.Float64, nil
	case "TIMESTAMP":
		// The lake writes timestamp(microsecond) without UTC adjustment, holding UTC values: Iceberg's
		// timestamp (without zone) is that type.
		return ice.PrimitiveTypes.Timestamp, nil
	}
	return nil, fmt.Errorf("no Iceberg type for DuckDB type %s", duck)
}

// Partition field IDs start at 1000, as the Iceberg spec's writers assign them.
const firstPartitionFieldID = 1000

// Spec is the table's partition spec, matching the lake's folders: identity account_id and region and
// day(event_time) for the log tables (a file holds one account, region and event-time day), identity
// feed for ti_indicators, none for a table without those columns.
func Spec(t *lake.Table, sc *ice.Schema) ice.PartitionSpec {
	field := func(n int, col string, tr ice.Transform, name string) ice.PartitionField {
		f, _ := sc.FindFieldByName(col)
		return ice.PartitionField{SourceIDs: []int{f.ID}, FieldID: firstPartitionFieldID + n, Name: name, Transform: tr}
	}
	switch {
	case t.HasColumn("account_id") && t.HasColumn("region") && t.HasColumn("event_time"):
		return ice.NewPartitionSpecID(0,
			field(0, "account_id", ice.IdentityTransform{}, "account_id"),
			field(1, "region", ice.IdentityTransform{}, "region"),
			field(2, "event_time", ice.DayTransform{}, "event_time_day"))
	case t.HasColumn("feed"):
		return ice.NewPartitionSpecID(0, field(0, "feed", ice.IdentityTransform{}, "feed"))
	}
	return *ice.UnpartitionedSpec
}

// partitionValues are a file's partition values by partition field ID, read from its lake entry and key.
func partitionValues(spec ice.PartitionSpec, f lake.FileEntry) (map[int]any, error) {
	vals := map[int]any{}
	for _, pf := range spec.Fields() {
		switch pf.Name {
		case "account_id":
			vals[pf.FieldID] = f.AccountID
		case "region":
			vals[pf.FieldID] = f.Region
		case "event_time_day":
			d, err := time.Parse("2006-01-02", f.Day)
			if err != nil {
				return nil, fmt.Errorf("file %s: day %q: %w", f.Key, f.Day, err)
			}
			vals[pf.FieldID] = int32(d.Unix() / 86400)
		case "feed":
			feed, ok := hiveValue(f.Key, "feed")
			if !ok {
				return nil, fmt.Errorf("file %s is not under a feed=NAME folder", f.Key)
			}
			vals[pf.FieldID] = feed
		}
	}
	return vals, nil
}

func hiveValue(key, name string) (string, bool) {
	for _, seg := range strings.Split(key, "/") {
		if v, ok := strings.CutPrefix(seg, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// timeBounds gives a data file event_time's lower and upper bounds from its lake entry (the compactor
// records the first and last event time of the rows it wrote sorted by time), so Athena, Spark and Trino
// skip files outside a query's time range within a day partition. Iceberg's single-value form of a
// timestamp is its microseconds since the epoch, 8 bytes little-endian; the lake stores microseconds
// truncated the same way, so the bounds are the column's exact min and max.
func timeBounds(b *ice.DataFileBuilder, sc *ice.Schema, f lake.FileEntry) {
	field, ok := sc.FindFieldByName("event_time")
	if !ok || f.MinTime.IsZero() || f.MaxTime.IsZero() || f.MaxTime.Before(f.MinTime) {
		return
	}
	micros := func(t time.Time) []byte {
		return binary.LittleEndian.AppendUint64(nil, uint64(t.Truncate(time.Microsecond).UnixMicro()))
	}
	b.LowerBoundValues(map[int][]byte{field.ID: micros(f.MinTime)})
	b.UpperBoundValues(map[int][]byte{field.ID: micros(f.MaxTime)})
}
