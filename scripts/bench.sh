#!/usr/bin/env bash
# make bench: compaction throughput and memory, lakehunt vs the DuckDB-only way, on generated raw logs.
# Both sides run in the same binary's embedded DuckDB / Go runtime, on the same files, with the same
# thread count (all cores); peak RSS is GNU time's maximum resident set size of each process.
# Usage: scripts/bench.sh [CT_EVENTS...]   (default: 500000 4000000)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/lakehunt}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/lakehunt-bench.XXXX)}
mkdir -p "$WORK" "$WORK/empty-raw"
# The DuckDB-only side runs its SQL through 'lakehunt query', which reads a lake: compaction starts an empty one.
"$BIN" compact --settle 0 --from "$WORK/empty-raw" --lake "$WORK/empty-lake" >/dev/null
SIZES=${*:-500000 4000000}
DAYS=7
OUT=${BENCH_OUT:-$WORK/results.md}
command -v /usr/bin/time >/dev/null || { echo "bench needs GNU time (/usr/bin/time): apt-get install time" >&2; exit 1; }

measure() { # label, command... -> appends "label wall_s rss_kb" to $WORK/measure
  local label=$1; shift
  /usr/bin/time -f "$label %e %M" -a -o "$WORK/measure" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" || {
    echo "$label failed:"; tail -5 "$WORK/$label.err"; exit 1; }
}

dusize() { du -sb "$1" | cut -f1; }

