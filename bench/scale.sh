#!/usr/bin/env bash
# bench/scale.sh — every check at the scale AKS is tested at (issue 14): a lab with
# `aks-scale` (5,000 Nodes, 200,000 Pods, their Leases, owners, Services, Events…)
# and 20,000 completed Jobs, then, in one run:
#   - `kubectl apidiag` (every check) and each check's own binary,
#   - against what an SRE would type instead: the guides' kubectl commands per check,
#     and `kubectl get pods -A`;
#   - the cleanup of the 20,000 completed Jobs (`etcd --fix completed-jobs -A --yes`)
#     and its undo, at that scale, both with default pacing,
# each with wall time and peak RSS (/usr/bin/time), API requests (the lab's audit
# log, ResponseComplete only, by user agent) and bytes on the wire (a counting
# proxy both clients use). Prints Markdown tables with the ratios, and the
# findings of the full report.
#
# Not a test: creating the objects takes 10–20 minutes on 2 cores and `cargo test`
# never runs it.
#
# Usage: bench/scale.sh          (builds release binaries, starts and stops its lab)
# Env:   BENCH_DIR (work folder), KUBECTL (default: kubectl on PATH), NODES (5000),
#        PODS (200000), PROXY_PORT (default 41019)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/apidiag-scale.XXXXXX)}"
KUBECTL="${KUBECTL:-$(command -v kubectl || echo /usr/bin/kubectl)}"
NODES="${NODES:-5000}"
PODS="${PODS:-200000}"
PROXY_PORT="${PROXY_PORT:-41019}"
export APIDIAG_LAB_DIR="$BENCH_DIR/lab"
BENCH_HOME="$BENCH_DIR/home"
mkdir -p "$BENCH_HOME"
ROWS="$BENCH_DIR/rows.tsv"
: > "$ROWS"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time

say "building release binaries"
PLUGINS=(kubectl-apidiag kubectl-apidiag-etcd kubectl-apidiag-throttle kubectl-apidiag-webhooks
    kubectl-apidiag-connectivity kubectl-apidiag-guard)
(cd "$ROOT" && cargo build --release -q -p apidiag-lab "${PLUGINS[@]/#/-p}")
BIN="$ROOT/target/release"
LAB="$BIN/apidiag-lab"

say "starting a scale lab in $APIDIAG_LAB_DIR: $NODES Nodes, $PODS Pods, 20,000 completed Jobs"
PROXY_PID=""
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    "$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
started=$(date +%s)
"$LAB" up --scenario aks-scale --scenario completed-jobs --benchmark --nodes "$NODES" --pods "$PODS" >/dev/null
CREATED_IN=$(( $(date +%s) - started ))
grep -E "^(aks-scale|completed-jobs) " "$APIDIAG_LAB_DIR/serve.log" >&2 || true
echo "  lab with every object ready in ${CREATED_IN} s" >&2

STATE="$APIDIAG_LAB_DIR/state.json"
start_proxy "$PROXY_PORT"
kube_admin() { HOME="$BENCH_HOME" "$KUBECTL" --kubeconfig "$ADMIN" "$@"; }
# A failed read counts 0 rather than ending a run whose lab took 20 minutes.
count_jobs() { { kube_admin get jobs -A --field-selector status.successful=1 --no-headers 2>/dev/null || true; } | wc -l; }

# Warm kubectl's discovery cache once, unmeasured, as on an SRE's machine, and let
# the object-count metric catch up (5 s poll in the lab).
HOME="$BENCH_HOME" "$KUBECTL" --kubeconfig "$PROXIED" get namespaces >/dev/null
sleep 6

# apidiag first: kubectl's LISTs of 200,000 Pods would otherwise be in the
# metrics every check reads since the API server started.
say "apidiag: every check, then each check alone"
measure all "kubectl apidiag -o json" "kubectl-apidiag/" "$BIN/kubectl-apidiag" --kubeconfig "$PROXIED" -o json
cp "$BENCH_DIR/out.txt" "$BENCH_DIR/report.json"
"$BIN/kubectl-apidiag" --kubeconfig "$ADMIN" > "$BENCH_DIR/report.txt" 2>&1 || true
for check in etcd throttle webhooks connectivity guard; do
    measure "$check-apidiag" "kubectl apidiag $check -o json" "kubectl-apidiag/" \
        "$BIN/kubectl-apidiag-$check" --kubeconfig "$PROXIED" -o json
