package tifeed

import (
	"bytes"
	"testing"
)

// FuzzParse: any file, in any format (or detected), ends as indicators and issues, or as a file error,
// never a panic. Every issue has a reason; the stats count what was emitted and reported; every indicator
// is in its normal form (parsing its value again gives it back) and no IP indicator is a bogon.
// Seeds: testdata/fuzz/FuzzParse, the starts of the feed samples under testdata/ti.
func FuzzParse(f *testing.F) {
	formats := append([]string{FormatAuto}, Formats...)
	f.Add([]byte("# list\n1.2.3.4\nevil[.]example.com # c2\n10.0.0.0/8\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		var inds []Indicator
		issues := map[string]int{}
		st, err := Parse(bytes.NewReader(data), formats[int(format)%len(formats)], "feed",
			func(i Indicator) error { inds = append(inds, i); return nil },
			func(is Issue) {
				if is.Reason == "" || is.Line < 0 {
					t.Fatalf("issue without a reason or line: %+v", is)
				}
				issues[is.Kind]++
			})
		if st.Indicators != len(inds) || st.Malformed != issues[IssueMalformed] || st.Bogons != issues[IssueBogon] || st.Warnings != issues[IssueWarning] {
			t.Fatalf("stats %+v, emitted %d, issues %v", st, len(inds), issues)
		}
		byType := 0
		for _, n := range st.ByType {
			byType += n
		}
		if err == nil && byType != st.Indicators {
			t.Fatalf("by type %v, %d indicators", st.ByType, st.Indicators)
		}
		for _, ind := range inds {
			if ind.Line < 1 {
				t.Fatalf("indicator without a line: %+v", ind)
			}
			var again Indicator
			var aerr error
			switch ind.Type {
			case TypeIPv4, TypeIPv6, TypeCIDR4, TypeCIDR6:
				again, aerr = ipIndicator(ind.Value)
				if _, isBogon := bogon(ind); isBogon || ind.Start.Compare(ind.End) > 0 {
					t.Fatalf("bogon or empty range emitted: %+v", ind)
				}
			case TypeDomain:
				again, aerr = domainIndicator(ind.Value)
			case TypeURL:
				again, aerr = urlIndicator(ind.Value)
			case TypeMD5, TypeSHA1, TypeSHA256:
				again, aerr = hashIndicator(ind.Value, ind.Type)
			case TypeASN:
				continue
			default:
				t.Fatalf("unknown type: %+v", ind)
			}
			if aerr != nil || again.Value != ind.Value || again.Type != ind.Type || again.Start != ind.Start || again.End != ind.End {
				t.Fatalf("%s %q reads back as %s %q (%v)", ind.Type, ind.Value, again.Type, again.Value, aerr)
			}
		}
	})
}
