package ti

// Matching addresses against ti_indicators without DuckDB's inet extension (not bundled).
//
// IPv4: indicators carry [start_v4, end_v4] as numbers and vpc_flow carries *_v4 numbers. A plain
// "addr BETWEEN start_v4 AND end_v4" join makes DuckDB sort both sides (IEJoin / range join): 11x slower
// and 8x the memory of the bucket join below on 50M flows (BENCHMARKS.md). The bucket join gives every
// indicator one row per /16 it covers (a single IP or a /24: one row; a /8: 256 rows) and joins on
// addr >> 16 = bucket16 by hash, with BETWEEN as the residual check. Correct for any range, since every
// address of a range lies in one of its buckets.
//
// IPv6: indicators carry start_v6/end_v6 as 32 hex digits, which compare like the addresses; flow and
// CloudTrail addresses are text, turned into the same 32 hex digits by the ipv6_hex macro. IPv6 volume is
// small in VPC logs, so a range join on it is fine.

// MatchMacro is a DuckDB macro hunts can use to match addresses against ti_indicators.
type MatchMacro struct {
	Name, Signature, Doc string
	SQL                  string
}

// MatchMacros are registered in every hunt session by the hunt engine (hunts/engine), the one place
// that creates macros for hunts.
var MatchMacros = []MatchMacro{
	{
		Name: "ipv4_text", Signature: "ipv4_text(n BIGINT) → VARCHAR",
		Doc: "A numeric IPv4 address (vpc_flow *_v4, ti_indicators start_v4) as dotted text.",
		SQL: `CREATE OR REPLACE MACRO ipv4_text(n) AS
			((n >> 24) & 255)::VARCHAR || '.' || ((n >> 16) & 255)::VARCHAR || '.' || ((n >> 8) & 255)::VARCHAR || '.' || (n & 255)::VARCHAR`,
	},
	{
		Name: "ipv4_num", Signature: "ipv4_num(addr VARCHAR) → BIGINT",
		Doc: "A dotted IPv4 address (CloudTrail sourceIPAddress, Route 53 srcaddr) as a number; NULL for anything else (IPv6, service names).",
		SQL: `CREATE OR REPLACE MACRO ipv4_num(s) AS ` + IPv4NumExpr("s"),
	},
	{
		Name: "ipv6_hex", Signature: "ipv6_hex(addr VARCHAR) → VARCHAR",
		Doc: "An IPv6 address in any RFC 4291 text form as 32 lower-case hex digits (compare with start_v6/end_v6); NULL for anything else.",
		SQL: `CREATE OR REPLACE MACRO ipv6_hex(s) AS ` + IPv6HexExpr("s"),
	},
	{
		Name: "ti_ip_buckets", Signature: "ti_ip_buckets(start_v4, end_v4, start_v6, end_v6) → BIGINT[]",
		Doc: "The hash-join buckets an indicator range covers: each /16 of an IPv4 range, each leading 16 bits (+65536) of an IPv6 one. " +
			"unnest it into an index and join addresses ON ip_bucket(v4, v6) = bucket, with BETWEEN as the residual check.",
		SQL: `CREATE OR REPLACE MACRO ti_ip_buckets(start_v4, end_v4, start_v6, end_v6) AS CASE
			WHEN start_v4 IS NOT NULL THEN range(start_v4 >> 16, (end_v4 >> 16) + 1)
			ELSE range(65536 + ('0x' || left(start_v6, 4))::BIGINT, 65536 + ('0x' || left(end_v6, 4))::BIGINT + 1) END`,
	},
	{
		Name: "ip_bucket", Signature: "ip_bucket(v4 BIGINT, v6 VARCHAR) → BIGINT",
		Doc: "An address's bucket in ti_ip_buckets' numbering, from its ipv4_num (or a vpc_flow *_v4 column) or its ipv6_hex.",
		SQL: `CREATE OR REPLACE MACRO ip_bucket(v4, v6) AS CASE WHEN v4 IS NOT NULL THEN v4 >> 16 ELSE 65536 + ('0x' || left(v6, 4))::BIGINT END`,
	},
}

// IPv4NumExpr is the SQL expression of ipv4_num over col: dotted quads with octets 0-255 and no leading
// zeros (as Go's net/netip reads them), anything else NULL.
func IPv4NumExpr(col string) string {
	const octet = `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	return "CASE WHEN regexp_full_match(" + col + ", '" + octet + `(\.` + octet + "){3}')" +
		" THEN list_reduce(list_transform(string_split(" + col + ", '.'), lambda p: p::BIGINT), lambda acc, x: acc * 256 + x) END"
}

// IPv6HexExpr is the SQL expression of ipv6_hex over the column or expression col, for queries that
// cannot create macros. It handles "::" compression, leading zeros and upper case; embedded IPv4
// ("::ffff:1.2.3.4"), zones and anything else give NULL. Single-element list_transforms bind names
// (parts, lr: the groups left and right of "::", g: all eight groups), as DuckDB has no LET.
func IPv6HexExpr(col string) string {
	return "CASE WHEN contains(" + col + ", ':') AND regexp_full_match(lower(" + col + "), '[0-9a-f:]+') THEN " +
		"list_transform([string_split(lower(" + col + "), '::')], lambda parts: " +
		"list_transform([[CASE WHEN coalesce(parts[1], '') = '' THEN []::VARCHAR[] ELSE string_split(parts[1], ':') END, " +
		"CASE WHEN coalesce(parts[2], '') = '' THEN []::VARCHAR[] ELSE string_split(parts[2], ':') END]], lambda lr: " +
		"list_transform([CASE len(parts) WHEN 1 THEN lr[1] " +
		"WHEN 2 THEN list_concat(lr[1], list_transform(range(greatest(8 - len(lr[1]) - len(lr[2]), 1)), lambda x: '0'), lr[2]) " +
		"ELSE []::VARCHAR[] END], lambda g: " +
		"CASE WHEN len(g) = 8 AND list_bool_and(list_transform(g, lambda h: regexp_full_match(h, '[0-9a-f]{1,4}'))) " +
		"THEN array_to_string(list_transform(g, lambda h: lpad(h, 4, '0')), '') END)[1])[1])[1] END"
}