done

say "what an SRE would type instead"
kube() { measure "$1" "kubectl ${*:2}" "kubectl/" "$KUBECTL" --kubeconfig "$PROXIED" "${@:2}"; }
kube pods-kubectl get pods -A
# etcd (seed 001, Cause 3; the same commands as bench/etcd.sh)
kube etcd-kubectl get --raw /metrics
kube etcd-kubectl get jobs -A --field-selector status.successful=1 -o json
kube etcd-kubectl get cronjobs -A -o json
kube etcd-kubectl get pods -A --field-selector status.phase=Failed -o json
kube etcd-kubectl get secrets -A -l owner=helm -o json
kube etcd-kubectl get configmaps -A -l owner=helm -o json
kube etcd-kubectl get resourcequotas -A -o json
# throttle (seed 001, Cause 5: APF metrics, FlowSchemas, priority levels)
kube throttle-kubectl get --raw /metrics
kube throttle-kubectl get flowschemas
kube throttle-kubectl get prioritylevelconfigurations
# webhooks (seed 004: webhook configurations, their Services and endpoints)
kube webhooks-kubectl get validatingwebhookconfigurations,mutatingwebhookconfigurations -o json
kube webhooks-kubectl get services,endpointslices -A
# connectivity (seeds 002/003 and the KubeAggregatedAPIErrors runbook)
kube connectivity-kubectl get --raw '/readyz?verbose'
kube connectivity-kubectl get apiservices
kube connectivity-kubectl get pods -n kube-system -l app=konnectivity-agent -o wide
kube connectivity-kubectl get nodes -o wide
# guard (seed 001, Cause 4)
kube guard-kubectl get flowschemas aks-managed-apiserver-guard -o yaml
kube guard-kubectl get events -n kube-system aks-managed-apiserver-throttling-enabled
kube guard-kubectl get configmap -n kube-system large-cluster-control-plane-scaling-status -o yaml

COMPLETED="$(count_jobs)"
say "cleanup: kubectl apidiag etcd --fix completed-jobs -A --yes ($COMPLETED completed Jobs, default pacing)"
measure clean "kubectl apidiag etcd --fix completed-jobs -A --yes" "kubectl-apidiag/" \
    "$BIN/kubectl-apidiag" --kubeconfig "$PROXIED" etcd --fix completed-jobs -A --yes
tail -3 "$BENCH_DIR/err.txt" >&2
AFTER_FIX="$(count_jobs)"
say "undo: kubectl apidiag undo --yes"
measure undo "kubectl apidiag undo --yes" "kubectl-apidiag/" "$BIN/kubectl-apidiag" --kubeconfig "$PROXIED" undo --yes
tail -3 "$BENCH_DIR/err.txt" >&2
AFTER_UNDO="$(count_jobs)"
PODS_NOW="$({ kube_admin get pods -A --no-headers 2>/dev/null || true; } | wc -l)"

python3 - "$ROWS" "$BENCH_DIR/report.json" "$CREATED_IN" "$COMPLETED" "$AFTER_FIX" "$AFTER_UNDO" "$PODS_NOW" <<'EOF'
import json
import sys

rows_path, report_path, created_in, completed, after_fix, after_undo, pods_now = sys.argv[1:]
rows = []
with open(rows_path) as f:
    for line in f:
        group, name, wall, requests, down, rss, audit = line.rstrip("\n").split("\t")
        rows.append(dict(group=group, name=name, wall=float(wall), requests=int(requests),
                         down=int(down), rss=int(rss), audit=json.loads(audit)))

def total(group):
    part = [r for r in rows if r["group"] == group]
    return dict(wall=sum(r["wall"] for r in part), requests=sum(r["requests"] for r in part),
                down=sum(r["down"] for r in part), rss=max(r["rss"] for r in part), commands=len(part))

