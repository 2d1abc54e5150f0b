#!/usr/bin/env bash
# make bench: compaction throughput, CPU and memory, lakehunt vs a fair DuckDB-only pipeline, then hunting.
# Compaction runs over two corpora: lakehunt's generated raw logs (every source), and
# CloudTrail records replayed from the public samples in testdata/ (scripts/replay), which lakehunt's
# generator did not shape. The DuckDB side runs in the DuckDB lakehunt embeds, at DuckDB's defaults (all
# cores, 80% of memory; scripts/duckdb), on the same files, in the same run. Each row reports wall time,
# CPU seconds (user+sys), cores busy ((user+sys)/wall) and peak RSS (GNU time); compare CPU seconds, as the
# machine may be shared. Each side's row count is printed: they must agree.
# Usage: scripts/bench.sh [CT_EVENTS...]   (default: 500000 4000000; or BENCH_SIZES="100000" for a quick run)
#   Each corpus also holds 1 M flows, 1 M DNS queries and, for N CloudTrail events, N ALB entries, N host IDS
#   alerts, N/2 WAF requests and about N/70 GuardDuty and N/100 Security Hub findings (gen --others-per-day);
#   the sources other than CloudTrail are compared at the first size only.
#   BENCH_SOURCES (default: all eight) picks sources, e.g. BENCH_SOURCES="waf alb guardduty securityhub hids".
#   BENCH_REPLAY_EVENTS (default 500000, in 1,000 objects), BENCH_DIR keeps corpora between runs,
#   BENCH_HUNT_SCALE=small|medium|large (hunting part), BENCH_SKIP_HUNT=1 skips it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/lakehunt}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/lakehunt-bench.XXXX)}
mkdir -p "$WORK"
SIZES=${*:-${BENCH_SIZES:-500000 4000000}}
REPLAY_EVENTS=${BENCH_REPLAY_EVENTS:-500000}
SOURCES=${BENCH_SOURCES:-cloudtrail vpc_flow route53_resolver waf alb guardduty securityhub hids}
DAYS=7
OUT=${BENCH_OUT:-$WORK/results.md}
command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }
go build -o "$WORK/duckdb" ./scripts/duckdb
go build -o "$WORK/replay" ./scripts/replay
DUCK=$WORK/duckdb

measure() { # label, command... -> "wall user sys rss_kb" in $WORK/$label.time
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || {
    echo "$label failed:"; tail -5 "$WORK/$label.err"; exit 1; }
}
dusize() { du -sb "$1" | cut -f1; }
rawbytes() { find "$1/AWSLogs" -path "*/$2/*" -name '*.gz' -exec zcat {} + | wc -c; }
duckrows() { "$DUCK" "SELECT count(*) FROM read_parquet('$1/**/*.parquet')"; }

