#!/usr/bin/env bash
# bench/etcd.sh — `kubectl apidiag etcd` against the seed's kubectl commands, on a lab
# with 20,000 completed Jobs and 50,000 other objects (the lab's --benchmark sizes).
#
# Not a test: it takes several minutes and is never run by `cargo test`. It prints,
# side by side, for the same answers:
#   - wall time and peak RSS (/usr/bin/time),
#   - API requests (the lab's audit log, ResponseComplete events only, by user agent),
#   - bytes on the wire (a counting TCP proxy both clients go through: after gzip,
#     TLS included, so kubectl's transparent compression counts for kubectl too),
# for the diagnosis (default, and with --scan-sizes against kubectl's -o json of every
# ConfigMap, Secret and Pod), and for the cleanup of completed Jobs with backups
# against `kubectl delete jobs -A --field-selector status.successful=1`. After its
# DELETEs, kubectl waits for each Job to be gone with one request at a time at
# client-go's default 5 per second (over an hour for 20,000), so it is stopped after
# KUBECTL_DELETE_BUDGET seconds; the audit log says when its last DELETE completed,
# which is what apidiag's whole command is compared with.
#
# Usage: bench/etcd.sh            (builds release binaries, starts and stops its lab)
# Env:   BENCH_DIR (work folder), KUBECTL (default: kubectl on PATH),
#        KUBECTL_DELETE_BUDGET (seconds, default 300), PROXY_PORT (default 41017)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/apidiag-bench.XXXXXX)}"
KUBECTL="${KUBECTL:-$(command -v kubectl || echo /usr/bin/kubectl)}"
export KUBECTL_DELETE_BUDGET="${KUBECTL_DELETE_BUDGET:-300}"
PROXY_PORT="${PROXY_PORT:-41017}"
export APIDIAG_LAB_DIR="$BENCH_DIR/lab"
# A private HOME for the measured commands only (cargo, rustup and the lab's binary
# cache keep the real one): kubectl's discovery cache and apidiag's backups stay in
# the bench folder.
BENCH_HOME="$BENCH_DIR/home"
mkdir -p "$BENCH_HOME"
ROWS="$BENCH_DIR/rows.tsv"
: > "$ROWS"

# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
ensure_gnu_time

say "building release binaries"
(cd "$ROOT" && cargo build --release -q -p kubectl-apidiag-etcd -p kubectl-apidiag -p apidiag-lab)
BIN="$ROOT/target/release"
LAB="$BIN/apidiag-lab"

