#!/usr/bin/env bash
# bench/undo.sh — the undo of the largest fix apidiag makes, against the fix itself:
# `kubectl apidiag etcd --fix completed-jobs -A --yes` on 20,000 completed Jobs (the
# lab's --benchmark size, bulk mode), then `kubectl apidiag undo --yes` of its
# bundle, both with default flags, as a user would run them.
#
# Not a test: it takes a few minutes and `cargo test` never runs it. It prints wall
# time and peak RSS (/usr/bin/time), API requests (the lab's audit log,
# ResponseComplete events of kubectl-apidiag only) and the ratio undo / fix, then
# checks with kubectl that every Job is back, Complete, and that no Pod ran.
#
# Usage: bench/undo.sh          (builds release binaries, starts and stops its lab)
# Env:   BENCH_DIR (work folder), KUBECTL (default: kubectl on PATH), JOBS (20000)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/apidiag-undo.XXXXXX)}"
KUBECTL="${KUBECTL:-$(command -v kubectl || echo /usr/bin/kubectl)}"
export APIDIAG_LAB_DIR="$BENCH_DIR/lab"
BENCH_HOME="$BENCH_DIR/home"
mkdir -p "$BENCH_HOME"

say() { printf '\n== %s\n' "$*" >&2; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

say "building release binaries"
(cd "$ROOT" && cargo build --release -q -p kubectl-apidiag -p apidiag-lab)
BIN="$ROOT/target/release"
LAB="$BIN/apidiag-lab"

say "starting the lab in $APIDIAG_LAB_DIR"
"$LAB" up >/dev/null
trap '"$LAB" down >/dev/null 2>&1 || true' EXIT
say "applying the benchmark's completed-jobs scenario"
"$LAB" apply --benchmark --scenario completed-jobs >&2

STATE="$APIDIAG_LAB_DIR/state.json"
AUDIT="$(json_field "$STATE" audit_log)"
ADMIN="$(json_field "$STATE" kubeconfig)"
kube() { HOME="$BENCH_HOME" "$KUBECTL" --kubeconfig "$ADMIN" "$@"; }
count_jobs() { kube get jobs -A --field-selector status.successful=1 --no-headers 2>/dev/null | wc -l; }
count_pods() { kube get pods -A --no-headers 2>/dev/null | wc -l; }

JOBS_BEFORE="$(count_jobs)"
PODS_BEFORE="$(count_pods)"
say "$JOBS_BEFORE completed Jobs, $PODS_BEFORE Pods"

# measure NAME COMMAND...: prints "wall rss requests" and keeps the streams.
measure() {
    local name="$1"
    shift
    local from
    from="$(wc -l < "$AUDIT")"
    /usr/bin/time -f '%e %M' -o "$BENCH_DIR/$name.time" env HOME="$BENCH_HOME" "$@" \
        > "$BENCH_DIR/$name.out" 2> "$BENCH_DIR/$name.err" || echo "exit $?" >> "$BENCH_DIR/$name.err"
    sleep 1
    local requests
    requests="$(python3 "$ROOT/bench/audit_count.py" "$AUDIT" "$from" "kubectl-apidiag/" \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')"
    echo "$(tail -1 "$BENCH_DIR/$name.time") $requests"
}

say "fix: kubectl apidiag etcd --fix completed-jobs -A --yes"
read -r FIX_WALL FIX_RSS FIX_REQ < <(measure fix "$BIN/kubectl-apidiag" --kubeconfig "$ADMIN" etcd --fix completed-jobs -A --yes)
tail -3 "$BENCH_DIR/fix.err" >&2
JOBS_AFTER_FIX="$(count_jobs)"

say "undo: kubectl apidiag undo --yes"
read -r UNDO_WALL UNDO_RSS UNDO_REQ < <(measure undo "$BIN/kubectl-apidiag" --kubeconfig "$ADMIN" undo --yes)
tail -4 "$BENCH_DIR/undo.err" >&2
JOBS_AFTER_UNDO="$(count_jobs)"
PODS_AFTER_UNDO="$(count_pods)"

python3 - "$FIX_WALL" "$FIX_RSS" "$FIX_REQ" "$UNDO_WALL" "$UNDO_RSS" "$UNDO_REQ" \
    "$JOBS_BEFORE" "$JOBS_AFTER_FIX" "$JOBS_AFTER_UNDO" "$PODS_BEFORE" "$PODS_AFTER_UNDO" <<'EOF'
import sys
fw, fr, fq, uw, ur, uq, before, after_fix, after_undo, pods_before, pods_after = sys.argv[1:]
fw, uw = float(fw), float(uw)
fr, ur = int(fr) / 1024, int(ur) / 1024
print(f"\n{before} completed Jobs; after the fix {after_fix}; after the undo {after_undo} (Pods: {pods_before} before, {pods_after} after)\n")
print("| | wall time | API requests | peak RSS |")
print("|---|---|---|---|")
print(f"| `kubectl apidiag etcd --fix completed-jobs -A --yes` | {fw:.1f} s | {fq} | {fr:.1f} MiB |")
print(f"| `kubectl apidiag undo --yes` | {uw:.1f} s | {uq} | {ur:.1f} MiB |")
print(f"| ratio undo / fix | {uw / fw:.2f} | {int(uq) / max(int(fq), 1):.2f} | {ur / fr:.2f} |")
ok = after_undo == before and int(after_fix) == 0 and pods_after == pods_before
print("\nevery Job back, none ran again" if ok else "\nMISMATCH: see the counts above")
sys.exit(0 if ok else 1)
EOF