# The fair CloudTrail pipeline: a typed read of every field lakehunt keeps (free-form objects as JSON),
# unnest, the first of each eventID (DISTINCT ON, no global sort), the lake's columns, COPY partitioned,
# zstd. "full" writes every column of the lake's cloudtrail table; "lean" the 23 key columns.
ct_sql() { # raw, out, full|lean
  local struct="STRUCT(eventVersion VARCHAR, userIdentity JSON, eventTime VARCHAR, eventSource VARCHAR,
    eventName VARCHAR, awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR,
    errorMessage VARCHAR, requestParameters JSON, responseElements JSON, additionalEventData JSON,
    serviceEventDetails JSON, resources JSON, requestID VARCHAR, eventID VARCHAR, eventType VARCHAR,
    eventCategory VARCHAR, readOnly BOOLEAN, managementEvent BOOLEAN, recipientAccountId VARCHAR,
    sharedEventID VARCHAR, vpcEndpointId VARCHAR, tlsDetails STRUCT(cipherSuite VARCHAR))[]"
  local cols="r.eventVersion AS event_version, r.eventName AS event_name, r.eventSource AS event_source,
    r.eventType AS event_type, r.sourceIPAddress AS source_ip_address, r.userAgent AS user_agent,
    r.errorCode AS error_code, r.errorMessage AS error_message,
    r.userIdentity->>'type' AS user_identity_type, r.userIdentity->>'arn' AS user_identity_arn,
    coalesce(r.userIdentity->'sessionContext'->'sessionIssuer'->>'arn', r.userIdentity->>'arn') AS principal_arn,
    r.userIdentity->>'accessKeyId' AS access_key_id, r.requestParameters AS request_parameters,
    r.responseElements AS response_elements, r.additionalEventData AS additional_event_data,
    r.resources AS resources, r.userIdentity AS user_identity, source_key"
  if [ "$3" = full ]; then cols="$cols, r.eventCategory AS event_category, r.readOnly AS read_only,
    r.managementEvent AS management_event, r.userIdentity->>'accountId' AS user_identity_account_id,
    r.userIdentity->>'principalId' AS user_identity_principal_id, r.userIdentity->>'userName' AS user_identity_user_name,
    r.userIdentity->>'invokedBy' AS user_identity_invoked_by,
    r.userIdentity->'sessionContext'->'sessionIssuer'->>'arn' AS session_issuer_arn,
    r.userIdentity->'sessionContext'->'sessionIssuer'->>'type' AS session_issuer_type,
    TRY_CAST(r.userIdentity->'sessionContext'->'attributes'->>'mfaAuthenticated' AS BOOLEAN) AS session_mfa_authenticated,
    r.requestID AS request_id, r.sharedEventID AS shared_event_id, r.recipientAccountId AS recipient_account_id,
    r.vpcEndpointId AS vpc_endpoint_id, r.tlsDetails.cipherSuite AS tls_cipher_suite,
    r.serviceEventDetails AS service_event_details, source_line, now()::TIMESTAMP AS ingested_at"; fi
  echo "COPY (SELECT DISTINCT ON (event_id) event_time::TIMESTAMP AS event_time, * EXCLUDE (event_time),
      strftime(event_time::TIMESTAMP, '%Y-%m-%d') AS dt
    FROM (SELECT r.eventTime AS event_time,
        coalesce(r.recipientAccountId, regexp_extract(source_key, '^AWSLogs/(?:o-[^/]+/)?([0-9]{12})/', 1)) AS account_id,
        r.awsRegion AS region, r.eventID AS event_id, $cols
      FROM (SELECT unnest(Records) AS r, generate_subscripts(Records, 1) AS source_line,
              substr(filename, strpos(filename, 'AWSLogs/')) AS source_key
            FROM read_json('$1/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz', format = 'unstructured',
              columns = {Records: '$struct'}, maximum_object_size = 1073741824, filename = true))))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}

