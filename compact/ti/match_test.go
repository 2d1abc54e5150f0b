package ti

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
)

func duck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// The bucket join must find exactly what a brute-force range check finds, at the edges of every range.
func TestV4IndexMatchesBruteForce(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	feed := "45.0.0.0/8\n46.2.0.0/15\n47.3.0.0/16\n48.4.128.0/17\n49.5.6.0/24\n50.6.7.8/31\n51.7.8.9\n45.7.7.7\n203.0.113.0/24\n"
	if _, err := Import(ctx, lk, "edges", []Source{{URL: writeFeed(t, "edges.txt", feed)}}, day(1)); err != nil {
		t.Fatal(err)
	}
	// A dropped indicator keeps its row with valid_to set: the index still has it, hunts filter on valid_to.
	if _, err := Import(ctx, lk, "edges", []Source{{URL: writeFeed(t, "edges.txt", strings.Replace(feed, "51.7.8.9\n", "", 1))}}, day(2)); err != nil {
		t.Fatal(err)
	}
	snap, _ := lk.Snapshot(ctx)
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(lake.TableTIIndicators, day(1), day(1)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readRows(ctx, lk, snap.FilesFor(lake.TableTIIndicators, day(1), day(1)))
	if err != nil {
		t.Fatal(err)
	}
	db := duck(t)
	mustExec(t, db, fmt.Sprintf("CREATE VIEW ti_indicators AS SELECT * FROM read_parquet('%s')", paths[0]))
	for _, m := range MatchMacros {
		mustExec(t, db, m.SQL)
	}
	// Probe addresses: every range's first and last address and their neighbours, plus random ones.
	probe := map[int64]bool{0: true, 1<<32 - 1: true}
	for _, r := range rows {
		for _, d := range []int64{-1, 0, 1} {
			probe[*r.StartV4+d], probe[*r.EndV4+d] = true, true
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		probe[45<<24+rnd.Int64N(8<<24)] = true // 45.0.0.0 – 52.255.255.255: dense around the ranges
	}
	mustExec(t, db, "CREATE TABLE addrs (addr BIGINT)")
	var vals []string
	for a := range probe {
		vals = append(vals, fmt.Sprintf("(%d)", a))
	}
	mustExec(t, db, "INSERT INTO addrs VALUES "+strings.Join(vals, ","))

	want := map[string]bool{}
	for a := range probe {
		for _, r := range rows {
			if a >= *r.StartV4 && a <= *r.EndV4 && r.ValidTo == nil {
				want[fmt.Sprintf("%d %s", a, r.Indicator)] = true
			}
		}
	}
	res, err := db.Query(`SELECT a.addr, ipv4_text(a.addr), t.indicator FROM addrs a
		JOIN (SELECT *, unnest(ti_ip_buckets(start_v4, end_v4, start_v6, end_v6)) AS bucket16 FROM ti_indicators WHERE start_v4 IS NOT NULL) t ON ip_bucket(a.addr, NULL) = t.bucket16 AND a.addr BETWEEN t.start_v4 AND t.end_v4
		WHERE t.valid_to IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	got := map[string]bool{}
	for res.Next() {
		var a int64
		var text, ind string
		if err := res.Scan(&a, &text, &ind); err != nil {
			t.Fatal(err)
		}
		k := fmt.Sprintf("%d %s", a, ind)
		if got[k] {
			t.Errorf("match %s reported twice", k)
		}
		got[k] = true
		if v := netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}).String(); v != text {
			t.Errorf("ipv4_text(%d) = %s, want %s", a, text, v)
		}
	}
	if len(want) < 100 {
		t.Fatalf("test too weak: %d expected matches", len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missed %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("false match %s", k)
		}
	}
}

func TestIPv6HexMatchesGo(t *testing.T) {
	inputs := []string{"2001:db8::1", "2001:DB8:0:0:0:0:0:1", "::", "::1", "1::", "fe80::1:2", "2001:db8:0:1:1:1:1:1",
		"0001:0db8:0000:0000:0000:0000:0000:0001", "2600:1f18:abcd::", "::ffff:1.2.3.4", "1.2.3.4", "fe80::1%eth0",
		"1:2:3:4:5:6:7:8:9", "1::2::3", "12345::1", "1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:8::", "g::1", "", ":", ":::",
		"2001:db8::1 ", "AWS Internal", "ec2.amazonaws.com", "-"}
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		var b [16]byte
		for j := range b {
			if rnd.IntN(3) > 0 { // runs of zero groups, so "::" appears in many places
				b[j] = byte(rnd.IntN(256))
			}
		}
		a := netip.AddrFrom16(b)
		if a.Is4In6() {
			continue
		}
		full := a.StringExpanded()
		inputs = append(inputs, a.String(), full, strings.ToUpper(a.String()))
	}
	db := duck(t)
	mustExec(t, db, "CREATE TABLE v (s VARCHAR)")
	stmt, err := db.Prepare("INSERT INTO v VALUES (?)")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range inputs {
		if _, err := stmt.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query("SELECT s, " + IPv6HexExpr("s") + " FROM v")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var s string
		var got sql.NullString
		if err := rows.Scan(&s, &got); err != nil {
			t.Fatal(err)
		}
		n++
		want := ""
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" && !strings.Contains(s, ".") {
			b := a.As16()
			want = hex.EncodeToString(b[:])
		}
		if got.String != want {
			t.Errorf("ipv6_hex(%q) = %q, want %q", s, got.String, want)
		}
	}
	if n != len(inputs) {
		t.Fatalf("%d rows, want %d", n, len(inputs))
	}
}

func TestIPv4NumMatchesGo(t *testing.T) {
	inputs := []string{"0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.1", "192.0.2.44", "256.1.1.1", "1.2.3", "1.2.3.4.5",
		"01.2.3.4", "1.2.3.04", "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "", "::1", "2001:db8::1", "AWS Internal", "ec2.amazonaws.com",
		"1..3.4", "99.199.249.250", "100.200.250.255"}
	rnd := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 300; i++ {
		inputs = append(inputs, netip.AddrFrom4([4]byte{byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(rnd.IntN(256))}).String())
	}
	db := duck(t)
	mustExec(t, db, "CREATE TABLE v (s VARCHAR)")
	for _, s := range inputs {
		if _, err := db.Exec("INSERT INTO v VALUES (?)", s); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.Query("SELECT s, " + IPv4NumExpr("s") + " FROM v")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var got sql.NullInt64
		if err := rows.Scan(&s, &got); err != nil {
			t.Fatal(err)
		}
		want := sql.NullInt64{}
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
			b := a.As4()
			want = sql.NullInt64{Int64: int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3]), Valid: true}
		}
		if got != want {
			t.Errorf("ipv4_num(%q) = %v, want %v", s, got, want)
		}
	}
}

// The macros bind against the real ti_indicators schema (as the hunt runner's empty view has it).
func TestMatchMacrosOnEmptyTable(t *testing.T) {
	tb, err := lake.LookupTable(lake.TableTIIndicators)
	if err != nil {
		t.Fatal(err)
	}
	db := duck(t)
	mustExec(t, db, "CREATE VIEW ti_indicators AS "+tb.EmptySelect())
	for _, m := range MatchMacros {
		mustExec(t, db, m.SQL)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM (SELECT *, unnest(ti_ip_buckets(start_v4, end_v4, start_v6, end_v6)) AS bucket16 FROM ti_indicators WHERE start_v4 IS NOT NULL) WHERE ipv6_hex(start_v6) IS NULL AND ipv4_text(start_v4) IS NULL AND ipv4_num(indicator) IS NULL").Scan(&n); err != nil || n != 0 {
		t.Errorf("macros over an empty table: %d %v", n, err)
	}
}
