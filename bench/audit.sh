#!/usr/bin/env bash
# bench/audit.sh — the audit engine (crates/apidiag-audit) against `wc -l` and a
# `jq` pipeline computing the same top-10 user agents table, on a ≥ 1 GiB audit log
# made by scaling a real lab audit log (audit_scale.py: the same mix of clients,
# verbs, stages and codes, timestamps shifted per copy so all stay distinct), plain
# and gzipped, in one run on the same machine.
#
# Not a test: it takes a few minutes and `cargo test` never runs it. It prints wall
# time, throughput (uncompressed MB/s) and peak RSS (/usr/bin/time), the ratios
# engine / wc -l and engine / jq, and checks that the engine's top 10 equals jq's.
# The machine is shared with other sessions, so each command runs REPEAT times and
# the fastest run counts (peak RSS: the largest of the runs); the load average
# before and after is printed with the figures.
#
# Usage: bench/audit.sh            (builds the release example, uses the lab fixture)
# Env:   BENCH_DIR (work folder), AUDIT_SOURCE (a real audit log, .gz or not),
#        AUDIT_BYTES (size of the generated log, default 1 GiB), REPEAT (3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$(mktemp -d /tmp/apidiag-audit-bench.XXXXXX)}"
SOURCE="${AUDIT_SOURCE:-$ROOT/crates/apidiag-audit/tests/fixtures/lab-flood.audit.log.gz}"
BYTES="${AUDIT_BYTES:-1073741824}"
LOG="$BENCH_DIR/audit.log"
REPEAT="${REPEAT:-3}"

say() { printf '\n== %s\n' "$*" >&2; }

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
fi
command -v jq >/dev/null || { say "installing jq"; apt-get update -qq && apt-get install -y -qq jq >/dev/null; }

say "building the release example"
(cd "$ROOT" && cargo build --release -q -p apidiag-audit --example top)
TOP="$ROOT/target/release/examples/top"

say "generating $BYTES bytes from $SOURCE"
python3 "$ROOT/bench/audit_scale.py" "$SOURCE" "$LOG" "$BYTES"
SIZE="$(stat -c %s "$LOG")"
say "gzip -6"
gzip -6 -c "$LOG" > "$LOG.gz"
head -c $((SIZE / 8)) "$LOG" | sed '$d' > "$BENCH_DIR/eighth.log"

# The same counting rule as the engine: each request once, on ResponseComplete
# (or Panic), a watch when it opens (ResponseStarted), a refused watch on completion.
JQ_FILTER='select(((.stage == "ResponseComplete" or .stage == "Panic") and (.verb != "watch" or (.responseStatus.code // 0) >= 400)) or (.stage == "ResponseStarted" and .verb == "watch")) | .userAgent // ""'
export JQ_FILTER

# measure NAME COMMAND...: runs it REPEAT times under /usr/bin/time and prints
# "fastest_wall_seconds largest_max_rss_kib".
measure() {
    local name="$1"
    shift
    : > "$BENCH_DIR/$name.times"
    for _ in $(seq "$REPEAT"); do
        /usr/bin/time -f '%e %M' -o "$BENCH_DIR/$name.time" "$@" > "$BENCH_DIR/$name.out" 2> "$BENCH_DIR/$name.err"
        tail -1 "$BENCH_DIR/$name.time" >> "$BENCH_DIR/$name.times"
    done
    sort -n "$BENCH_DIR/$name.times" | awk 'NR == 1 { wall = $1 } { if ($2 > rss) rss = $2 } END { print wall, rss }'
}

say "warming the page cache"
cat "$LOG" "$LOG.gz" > /dev/null
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

