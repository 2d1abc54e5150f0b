package investigate

import (
	"regexp"
	"strings"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
)

// Source is how one lake table mentions entities: the rows about an entity, what each row did, what
// "new" is measured on, and which columns an analyst reads in the raw evidence. The page asks every
// registered source whose table the lake has, so a new table (WAF, ALB, GuardDuty, …) adds one entry to
// sources and nothing else. Every table it names must have event_time, source_key and source_line.
type Source struct {
	Table string
	Title string // what its activity chart shows, e.g. "CloudTrail calls by API"
	// Match is a SQL condition on the table's rows that holds for the rows about e, or "" when the table
	// never mentions entities of e's kind. e.Value is in it as a string literal (quote).
	Match func(e group.Link) string
	// Activity labels what a row (matched by Match) did, e.g. "cloudtrail:StopLogging".
	Activity func(e group.Link) string
	Dims     []Dim
	Evidence []string // columns shown per raw row, after event_time
	// Narrow, when set, gives a condition every row about any of the entities of one kind (their values)
	// meets and that is cheaper than their Match conditions one after another, or "" for none.
	Narrow func(kind string, values []string) string
}

// reads lists the columns of the table that the pages of ents read from the window's rows: event_time,
// the evidence and lineage columns, and every column Activity and Dims name (a word of their SQL that is
// a column of the table; a word that only looks like one keeps a column the pages do not need, no more).
func (s Source) reads(ents []group.Link) ([]string, error) {
	t, err := lake.LookupTable(s.Table)
	if err != nil {
		return nil, err
	}
	var sql strings.Builder
	for _, e := range ents {
		sql.WriteString(s.Activity(e) + " ")
		for _, d := range s.Dims {
			sql.WriteString(d.Expr(e) + " ")
		}
	}
	words := map[string]bool{"event_time": true, "source_key": true, "source_line": true}
	for _, c := range s.Evidence {
		words[c] = true
	}
	for _, w := range sqlWord.FindAllString(sql.String(), -1) {
		words[w] = true
	}
	var cols []string
	for _, c := range t.Columns {
		if words[c.Name] {
			cols = append(cols, `"`+c.Name+`"`)
		}
	}
	return cols, nil
}

var sqlWord = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)

// Dim is one thing a row has that can be new for the entity: its value in the window is new when no row
// about the entity had it in the history before the window.
type Dim struct {
	Name string                  // plural, as the page says it: "APIs", "regions"
	Expr func(group.Link) string // SQL over the table's columns
	List bool                    // Expr is a list: each of its items is a value
	// Of is the entity kind the dimension would only repeat (an IP's network is itself); "" for none.
	Of string
}

// quote is a DuckDB string literal of s. Standard strings take no backslash escapes, so doubling the
// quotes is all; a NUL would end the SQL text early, and Pages refuses values that hold one. Values from
// logs may hold any other character (a DNS label can): they are data here, and escaped on the page.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

const ipv4Network = `CASE WHEN regexp_full_match(%s, '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+') THEN regexp_replace(%s, '\.[0-9]+$', '.0/24') ELSE %s END`

func network(col string) string { return strings.ReplaceAll(ipv4Network, "%s", col) }

const protoName = `CASE protocol WHEN 6 THEN 'tcp' WHEN 17 THEN 'udp' WHEN 1 THEN 'icmp' WHEN 58 THEN 'icmpv6' ELSE 'proto ' || coalesce(protocol::VARCHAR, '?') END`

// servicePort is the flow's port on the serving side: the lower of its two ports (a reply from a web
// server comes from 443 to an ephemeral port), with the protocol.
const servicePort = "coalesce(least(srcport, dstport)::VARCHAR, '?') || '/' || " + protoName

// flowOut is the condition for a flow the entity sent (the peer is dstaddr), else it received it.
func flowOut(e group.Link) string {
	if e.Kind == group.KindIP {
		return "(srcaddr = " + quote(e.Value) + " OR pkt_srcaddr = " + quote(e.Value) + ")"
	}
	return "coalesce(flow_direction = 'egress', false)"
}

func flowPeer(e group.Link) string {
	return "CASE WHEN " + flowOut(e) + " THEN dstaddr ELSE srcaddr END"
}

