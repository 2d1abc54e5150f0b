package lake

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
)

// Table names are fixed: hunts, Athena DDL and other tools rely on them.
const (
	TableCloudTrail      = "cloudtrail"
	TableVPCFlow         = "vpc_flow"
	TableRoute53Resolver = "route53_resolver"
	TableTIIndicators    = "ti_indicators"
)

// Lineage is embedded in every row: where the row came from and when it entered the lake.
// ingested_at is the commit time of the batch that wrote the row; late-data hunts select on it.
type Lineage struct {
	SourceKey  string    `parquet:"source_key,dict,zstd" doc:"raw object key the row was parsed from, from its AWSLogs/ folder on (whatever --from level it was compacted from)"`
	SourceLine int64     `parquet:"source_line,zstd" doc:"1-based record number inside the raw object"`
	IngestedAt time.Time `parquet:"ingested_at,timestamp(microsecond:local),zstd" doc:"when the row was committed to the lake (UTC)"`
}

// Nullable columns are pointer fields tagged optional: nil is NULL, a pointer to "" or 0 is that value.
// Optional value fields are not used: parquet-go v0.32 takes their zero value for NULL, and its batch
// writer writes some of those NULLs as "" or 0 instead, depending on where they fall in 64-row blocks
// (parquet-go#154; upstream later made value fields never NULL, parquet-go#480).

// CloudTrailEvent is one row of the cloudtrail table. user_identity has a dictionary: a session's calls
// repeat its whole userIdentity, ~70% of the table's bytes before compression, and the dictionary stores
// it once per row group instead of compressing it again for every call (BenchmarkWriteCloudTrail).
type CloudTrailEvent struct {
	EventTime               time.Time `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"eventTime (UTC)"`
	AccountID               string    `parquet:"account_id,dict,zstd" doc:"recipientAccountId, else the account in the object key"`
	Region                  string    `parquet:"region,dict,zstd" doc:"awsRegion"`
	EventID                 string    `parquet:"event_id,zstd" doc:"eventID; unique in the table"`
	EventVersion            *string   `parquet:"event_version,optional,dict,zstd"`
	EventName               string    `parquet:"event_name,dict,zstd"`
	EventSource             string    `parquet:"event_source,dict,zstd"`
	EventType               *string   `parquet:"event_type,optional,dict,zstd"`
	EventCategory           *string   `parquet:"event_category,optional,dict,zstd"`
	ReadOnly                *bool     `parquet:"read_only,optional,zstd"`
	ManagementEvent         *bool     `parquet:"management_event,optional,zstd"`
	SourceIPAddress         *string   `parquet:"source_ip_address,optional,dict,zstd" doc:"an IP, or a service DNS name such as ec2.amazonaws.com, or 'AWS Internal'"`
	UserAgent               *string   `parquet:"user_agent,optional,dict,zstd"`
	ErrorCode               *string   `parquet:"error_code,optional,dict,zstd"`
	ErrorMessage            *string   `parquet:"error_message,optional,zstd"`
	UserIdentityType        *string   `parquet:"user_identity_type,optional,dict,zstd" doc:"userIdentity.type (NULL when absent)"`
	UserIdentityARN         *string   `parquet:"user_identity_arn,optional,dict,zstd"`
	UserIdentityAccountID   *string   `parquet:"user_identity_account_id,optional,dict,zstd"`
	UserIdentityPrincipalID *string   `parquet:"user_identity_principal_id,optional,dict,zstd"`
	UserIdentityUserName    *string   `parquet:"user_identity_user_name,optional,dict,zstd"`
	UserIdentityInvokedBy   *string   `parquet:"user_identity_invoked_by,optional,dict,zstd"`
	PrincipalARN            *string   `parquet:"principal_arn,optional,dict,zstd" doc:"session issuer ARN for role sessions, else the identity ARN"`
	AccessKeyID             *string   `parquet:"access_key_id,optional,dict,zstd"`
	SessionIssuerARN        *string   `parquet:"session_issuer_arn,optional,dict,zstd"`
	SessionIssuerType       *string   `parquet:"session_issuer_type,optional,dict,zstd"`
	SessionMFAAuthenticated *bool     `parquet:"session_mfa_authenticated,optional,zstd"`
	RequestID               *string   `parquet:"request_id,optional,zstd"`
	SharedEventID           *string   `parquet:"shared_event_id,optional,zstd"`
	RecipientAccountID      *string   `parquet:"recipient_account_id,optional,dict,zstd"`
	VPCEndpointID           *string   `parquet:"vpc_endpoint_id,optional,dict,zstd"`
	TLSCipherSuite          *string   `parquet:"tls_cipher_suite,optional,dict,zstd"`
	RequestParameters       *string   `parquet:"request_parameters,optional,zstd" lake:"json" doc:"requestParameters as JSON text"`
	ResponseElements        *string   `parquet:"response_elements,optional,zstd" lake:"json" doc:"responseElements as JSON text"`
	AdditionalEventData     *string   `parquet:"additional_event_data,optional,zstd" lake:"json" doc:"additionalEventData as JSON text"`
	ServiceEventDetails     *string   `parquet:"service_event_details,optional,zstd" lake:"json" doc:"serviceEventDetails as JSON text"`
	Resources               *string   `parquet:"resources,optional,zstd" lake:"json" doc:"resources[] as JSON text"`
	UserIdentity            *string   `parquet:"user_identity,optional,dict,zstd" lake:"json" doc:"the whole userIdentity object as JSON text"`
	Lineage
}