say "wc -l"
read -r WC_WALL WC_RSS < <(measure wc wc -l "$LOG")
say "engine"
read -r EN_WALL EN_RSS < <(measure engine "$TOP" "$LOG")
say "engine on an eighth of the log (RSS must not grow with size)"
read -r EN8_WALL EN8_RSS < <(measure engine8 "$TOP" "$BENCH_DIR/eighth.log")
say "jq pipeline"
read -r JQ_WALL JQ_RSS < <(measure jq bash -c 'jq -r "$JQ_FILTER" "$1" | sort | uniq -c | sort -k1,1nr -k2 | head -10' _ "$LOG")
say "zcat | wc -l"
read -r ZWC_WALL ZWC_RSS < <(measure zwc bash -c 'zcat "$1" | wc -l' _ "$LOG.gz")
say "engine, gzip"
read -r ZEN_WALL ZEN_RSS < <(measure zengine "$TOP" "$LOG.gz")
say "zcat | jq pipeline"
read -r ZJQ_WALL ZJQ_RSS < <(measure zjq bash -c 'zcat "$1" | jq -r "$JQ_FILTER" | sort | uniq -c | sort -k1,1nr -k2 | head -10' _ "$LOG.gz")

cat "$BENCH_DIR/engine.err" >&2
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$SIZE" "$(stat -c %s "$LOG.gz")" "$(wc -l < "$LOG")" "$BENCH_DIR" \
    "$WC_WALL" "$WC_RSS" "$EN_WALL" "$EN_RSS" "$JQ_WALL" "$JQ_RSS" \
    "$ZWC_WALL" "$ZWC_RSS" "$ZEN_WALL" "$ZEN_RSS" "$ZJQ_WALL" "$ZJQ_RSS" "$EN8_RSS" "$(nproc)" \
    "$REPEAT" "$LOAD_BEFORE" "$LOAD_AFTER" <<'EOF'
import sys
size, gz_size, lines, bench = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
v = [float(x) for x in sys.argv[5:17]]
eighth_rss, cores = int(sys.argv[17]) / 1024, sys.argv[18]
repeat, load_before, load_after = sys.argv[19], sys.argv[20], sys.argv[21]
names = ["`wc -l`", "apidiag-audit (example `top`)", "`jq` pipeline (top 10)", "`zcat \\| wc -l`", "apidiag-audit, gzip", "`zcat \\| jq` pipeline"]
rows = [(names[i], v[2 * i], v[2 * i + 1] / 1024) for i in range(6)]
mb = size / 1e6

def table(rows):
    (wc, en, jq) = rows
    print("| | wall time | throughput | peak RSS |")
    print("|---|---|---|---|")
    for name, wall, rss in rows:
        print(f"| {name} | {wall:.2f} s | {mb / max(wall, 0.01):.0f} MB/s | {rss:.1f} MiB |")
    print(f"| ratio engine / {wc[0]} (throughput) | | {wc[1] / max(en[1], 0.01):.2f}× | |")
    print(f"| ratio engine / jq (throughput) | | {jq[1] / max(en[1], 0.01):.1f}× | |")

print(f"\n{size / 2**30:.2f} GiB, {lines:,} lines ({gz_size / 2**20:.0f} MiB gzipped); {cores} cores, shared with other sessions")
print(f"(load average {load_before} before, {load_after} after; fastest of {repeat} runs each)\n")
print("Plain:\n")
table(rows[:3])
print("\nGzipped (throughput in uncompressed bytes):\n")
table(rows[3:])
print(f"\nEngine peak RSS on an eighth of the log: {eighth_rss:.1f} MiB (whole log: {rows[1][2]:.1f} MiB)")

def top(path, engine):
    out = []
    for line in open(path):
        if engine:
            count, agent = line.rstrip("\n").split("\t")[:2]
        else:
            count, _, agent = line.strip().partition(" ")
        out.append((int(count), agent))
    return sorted(out, key=lambda r: (-r[0], r[1]))

same = all(top(f"{bench}/{e}.out", True) == top(f"{bench}/{j}.out", False) for e, j in [("engine", "jq"), ("zengine", "zjq")])
print("\nengine top 10 == jq top 10 (plain and gzip)" if same else "\nMISMATCH between the engine's and jq's top 10: see " + bench)
sys.exit(0 if same else 1)
EOF