// sources is the registry, in the order the page shows the tables.
var sources = []Source{
	{
		Table: lake.TableCloudTrail,
		Title: "CloudTrail calls by API",
		Match: func(e group.Link) string {
			v := quote(e.Value)
			switch e.Kind {
			case group.KindPrincipal:
				return "(principal_arn = " + v + " OR user_identity_arn = " + v + ")"
			case group.KindAccessKey:
				return "access_key_id = " + v
			case group.KindIP:
				return "source_ip_address = " + v
			case group.KindInstance: // its role's sessions are named after it; calls name it
				return "(ends_with(coalesce(user_identity_principal_id, ''), ':' || " + v + ") OR contains(coalesce(request_parameters::VARCHAR, ''), " + v +
					") OR contains(coalesce(resources::VARCHAR, ''), " + v + "))"
			case group.KindBucket:
				return "(event_source = 's3.amazonaws.com' AND json_extract_string(request_parameters, '$.bucketName') = " + v +
					" OR contains(coalesce(resources::VARCHAR, ''), 'arn:aws:s3:::' || " + v + "))"
			}
			return ""
		},
		Activity: func(group.Link) string { return "split_part(event_source, '.', 1) || ':' || event_name" },
		Dims: []Dim{
			{Name: "APIs", Expr: fixed("split_part(event_source, '.', 1) || ':' || event_name")},
			{Name: "regions", Expr: fixed("region")},
			{Name: "user agents", Expr: fixed("user_agent")},
			{Name: "source networks", Expr: fixed(network("source_ip_address")), Of: group.KindIP},
			{Name: "principals", Expr: fixed("principal_arn"), Of: group.KindPrincipal},
		},
		Evidence: []string{"account_id", "region", "event_source", "event_name", "error_code", "source_ip_address",
			"user_agent", "principal_arn", "access_key_id"},
		// An instance's matches search the JSON text of every call, once per instance: one regular
		// expression over the three columns finds the calls that name any of them first (half the CPU for 11
		// instances over 37 days of 10 M calls).
		Narrow: func(kind string, values []string) string {
			if kind != group.KindInstance {
				return ""
			}
			alts := make([]string, len(values))
			for i, v := range values {
				alts[i] = regexp.QuoteMeta(v)
			}
			return "regexp_matches(coalesce(user_identity_principal_id, '') || coalesce(request_parameters::VARCHAR, '') || coalesce(resources::VARCHAR, ''), " +
				quote(strings.Join(alts, "|")) + ")"
		},
	},
	{
		Table: lake.TableVPCFlow,
		Title: "VPC flows by peer and port",
		Match: func(e group.Link) string {
			v := quote(e.Value)
			switch e.Kind {
			case group.KindIP:
				return "(srcaddr = " + v + " OR dstaddr = " + v + " OR pkt_srcaddr = " + v + " OR pkt_dstaddr = " + v + ")"
			case group.KindInstance:
				return "instance_id = " + v
			}
			return ""
		},
		Activity: func(e group.Link) string {
			return "CASE WHEN " + flowOut(e) + " THEN 'to ' ELSE 'from ' END || coalesce(" + flowPeer(e) + ", '?') || ' port ' || " + servicePort
		},
		Dims: []Dim{
			{Name: "peers", Expr: flowPeer},
			{Name: "peer networks", Expr: func(e group.Link) string { return network("(" + flowPeer(e) + ")") }},
			{Name: "ports", Expr: fixed(servicePort)},
		},
		Evidence: []string{"account_id", "interface_id", "instance_id", "srcaddr", "srcport", "dstaddr", "dstport",
			"protocol", "action", "packets", "bytes", "flow_direction"},
	},
	{
		Table: lake.TableRoute53Resolver,
		Title: "DNS names queried",
		Match: func(e group.Link) string {
			v := quote(e.Value)
			switch e.Kind {
			case group.KindDomain: // the name and its subdomains
				return "(rtrim(lower(query_name), '.') = " + v + " OR ends_with(rtrim(lower(query_name), '.'), '.' || " + v + "))"
			case group.KindInstance:
				return "srcids_instance = " + v
			case group.KindIP: // its queries, and the names that resolved to it
				return "(srcaddr = " + v + " OR contains(coalesce(answers::VARCHAR, ''), '\"' || " + v + " || '\"'))"
			}
			return ""
		},
		Activity: func(group.Link) string { return "rtrim(lower(query_name), '.') || ' ' || coalesce(query_type, '')" },
		Dims: []Dim{
			{Name: "names", Expr: fixed("rtrim(lower(query_name), '.')"), Of: group.KindDomain},
			{Name: "clients", Expr: fixed("coalesce(srcids_instance, srcaddr)"), Of: group.KindInstance},
		},
		Evidence: []string{"account_id", "vpc_id", "srcaddr", "srcids_instance", "query_name", "query_type", "rcode", "answers"},
	},
	{
		Table: tableWAF,
		Title: "WAF requests by action, method and path",
		Match: func(e group.Link) string {
			if e.Kind == group.KindIP {
				return "client_ip = " + quote(e.Value)
			}
			return ""
		},
		Activity: fixed("coalesce(action, '?') || ' ' || coalesce(http_method, '?') || ' ' || coalesce(uri, '?') || " +
			"CASE WHEN coalesce(terminating_rule_id, 'Default_Action') = 'Default_Action' THEN '' ELSE ' (' || terminating_rule_id || ')' END"),
		Dims: []Dim{
			{Name: "hosts", Expr: fixed("lower(host)")},
			{Name: "paths", Expr: fixed("uri")},
			{Name: "terminating rules", Expr: fixed("nullif(terminating_rule_id, 'Default_Action')")},
			{Name: "user agents", Expr: fixed("user_agent")},
			{Name: "TLS fingerprints", Expr: fixed("coalesce(ja4_fingerprint, ja3_fingerprint)")},
		},
		Evidence: []string{"account_id", "web_acl_name", "action", "terminating_rule_id", "client_ip", "country", "http_method",
			"host", "uri", "args", "user_agent"},
	},
	{
		Table: tableALB,
		Title: "Load balancer requests by method, path and status",
		Match: func(e group.Link) string {
			if e.Kind == group.KindIP {
				return "(client_ip = " + quote(e.Value) + " OR target_ip = " + quote(e.Value) + ")"
			}
			return ""
		},
		Activity: fixed("coalesce(request_method, '?') || ' ' || coalesce(" + albPath + ", '?') || ' ' || coalesce(elb_status_code::VARCHAR, '?')"),
		Dims: []Dim{
			{Name: "paths", Expr: fixed(albPath)},
			{Name: "hosts", Expr: fixed("nullif(lower(regexp_extract(request_url, '^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]*)', 1)), '')")},
			{Name: "user agents", Expr: fixed("user_agent")},
			{Name: "load balancers", Expr: fixed("elb")},
			// the other end: the target that served the entity's requests, or the client it served
			{Name: "peers", Expr: func(e group.Link) string {
				return "CASE WHEN client_ip = " + quote(e.Value) + " THEN target_ip ELSE client_ip END"
			}},
		},
		Evidence: []string{"account_id", "elb", "client_ip", "target_ip", "request_method", "request_url", "elb_status_code",
			"target_status_code", "sent_bytes", "user_agent", "actions_executed"},
	},
	{
		Table: tableGuardDuty,
		Title: "GuardDuty findings by type (every update of a finding is a row)",
		Match: func(e group.Link) string {
			v := quote(e.Value)
			switch e.Kind {
			case group.KindInstance: // an instance finding, or a key of the instance's role session (AROA…:i-…)
				return "(lower(instance_id) = " + v + " OR ends_with(lower(coalesce(principal_id, '')), ':' || " + v + "))"
			case group.KindAccessKey:
				return "access_key_id = " + v
			case group.KindPrincipal:
				return guardDutyPrincipal(e.Value)
			case group.KindIP:
				return "list_contains(" + jsonStrings("remote_ips") + ", " + v + ")"
			case group.KindDomain: // the name and its subdomains
				return "len(list_filter(" + jsonStrings("domains") + ", lambda d: rtrim(lower(d), '.') = " + v +
					" OR ends_with(rtrim(lower(d), '.'), '.' || " + v + "))) > 0"
			case group.KindBucket:
				return "list_contains(" + jsonStrings("s3_buckets") + ", " + v + ")"
			}
			return ""
		},
		Activity: fixed("coalesce(type, '?') || ' (' || coalesce(severity_label, '?') || ')'"),
		Dims: []Dim{
			{Name: "finding types", Expr: fixed("type")},
			{Name: "APIs", Expr: fixed("api")},
			{Name: "remote addresses", Expr: fixed(jsonStrings("remote_ips")), List: true, Of: group.KindIP},
			{Name: "domains", Expr: fixed(jsonStrings("domains")), List: true, Of: group.KindDomain},
		},
		Evidence: []string{"account_id", "region", "type", "severity", "title", "instance_id", "access_key_id", "user_name",
			"action_type", "api", "remote_ips", "domains", "count", "archived", "id"},
	},
	{
		Table: tableSecurityHub,
		Title: "Security Hub findings by product and title (every update of a finding is a row)",
		Match: func(e group.Link) string {
			v := quote(e.Value)
			ids := "coalesce(resource_ids::VARCHAR, '')"
			switch e.Kind {
			case group.KindInstance: // an ARN ending in instance/ID, or the bare id
				return "(contains(lower(" + ids + "), '/' || " + v + " || '\"') OR contains(lower(" + ids + "), '\"' || " + v + " || '\"'))"
			case group.KindBucket: // arn:PARTITION:s3:::NAME, or the bare name
				return "(contains(" + ids + ", ':::' || " + v + " || '\"') OR contains(" + ids + ", '\"' || " + v + " || '\"'))"
			case group.KindAccessKey: // the key id, alone or in a longer id (AWS::IAM::AccessKey:KEY)
				return "contains(" + ids + ", " + v + ")"
			case group.KindPrincipal:
				return "list_contains(" + jsonStrings("resource_ids") + ", " + v + ")"
			case group.KindIP, group.KindDomain:
				// a string anywhere in the finding (its network, its resources' addresses), in findings that are
				// not control checks: those, most of a busy Security Hub, are about resources and large to scan
				return "(compliance_status IS NULL AND contains(coalesce(finding::VARCHAR, ''), '\"' || " + v + " || '\"'))"
			}
			return ""
		},
		Activity: fixed("coalesce(product_name, '?') || ': ' || coalesce(title, '?')"),
		Dims: []Dim{
			{Name: "products", Expr: fixed("product_name")},
			{Name: "titles", Expr: fixed("title")},
			{Name: "controls", Expr: fixed("control_id")},
		},
		Evidence: []string{"account_id", "region", "product_name", "severity_label", "title", "compliance_status",
			"workflow_status", "record_state", "resource_types", "resource_ids", "id"},
	},
	{
		Table: tableHIDS,
		Title: "Host IDS alerts by rule",
		Match: func(e group.Link) string {
			v := quote(e.Value)
			switch e.Kind {
			case group.KindInstance:
				return "lower(instance_id) = " + v
			case group.KindIP:
				return "(agent_ip = " + v + " OR src_ip = " + v + " OR dst_ip = " + v + ")"
			}
			return ""
		},
		Activity: fixed("'rule ' || coalesce(rule_id, '?') || ' level ' || coalesce(rule_level::VARCHAR, '?') || ': ' || coalesce(rule_description, '?')"),
		Dims: []Dim{
			{Name: "rules", Expr: fixed("rule_id || ': ' || coalesce(rule_description, '?')")},
			{Name: "source addresses", Expr: func(e group.Link) string {
				if e.Kind == group.KindIP {
					return "nullif(src_ip, " + quote(e.Value) + ")" // not the entity itself
				}
				return "src_ip"
			}},
			{Name: "users", Expr: fixed("coalesce(dst_user, src_user)")},
			{Name: "changed files", Expr: fixed("syscheck_path")},
			{Name: "agents", Expr: fixed("agent_name"), Of: group.KindInstance},
		},
		Evidence: []string{"account_id", "agent_name", "agent_ip", "instance_id", "rule_id", "rule_level", "rule_description",
			"src_ip", "dst_ip", "src_user", "dst_user", "syscheck_path", "location", "full_log"},
	},
}