// VPCFlowRecord is one row of the vpc_flow table. Every field of flow-log versions 2-8 has a column;
// a field absent from the user's format, or '-' in the record, is NULL.
type VPCFlowRecord struct {
	EventTime               time.Time  `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"start of the aggregation interval (UTC)"`
	AccountID               string     `parquet:"account_id,dict,zstd" doc:"account-id, else the account in the object key"`
	Region                  string     `parquet:"region,dict,zstd" doc:"region field, else the region in the object key"`
	Version                 *int32     `parquet:"version,optional,zstd"`
	InterfaceID             *string    `parquet:"interface_id,optional,dict,zstd"`
	SrcAddr                 *string    `parquet:"srcaddr,optional,dict,zstd"`
	DstAddr                 *string    `parquet:"dstaddr,optional,dict,zstd"`
	SrcPort                 *int32     `parquet:"srcport,optional,zstd"`
	DstPort                 *int32     `parquet:"dstport,optional,zstd"`
	Protocol                *int32     `parquet:"protocol,optional,zstd"`
	Packets                 *int64     `parquet:"packets,optional,zstd"`
	Bytes                   *int64     `parquet:"bytes,optional,zstd"`
	StartTime               *time.Time `parquet:"start_time,timestamp(microsecond:local),optional,zstd"`
	EndTime                 *time.Time `parquet:"end_time,timestamp(microsecond:local),optional,zstd"`
	Action                  *string    `parquet:"action,optional,dict,zstd"`
	LogStatus               *string    `parquet:"log_status,optional,dict,zstd"`
	VPCID                   *string    `parquet:"vpc_id,optional,dict,zstd"`
	SubnetID                *string    `parquet:"subnet_id,optional,dict,zstd"`
	InstanceID              *string    `parquet:"instance_id,optional,dict,zstd"`
	TCPFlags                *int32     `parquet:"tcp_flags,optional,zstd"`
	Type                    *string    `parquet:"type,optional,dict,zstd"`
	PktSrcAddr              *string    `parquet:"pkt_srcaddr,optional,dict,zstd"`
	PktDstAddr              *string    `parquet:"pkt_dstaddr,optional,dict,zstd"`
	AZID                    *string    `parquet:"az_id,optional,dict,zstd"`
	SublocationType         *string    `parquet:"sublocation_type,optional,dict,zstd"`
	SublocationID           *string    `parquet:"sublocation_id,optional,dict,zstd"`
	PktSrcAWSService        *string    `parquet:"pkt_src_aws_service,optional,dict,zstd"`
	PktDstAWSService        *string    `parquet:"pkt_dst_aws_service,optional,dict,zstd"`
	FlowDirection           *string    `parquet:"flow_direction,optional,dict,zstd"`
	TrafficPath             *int32     `parquet:"traffic_path,optional,zstd"`
	ECSClusterARN           *string    `parquet:"ecs_cluster_arn,optional,dict,zstd"`
	ECSClusterName          *string    `parquet:"ecs_cluster_name,optional,dict,zstd"`
	ECSContainerInstanceARN *string    `parquet:"ecs_container_instance_arn,optional,dict,zstd"`
	ECSContainerInstanceID  *string    `parquet:"ecs_container_instance_id,optional,dict,zstd"`
	ECSContainerID          *string    `parquet:"ecs_container_id,optional,dict,zstd"`
	ECSSecondContainerID    *string    `parquet:"ecs_second_container_id,optional,dict,zstd"`
	ECSServiceName          *string    `parquet:"ecs_service_name,optional,dict,zstd"`
	ECSTaskDefinitionARN    *string    `parquet:"ecs_task_definition_arn,optional,dict,zstd"`
	ECSTaskARN              *string    `parquet:"ecs_task_arn,optional,dict,zstd"`
	ECSTaskID               *string    `parquet:"ecs_task_id,optional,dict,zstd"`
	RejectReason            *string    `parquet:"reject_reason,optional,dict,zstd"`
	// Numeric IPv4 forms (NULL for IPv6 or missing) so CIDR matching is a range join without the inet extension.
	SrcAddrV4    *int64 `parquet:"srcaddr_v4,optional,zstd" doc:"srcaddr as an unsigned 32-bit number (IPv4 only)"`
	DstAddrV4    *int64 `parquet:"dstaddr_v4,optional,zstd" doc:"dstaddr as an unsigned 32-bit number (IPv4 only)"`
	PktSrcAddrV4 *int64 `parquet:"pkt_srcaddr_v4,optional,zstd" doc:"pkt_srcaddr as an unsigned 32-bit number (IPv4 only)"`
	PktDstAddrV4 *int64 `parquet:"pkt_dstaddr_v4,optional,zstd" doc:"pkt_dstaddr as an unsigned 32-bit number (IPv4 only)"`
	Lineage
}