# VPC flow logs: read_csv with the generator's column names and types given (no sniffing), the lake's
# columns (the IPv4 numbers too; the v5 fields the corpus does not carry are left out). The corpus holds
# two formats, the default v2 one and a custom v5 one that starts with the same 14 fields: null_padding
# reads the v2 files' missing fields as NULL.
vf_sql() { # raw, out
  echo "COPY (SELECT to_timestamp(\"start\")::TIMESTAMP AS event_time, coalesce(\"account-id\", regexp_extract(filename, 'AWSLogs/([0-9]{12})/', 1)) AS account_id,
      region, version, \"interface-id\" AS interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes,
      to_timestamp(\"start\")::TIMESTAMP AS start_time, to_timestamp(\"end\")::TIMESTAMP AS end_time, action,
      \"log-status\" AS log_status, \"vpc-id\" AS vpc_id, \"subnet-id\" AS subnet_id, \"instance-id\" AS instance_id,
      \"tcp-flags\" AS tcp_flags, type, \"pkt-srcaddr\" AS pkt_srcaddr, \"pkt-dstaddr\" AS pkt_dstaddr, \"az-id\" AS az_id,
      \"pkt-src-aws-service\" AS pkt_src_aws_service, \"pkt-dst-aws-service\" AS pkt_dst_aws_service,
      \"flow-direction\" AS flow_direction, \"traffic-path\" AS traffic_path,
      v4(srcaddr) AS srcaddr_v4, v4(dstaddr) AS dstaddr_v4, v4(\"pkt-srcaddr\") AS pkt_srcaddr_v4, v4(\"pkt-dstaddr\") AS pkt_dstaddr_v4,
      substr(filename, strpos(filename, 'AWSLogs/')) AS source_key, now()::TIMESTAMP AS ingested_at,
      strftime(to_timestamp(\"start\")::TIMESTAMP, '%Y-%m-%d') AS dt
    FROM read_csv('$1/AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz', delim = ' ', header = true, auto_detect = false,
      nullstr = '-', null_padding = true, filename = true, columns = {'version': 'INTEGER', 'account-id': 'VARCHAR',
      'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR', 'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER',
      'protocol': 'INTEGER', 'packets': 'BIGINT', 'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT',
      'action': 'VARCHAR', 'log-status': 'VARCHAR', 'vpc-id': 'VARCHAR', 'subnet-id': 'VARCHAR', 'instance-id': 'VARCHAR',
      'tcp-flags': 'INTEGER', 'type': 'VARCHAR', 'pkt-srcaddr': 'VARCHAR', 'pkt-dstaddr': 'VARCHAR', 'region': 'VARCHAR',
      'az-id': 'VARCHAR', 'flow-direction': 'VARCHAR', 'traffic-path': 'INTEGER', 'pkt-src-aws-service': 'VARCHAR',
      'pkt-dst-aws-service': 'VARCHAR'}))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}
V4_MACRO="CREATE MACRO v4(a) AS TRY_CAST(split_part(a, '.', 1) AS UTINYINT)::BIGINT * 16777216
  + TRY_CAST(split_part(a, '.', 2) AS UTINYINT)::BIGINT * 65536 + TRY_CAST(split_part(a, '.', 3) AS UTINYINT)::BIGINT * 256
  + TRY_CAST(split_part(a, '.', 4) AS UTINYINT)::BIGINT"

# Route 53 Resolver query logs: read_json of the JSON lines with every field's type given.
r53_sql() { # raw, out
  echo "COPY (SELECT query_timestamp::TIMESTAMP AS event_time, account_id, region, version, vpc_id, query_name,
      query_type, query_class, rcode, answers, srcaddr, srcport, transport, srcids,
      srcids->>'instance' AS srcids_instance, srcids->>'resolver_endpoint' AS srcids_resolver_endpoint,
      srcids->>'resolver_network_interface' AS srcids_resolver_network_interface, firewall_rule_action,
      firewall_rule_group_id, firewall_domain_list_id, substr(filename, strpos(filename, 'AWSLogs/')) AS source_key,
      now()::TIMESTAMP AS ingested_at, strftime(query_timestamp::TIMESTAMP, '%Y-%m-%d') AS dt
    FROM read_json('$1/AWSLogs/*/vpcdnsquerylogs/*/*/*/*/*.log.gz', format = 'newline_delimited', filename = true,
      columns = {version: 'VARCHAR', account_id: 'VARCHAR', region: 'VARCHAR', vpc_id: 'VARCHAR',
        query_timestamp: 'VARCHAR', query_name: 'VARCHAR', query_type: 'VARCHAR', query_class: 'VARCHAR',
        rcode: 'VARCHAR', answers: 'JSON', srcaddr: 'VARCHAR', srcport: 'INTEGER', transport: 'VARCHAR',
        srcids: 'JSON', firewall_rule_action: 'VARCHAR', firewall_rule_group_id: 'VARCHAR',
        firewall_domain_list_id: 'VARCHAR'}))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}

# The sources of issue 16, each the same way: a typed read of the fields the table keeps (free-form
# objects as JSON), the lake's columns as far as DuckDB computes them, the source's dedup key with DISTINCT
# ON where it has one, COPY partitioned, zstd. source_key and ingested_at as above.
SK="substr(filename, strpos(filename, 'AWSLogs/')) AS source_key, now()::TIMESTAMP AS ingested_at"
waf_sql() { # raw, out
  echo "COPY (SELECT DISTINCT ON (request_id) *, strftime(event_time, '%Y-%m-%d') AS dt FROM (SELECT
      make_timestamp(\"timestamp\" * 1000) AS event_time, split_part(webaclId, ':', 5) AS account_id,
      split_part(webaclId, ':', 4) AS region, webaclId AS web_acl_id, regexp_extract(webaclId, '/webacl/([^/]+)/', 1) AS web_acl_name,
      formatVersion AS format_version, action, terminatingRuleId AS terminating_rule_id, terminatingRuleType AS terminating_rule_type,
      terminatingRuleMatchDetails AS terminating_rule_match_details, httpSourceName AS source_name, httpSourceId AS source_id,
      httpRequest.clientIp AS client_ip, v4(httpRequest.clientIp) AS client_ip_v4, httpRequest.country AS country,
      httpRequest.uri AS uri, httpRequest.args AS args, httpRequest.httpMethod AS http_method, httpRequest.httpVersion AS http_version,
      list_filter(httpRequest.headers, h -> lower(h.name) = 'host')[1].value AS host,
      list_filter(httpRequest.headers, h -> lower(h.name) = 'user-agent')[1].value AS user_agent,
      to_json(httpRequest.headers) AS headers, httpRequest.requestId AS request_id, responseCodeSent AS response_code,
      ruleGroupList AS rule_groups, nonTerminatingMatchingRules AS non_terminating_matching_rules, rateBasedRuleList AS rate_based_rules,
      labels, requestHeadersInserted AS request_headers_inserted, captchaResponse AS captcha_response,
      challengeResponse AS challenge_response, oversizeFields AS oversize_fields, ja3Fingerprint AS ja3_fingerprint,
      ja4Fingerprint AS ja4_fingerprint, $SK
    FROM read_json('$1/AWSLogs/*/WAFLogs/*/*/*/*/*/*/*/*.log.gz', format = 'newline_delimited', filename = true,
      columns = {\"timestamp\": 'BIGINT', formatVersion: 'INTEGER', webaclId: 'VARCHAR', terminatingRuleId: 'VARCHAR',
        terminatingRuleType: 'VARCHAR', action: 'VARCHAR', terminatingRuleMatchDetails: 'JSON', httpSourceName: 'VARCHAR',
        httpSourceId: 'VARCHAR', ruleGroupList: 'JSON', rateBasedRuleList: 'JSON', nonTerminatingMatchingRules: 'JSON',
        requestHeadersInserted: 'JSON', responseCodeSent: 'INTEGER', labels: 'JSON', captchaResponse: 'JSON',
        challengeResponse: 'JSON', oversizeFields: 'JSON', ja3Fingerprint: 'VARCHAR', ja4Fingerprint: 'VARCHAR',
        httpRequest: 'STRUCT(clientIp VARCHAR, country VARCHAR, headers STRUCT(name VARCHAR, value VARCHAR)[], uri VARCHAR,
          args VARCHAR, httpVersion VARCHAR, httpMethod VARCHAR, requestId VARCHAR)'})))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}
# ALB: read_csv of the 30 space-separated fields with names and types (the statement of the alb section).
alb_sql() { # raw, out
  echo "COPY (SELECT \"time\"::TIMESTAMP AS event_time, regexp_extract(filename, 'AWSLogs/([0-9]{12})/', 1) AS account_id,
      regexp_extract(filename, '/elasticloadbalancing/([^/]+)/', 1) AS region, type, elb,
      split_part(client, ':', 1) AS client_ip, TRY_CAST(split_part(client, ':', 2) AS INTEGER) AS client_port,
      v4(split_part(client, ':', 1)) AS client_ip_v4, split_part(target, ':', 1) AS target_ip,
      TRY_CAST(split_part(target, ':', 2) AS INTEGER) AS target_port, request_processing_time, target_processing_time,
      response_processing_time, elb_status_code, target_status_code, received_bytes, sent_bytes,
      split_part(request, ' ', 1) AS request_method, split_part(request, ' ', 2) AS request_url,
      split_part(request, ' ', 3) AS request_protocol, user_agent, ssl_cipher, ssl_protocol, target_group_arn, trace_id,
      domain_name, chosen_cert_arn, matched_rule_priority, request_creation_time::TIMESTAMP AS request_creation_time,
      actions_executed, redirect_url, error_reason, target_port_list, target_status_code_list, classification,
      classification_reason, conn_trace_id, $SK, strftime(\"time\"::TIMESTAMP, '%Y-%m-%d') AS dt
    FROM read_csv('$1/AWSLogs/*/elasticloadbalancing/*/*/*/*/*.log.gz', delim = ' ', quote = '\"', escape = '\\',
      header = false, auto_detect = false, nullstr = '-', filename = true, columns = {'type': 'VARCHAR', 'time': 'VARCHAR',
      'elb': 'VARCHAR', 'client': 'VARCHAR', 'target': 'VARCHAR', 'request_processing_time': 'DOUBLE',
      'target_processing_time': 'DOUBLE', 'response_processing_time': 'DOUBLE', 'elb_status_code': 'INTEGER',
      'target_status_code': 'INTEGER', 'received_bytes': 'BIGINT', 'sent_bytes': 'BIGINT', 'request': 'VARCHAR',
      'user_agent': 'VARCHAR', 'ssl_cipher': 'VARCHAR', 'ssl_protocol': 'VARCHAR', 'target_group_arn': 'VARCHAR',
      'trace_id': 'VARCHAR', 'domain_name': 'VARCHAR', 'chosen_cert_arn': 'VARCHAR', 'matched_rule_priority': 'INTEGER',
      'request_creation_time': 'VARCHAR', 'actions_executed': 'VARCHAR', 'redirect_url': 'VARCHAR', 'error_reason': 'VARCHAR',
      'target_port_list': 'VARCHAR', 'target_status_code_list': 'VARCHAR', 'classification': 'VARCHAR',
      'classification_reason': 'VARCHAR', 'conn_trace_id': 'VARCHAR'}))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}
# GuardDuty: every top-level field typed (resource and service as JSON), the whole finding rebuilt from
# them as JSON, every version kept once (DISTINCT ON id@updatedAt).
gd_sql() { # raw, out
  echo "COPY (SELECT DISTINCT ON (version_id) *, strftime(event_time, '%Y-%m-%d') AS dt FROM (SELECT
      updatedAt::TIMESTAMP AS event_time, accountId AS account_id, region, id,
      id || '@' || strftime(updatedAt::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ') AS version_id, arn, type, severity,
      CASE WHEN severity < 4 THEN 'LOW' WHEN severity < 7 THEN 'MEDIUM' WHEN severity < 9 THEN 'HIGH' ELSE 'CRITICAL' END AS severity_label,
      title, description, createdAt::TIMESTAMP AS created_at, updatedAt::TIMESTAMP AS updated_at,
      resource->>'resourceType' AS resource_type, resource->'instanceDetails'->>'instanceId' AS instance_id,
      resource->'accessKeyDetails'->>'accessKeyId' AS access_key_id, resource->'accessKeyDetails'->>'principalId' AS principal_id,
      resource->'accessKeyDetails'->>'userName' AS user_name, resource->'accessKeyDetails'->>'userType' AS user_type,
      to_json(json_extract_string(resource, '\$.s3BucketDetails[*].name')) AS s3_buckets,
      service->'action'->>'actionType' AS action_type, service->'action'->'awsApiCallAction'->>'api' AS api,
      to_json(list_sort(list_distinct(json_extract_string(service, '\$.action.*.remoteIpDetails.ipAddressV4')))) AS remote_ips,
      to_json(json_extract_string(service, '\$.action.dnsRequestAction.domain')) AS domains,
      (service->>'eventFirstSeen')::TIMESTAMP AS first_seen, (service->>'eventLastSeen')::TIMESTAMP AS last_seen,
      (service->>'count')::BIGINT AS count, (service->>'archived')::BOOLEAN AS archived, service->>'detectorId' AS detector_id,
      json_object('accountId', accountId, 'arn', arn, 'createdAt', createdAt, 'description', description, 'id', id,
        'partition', \"partition\", 'region', region, 'resource', resource, 'schemaVersion', schemaVersion, 'service', service,
        'severity', severity, 'title', title, 'type', type, 'updatedAt', updatedAt) AS finding, $SK
    FROM read_json('$1/AWSLogs/*/GuardDuty/*/*/*/*/*.jsonl.gz', format = 'newline_delimited', filename = true,
      columns = {accountId: 'VARCHAR', arn: 'VARCHAR', createdAt: 'VARCHAR', description: 'VARCHAR', id: 'VARCHAR',
        \"partition\": 'VARCHAR', region: 'VARCHAR', resource: 'JSON', schemaVersion: 'VARCHAR', service: 'JSON',
        severity: 'DOUBLE', title: 'VARCHAR', type: 'VARCHAR', updatedAt: 'VARCHAR'})))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}
# Security Hub: EventBridge envelopes concatenated by Firehose; the findings unnested, each typed at the
# top level (nested parts as JSON), the whole finding rebuilt as JSON, DISTINCT ON Id@UpdatedAt.
sh_sql() { # raw, out
  local f="STRUCT(AwsAccountId VARCHAR, CompanyName VARCHAR, Compliance JSON, CreatedAt VARCHAR, Description VARCHAR,
    FirstObservedAt VARCHAR, GeneratorId VARCHAR, Id VARCHAR, LastObservedAt VARCHAR, ProductArn VARCHAR,
    ProductName VARCHAR, RecordState VARCHAR, Region VARCHAR, Resources JSON, SchemaVersion VARCHAR, Severity JSON,
    Title VARCHAR, Types JSON, UpdatedAt VARCHAR, Vulnerabilities JSON, Workflow JSON)"
  echo "COPY (SELECT DISTINCT ON (version_id) *, strftime(event_time, '%Y-%m-%d') AS dt FROM (SELECT
      f.UpdatedAt::TIMESTAMP AS event_time, f.AwsAccountId AS account_id, coalesce(f.Region, region) AS region, f.Id AS id,
      f.Id || '@' || strftime(f.UpdatedAt::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ') AS version_id, f.ProductArn AS product_arn,
      f.ProductName AS product_name, f.CompanyName AS company_name, f.GeneratorId AS generator_id, f.Types AS types,
      f.Title AS title, f.Description AS description, f.Severity->>'Label' AS severity_label,
      (f.Severity->>'Normalized')::INTEGER AS severity_normalized, f.Compliance->>'Status' AS compliance_status,
      f.Compliance->>'SecurityControlId' AS control_id, f.Workflow->>'Status' AS workflow_status, f.RecordState AS record_state,
      f.CreatedAt::TIMESTAMP AS created_at, f.UpdatedAt::TIMESTAMP AS updated_at,
      f.FirstObservedAt::TIMESTAMP AS first_observed_at, f.LastObservedAt::TIMESTAMP AS last_observed_at,
      to_json(json_extract_string(f.Resources, '\$[*].Id')) AS resource_ids,
      to_json(json_extract_string(f.Resources, '\$[*].Type')) AS resource_types,
      to_json(json_extract_string(f.Vulnerabilities, '\$[*].Id')) AS cve_ids, to_json(f) AS finding, $SK
    FROM (SELECT unnest(detail.findings) AS f, region, filename
      FROM read_json('$1/AWSLogs/*/SecurityHub/*/*/*/*/*/*.gz', format = 'unstructured', filename = true,
        columns = {region: 'VARCHAR', detail: 'STRUCT(findings $f[])'}))))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}
# Host IDS (Wazuh alerts.json lines): the alert typed at the top level (nested parts typed or JSON),
# DISTINCT ON manager/id.
hids_sql() { # raw, out
  echo "COPY (SELECT DISTINCT ON (alert_key) *, strftime(event_time, '%Y-%m-%d') AS dt FROM (SELECT
      strptime(\"timestamp\", '%Y-%m-%dT%H:%M:%S.%g%z')::TIMESTAMP AS event_time,
      coalesce(agent.labels.aws.account_id, split_part(substr(filename, strpos(filename, 'hids/')), '/', 2)) AS account_id,
      coalesce(agent.labels.aws.region, split_part(substr(filename, strpos(filename, 'hids/')), '/', 3)) AS region,
      'wazuh' AS format, id AS alert_id, manager.name || '/' || id AS alert_key, manager.name AS manager,
      agent.id AS agent_id, agent.name AS agent_name, agent.ip AS agent_ip, agent.labels.aws.instance_id AS instance_id,
      to_json(agent.labels) AS agent_labels, rule.id AS rule_id, rule.level AS rule_level, rule.description AS rule_description,
      rule.groups AS rule_groups, rule.mitre->'id' AS mitre_ids, rule.mitre->'tactic' AS mitre_tactics,
      rule.mitre->'technique' AS mitre_techniques, location, decoder.name AS decoder, decoder.parent AS decoder_parent,
      data->>'srcip' AS src_ip, v4(data->>'srcip') AS src_ip_v4, data->>'dstip' AS dst_ip, data->>'srcuser' AS src_user,
      data->>'dstuser' AS dst_user, syscheck->>'path' AS syscheck_path, syscheck, full_log, data,
      substr(filename, strpos(filename, 'hids/')) AS source_key, now()::TIMESTAMP AS ingested_at
    FROM read_json('$1/hids/*/*/*/*/*/*/*.gz', format = 'newline_delimited', filename = true,
      columns = {\"timestamp\": 'VARCHAR', id: 'VARCHAR', location: 'VARCHAR', full_log: 'VARCHAR', data: 'JSON', syscheck: 'JSON',
        manager: 'STRUCT(name VARCHAR)', decoder: 'STRUCT(name VARCHAR, parent VARCHAR)',
        agent: 'STRUCT(id VARCHAR, name VARCHAR, ip VARCHAR, labels STRUCT(aws STRUCT(account_id VARCHAR, instance_id VARCHAR, region VARCHAR)))',
        rule: 'STRUCT(id VARCHAR, level INTEGER, description VARCHAR, groups JSON, mitre JSON)'})))
    TO '$2' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt))"
}

