package tifeed

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"
)

// feodoColumns maps the header names abuse.ch has used (current CSV, the older "DstIP" variant and the
// SSLBL/ThreatFox-style lists) to the fields we keep.
var feodoColumns = map[string]string{
	"dst_ip": "ip", "dstip": "ip", "ip_address": "ip", "ip": "ip",
	"first_seen_utc": "first", "first_seen": "first", "firstseen": "first", "dateadded": "first",
	"dst_port": "port", "dstport": "port", "port": "port",
	"c2_status": "status", "status": "status",
	"last_online": "last", "lastonline": "last",
	"malware": "malware", "malware_family": "malware",
}

// parseFeodo reads the abuse.ch Feodo Tracker CSV: a '#' banner, a quoted header line
// ("first_seen_utc","dst_ip","dst_port","c2_status","last_online","malware"), one C2 per line, a '# END' trailer.
// Older files carry the header as a comment ("# Firstseen,DstIP,DstPort,LastOnline,Malware"); columns are
// found by name, so both work.
func parseFeodo(r *bufio.Reader, s *sink) error {
	var cols map[string]int
	headerLine := 0
	var lastComment string
	lastCommentLine := 0
	err := eachLine(r, s, func(n int, raw string) error {
		line := strings.TrimSpace(raw)
		if line == "" {
			return nil
		}
		if strings.HasPrefix(line, "#") {
			lastComment, lastCommentLine = strings.TrimSpace(strings.TrimLeft(line, "#")), n
			return nil
		}
		rec, err := csvFields(line)
		if cols == nil {
			if c := feodoHeader(rec); err == nil && c != nil {
				cols, headerLine = c, n
				return nil
			}
			if c := feodoHeader(mustCSV(lastComment)); c != nil {
				cols, headerLine = c, lastCommentLine
			} else {
				return fmt.Errorf("line %d: no header naming a dst_ip column before the first record; is this the abuse.ch Feodo CSV (header \"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\")?", n)
			}
		}
		s.st.Records++
		if err != nil {
			s.bad(n, "not a CSV record: "+err.Error(), raw)
			return nil
		}
		get := func(f string) string {
			if i, ok := cols[f]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if cols["ip"] >= len(rec) {
			s.bad(n, fmt.Sprintf("%d fields, the header (line %d) needs at least %d", len(rec), headerLine, cols["ip"]+1), raw)
			return nil
		}
		ind, err := ipIndicator(get("ip"))
		if err != nil {
			s.bad(n, err.Error(), raw)
			return nil
		}
		ind.Line = n
		ind.MalwareFamily = get("malware")
		if v := get("first"); v != "" {
			if t, err := parseFeedTime(v); err == nil {
				ind.FirstSeen = t
			} else {
				s.warn(n, "first-seen "+err.Error()+"; indicator kept without it", raw)
			}
		}
		if v := get("status"); v != "" {
			ind.Tags = append(ind.Tags, "c2_status:"+v)
		}
		if v := get("port"); v != "" {
			ind.Tags = append(ind.Tags, "port:"+v)
		}
		if v := get("last"); v != "" {
			ind.Description = "last online " + v
		}
		return s.indicator(ind)
	})
	if err == nil && cols == nil && s.st.Records == 0 {
		return errors.New("no header and no records: is this the abuse.ch Feodo CSV?")
	}
	return err
}

func csvFields(line string) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(line))
	cr.FieldsPerRecord = -1
	return cr.Read()
}

func mustCSV(line string) []string {
	rec, _ := csvFields(line)
	return rec
}

// feodoHeader returns the column positions if rec is a header naming an IP column.
func feodoHeader(rec []string) map[string]int {
	cols := map[string]int{}
	for i, h := range rec {
		if f, ok := feodoColumns[strings.ToLower(strings.TrimSpace(h))]; ok {
			if _, dup := cols[f]; !dup {
				cols[f] = i
			}
		}
	}
	if _, ok := cols["ip"]; !ok {
		return nil
	}
	return cols
}

// parseFeedTime reads the date formats feeds use for first-seen (UTC unless they say otherwise).
func parseFeedTime(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04:05 MST", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD[ HH:MM:SS] or RFC 3339)", v)
}