// Route53ResolverQuery is one row of the route53_resolver table.
type Route53ResolverQuery struct {
	EventTime               time.Time `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"query_timestamp (UTC)"`
	AccountID               string    `parquet:"account_id,dict,zstd"`
	Region                  string    `parquet:"region,dict,zstd"`
	Version                 *string   `parquet:"version,optional,dict,zstd"`
	VPCID                   *string   `parquet:"vpc_id,optional,dict,zstd"`
	QueryName               *string   `parquet:"query_name,optional,dict,zstd" doc:"as logged, with the trailing dot"`
	QueryType               *string   `parquet:"query_type,optional,dict,zstd"`
	QueryClass              *string   `parquet:"query_class,optional,dict,zstd"`
	Rcode                   *string   `parquet:"rcode,optional,dict,zstd"`
	Answers                 *string   `parquet:"answers,optional,zstd" lake:"json" doc:"answers[] as JSON text ([{Rdata,Type,Class}])"`
	SrcAddr                 *string   `parquet:"srcaddr,optional,dict,zstd"`
	SrcPort                 *int32    `parquet:"srcport,optional,zstd"`
	Transport               *string   `parquet:"transport,optional,dict,zstd"`
	SrcIDs                  *string   `parquet:"srcids,optional,dict,zstd" lake:"json" doc:"srcids as JSON text"`
	SrcInstanceID           *string   `parquet:"srcids_instance,optional,dict,zstd" doc:"srcids.instance"`
	SrcResolverEndpoint     *string   `parquet:"srcids_resolver_endpoint,optional,dict,zstd" doc:"srcids.resolver_endpoint"`
	SrcResolverNetworkIface *string   `parquet:"srcids_resolver_network_interface,optional,dict,zstd"`
	FirewallRuleAction      *string   `parquet:"firewall_rule_action,optional,dict,zstd"`
	FirewallRuleGroupID     *string   `parquet:"firewall_rule_group_id,optional,dict,zstd"`
	FirewallDomainListID    *string   `parquet:"firewall_domain_list_id,optional,dict,zstd"`
	Lineage
}