// The tables compact's sources fill. Their row types live in compact, which reports must not import: a
// build without them skips their sources (Investigator.files).
const (
	tableWAF         = "waf"
	tableALB         = "alb"
	tableGuardDuty   = "guardduty"
	tableSecurityHub = "securityhub"
	tableHIDS        = "hids"
)

// albPath is the path of an ALB request's URL (protocol://host:port/path?query), "/" when it has none.
const albPath = "CASE WHEN request_url IS NOT NULL THEN coalesce(nullif(regexp_replace(regexp_replace(request_url, " +
	"'^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*', ''), '[?#].*$', ''), ''), '/') END"

// jsonStrings is the strings of a JSON array column as a list.
func jsonStrings(col string) string {
	return "CAST(json_extract_string(" + col + ", '$[*]') AS VARCHAR[])"
}

var iamARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)$|^arn:aws[a-z-]*:iam::(\d{12}):root$`)

// guardDutyPrincipal matches the findings about a principal's access keys. GuardDuty names no ARN, only
// the account, the user type and name: an IAM user's name, an assumed role's role name (its principal
// id is the role's id and the session name).
func guardDutyPrincipal(arn string) string {
	m := iamARN.FindStringSubmatch(arn)
	switch {
	case m == nil:
		return "false" // a principal GuardDuty cannot name (a federated user, a service)
	case m[4] != "":
		return "(account_id = " + quote(m[4]) + " AND user_type = 'Root')"
	case m[2] == "user":
		return "(account_id = " + quote(m[1]) + " AND user_type = 'IAMUser' AND user_name = " + quote(m[3]) + ")"
	}
	return "(account_id = " + quote(m[1]) + " AND user_type = 'AssumedRole' AND user_name = " + quote(m[3]) + ")"
}

// Sources lists the registered sources, in page order.
func Sources() []Source { return append([]Source(nil), sources...) }

func fixed(expr string) func(group.Link) string { return func(group.Link) string { return expr } }
