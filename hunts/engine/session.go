// Package engine runs hunts: an in-process DuckDB session with one view per lake table, the shared
// macros, baseline profiles (summarised per day and cached), and the mapping of result rows to findings.
package engine

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/parquet-go/parquet-go"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
	"github.com/lakehunt/lakehunt/compact/ti"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// Session is one DuckDB database holding the views a hunt reads. One hunt, one session: hunts do not
// see each other's data tables or baselines, and a failing hunt cannot leave state behind for the next.
//
// Hunt SQL (the query and the baseline profiles' expressions) comes from many hands, so a session is
// locked before it runs any: DuckDB may then open only the lake files the session was given and its own
// scratch directory, and no setting can change (enable_external_access, allowed_paths, lock_configuration).
// read_text('/etc/passwd'), COPY TO, ATTACH of a file, INSTALL and SET all fail; the time limit interrupts.
type Session struct {
	db      *sql.DB
	dir     string // scratch: DuckDB's spill files, and baseline summaries on their way to the cache
	limits  Limits
	allowed map[string]bool // absolute paths of the files the views and baselines read
	locked  bool
	lockErr error
	spent   time.Duration     // how long hunt SQL has run
	schemas map[string]string // a file's Parquet schema, read once (readParquet)
}

// Limits bound a session: DuckDB's memory and threads, and how long its hunt SQL may run in all (a
// hunt's baselines and query share it). Zero fields take the defaults.
type Limits struct {
	MemoryLimit string        // DuckDB memory_limit, e.g. "1GB"; spills to disk above it
	Threads     int           // DuckDB threads
	Timeout     time.Duration // negative: none
	// AllowExternalAccess leaves every file and extension within reach: for an analyst's own SQL
	// (lakehunt query --allow-external-access), never for hunts.
	AllowExternalAccess bool
}

// The default limits suit a small machine running hunts one after another.
const (
	DefaultMemoryLimit = "1GB"
	DefaultThreads     = 2
	DefaultTimeout     = 10 * time.Minute
)

var memoryLimitRE = regexp.MustCompile(`(?i)^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$`)

// WithDefaults fills the zero fields with the defaults and checks the rest.
func (l Limits) WithDefaults() (Limits, error) {
	if l.MemoryLimit == "" {
		l.MemoryLimit = DefaultMemoryLimit
	}
	if l.Threads == 0 {
		l.Threads = DefaultThreads
	}
	if l.Timeout == 0 {
		l.Timeout = DefaultTimeout
	}
	if !memoryLimitRE.MatchString(strings.TrimSpace(l.MemoryLimit)) {
		return l, fmt.Errorf("memory limit %q: give a size like 512MB, 2GB or 1.5GiB", l.MemoryLimit)
	}
	if l.Threads < 0 {
		return l, fmt.Errorf("threads %d: give a positive number", l.Threads)
	}
	return l, nil
}

// NewSession opens in-process DuckDB and creates one view per given lake table over exactly the given
// local Parquet files (table → paths). A table with no files gets an empty view of the right columns, so
// hunts prepare and return nothing instead of failing; a table not in files gets no view at all (a hunt
// reads only the tables it declares). The shared macros are created too.
func NewSession(ctx context.Context, files map[string][]string, limits Limits) (*Session, error) {
	limits, err := limits.WithDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "lakehunt-duckdb-")
	if err != nil {
		return nil, fmt.Errorf("DuckDB scratch directory: %w", err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("open DuckDB: %w", err)
	}
	// One connection: settings, temp state and views are per connection in DuckDB.
	db.SetMaxOpenConns(1)
	s := &Session{db: db, dir: dir, limits: limits, allowed: map[string]bool{}}
	settings := []string{
		// Window parameters bind as TIMESTAMP WITH TIME ZONE; lake times are UTC TIMESTAMPs.
		"SET TimeZone = 'UTC'",
		"SET memory_limit = " + literal(strings.TrimSpace(limits.MemoryLimit)),
		fmt.Sprintf("SET threads = %d", limits.Threads),
		"SET temp_directory = " + literal(dir),
	}
	if !limits.AllowExternalAccess {
		settings = append(settings, "SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false")
	}
	for _, q := range settings {
		if _, err := db.ExecContext(ctx, q); err != nil {
			s.Close()
			return nil, fmt.Errorf("configure DuckDB (%s): %w", q, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		t, err := lake.LookupTable(name)
		if err == nil {
			err = s.createView(ctx, t, files[name])
		}
		if err != nil {
			s.Close()
			return nil, err
		}
	}
	for _, m := range allMacros() {
		if _, err := db.ExecContext(ctx, m.sql); err != nil {
			s.Close()
			return nil, fmt.Errorf("create macro %s: %w", m.Name, err)
		}
	}
	return s, nil
}

// allow records files the session reads and returns their absolute paths, which is how DuckDB matches
// them against allowed_paths. Once the session is locked, only files it already reads are accepted.
func (s *Session) allow(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, err
		}
		if s.locked && !s.limits.AllowExternalAccess && !s.allowed[abs] {
			return nil, fmt.Errorf("%s is not one of the files this session was opened with", abs)
		}
		s.allowed[abs] = true
		out[i] = abs
	}
	return out, nil
}