echo "| corpus | source | records in | rows out | pipeline | wall s | CPU s | cores busy | peak RSS MiB | output MB | DuckDB CPU / lakehunt CPU |" > "$OUT"
echo "|---|---|---|---|---|---|---|---|---|---|---|" >> "$OUT"
row() { # corpus, source, records, label, rows, outdir
  local t; read -r -a t < "$WORK/$4.time"
  [ "$4" = lakehunt ] && LH_CPU=$(python3 -c "print(${t[1]} + ${t[2]})")
  python3 - "$@" "${t[@]}" "$(dusize "$6")" "$LH_CPU" >> "$OUT" <<'PY2'
import sys
corpus, src, recs, label, rows, _, wall, user, sys_, rss, out, lh = sys.argv[1:]
wall, cpu = float(wall), float(user) + float(sys_)
ratio = "" if label == "lakehunt" else f"{cpu / float(lh):.2f}x"
print(f"| {corpus} | {src} | {int(recs):,} | {int(rows):,} | {label} | {wall:.1f} | {cpu:.1f} | {cpu / wall:.2f} | {int(rss) / 1024:.0f} | {int(out) / 1e6:.1f} | {ratio} |")
PY2
}
compare() { # corpus, raw, source, records in
  local corpus=$1 raw=$2 src=$3 recs=$4
  rm -rf "$WORK/lake" "$WORK/duck-full" "$WORK/duck-lean"
  local prefix=() # gen writes host IDS alerts under hids/, a prefix the user maps to the source
  [ "$src" = hids ] && prefix=(--source-prefix hids=hids/)
  measure lakehunt "$BIN" compact --settle 0 --from "$raw" --lake "$WORK/lake" --sources "$src" "${prefix[@]}" --json
  "$BIN" vacuum --lake "$WORK/lake" --min-age 0s >/dev/null # count live files only, not merged-away ones
  row "$corpus" "$src" "$recs" lakehunt \
    "$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['records_written'])" "$WORK/lakehunt.out")" "$WORK/lake"
  case $src in
  cloudtrail)
    measure duckdb-full "$DUCK" "$(ct_sql "$raw" "$WORK/duck-full" full)"
    row "$corpus" "$src" "$recs" duckdb-full "$(duckrows "$WORK/duck-full")" "$WORK/duck-full"
    measure duckdb-lean "$DUCK" "$(ct_sql "$raw" "$WORK/duck-lean" lean)"
    row "$corpus" "$src" "$recs" duckdb-lean "$(duckrows "$WORK/duck-lean")" "$WORK/duck-lean" ;;
  vpc_flow)
    measure duckdb-full "$DUCK" "$V4_MACRO" "$(vf_sql "$raw" "$WORK/duck-full")"
    row "$corpus" "$src" "$recs" duckdb-full "$(duckrows "$WORK/duck-full")" "$WORK/duck-full" ;;
  route53_resolver)
    measure duckdb-full "$DUCK" "$(r53_sql "$raw" "$WORK/duck-full")"
    row "$corpus" "$src" "$recs" duckdb-full "$(duckrows "$WORK/duck-full")" "$WORK/duck-full" ;;
  *)
    local sql; case $src in waf) sql=waf_sql ;; alb) sql=alb_sql ;; guardduty) sql=gd_sql ;; securityhub) sql=sh_sql ;; hids) sql=hids_sql ;; esac
    measure duckdb-full "$DUCK" "$V4_MACRO" "$($sql "$raw" "$WORK/duck-full")"
    row "$corpus" "$src" "$recs" duckdb-full "$(duckrows "$WORK/duck-full")" "$WORK/duck-full" ;;
  esac
}

