package lake

import (
	"reflect"
	"sync"
	"unsafe"
)

// NullEmptyStrings sets every nullable string column (a *string field, JSON columns included) of rows
// that points to "" to NULL. Writers call it on the rows they write, so a file holds NULL, not "", where
// a source sent an empty string: every reader (DuckDB, Iceberg, Athena) then sees the NULL that
// lakehunt's views show. It only changes the pointers, never the strings: parsers share them between rows.
func NullEmptyStrings[T any](rows []T) {
	offs := stringPtrOffsets(reflect.TypeFor[T]())
	for i := range rows {
		row := unsafe.Pointer(&rows[i])
		for _, off := range offs {
			p := (**string)(unsafe.Add(row, off))
			if *p != nil && len(**p) == 0 {
				*p = nil
			}
		}
	}
}

var stringPtrFields sync.Map // reflect.Type → []uintptr

// stringPtrOffsets lists the offsets of a row struct's *string column fields, those of embedded
// structs (Lineage) included, computed once per type.
func stringPtrOffsets(t reflect.Type) []uintptr {
	if offs, ok := stringPtrFields.Load(t); ok {
		return offs.([]uintptr)
	}
	var offs []uintptr
	var walk func(t reflect.Type, base uintptr)
	walk = func(t reflect.Type, base uintptr) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			switch {
			case f.Anonymous && f.Type.Kind() == reflect.Struct:
				walk(f.Type, base+f.Offset)
			case f.Type == reflect.TypeFor[*string]() && f.Tag.Get("parquet") != "-":
				offs = append(offs, base+f.Offset)
			}
		}
	}
	if t.Kind() == reflect.Struct {
		walk(t, 0)
	}
	stringPtrFields.Store(t, offs)
	return offs
}