// lock closes the session to everything but its files and scratch directory; it runs before the first
// SQL that holds hunt text and cannot be undone. A session that failed to lock runs no hunt SQL.
func (s *Session) lock(ctx context.Context) error {
	if s.locked || s.limits.AllowExternalAccess {
		return s.lockErr
	}
	s.locked = true
	quoted := []string{}
	for _, p := range slices.Sorted(maps.Keys(s.allowed)) {
		quoted = append(quoted, literal(p))
	}
	for _, q := range []string{
		fmt.Sprintf("SET allowed_paths = [%s]::VARCHAR[]", strings.Join(quoted, ", ")),
		fmt.Sprintf("SET allowed_directories = [%s]", literal(s.dir+string(filepath.Separator))),
		"SET enable_external_access = false",
		"SET lock_configuration = true",
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			s.lockErr = fmt.Errorf("lock the DuckDB session: %w", err)
			return s.lockErr
		}
	}
	return nil
}

func (s *Session) createView(ctx context.Context, t *lake.Table, paths []string) error {
	var q string
	paths, err := s.allow(paths)
	if err != nil {
		return fmt.Errorf("create view %s: %w", t.Name, err)
	}
	if len(paths) == 0 {
		q = fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", ident(t.Name), t.EmptySelect())
	} else {
		q = fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", ident(t.Name), t.ViewSelect(s.readParquet(paths)))
	}
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("create view %s over %d files: %w", t.Name, len(paths), err)
	}
	for _, v := range t.Views {
		if _, err := s.db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", ident(v.Name), v.SQL)); err != nil {
			return fmt.Errorf("create view %s over %s: %w", v.Name, t.Name, err)
		}
	}
	return nil
}

// readParquet is a read_parquet call over paths. Paths are ours (lake cache or lake directory), quoted anyway.
// Hive partitioning is off: the partition columns are already columns of the files.
//
// Files written by different lakehunt versions may differ in columns, which union_by_name reconciles; but
// it makes DuckDB read every file's schema again in every statement (three times the cost of a month of
// flow logs filtered on one column). So it is set only when the files' schemas differ, which Go reads
// once per file and session from the footers.
func (s *Session) readParquet(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = literal(p)
	}
	union := "true"
	if s.sameSchema(paths) {
		union = "false"
	}
	return fmt.Sprintf("read_parquet([%s], union_by_name = %s, hive_partitioning = false)", strings.Join(quoted, ", "), union)
}

// sameSchema reports whether the files have one Parquet schema (columns, order, types, repetition). A file
// it cannot read counts as different: union_by_name then reads it, and DuckDB reports what is wrong.
func (s *Session) sameSchema(paths []string) bool {
	if s.schemas == nil {
		s.schemas = map[string]string{}
	}
	first := ""
	for i, p := range paths {
		sc, ok := s.schemas[p]
		if !ok {
			sc = fileSchema(p)
			s.schemas[p] = sc
		}
		if sc == "" {
			return false
		}
		if i == 0 {
			first = sc
		} else if sc != first {
			return false
		}
	}
	return true
}

// fileSchema is the Parquet schema of the file at path, as text; "" if it cannot be read.
func fileSchema(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true), parquet.ReadBufferSize(64<<10))
	if err != nil {
		return ""
	}
	return pf.Schema().String()
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Close releases the database and removes its scratch directory.
func (s *Session) Close() error {
	err := s.db.Close()
	if rerr := os.RemoveAll(s.dir); err == nil {
		err = rerr
	}
	return err
}

