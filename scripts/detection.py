#!/usr/bin/env python3
"""Detection quality of a hunt run against the generator's ground truth.

usage: scripts/detection.py RAW_DIR/ground-truth.json RUN_DIR/findings.jsonl WINDOW_DAYS

A planted scenario is found when a finding of one of its expected hunts is about one of its entities
(entity key, or an evidence row whose event_id belongs to the scenario, or a result value naming one of
its entity values such as the C2 IP or the tunnel domain). Every MEDIUM+ finding that matches no planted
scenario counts as a false positive on the clean background.
"""
import json, sys

gt = json.load(open(sys.argv[1]))
findings = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
days = float(sys.argv[3])
rank = {"CRITICAL": 4, "HIGH": 3, "MEDIUM": 2, "LOW": 1, "INFORMATIONAL": 0}
ignore = {"account_id", "region", "vpc_id", "secret_count", "c2_port"}

def values(s):
    return {v for k, v in s["entities"].items() if k not in ignore and v}

def matches(f, s):
    ids = set(s.get("event_ids") or [])
    vals = values(s)
    if f["entity"]["key"] in vals:
        return True
    blob = json.dumps(f.get("fields", {})) + json.dumps([e.get("row", {}) for e in f.get("evidence") or []])
    if any(e.get("row", {}).get("event_id") in ids for e in f.get("evidence") or []):
        return True
    return any(v in blob for v in vals if len(v) > 6)

hunts_run = {f["hunt_id"] for f in findings}
print(f"| scenario | expected hunts | found by | result |")
print(f"|---|---|---|---|")
missed = 0
for s in gt["scenarios"]:
    by = sorted({f["hunt_id"] for f in findings if f["hunt_id"] in s["expected_hunts"] and matches(f, s)})
    ok = bool(by)
    missed += not ok
    print(f"| {s['name']} | {', '.join(s['expected_hunts'])} | {', '.join(by) or '-'} | {'found' if ok else 'MISSED'} |")
fp = [f for f in findings if rank.get(f["severity"], 0) >= 2 and not any(matches(f, s) for s in gt["scenarios"])]
print()
print(f"findings: {len(findings)}; MEDIUM+ not explained by a planted scenario: {len(fp)} over {days:g} days = {len(fp)/days:.1f}/day")
for f in fp[:15]:
    print(f"  background [{f['severity']}] {f['hunt_id']}: {f['title'][:150]}")
sys.exit(1 if missed else 0)
