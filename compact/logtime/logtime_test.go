package logtime

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	want := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02T04:04:05+01:00", "2024-01-02 03:04:05", "2024-01-02 03:04:05Z", "2024-01-02T03:04:05.000Z"} {
		got, err := Parse(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "yesterday", "2024-13-02T03:04:05Z", "1700000000"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}