for n in $SIZES; do
  raw=$WORK/raw-$n
  if [ ! -d "$raw" ]; then
    "$BIN" gen --out "$raw" --scale custom --days $DAYS --accounts 2 --regions 2 --seed 3 --cloudtrail-per-day $((n / DAYS)) \
      --flows-per-day $((1000000 / DAYS)) --dns-per-day $((1000000 / DAYS)) --others-per-day $((n / 28)) --json > "$WORK/gen-$n.json"
  fi
  for src in $SOURCES; do
    [ $src != cloudtrail ] && [ "$n" != "${SIZES%% *}" ] && continue # the other sources: at the first size only
    recs=$(python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['events'][sys.argv[2]])" "$WORK/gen-$n.json" $src)
    compare "generated $n" "$raw" $src "$recs"
  done
done
if [[ " $SOURCES " = *" cloudtrail "* ]]; then
  replay=$WORK/replay-$REPLAY_EVENTS
  [ -d "$replay" ] || "$WORK/replay" --out "$replay" --events "$REPLAY_EVENTS" --objects 1000 > "$WORK/replay-$REPLAY_EVENTS.json"
  compare "replayed samples" "$replay" cloudtrail "$REPLAY_EVENTS"
fi

echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F); $(go version | cut -d' ' -f3); load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$OUT"
[ -n "${BENCH_SKIP_HUNT:-}" ] && exit 0

