package asff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	smithyjson "github.com/aws/smithy-go/encoding/json"
	"github.com/lakehunt/lakehunt/lake"
)

// The SDK's AwsSecurityFinding has no JSON tags and its serializer is unexported, so Marshal walks the
// struct the way the SDK's REST-JSON serializer does: member name = Go field name, nil pointers, nil
// slices/maps and empty enums are left out, strings are escaped by the SDK's own JSON encoder. The tests
// check the result against the service model and against what the SDK client puts on the wire.

// Marshal encodes one finding as ASFF JSON, exactly as BatchImportFindings sends it.
func Marshal(f types.AwsSecurityFinding) ([]byte, error) {
	enc := smithyjson.NewEncoder()
	if err := encodeValue(enc.Value, reflect.ValueOf(f), "AwsSecurityFinding"); err != nil {
		return nil, err
	}
	return enc.Bytes(), nil
}

// MarshalList encodes findings as an indented JSON array, the shape `aws securityhub
// batch-import-findings --findings file://asff.json` reads.
func MarshalList(findings []types.AwsSecurityFinding) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("[")
	for i, f := range findings {
		b, err := Marshal(f)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString(",")
		}
		buf.WriteString("\n  ")
		if err := json.Indent(&buf, b, "  ", "  "); err != nil {
			return nil, err
		}
	}
	buf.WriteString("\n]\n")
	return buf.Bytes(), nil
}

// WriteFile writes findings to path as a JSON array (see MarshalList), atomically: readers see the old
// file or the new one, never a part.
func WriteFile(path string, findings []types.AwsSecurityFinding) error {
	b, err := MarshalList(findings)
	if err != nil {
		return err
	}
	return lake.WriteFileAtomic(path, b)
}

// ReadFile reads a file written by WriteFile (or any JSON array of ASFF findings).
func ReadFile(path string) ([]types.AwsSecurityFinding, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []types.AwsSecurityFinding
	// Member names are the Go field names, so encoding/json maps them back; enums are string types.
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s is not a JSON array of ASFF findings: %v", path, err)
	}
	return out, nil
}

func encodeValue(jv smithyjson.Value, v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Pointer:
		return encodeValue(jv, v.Elem(), path)
	case reflect.Struct:
		obj := jv.Object()
		defer obj.Close()
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() || sf.Anonymous {
				continue
			}
			fv := v.Field(i)
			if omit(fv) {
				continue
			}
			if err := encodeValue(obj.Key(sf.Name), fv, path+"."+sf.Name); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		arr := jv.Array()
		defer arr.Close()
		for i := 0; i < v.Len(); i++ {
			if err := encodeValue(arr.Value(), v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("asff: %s: map key type %s has no ASFF encoding", path, v.Type().Key())
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		obj := jv.Object()
		defer obj.Close()
		for _, k := range keys {
			if err := encodeValue(obj.Key(k), v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())), path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		jv.String(v.String())
	case reflect.Bool:
		jv.Boolean(v.Bool())
	case reflect.Int32, reflect.Int, reflect.Int64:
		jv.Long(v.Int())
	case reflect.Float32, reflect.Float64:
		switch f := v.Float(); {
		case math.IsNaN(f):
			jv.String("NaN")
		case math.IsInf(f, 1):
			jv.String("Infinity")
		case math.IsInf(f, -1):
			jv.String("-Infinity")
		case v.Kind() == reflect.Float32:
			jv.Float(float32(f))
		default:
			jv.Double(f)
		}
	default:
		return fmt.Errorf("asff: %s: %s has no ASFF encoding", path, v.Type())
	}
	return nil
}

// omit mirrors the SDK serializer: it writes a member only when it is set.
func omit(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0 // enums
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	}
	return false
}
