# bench/lib.sh — what bench/etcd.sh and bench/scale.sh share: sourced, not run.
#
# Needs ROOT, BENCH_DIR, BENCH_HOME and ROWS set. `start_proxy` needs the lab's
# state file (STATE) and sets SERVER, AUDIT, ADMIN, PROXY_PID and PROXIED (the
# admin kubeconfig through the counting proxy); `measure` appends one row to ROWS.

say() { printf '\n== %s\n' "$*" >&2; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

ensure_gnu_time() {
    if [ ! -x /usr/bin/time ]; then
        say "installing GNU time"
        apt-get update -qq && apt-get install -y -qq time >/dev/null
    fi
}

# start_proxy PROXY_PORT: a counting TCP proxy (proxy.py) in front of the lab.
start_proxy() {
    SERVER="$(json_field "$STATE" server)"
    AUDIT="$(json_field "$STATE" audit_log)"
    ADMIN="$(json_field "$STATE" kubeconfig)"
    local port="${SERVER##*:}"
    python3 "$ROOT/bench/proxy.py" "$1" "$port" "$BENCH_DIR/proxy.json" &
    PROXY_PID=$!
    sleep 1
    PROXIED="$BENCH_DIR/kubeconfig-proxied"
    sed "s#127.0.0.1:$port#127.0.0.1:$1#" "$ADMIN" > "$PROXIED"
}

# measure GROUP NAME USER_AGENT_PREFIX COMMAND...: one row of ROWS (group, name,
# wall s, requests, bytes down, peak RSS KiB, audit JSON); the command's output is
# in $BENCH_DIR/out.txt and err.txt.
measure() {
    local group="$1" name="$2" agent="$3"
    shift 3
    local from
    from="$(wc -l < "$AUDIT")"
    kill -USR2 "$PROXY_PID"
    sleep 0.3
    /usr/bin/time -f '%e %M' -o "$BENCH_DIR/time.txt" env HOME="$BENCH_HOME" "$@" > "$BENCH_DIR/out.txt" 2> "$BENCH_DIR/err.txt" || true
    kill -USR1 "$PROXY_PID"
    sleep 0.3
    local wall rss down audit requests
    wall="$(tail -1 "$BENCH_DIR/time.txt" | cut -d' ' -f1)"
    rss="$(tail -1 "$BENCH_DIR/time.txt" | cut -d' ' -f2)"
    down="$(json_field "$BENCH_DIR/proxy.json" down)"
    audit="$(python3 "$ROOT/bench/audit_count.py" "$AUDIT" "$from" "$agent")"
    requests="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["requests"])' "$audit")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$name" "$wall" "$requests" "$down" "$rss" "$audit" >> "$ROWS"
    printf '  %-62s %7ss %6s req %10s B %7s KiB\n' "$name" "$wall" "$requests" "$down" "$rss" >&2
}