say "starting the lab in $APIDIAG_LAB_DIR"
"$LAB" up >/dev/null
PROXY_PID=""
cleanup() {
    [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
    "$LAB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "applying the benchmark scenarios (20,000 completed Jobs, 50,000 small objects, Helm history, failed Pods)"
"$LAB" apply --benchmark --scenario object-bloat --scenario helm-history --scenario completed-jobs --scenario failed-pods >&2

STATE="$APIDIAG_LAB_DIR/state.json"
start_proxy "$PROXY_PORT"

# Warm kubectl's discovery cache once, unmeasured, as on an SRE's machine.
HOME="$BENCH_HOME" "$KUBECTL" --kubeconfig "$PROXIED" get namespaces >/dev/null
# Let the object-count metric catch up with the scenarios (5 s poll in the lab).
sleep 6

say "diagnosis: kubectl apidiag etcd"
measure diag-apidiag "kubectl-apidiag-etcd -o json" "kubectl-apidiag/" \
    "$BIN/kubectl-apidiag-etcd" --kubeconfig "$PROXIED" -o json
cp "$BENCH_DIR/out.txt" "$BENCH_DIR/report.json"

say "diagnosis: the seed's kubectl commands for the same answers"
kube() { measure "$1" "kubectl ${*:2}" "kubectl/" "$KUBECTL" --kubeconfig "$PROXIED" "${@:2}"; }
for group in diag-kubectl sizes-kubectl; do
    kube "$group" get --raw /metrics
    kube "$group" get jobs -A --field-selector status.successful=1 -o json
    kube "$group" get cronjobs -A -o json
    kube "$group" get pods -A --field-selector status.phase=Failed -o json
    kube "$group" get secrets -A -l owner=helm -o json
    kube "$group" get configmaps -A -l owner=helm -o json
    kube "$group" get resourcequotas -A -o json
    kube "$group" get leases -A
    if [ "$group" = diag-kubectl ]; then
        kube "$group" get configmaps -A
        kube "$group" get secrets -A
    else
        kube "$group" get configmaps -A -o json
        kube "$group" get secrets -A -o json
        kube "$group" get pods -A -o json
    fi
done

say "diagnosis with per-object sizes: kubectl apidiag etcd --scan-sizes"
measure sizes-apidiag "kubectl-apidiag-etcd --scan-sizes -o json" "kubectl-apidiag/" \
    "$BIN/kubectl-apidiag-etcd" --kubeconfig "$PROXIED" --scan-sizes -o json

COMPLETED="$("$KUBECTL" --kubeconfig "$ADMIN" get jobs -A --field-selector status.successful=1 --no-headers | wc -l)"
say "cleanup: kubectl apidiag etcd --fix completed-jobs --all-namespaces --yes ($COMPLETED completed Jobs, with backups)"
measure clean-apidiag "kubectl-apidiag-etcd --fix completed-jobs -A --yes" "kubectl-apidiag/" \
    "$BIN/kubectl-apidiag-etcd" --kubeconfig "$PROXIED" --fix completed-jobs --all-namespaces --yes -o json
grep -E "^deleted|applied" "$BENCH_DIR/err.txt" >&2 || true
LEFT="$("$KUBECTL" --kubeconfig "$ADMIN" get jobs -A --field-selector status.successful=1 --no-headers 2>/dev/null | wc -l)"
RUNNING="$("$KUBECTL" --kubeconfig "$ADMIN" get jobs -A -l lab.apidiag.dev/expect=running --no-headers | wc -l)"
BUNDLE_BYTES="$(du -sb "$BENCH_HOME/.kube/apidiag/backups" | cut -f1)"
echo "  left: $LEFT completed Jobs; running Jobs kept: $RUNNING; backups: $BUNDLE_BYTES bytes" >&2

say "re-creating the completed Jobs for kubectl's turn"
"$LAB" apply --benchmark --scenario completed-jobs >&2
sleep 2

say "cleanup: kubectl delete jobs -A --field-selector status.successful=1 (stopped after ${KUBECTL_DELETE_BUDGET}s)"
measure clean-kubectl "kubectl delete jobs -A --field-selector status.successful=1" "kubectl/" \
    timeout "$KUBECTL_DELETE_BUDGET" "$KUBECTL" --kubeconfig "$PROXIED" delete jobs -A --field-selector status.successful=1

python3 - "$ROWS" "$COMPLETED" "$BENCH_DIR/report.json" <<'EOF'
import json
import sys

rows_path, completed, report_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
with open(rows_path) as f:
    for line in f:
        group, name, wall, requests, down, rss, audit = line.rstrip("\n").split("\t")
        audit = json.loads(audit)
        rows.append(dict(group=group, name=name, wall=float(wall), requests=int(requests),
                         down=int(down), rss=int(rss), deletes=audit["deletes"], audit=audit))

def total(group):
    part = [r for r in rows if r["group"] == group]
    return dict(wall=sum(r["wall"] for r in part), requests=sum(r["requests"] for r in part),
                down=sum(r["down"] for r in part), rss=max(r["rss"] for r in part),
                deletes=sum(r["deletes"] for r in part), commands=len(part))

def mib(n):
    return f"{n / 1024 / 1024:.2f} MiB"

def line(label, t):
    print(f"| {label} | {t['wall']:.1f} s | {t['requests']} | {mib(t['down'])} | {t['rss'] / 1024:.1f} MiB |")

for title, ours, theirs in [
    ("Diagnosis (default)", "diag-apidiag", "diag-kubectl"),
    ("Diagnosis with per-object sizes (--scan-sizes vs -o json of every ConfigMap, Secret, Pod)", "sizes-apidiag", "sizes-kubectl"),
]:
    a, k = total(ours), total(theirs)
    print(f"\n### {title}\n")
    print("| | wall time | API requests | bytes on the wire | peak RSS |")
    print("|---|---|---|---|---|")
    line("kubectl apidiag etcd", a)
    line(f"seed's kubectl commands ({k['commands']}, peak RSS of the largest)", k)
    print(f"| ratio apidiag / kubectl | {a['wall'] / k['wall']:.2f} | {a['requests'] / max(k['requests'], 1):.2f} | {a['down'] / max(k['down'], 1):.3f} | {a['rss'] / k['rss']:.2f} |")
    print("\nkubectl commands:")
    for r in rows:
        if r["group"] == theirs:
            print(f"  {r['name']:<70} {r['wall']:7.1f} s {r['requests']:5} req {mib(r['down']):>12} {r['rss'] / 1024:6.1f} MiB")

def cleanup_row(group):
    r = [x for x in rows if x["group"] == group][0]
    audit = r["audit"]
    to_last_delete = (audit["last_delete"] - audit["first"]) if audit["last_delete"] else None
    return r, to_last_delete

a, a_deleted_by = cleanup_row("clean-apidiag")
k, k_deleted_by = cleanup_row("clean-kubectl")
print(f"\n### Cleanup of {completed} completed Jobs\n")
print("| | command wall time | first request → last DELETE | DELETEs | API requests | peak RSS |")
print("|---|---|---|---|---|---|")
fmt = lambda v: f"{v:.1f} s" if v is not None else "-"
print(f"| kubectl apidiag etcd --fix completed-jobs -A --yes (listing, backup of every Job, deletes) | {a['wall']:.1f} s | {fmt(a_deleted_by)} | {a['deletes']} | {a['requests']} | {a['rss'] / 1024:.1f} MiB |")
stopped = " (stopped by the budget)" if k["wall"] >= 0.99 * float(__import__('os').environ.get('KUBECTL_DELETE_BUDGET', '300')) else ""
print(f"| kubectl delete jobs -A --field-selector status.successful=1{stopped} | {k['wall']:.1f} s | {fmt(k_deleted_by)} | {k['deletes']} | {k['requests']} | {k['rss'] / 1024:.1f} MiB |")
if a_deleted_by and k_deleted_by and k["deletes"]:
    # kubectl's time for all the Jobs, at the rate it deleted: its DELETEs alone.
    k_all = k_deleted_by * completed / k["deletes"]
    print(f"\nspeed-up, apidiag's whole command vs kubectl's DELETEs alone: {k_all / a['wall']:.1f}×")
    if stopped:
        waits = k["requests"] - k["deletes"] - 40
        print(f"kubectl then waits for each Job to be gone, one request at a time: about {waits} of {completed} checked when stopped")
try:
    cost = json.load(open(report_path))["cost"]
    print(f"\napidiag's own cost line (diagnosis): {cost['requests']} requests, {mib(cost['bytesReceived'])} received after decompression")
except (OSError, ValueError, KeyError):
    pass
EOF
echo "(work folder: $BENCH_DIR)" >&2