echo "| source | events | tool | wall s | events/s | raw MB/s (uncompressed) | peak RSS MiB | output MB |" > "$OUT"
echo "|---|---|---|---|---|---|---|---|" >> "$OUT"
for n in $SIZES; do
  raw=$WORK/raw-$n
  if [ ! -d "$raw" ]; then
    "$BIN" gen --out "$raw" --scale custom --days $DAYS --accounts 2 --regions 2 --seed 3 \
      --cloudtrail-per-day $((n / DAYS)) --flows-per-day $((1000000 / DAYS)) --dns-per-day 1000 --json > "$WORK/gen-$n.json"
  fi
  ct_events=$(python3 -c "import json;print(json.load(open('$WORK/gen-$n.json'))['events']['cloudtrail'])")
  flows=$(python3 -c "import json;print(json.load(open('$WORK/gen-$n.json'))['events']['vpc_flow'])")
  ct_bytes=$(find "$raw/AWSLogs" -path '*/CloudTrail/*' -name '*.json.gz' -exec zcat {} + | wc -c)
  vf_bytes=$(find "$raw/AWSLogs" -path '*/vpcflowlogs/*' -name '*.log.gz' -exec zcat {} + | wc -c)

  for src in cloudtrail vpc_flow; do
    rm -rf "$WORK/lake" "$WORK/duck" && mkdir -p "$WORK/duck"
    : > "$WORK/measure"
    measure lakehunt "$BIN" compact --settle 0 --from "$raw" --lake "$WORK/lake" --sources $src --json
    if [ $src = cloudtrail ]; then
      sql="COPY (SELECT * EXCLUDE (rn) FROM (
        SELECT (e->>'eventTime')::TIMESTAMP AS event_time, coalesce(e->>'recipientAccountId', '') AS account_id,
          e->>'awsRegion' AS region, e->>'eventID' AS event_id, e->>'eventVersion' AS event_version,
          e->>'eventName' AS event_name, e->>'eventSource' AS event_source, e->>'eventType' AS event_type,
          e->>'sourceIPAddress' AS source_ip_address, e->>'userAgent' AS user_agent,
          e->>'errorCode' AS error_code, e->>'errorMessage' AS error_message,
          e->'userIdentity'->>'type' AS user_identity_type, e->'userIdentity'->>'arn' AS user_identity_arn,
          coalesce(e->'userIdentity'->'sessionContext'->'sessionIssuer'->>'arn', e->'userIdentity'->>'arn') AS principal_arn,
          e->'userIdentity'->>'accessKeyId' AS access_key_id,
          e->'requestParameters' AS request_parameters, e->'responseElements' AS response_elements,
          e->'additionalEventData' AS additional_event_data, e->'resources' AS resources, e->'userIdentity' AS user_identity,
          filename AS source_key, strftime((e->>'eventTime')::TIMESTAMP, '%Y-%m-%d') AS dt,
          row_number() OVER (PARTITION BY e->>'eventID') AS rn
        FROM (SELECT unnest(Records) AS e, filename FROM read_json('$raw/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz',
              columns = {Records: 'JSON[]'}, format = 'auto', maximum_object_size = 1073741824, filename = true)))
        WHERE rn = 1 ORDER BY event_time)
        TO '$WORK/duck' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, region, dt), OVERWRITE_OR_IGNORE)"
      events=$ct_events; bytes=$ct_bytes
    else
      sql="COPY (SELECT to_timestamp(start)::TIMESTAMP AS event_time, * , strftime(to_timestamp(start)::TIMESTAMP, '%Y-%m-%d') AS dt
        FROM read_csv('$raw/AWSLogs/*/vpcflowlogs/*/*/*/*/*.log.gz', delim = ' ', header = true, nullstr = '-',
                      union_by_name = true, filename = true) ORDER BY start)
        TO '$WORK/duck' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (\"account-id\", region, dt), OVERWRITE_OR_IGNORE)"
      events=$flows; bytes=$vf_bytes
    fi
    measure duckdb "$BIN" query --lake "$WORK/empty-lake" "$sql"
    "$BIN" vacuum --lake "$WORK/lake" --min-age 0s >/dev/null # count live files only, not merged-away ones
    while read -r label wall rss; do
      out=$([ $label = lakehunt ] && dusize "$WORK/lake" || dusize "$WORK/duck")
      python3 - "$src" "$events" "$label" "$wall" "$rss" "$bytes" "$out" >> "$OUT" <<'PY'
import sys
src, events, label, wall, rss, raw, out = sys.argv[1:]
events, wall, rss, raw, out = int(events), float(wall), int(rss), int(raw), int(out)
print(f"| {src} | {events:,} | {label} | {wall:.1f} | {events/wall:,.0f} | {raw/1e6/wall:.1f} | {rss/1024:.0f} | {out/1e6:.1f} |")
PY
    done < "$WORK/measure"
  done
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%F); $(go version | cut -d' ' -f3)"
cat "$OUT"

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
  /usr/bin/time -f "compact %e %M" -o "$H.compact.time" "$BIN" compact --settle 0 --from "$H/raw" --lake "$H/lake" --json > "$H.compact.json"
  for f in "$H"/raw/ti/*; do "$BIN" ti import --lake "$H/lake" --feed "$(basename "$f" | cut -d- -f1)" --now "$(day $((HDAYS + 1)))" "$f" >/dev/null; done
fi
rm -rf "$H/cache" "$H/run1" "$H/run2" "$H/run3"
/usr/bin/time -f "first-7d-window($FROM1..$END1) %e %M" -o "$H.hunt.time" "$BIN" hunt run --lake "$H/lake" --cache-dir "$H/cache" --from $FROM1 --to $END1 --out "$H/run1" --json > /dev/null
/usr/bin/time -f "next-day-7d-window($FROM2..$END2) %e %M" -a -o "$H.hunt.time" "$BIN" hunt run --lake "$H/lake" --cache-dir "$H/cache" --from $FROM2 --to $END2 --out "$H/run2" --json > /dev/null
/usr/bin/time -f "next-day-scheduled($END1..$END2) %e %M" -a -o "$H.hunt.time" "$BIN" hunt run --lake "$H/lake" --cache-dir "$H/cache" --from $END1 --to $END2 --out "$H/run3" --json > /dev/null
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
