// Package schedule parses a hunt's schedule (standard 5-field cron, or EventBridge's rate(...) and
// cron(...) forms) and cuts the time since a hunt's last window into the contiguous windows that are due.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule yields fire times.
type Schedule struct {
	text  string
	every time.Duration // rate(...)
	cron  cron.Schedule
}

func (s *Schedule) String() string { return s.text }

// Next is the first fire time strictly after t.
func (s *Schedule) Next(t time.Time) time.Time {
	t = t.UTC()
	if s.every > 0 {
		// rate() fires on multiples of the interval since the Unix epoch, so every runner agrees.
		return t.Truncate(s.every).Add(s.every)
	}
	return s.cron.Next(t)
}

// Prev is the last fire time at or before t.
func (s *Schedule) Prev(t time.Time) time.Time {
	t = t.UTC()
	if s.every > 0 {
		return t.Truncate(s.every)
	}
	// Walk forward from a point far enough back; cron has no reverse iterator.
	for back := 2 * time.Hour; back <= 800*24*time.Hour; back *= 4 {
		var last time.Time
		for f := s.cron.Next(t.Add(-back)); !f.After(t); f = s.cron.Next(f) {
			last = f
		}
		if !last.IsZero() {
			return last
		}
	}
	return time.Time{}
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse accepts "*/15 * * * *" (UTC), "@hourly", "rate(15 minutes)", "cron(0 6 * * ? *)".
func Parse(text string) (*Schedule, error) {
	s := strings.TrimSpace(text)
	switch {
	case strings.HasPrefix(s, "rate(") && strings.HasSuffix(s, ")"):
		d, err := parseRate(s[5 : len(s)-1])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", text, err)
		}
		return &Schedule{text: text, every: d}, nil
	case strings.HasPrefix(s, "cron(") && strings.HasSuffix(s, ")"):
		std, err := eventBridgeCron(s[5 : len(s)-1])
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", text, err)
		}
		c, err := parser.Parse(std)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %w", text, err)
		}
		return &Schedule{text: text, cron: c}, nil
	}
	c, err := parser.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %v (use 5-field cron such as \"0 * * * *\", rate(1 hour) or cron(0 6 * * ? *))", text, err)
	}
	return &Schedule{text: text, cron: c}, nil
}

func parseRate(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, fmt.Errorf("rate needs a value and a unit, e.g. rate(5 minutes)")
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("rate value %q must be a positive integer", f[0])
	}
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
	if unit == 0 {
		return 0, fmt.Errorf("rate unit %q must be minute(s), hour(s) or day(s)", f[1])
	}
	return time.Duration(n) * unit, nil
}

// eventBridgeCron turns EventBridge's 6 fields (min hour day-of-month month day-of-week year) into
// standard cron: '?' means any, day-of-week 1-7 is SUN-SAT, and only year '*' is supported.
func eventBridgeCron(s string) (string, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return "", fmt.Errorf("EventBridge cron needs 6 fields (minutes hours day-of-month month day-of-week year)")
	}
	if f[5] != "*" {
		return "", fmt.Errorf("a year field other than * is not supported")
	}
	for i := range f[:5] {
		if f[i] == "?" {
			f[i] = "*"
		}
	}
	if strings.ContainsAny(f[4], "LW#") || strings.ContainsAny(f[2], "LW#") {
		return "", fmt.Errorf("L, W and # are not supported")
	}
	f[4] = shiftDOW(f[4])
	return strings.Join(f[:5], " "), nil
}

// shiftDOW maps EventBridge's 1-7 (Sunday=1) to cron's 0-6 in lists and ranges; names pass through.
func shiftDOW(field string) string {
	var out []byte
	num := -1
	flush := func() {
		if num >= 0 {
			out = strconv.AppendInt(out, int64(num-1), 10)
			num = -1
		}
	}
	for i := 0; i < len(field); i++ {
		c := field[i]
		if c >= '0' && c <= '9' && (i == 0 || field[i-1] != '/') && num != -2 {
			if num < 0 {
				num = 0
			}
			num = num*10 + int(c-'0')
			continue
		}
		flush()
		if c == '/' {
			// the step after '/' is a count, not a day: copy it verbatim
			j := i + 1
			for j < len(field) && field[j] >= '0' && field[j] <= '9' {
				j++
			}
			out = append(out, field[i:j]...)
			i = j - 1
			continue
		}
		out = append(out, c)
	}
	flush()
	return string(out)
}

// Window is a half-open interval of event time.
type Window struct {
	Start, End time.Time
}

// Due cuts (lastEnd, now-delay] into contiguous windows ending at fire times, oldest first, at most max.
// With no lastEnd (first run) a single window of length first ending at the latest fire time is due.
// A window only closes once delay has passed after its end, so late-arriving events are in it.
func Due(s *Schedule, lastEnd, now time.Time, delay, first time.Duration, max int) []Window {
	closeAt := now.Add(-delay)
	latest := s.Prev(closeAt)
	if latest.IsZero() {
		return nil
	}
	if lastEnd.IsZero() {
		return []Window{{Start: latest.Add(-first), End: latest}}
	}
	var out []Window
	start := lastEnd.UTC()
	for end := s.Next(start); !end.After(latest) && len(out) < max; end = s.Next(end) {
		out = append(out, Window{Start: start, End: end})
		start = end
	}
	return out
}
