package tifeed

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
)

// spamhausRecord is one line of Spamhaus DROP/EDROP/DROPv6 JSON ({"cidr","sblid","rir"}), ASN-DROP
// ({"asn","rir","domain","cc","asname"}) or the trailing {"type":"metadata",...} line.
type spamhausRecord struct {
	Type   string       `json:"type"`
	CIDR   string       `json:"cidr"`
	SBLID  string       `json:"sblid"`
	RIR    string       `json:"rir"`
	ASN    *json.Number `json:"asn"`
	Domain string       `json:"domain"`
	CC     string       `json:"cc"`
	ASName string       `json:"asname"`
}

func parseSpamhausJSON(r *bufio.Reader, s *sink) error {
	return eachLine(r, s, func(n int, raw string) error {
		line := strings.TrimSpace(raw)
		if line == "" {
			return nil
		}
		var rec spamhausRecord
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil {
			s.st.Records++
			s.bad(n, "not a JSON object: "+err.Error(), raw)
			return nil
		}
		if dec.More() {
			s.st.Records++
			s.bad(n, "more than one JSON value on the line", raw)
			return nil
		}
		if rec.Type == "metadata" {
			s.skip("Spamhaus metadata record")
			return nil
		}
		s.st.Records++
		var ind Indicator
		var err error
		switch {
		case rec.CIDR != "":
			ind, err = ipIndicator(rec.CIDR)
			ind.Description = rec.SBLID
		case rec.ASN != nil:
			var num int64
			if num, err = rec.ASN.Int64(); err == nil {
				ind, err = asnIndicator(num)
			}
			ind.Description = strings.Join(nonEmpty(rec.ASName, rec.Domain, rec.CC), " ")
		default:
			err = fmt.Errorf("neither \"cidr\" nor \"asn\" in the record")
		}
		if err != nil {
			s.bad(n, err.Error(), raw)
			return nil
		}
		if rec.RIR != "" {
			ind.Tags = []string{"rir:" + rec.RIR}
		}
		ind.Line = n
		return s.indicator(ind)
	})
}

func nonEmpty(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
