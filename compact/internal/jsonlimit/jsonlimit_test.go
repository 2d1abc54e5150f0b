package jsonlimit

import (
	"encoding/json"
	"strings"
	"testing"
)

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func TestCheck(t *testing.T) {
	deep := "JSON nested deeper than 512 levels"
	many := "JSON holds more than 524288 values"
	for _, tc := range []struct {
		name, in, err string
	}{
		{"flat record", `{"eventID":"a","requestParameters":{"bucketName":"b","key":[1,2,3]}}`, ""},
		{"arrays at the limit", nested("[", "]", MaxDepth), ""},
		{"arrays one past the limit", nested("[", "]", MaxDepth+1), deep},
		{"objects one past the limit", strings.Repeat(`{"a":`, MaxDepth+1) + "0" + strings.Repeat("}", MaxDepth+1), deep},
		{"objects at the limit", strings.Repeat(`{"a":`, MaxDepth) + "0" + strings.Repeat("}", MaxDepth), ""},
		{"unclosed brackets count", strings.Repeat("[", MaxDepth+1), deep},
		{"two million levels", nested("[", "]", 2_000_000), deep},
		{"brackets inside strings do not count", `["` + strings.Repeat("[{", 1000) + `"]`, ""},
		{"an escaped quote does not end the string", `["\"` + strings.Repeat("[", 1000) + `"]`, ""},
		{"an escaped backslash ends before the quote", `["\\",` + nested("[", "]", MaxDepth) + `]`, deep},
		{"unterminated string", `["` + strings.Repeat("[", 1000), ""},
		{"values at the limit", "[" + strings.Repeat("0,", MaxValues-1) + "0]", ""},
		{"values one past the limit", "[" + strings.Repeat("0,", MaxValues) + "0]", many},
		{"empty containers are values", "[" + strings.Repeat("{},[],", MaxValues/2) + "{}]", many},
		{"empty containers at the limit", "[" + strings.Repeat("{}, [ ] ,", MaxValues/2-1) + "{},[]]", ""},
		{"object members count once", "{" + strings.Repeat(`"a":0,`, MaxValues-1) + `"a":0}`, ""},
		{"object members one past the limit", "{" + strings.Repeat(`"a":0,`, MaxValues) + `"a":0}`, many},
		{"commas inside strings do not count", `["` + strings.Repeat(",", MaxValues+1) + `"]`, ""},
		{"the most a 1 MiB record can hold", "[" + strings.Repeat("0,", (1<<20-2)/2) + "]", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.in))
			if got := errText(err); got != tc.err {
				t.Fatalf("Check = %q, want %q", got, tc.err)
			}
		})
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// On valid JSON, Check's verdict follows the document's real depth and number of values below the top.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"[\"{"}],"c":{}}`, `[[[]]]`, `"\\"`, `[{},[],"x\\\"]"]`, nested("[", "]", MaxDepth+1)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Check(b)
		var v any
		if json.Unmarshal(b, &v) != nil {
			return // invalid JSON: any verdict, as long as Check returned (no panic)
		}
		depth, values := shape(v)
		wantErr := depth > MaxDepth || values > MaxValues
		if (err != nil) != wantErr {
			t.Fatalf("depth %d, %d values: Check = %v", depth, values, err)
		}
	})
}

func shape(v any) (depth, values int) {
	var members []any
	switch v := v.(type) {
	case []any:
		members = v
	case map[string]any:
		for _, m := range v {
			members = append(members, m)
		}
	default:
		return 0, 0
	}
	values = len(members)
	for _, m := range members {
		d, n := shape(m)
		depth, values = max(depth, d), values+n
	}
	return depth + 1, values
}
