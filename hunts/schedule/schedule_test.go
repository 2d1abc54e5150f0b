package schedule

import (
	"testing"
	"time"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseAndNext(t *testing.T) {
	cases := []struct {
		spec, after, next string
	}{
		{"0 * * * *", "2026-01-01T10:20:00Z", "2026-01-01T11:00:00Z"},
		{"*/15 * * * *", "2026-01-01T10:20:00Z", "2026-01-01T10:30:00Z"},
		{"@daily", "2026-01-01T10:20:00Z", "2026-01-02T00:00:00Z"},
		{"rate(15 minutes)", "2026-01-01T10:20:00Z", "2026-01-01T10:30:00Z"},
		{"rate(1 hour)", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"},
		{"rate(1 day)", "2026-01-01T10:00:00Z", "2026-01-02T00:00:00Z"},
		{"cron(0 6 * * ? *)", "2026-01-01T10:00:00Z", "2026-01-02T06:00:00Z"},
		// EventBridge day-of-week 2 is Monday; 2026-01-05 is a Monday.
		{"cron(30 8 ? * 2 *)", "2026-01-01T10:00:00Z", "2026-01-05T08:30:00Z"},
		{"cron(0 8 ? * MON-FRI *)", "2026-01-03T10:00:00Z", "2026-01-05T08:00:00Z"},
		{"cron(0 */6 * * ? *)", "2026-01-01T07:00:00Z", "2026-01-01T12:00:00Z"},
	}
	for _, c := range cases {
		s, err := Parse(c.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.spec, err)
			continue
		}
		if got := s.Next(ts(c.after)); !got.Equal(ts(c.next)) {
			t.Errorf("%s: Next(%s) = %s, want %s", c.spec, c.after, got.Format(time.RFC3339), c.next)
		}
	}
	for _, bad := range []string{"", "every hour", "rate(0 minutes)", "rate(5 weeks)", "cron(0 6 * * ?)", "cron(0 6 * * ? 2027)", "61 * * * *"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted a bad schedule", bad)
		}
	}
}

func TestDueWindowsAreContiguousAndBounded(t *testing.T) {
	s, _ := Parse("0 * * * *")
	// First run: one window of the hunt's length ending at the last closed fire time.
	w := Due(s, time.Time{}, ts("2026-01-01T10:20:00Z"), 15*time.Minute, 24*time.Hour, 48)
	if len(w) != 1 || !w[0].End.Equal(ts("2026-01-01T10:00:00Z")) || !w[0].Start.Equal(ts("2025-12-31T10:00:00Z")) {
		t.Fatalf("first run windows = %v", w)
	}
	// 10:10 with a 15 minute delay: the 10:00 window has not closed yet.
	if w := Due(s, ts("2026-01-01T09:00:00Z"), ts("2026-01-01T10:10:00Z"), 15*time.Minute, time.Hour, 48); len(w) != 0 {
		t.Fatalf("window closed before its delay: %v", w)
	}
	// A two-day outage: catch up oldest first, contiguous, bounded.
	w = Due(s, ts("2026-01-01T00:00:00Z"), ts("2026-01-03T00:30:00Z"), 15*time.Minute, time.Hour, 24)
	if len(w) != 24 || !w[0].Start.Equal(ts("2026-01-01T00:00:00Z")) {
		t.Fatalf("catch-up = %d windows starting %v", len(w), w[0].Start)
	}
	for i := 1; i < len(w); i++ {
		if !w[i].Start.Equal(w[i-1].End) {
			t.Fatalf("gap or overlap between %v and %v", w[i-1], w[i])
		}
	}
}