// TIIndicator is one row of the ti_indicators table: one indicator of one feed, with the time it became
// known (valid_from) and the time it stopped being listed (valid_to, NULL while listed). The table is not
// partitioned by event time: hunts read all of it.
type TIIndicator struct {
	Feed          string     `parquet:"feed,dict,zstd" doc:"feed name given at import"`
	Indicator     string     `parquet:"indicator,zstd" doc:"the indicator as the feed wrote it (normalised: lower-case domains, canonical IPs/CIDRs)"`
	Type          string     `parquet:"type,dict,zstd" doc:"ipv4 | ipv6 | cidr4 | cidr6 | domain | url | md5 | sha1 | sha256"`
	StartV4       *int64     `parquet:"start_v4,optional,zstd" doc:"first IPv4 address of the indicator as a number (ipv4/cidr4)"`
	EndV4         *int64     `parquet:"end_v4,optional,zstd" doc:"last IPv4 address of the indicator as a number (ipv4/cidr4)"`
	StartV6       *string    `parquet:"start_v6,optional,zstd" doc:"first IPv6 address as 32 hex digits (ipv6/cidr6); compares like the address"`
	EndV6         *string    `parquet:"end_v6,optional,zstd" doc:"last IPv6 address as 32 hex digits (ipv6/cidr6)"`
	Confidence    *int32     `parquet:"confidence,optional,zstd" doc:"0-100 where the feed gives one"`
	Tags          *string    `parquet:"tags,optional,zstd" doc:"comma-separated tags/labels from the feed"`
	MalwareFamily *string    `parquet:"malware_family,optional,dict,zstd"`
	Description   *string    `parquet:"description,optional,zstd"`
	FeedFirstSeen *time.Time `parquet:"feed_first_seen,timestamp(microsecond:local),optional,zstd" doc:"first-seen date the feed itself states"`
	ValidFrom     time.Time  `parquet:"valid_from,timestamp(microsecond:local),zstd" doc:"when lakehunt first imported the indicator (intel known from then on)"`
	ValidTo       *time.Time `parquet:"valid_to,timestamp(microsecond:local),optional,zstd" doc:"first import without the indicator (NULL while listed)"`
	ImportedAt    time.Time  `parquet:"imported_at,timestamp(microsecond:local),zstd" doc:"last import that touched the row"`
	SourceFile    *string    `parquet:"source_file,optional,dict,zstd" doc:"feed file or URL the indicator came from"`
	SourceLine    *int64     `parquet:"source_line,optional,zstd" doc:"line (or object index) in the feed file"`
}

// Column describes one column as DuckDB sees it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Doc  string `json:"doc,omitempty"`
}

// Table describes one lake table.
type Table struct {
	Name    string       `json:"name"`
	Doc     string       `json:"doc"`
	Columns []Column     `json:"columns"`
	Views   []View       `json:"views,omitempty"`
	rowType reflect.Type `json:"-"`
}

// View is a DuckDB view defined over a table (e.g. guardduty_latest: the newest version of each
// finding). Wherever the table gets a view, its views are created after it.
type View struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
	SQL  string `json:"sql"` // a SELECT over the table, by its name
}

var tables = map[string]*Table{}

// RegisterTable adds a table whose rows are values of the struct type of row.
// The lake's own tables register in init; other packages may add theirs (e.g. ti_indicators).
func RegisterTable(name, doc string, row any) {
	t := reflect.TypeOf(row)
	tables[name] = &Table{Name: name, Doc: doc, Columns: columnsOf(t), rowType: t}
}

func init() {
	RegisterTable(TableCloudTrail, "CloudTrail management and data events, one row per eventID", CloudTrailEvent{})
	RegisterTable(TableVPCFlow, "VPC Flow Logs records (versions 2-8, any field order)", VPCFlowRecord{})
	RegisterTable(TableRoute53Resolver, "Route 53 Resolver query logs", Route53ResolverQuery{})
	RegisterTable(TableTIIndicators, "threat-intel indicators imported with 'lakehunt ti import' (not time-partitioned)", TIIndicator{})
}

