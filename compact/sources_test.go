package compact

import (
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
)

// Each registered source is a lake table the engine can partition, trace and deduplicate: the columns
// the compactor and hunts rely on are there, the dedup column is a column, hunt tests can hold its events.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range Descriptors() {
		name := d.Table()
		t.Run(name, func(t *testing.T) {
			if seen[name] {
				t.Fatalf("registered twice")
			}
			seen[name] = true
			tbl, err := lake.LookupTable(name)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{"event_time", "account_id", "region", "source_key", "source_line", "ingested_at"} {
				if !tbl.HasColumn(c) {
					t.Errorf("no column %s", c)
				}
			}
			if col := d.idColumn(); col != "" && !tbl.HasColumn(col) {
				t.Errorf("dedup column %s is not a column of the table", col)
			}
			if d.Fixture() == nil {
				t.Error("no fixture writer: hunts cannot test against the table")
			}
			if _, ok := w(t).tables[name]; !ok {
				t.Error("the writer has no buffer for it")
			}
		})
	}
	if len(Sources) != len(seen) {
		t.Errorf("Sources %v, registry %d", Sources, len(seen))
	}
}

func w(t *testing.T) *writer {
	return newWriter(t.Context(), &Options{}, nil, &Summary{})
}

// Prefixes name a source that accepts them; anything else is refused before anything is read.
func TestPrefixesChecked(t *testing.T) {
	for _, c := range []struct {
		prefixes map[string][]string
		want     string
	}{
		{map[string][]string{"nope": {"x/"}}, `prefixes configured for unknown source "nope" (known: ` + strings.Join(Sources, ", ") + ")"},
		{map[string][]string{"cloudtrail": {"x/"}}, "source cloudtrail is only read in its AWSLogs/ layout: its records do not say which account and region they are of, so it cannot be mapped to a prefix"},
	} {
		if _, err := Run(t.Context(), Options{Prefixes: c.prefixes}); err == nil || err.Error() != c.want {
			t.Errorf("Prefixes %v: err %v, want %q", c.prefixes, err, c.want)
		}
	}
}
