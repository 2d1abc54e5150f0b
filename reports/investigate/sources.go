package investigate

import (
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
}

// Dim is one thing a row has that can be new for the entity: its value in the window is new when no row
// about the entity had it in the history before the window.
type Dim struct {
	Name string                  // plural, as the page says it: "APIs", "regions"
	Expr func(group.Link) string // SQL over the table's columns
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
}

// Sources lists the registered sources, in page order.
func Sources() []Source { return append([]Source(nil), sources...) }

func fixed(expr string) func(group.Link) string { return func(group.Link) string { return expr } }