// LoadData creates a hunt's data table (all columns VARCHAR).
func (s *Session) LoadData(ctx context.Context, dt huntfile.DataTable) error {
	cols := make([]string, len(dt.Columns))
	for i, c := range dt.Columns {
		cols[i] = ident(c) + " VARCHAR"
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE TABLE %s (%s)", ident(dt.Name), strings.Join(cols, ", "))); err != nil {
		return fmt.Errorf("data table %s from %s: %w", dt.Name, dt.File, err)
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(dt.Columns)), ", ")
	stmt, err := s.db.PrepareContext(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%s)", ident(dt.Name), ph))
	if err != nil {
		return fmt.Errorf("data table %s: %w", dt.Name, err)
	}
	defer stmt.Close()
	for i, row := range dt.Rows {
		if len(row) != len(dt.Columns) {
			return fmt.Errorf("%s: row %d has %d fields, the header has %d", dt.File, i+2, len(row), len(dt.Columns))
		}
		args := make([]any, len(row))
		for j, v := range row {
			args[j] = v
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("%s: row %d: %w", dt.File, i+2, err)
		}
	}
	return nil
}

// Macro documents one shared macro for `lakehunt schema` and the hunt authors' guide.
type Macro struct {
	Name, Signature, Doc string
	sql                  string
}

