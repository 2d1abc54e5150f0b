package ti

import (
	"database/sql"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	db, _ := sql.Open("duckdb", "")
	for _, q := range []string{
		`SELECT list_transform([string_split('2001:db8::1', '::')], lambda parts: list_transform([[string_split(parts[1], ':'), string_split(parts[2], ':')]], lambda s: list_concat(s[1], list_transform(range(greatest(8 - len(s[1]) - len(s[2]), 1)), lambda x: '0'), s[2]))[1])[1]::VARCHAR`,
		`SELECT x, y FROM (SELECT 1 AS x, x + 1 AS y)`,
	} {
		var s sql.NullString
		if err := db.QueryRow(q).Scan(&s); err != nil {
			t.Log(q, err)
			continue
		}
		t.Log(q, " => ", s.String)
	}
}