mib = lambda n: f"{n / 1024 / 1024:.2f} MiB"
def line(label, t):
    return f"| {label} | {t['wall']:.2f} s | {t['requests']} | {mib(t['down'])} | {t['rss'] / 1024:.1f} MiB |"
def ratio(a, k):
    return (f"| ratio | {a['wall'] / k['wall']:.3f} | {a['requests'] / max(k['requests'], 1):.3f} | "
            f"{a['down'] / max(k['down'], 1):.3f} | {a['rss'] / k['rss']:.3f} |")

print(f"\nObjects created through the API in {created_in} s (lab start included).\n")
print("### The full report against `kubectl get pods -A`\n")
print("| | wall time | API requests | bytes on the wire | peak RSS |")
print("|---|---|---|---|---|")
everything, pods = total("all"), total("pods-kubectl")
print(line("`kubectl apidiag` (every check)", everything))
print(line("`kubectl get pods -A`", pods))
print(ratio(everything, pods))
aims = [("wall ≤ 10 s", everything["wall"] <= 10), ("requests ≤ 500", everything["requests"] <= 500),
        ("RSS ≤ 64 MiB", everything["rss"] <= 64 * 1024),
        ("≤ 1/20 of kubectl get pods -A in time", everything["wall"] * 20 <= pods["wall"]),
        ("≤ 1/20 in bytes", everything["down"] * 20 <= pods["down"]),
        ("≤ 1/20 in RSS", everything["rss"] * 20 <= pods["rss"])]
print("\naims: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in aims))

print("\n### Each check alone against the guides' kubectl commands for it\n")
print("| check | apidiag wall | kubectl wall | apidiag requests | kubectl requests | apidiag bytes | kubectl bytes | apidiag RSS | kubectl RSS (largest) |")
print("|---|---|---|---|---|---|---|---|---|")
for check in ["etcd", "throttle", "webhooks", "connectivity", "guard"]:
    a, k = total(f"{check}-apidiag"), total(f"{check}-kubectl")
    print(f"| {check} | {a['wall']:.2f} s | {k['wall']:.2f} s ({k['commands']} commands) | {a['requests']} | {k['requests']} | "
          f"{mib(a['down'])} | {mib(k['down'])} | {a['rss'] / 1024:.1f} MiB | {k['rss'] / 1024:.1f} MiB |")
print("\nkubectl commands:")
for r in rows:
    if r["group"].endswith("-kubectl"):
        print(f"  {r['name']:<88} {r['wall']:7.2f} s {r['requests']:5} req {mib(r['down']):>12} {r['rss'] / 1024:7.1f} MiB")

print(f"\n### Cleanup of {completed} completed Jobs and its undo, on the scale lab\n")
print("| | wall time | API requests | DELETEs | bytes on the wire | peak RSS |")
print("|---|---|---|---|---|---|")
for group, label in [("clean", "`kubectl apidiag etcd --fix completed-jobs -A --yes`"), ("undo", "`kubectl apidiag undo --yes`")]:
    r = [x for x in rows if x["group"] == group][0]
    print(f"| {label} | {r['wall']:.1f} s | {r['requests']} | {r['audit']['deletes']} | {mib(r['down'])} | {r['rss'] / 1024:.1f} MiB |")
ok = int(after_fix) == 0 and after_undo == completed
print(f"\ncompleted Jobs: {completed} before, {after_fix} after the fix, {after_undo} after the undo; Pods now {pods_now}"
      + ("" if ok else "  MISMATCH"))

report = json.load(open(report_path))
print(f"\napidiag's own cost line: {report['cost']['requests']} requests, {mib(report['cost']['bytesReceived'])} received after decompression")
print("\nfindings of the full report above ok:")
for check in report["checks"]:
    for f in check["findings"]:
        if f["severity"] != "ok":
            print(f"  {f['severity']:<8} {check['check']:<13} {f['title']}  [{f['id']}]")
sys.exit(0 if ok else 1)
EOF
echo "(work folder: $BENCH_DIR)" >&2