// Macros lists the shared macros every hunt can call.
func Macros() []Macro {
	out := allMacros()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// allMacros is the engine's own macros and the threat-intel matching macros compact/ti defines with the
// indicator columns they read.
func allMacros() []Macro {
	out := append([]Macro(nil), macros...)
	for _, m := range ti.MatchMacros {
		out = append(out, Macro{Name: m.Name, Signature: m.Signature, Doc: m.Doc, sql: m.SQL})
	}
	return out
}

// macroVersion goes into baseline cache keys: a change to the macros invalidates cached summaries.
const macroVersion = "1" // bump when a macro used in profiles changes meaning

var macros = []Macro{
	{
		Name: "is_service_call", Signature: "is_service_call(invoked_by, source_ip) → BOOLEAN",
		Doc: "An AWS service acting on the principal's behalf (invokedBy set, or source 'AWS Internal' / *.amazonaws.com).",
		sql: `CREATE MACRO is_service_call(invoked_by, source_ip) AS
			coalesce(invoked_by, '') <> '' OR source_ip = 'AWS Internal' OR coalesce(source_ip, '') LIKE '%.amazonaws.com'`,
	},
	{
		Name: "is_access_denied", Signature: "is_access_denied(error_code) → BOOLEAN",
		Doc: "The CloudTrail errorCode is an authorisation or credential failure (AccessDenied, UnauthorizedOperation, …).",
		sql: `CREATE MACRO is_access_denied(code) AS coalesce(
			code IN ('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'Client.UnauthorizedOperation',
			         'UnauthorizedAccess', 'AuthorizationError', 'AuthorizationErrorException', 'Forbidden',
			         'ForbiddenException', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'NotAuthorized',
			         'UnrecognizedClientException', 'AuthFailure')
			OR code LIKE '%AccessDenied%' OR code LIKE '%Unauthorized%', false)`,
	},
	{
		Name: "is_write", Signature: "is_write(read_only, event_name) → BOOLEAN",
		Doc: "A mutating call: readOnly = false, or, where CloudTrail omits readOnly, a name that is not Get/List/Describe/….",
		sql: `CREATE MACRO is_write(read_only, event_name) AS coalesce(NOT read_only,
			NOT regexp_matches(coalesce(event_name, ''), '^(Get|List|Describe|Head|Lookup|Search|Scan|Query|BatchGet|Select|Check|Validate|Preview|Estimate|Test|View)'))`,
	},
	{
		Name: "ua_family", Signature: "ua_family(user_agent) → VARCHAR",
		Doc: "The user agent's product name, lower case: 'aws-cli/2.15 Python/3.11' → 'aws-cli'; empty → '(empty)'; AWS services → 'aws-service'.",
		// trim() walks the whole string through utf8proc, and user agents run to 200 characters: a first
		// byte that is printable ASCII other than a space ('!' to '~') already proves the agent is not
		// blank, so only the rest pay for trim(). Same results as trim(ua) = '' alone (TestUAFamily).
		sql: `CREATE MACRO ua_family(ua) AS CASE
			WHEN ua IS NULL OR (NOT (ua >= '!' AND ua < chr(127)) AND trim(ua) = '') THEN '(empty)'
			WHEN ua = 'AWS Internal' OR ua LIKE '%.amazonaws.com' THEN 'aws-service'
			ELSE left(lower(coalesce(nullif(regexp_extract(ua, '^\[?([A-Za-z][A-Za-z0-9._-]*( [A-Za-z][A-Za-z._-]*)*)', 1), ''), trim(ua))), 64)
			END`,
	},
	{
		Name: "zscore", Signature: "zscore(x, mean, stddev) → DOUBLE",
		Doc: "(x − mean) / stddev with stddev floored at 1 (counts: a quiet baseline must not turn one event into infinity); NULL mean/stddev count as 0.",
		sql: `CREATE MACRO zscore(x, mean, sd) AS (x - coalesce(mean, 0)) / greatest(coalesce(sd, 0), 1.0)`,
	},
	{
		Name: "zscore_days", Signature: "zscore_days(x, sum_x, sum_x2, days, window_days) → DOUBLE",
		Doc: "z-score of a window's count x against a daily baseline given as the sum and sum of squares over `days` days " +
			"(days without activity count as 0), scaled to a window of window_days days (mean × window_days, stddev × √window_days). " +
			"With a measures profile: zscore_days(w.denied, b.denied_sum, b.denied_sumsq, $baseline_days, $window_days).",
		sql: `CREATE MACRO zscore_days(x, sum_x, sum_x2, days, window_days) AS zscore(x,
			coalesce(sum_x, 0) / greatest(days, 1) * window_days,
			sqrt(greatest(coalesce(sum_x2, 0) / greatest(days, 1) - pow(coalesce(sum_x, 0) / greatest(days, 1), 2), 0) * window_days))`,
	},
	{
		Name: "first_seen", Signature: "first_seen(profile, entity, dim, value) → BOOLEAN",
		Doc: "The value of dimension dim was never used by entity in the baseline of the values profile named profile (a string).",
		// Not a correlated NOT EXISTS: DuckDB runs that as a delim join that first copies every row of the
		// caller's query, all its columns, once per call. An IN over the profile's rows is a plain hash
		// join. Rows with a NULL never matched (= is NULL there), so leaving them out keeps IN from NULL.
		sql: `CREATE MACRO first_seen(profile, ent, d, val) AS ent IS NULL OR d IS NULL OR val IS NULL OR NOT (
			{'e': ent, 'd': d, 'v': val} IN (SELECT {'e': b.entity, 'd': b.dim, 'v': b.value} FROM query_table(profile) b
			WHERE b.entity IS NOT NULL AND b.dim IS NOT NULL AND b.value IS NOT NULL))`,
	},
	{
		Name: "known_entity", Signature: "known_entity(profile, entity) → BOOLEAN",
		Doc: "The entity has any history in the profile's baseline (first-seen hunts skip entities that are new altogether).",
		sql: `CREATE MACRO known_entity(profile, ent) AS coalesce(ent IN (SELECT b.entity FROM query_table(profile) b WHERE b.entity IS NOT NULL), false)`,
	},
	{
		Name: "arn_resource_type", Signature: "arn_resource_type(arn) → VARCHAR",
		Doc: "The ASFF resource type of an IAM ARN: AwsAccount (root), AwsIamRole, AwsIamUser, else Other.",
		sql: `CREATE MACRO arn_resource_type(arn) AS CASE
			WHEN arn LIKE 'arn:aws:iam::%:root' THEN 'AwsAccount'
			WHEN arn LIKE 'arn:aws:iam::%:role/%' THEN 'AwsIamRole'
			WHEN arn LIKE 'arn:aws:iam::%:user/%' THEN 'AwsIamUser'
			ELSE 'Other' END`,
	},
	{
		Name: "is_public_ip", Signature: "is_public_ip(addr VARCHAR) → BOOLEAN",
		Doc: "A textual IPv4 or IPv6 address on the Internet: not private (RFC 1918), shared (100.64/10), loopback, link-local, " +
			"this-network (0/8), multicast or reserved (224/3), nor IPv6 unique-local, link-local, multicast, loopback or IPv4-mapped. " +
			"Anything else (NULL, '-', a service name) is false.",
		sql: `CREATE MACRO is_public_ip(a) AS coalesce(
			(regexp_full_match(a, '[0-9]{1,3}(\.[0-9]{1,3}){3}')
			 AND NOT regexp_matches(a, '^(0\.|10\.|127\.|169\.254\.|172\.(1[6-9]|2[0-9]|3[01])\.|192\.168\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|22[4-9]\.|2[3-5][0-9]\.)'))
			OR (contains(a, ':') AND regexp_full_match(lower(a), '[0-9a-f:]+') AND NOT regexp_matches(lower(a), '^(f[cd]|fe[89ab]|ff|::1?$)')), false)`,
	},
	{
		Name: "is_public_addr", Signature: "is_public_addr(addr VARCHAR, addr_v4 BIGINT) → BOOLEAN",
		Doc: "is_public_ip(addr) for an address stored with its number, as vpc_flow's srcaddr and srcaddr_v4: an IPv4 address is " +
			"tested on the number (ranges, a fraction of the cost of the text), anything else on the text. addr_v4 must be addr as a " +
			"number or NULL, as vpc_flow's *_v4 columns and ipv4_num(addr) are.",
		// The ranges of is_public_ip's prefixes: 0/8 and 224/3 (below 1.0.0.0, from 224.0.0.0), 10/8 and 127/8
		// (first octet), 169.254/16 and 192.168/16 (first 16 bits), 172.16/12 (first 12), 100.64/10 (first 10).
		// TestIsPublicAddr compares it with is_public_ip over every /16.
		sql: `CREATE MACRO is_public_addr(a, n) AS CASE WHEN n IS NOT NULL THEN
			NOT (n < 16777216 OR n >= 3758096384 OR n >> 24 IN (10, 127) OR n >> 16 IN (43518, 49320) OR n >> 20 = 2753 OR n >> 22 = 401)
			ELSE is_public_ip(a) END`,
	},
	{
		Name: "org_accounts", Signature: "org_accounts() → VARCHAR[]",
		Doc: "The accounts of the organization: `organization.accounts` in lakehunt.yaml, else every account the lake holds logs for " +
			"(in hunt tests: the accounts of the test's events). run.json records which.",
		sql: `CREATE MACRO org_accounts() AS []::VARCHAR[]`, // replaced by Session.SetOrganization
	},
	{
		Name: "outside_org", Signature: "outside_org(account_id) → BOOLEAN",
		Doc: "A 12-digit account id that is not one of org_accounts(). Anything else (NULL, '*', a service name) is false.",
		sql: `CREATE MACRO outside_org(acct) AS coalesce(regexp_full_match(acct, '[0-9]{12}') AND NOT list_contains(org_accounts(), acct), false)`,
	},
	{
		Name: "account_ids", Signature: "account_ids(text) → VARCHAR[]",
		Doc: "Every 12-digit account id standing alone in text (a policy document, an ARN list, request parameters), sorted, once each: " +
			"list_filter(account_ids(request_parameters), a -> outside_org(a)) lists the outside accounts a policy names.",
		sql: `CREATE MACRO account_ids(txt) AS list_sort(list_distinct(
			regexp_extract_all(coalesce(txt, ''), '(?:^|[^0-9])([0-9]{12})(?:[^0-9]|$)', 1)))`,
	},
	{
		Name: "grants_public", Signature: "grants_public(text) → BOOLEAN",
		Doc: "text (JSON of a policy, ACL or attribute change) grants everyone: a \"Principal\"/\"AWS\" of \"*\", an EC2 {\"group\": \"all\"}, " +
			"or the S3 AllUsers/AuthenticatedUsers groups. JSON-escaped policies (a policy inside a string) count too.",
		sql: `CREATE MACRO grants_public(txt) AS regexp_matches(replace(coalesce(txt, ''), '\"', '"'),
			'"(Principal|AWS)"\s*:\s*(\[\s*)?"\*"|"group"\s*:\s*"all"|acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)')`,
	},
}

// SetOrganization makes org_accounts() return accounts (each a 12-digit id, checked by the caller's config
// and here again: the list becomes SQL).
func (s *Session) SetOrganization(ctx context.Context, accounts []string) error {
	quoted := make([]string, 0, len(accounts))
	for _, a := range accounts {
		if !isAccountID(a) {
			return fmt.Errorf("organization account %q is not a 12-digit AWS account id", a)
		}
		quoted = append(quoted, literal(a))
	}
	q := "CREATE OR REPLACE MACRO org_accounts() AS []::VARCHAR[]"
	if len(quoted) > 0 {
		q = fmt.Sprintf("CREATE OR REPLACE MACRO org_accounts() AS [%s]::VARCHAR[]", strings.Join(quoted, ", "))
	}
	if _, err := s.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("set the organization's accounts: %w", err)
	}
	return nil
}

func isAccountID(a string) bool {
	if len(a) != 12 {
		return false
	}
	for _, c := range a {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
