// Package logtime parses the timestamps AWS logs carry (CloudTrail eventTime, Route 53 query_timestamp).
package logtime

import "time"

// Parse reads RFC 3339 ("2024-01-02T03:04:05Z", with or without fractions). It also accepts a space for
// the T, and no zone at all (taken as UTC), as log pipelines (and the Panther samples) write them.
func Parse(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t.UTC(), nil
	}
	if len(s) >= 19 && (s[10] == ' ' || s[10] == 'T') {
		s = s[:10] + "T" + s[11:]
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), nil
		}
		if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