# Hunting: the whole shipped library over a generated lake, 7-day window ending the day before the data
# ends, each hunt's own baseline (7-30 days; on the 28-day large lake 21 days of history precede the
# window). The first run starts with a cold baseline cache (and leaves its window's days summarised in it,
# as every run does); then the next day's run two ways: the 7-day window slid by a day, and the window a
# scheduled daily tick runs (just the new day). Both reuse the cache. BENCH_HUNT_SCALE=large is the
# issue's benchmark (28 days, >= 10 M CloudTrail events, >= 100 M flows, >= 10 M DNS queries; about 19
# minutes of generation and compaction on 2 cores the first time; BENCH_DIR keeps it for the next run). Then detection quality and the same questions over raw logs.
SCALE=${BENCH_HUNT_SCALE:-small}
case $SCALE in large|medium) HDAYS=28 ;; *) HDAYS=14 ;; esac
START=2025-06-02
day() { date -u -d "$START + $1 days" +%F; }
END1=$(day $((HDAYS - 1))); FROM1=$(day $((HDAYS - 8))); END2=$(day $HDAYS); FROM2=$(day $((HDAYS - 7)))
H=$WORK/hunt-$SCALE
if [ ! -d "$H/lake" ]; then
  "$BIN" gen --out "$H/raw" --scale "$SCALE" --seed 1 --start $START --days $HDAYS --json > "$H.gen.json"
  /usr/bin/time -f "compact %e %M" -o "$H.compact.time" "$BIN" compact --settle 0 --from "$H/raw" --lake "$H/lake" --source-prefix hids=hids/ --json > "$H.compact.json"
  for f in "$H"/raw/ti/*; do "$BIN" ti import --lake "$H/lake" --feed "$(basename "$f" | cut -d- -f1)" --now "$(day $((HDAYS + 1)))" "$f" >/dev/null; done
fi
rm -rf "$H/cache" "$H/run1" "$H/run2" "$H/run3"
set +e # a run that exits 3 (a hunt failed or saw no data) is reported below, not the end of the benchmark
/usr/bin/time -f "first-7d-window($FROM1..$END1) %e %M" -o "$H.hunt.time" "$BIN" hunt run --lake "$H/lake" --cache-dir "$H/cache" --from $FROM1 --to $END1 --out "$H/run1" --json > /dev/null
/usr/bin/time -f "next-day-7d-window($FROM2..$END2) %e %M" -a -o "$H.hunt.time" "$BIN" hunt run --lake "$H/lake" --cache-dir "$H/cache" --from $FROM2 --to $END2 --out "$H/run2" --json > /dev/null
/usr/bin/time -f "next-day-scheduled($END1..$END2) %e %M" -a -o "$H.hunt.time" "$BIN" hunt run --lake "$H/lake" --cache-dir "$H/cache" --from $END1 --to $END2 --out "$H/run3" --json > /dev/null
set -e
echo
echo "hunting, scale $SCALE: $(python3 -c "import json;e=json.load(open('$H.gen.json'))['events'];print(', '.join(f'{v:,} {k}' for k,v in e.items()))"); $(cat "$H.compact.time")"
echo "| run | wall s | peak RSS MiB | findings |"
echo "|---|---|---|---|"
n=1
while read -r label wall rss; do
  echo "| $label | $wall | $((rss / 1024)) | $(wc -l < "$H/run$n/findings.jsonl") |"; n=$((n + 1))
done < "$H.hunt.time"
echo
python3 scripts/detection.py "$H/raw/ground-truth.json" "$H/run2/findings.jsonl" 7 || true

# The same questions over raw logs with DuckDB (read_json on the window's day prefixes) vs over the lake:
# three shipped hunts' own SQL, same engine, same session settings; both must find the same entities.
echo
echo "same question, raw JSON vs lake ($FROM1..$END1):"
LAKEHUNT_RAWLAKE_RAW="$H/raw" LAKEHUNT_RAWLAKE_LAKE="$H/lake" LAKEHUNT_RAWLAKE_FROM=$FROM1 LAKEHUNT_RAWLAKE_TO=$END1 \
  go test ./hunts/engine -run '^$' -bench RawVsLake -benchtime 1x -timeout 2h | grep -E '^Benchmark|^ok|FAIL'