// AddViews registers views over a registered table.
func AddViews(table string, views ...View) {
	t, ok := tables[table]
	if !ok {
		panic(fmt.Sprintf("lake: views over unknown table %q", table))
	}
	t.Views = append(t.Views, views...)
}

// Tables lists registered tables by name.
func Tables() []*Table {
	out := make([]*Table, 0, len(tables))
	for _, t := range tables {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupTable returns a registered table or an error naming the known ones.
func LookupTable(name string) (*Table, error) {
	if t, ok := tables[name]; ok {
		return t, nil
	}
	var names []string
	for _, t := range Tables() {
		names = append(names, t.Name)
		for _, v := range t.Views {
			if v.Name == name {
				return nil, fmt.Errorf("%q is a view over table %q, not a table: list %q under tables: (its views come with it) and query %s in the SQL", name, t.Name, t.Name, name)
			}
		}
	}
	return nil, fmt.Errorf("unknown table %q (known tables: %s)", name, strings.Join(names, ", "))
}

// RowType is the Go struct type of the table's rows.
func (t *Table) RowType() reflect.Type { return t.rowType }

// HasColumn reports whether the table has a column of that name.
func (t *Table) HasColumn(name string) bool {
	for _, c := range t.Columns {
		if c.Name == name {
			return true
		}
	}
	return false
}

// ViewSelect is the DuckDB SELECT a view of the table runs over from (e.g. a read_parquet call).
// Empty strings read as NULL, so hunts can rely on "IS NULL" for absent fields such as error_code: the
// writers store an empty string as NULL (NullEmptyStrings), but older files hold "" for a source's empty
// strings and, before nullable columns were pointer fields, for some NULLs (see CloudTrailEvent); required
// columns cannot hold NULL. JSON columns are stored as plain strings and typed JSON here: parquet-go v0.32.0
// writes every value of an optional JSON-typed *string as NULL (its JSON writer takes the pointer for a
// value to encode and writes below the column's definition level); v0.32.1 writes them right.
func (t *Table) ViewSelect(from string) string {
	var fix []string
	for _, c := range t.Columns {
		switch c.Type {
		case "JSON":
			fix = append(fix, fmt.Sprintf("CAST(nullif(%s, '') AS JSON) AS %s", c.Name, c.Name))
		case "VARCHAR":
			fix = append(fix, fmt.Sprintf("nullif(%s, '') AS %s", c.Name, c.Name))
		}
	}
	if len(fix) == 0 {
		return "SELECT * FROM " + from
	}
	return fmt.Sprintf("SELECT * REPLACE (%s) FROM %s", strings.Join(fix, ", "), from)
}

// EmptySelect is a DuckDB SELECT with the table's columns and types and no rows,
// used as the view of a table that has no data yet so hunts still prepare.
func (t *Table) EmptySelect() string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s", c.Type, c.Name)
	}
	b.WriteString(" WHERE false")
	return b.String()
}

func columnsOf(t reflect.Type) []Column {
	var cols []Column
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			cols = append(cols, columnsOf(f.Type)...)
			continue
		}
		tag := f.Tag.Get("parquet")
		if tag == "" || tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		typ := duckType(f.Type)
		if f.Tag.Get("lake") == "json" {
			typ = "JSON"
		}
		cols = append(cols, Column{Name: parts[0], Type: typ, Doc: f.Tag.Get("doc")})
	}
	return cols
}

func duckType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "TIMESTAMP"
	}
	switch t.Kind() {
	case reflect.String:
		return "VARCHAR"
	case reflect.Bool:
		return "BOOLEAN"
	case reflect.Int32:
		return "INTEGER"
	case reflect.Int64, reflect.Int:
		return "BIGINT"
	case reflect.Float64:
		return "DOUBLE"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "VARCHAR[]"
		}
	}
	panic(fmt.Sprintf("lake: no DuckDB type for Go type %s", t))
}
