#!/usr/bin/env bash
# The management API's latency on SQLite (issue figures: GET p99 <= 2 ms at 2,000/s; PUT with validation and a
# new revision p99 <= 10 ms at 200/s), measured at a fixed rate (Benchmarks/API/load.py, open loop), plus the
# most wrk gets from 4 connections (closed loop), the server's CPU time per GET, and the floor: GET /healthz
# measured the same way. Uses the release callseq (built when missing) or $CALLSEQ.
#   Benchmarks/API/run.sh            DURATION=10 (seconds a round) GET_RATE=2000 PUT_RATE=200 by default
#   BASELINE=/path/to/other/callseq [ROUNDS=3] Benchmarks/API/run.sh
#                                    side by side: both servers run, GET rounds alternate between them (the
#                                    same load on the machine for both), then each one's PUT and wrk figures
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${DURATION:-10}   # (not $SECONDS: bash counts it up from the start)
GET_RATE=${GET_RATE:-2000}
PUT_RATE=${PUT_RATE:-200}
ROUNDS=${ROUNDS:-3}
if [ -z "${CALLSEQ:-}" ]; then
    swift build -c release --product callseq >/dev/null
    CALLSEQ="$(swift build -c release --show-bin-path)/callseq"
fi
work=$(mktemp -d)
servers=()
cleanup() { for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# start NAME BINARY: a server on its own store with an account, its key and a sequence; writes $work/NAME.env.
start() {
    local name=$1 binary=$2 dir="$work/$1"
    mkdir -p "$dir"
    local operator base account key location
    operator=$("$binary" keys create --store "$dir/store.sqlite" --operator)
    "$binary" serve --store "$dir/store.sqlite" --http 127.0.0.1:0 --listen 127.0.0.1:0 --rtp-ports 40100-40199 \
        --api-rate 100000 --log-level warning > "$dir/out" 2> "$dir/err" &
    servers+=($!)
    echo "pid=$!" > "$dir/env"
    for _ in $(seq 600); do grep -q "^listening on http" "$dir/out" 2>/dev/null && break; sleep 0.1; done
    base="http://$(sed -n 's/^listening on http //p' "$dir/out" | head -1)"
    [ "$base" != "http://" ] || { cat "$dir/err"; exit 1; }
    account=$(curl -sf -X POST "$base/api/v1/accounts" -H "Authorization: Bearer $operator" \
        -H 'Content-Type: application/json' -d '{"name":"Bench"}' | json "['id']")
    key=$(curl -sf -X POST "$base/api/v1/accounts/$account/keys" -H "Authorization: Bearer $operator" | json "['key']")
    location=$(curl -sf -D - -o /dev/null -X POST "$base/api/v1/accounts/me/sequences" -H "Authorization: Bearer $key" \
        -H 'Content-Type: application/json' \
        -d '{"name":"Front door","steps":[{"type":"recording","recording":"default"},{"type":"dtmf","digits":"1234#"}]}' |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    printf 'base=%s\nkey=%s\npath=%s\n' "$base" "$key" "/api/v1/accounts/me/sequences/${location##*/}" >> "$dir/env"
    printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$key" > "$dir/auth.lua"
    . "$dir/env"
    python3 Benchmarks/API/load.py get "$base" "$key" "$path" 200 2 2 >/dev/null   # warm-up
}

# get NAME [PATH]: one fixed-rate GET round (of the sequence, or of PATH).
get() { (. "$work/$1/env"; python3 Benchmarks/API/load.py get "$base" "$key" "${2:-$path}" "$GET_RATE" "$SECONDS_EACH" 8); }
# The floor: GET /healthz (no key check, no store) at the same rate, measured the same way: what the machine, the
# HTTP stack and the load generator cost by themselves.
floor() { get "$1" /healthz; }

# rest NAME: the PUT round, then wrk with the server's CPU time per request (utime + stime over the requests).
rest() {
    (
        . "$work/$1/env"
        python3 Benchmarks/API/load.py put "$base" "$key" "$path" "$PUT_RATE" "$SECONDS_EACH"
        cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
        before=$(cpu)
        out=$(wrk -t1 -c4 -d"${SECONDS_EACH}s" --latency -s "$work/$1/auth.lua" "$base$path")
        after=$(cpu)
        requests=$(echo "$out" | awk '/requests in/ {print $1}')
        echo "wrk, 4 connections, 1 thread, ${SECONDS_EACH} s, GET (closed loop: as fast as answers come):" \
            "$(echo "$out" | awk '/Requests\/sec/ {printf "%d/s", $2}'), p50 $(echo "$out" | awk '$1 == "50%" {print $2}')," \
            "p99 $(echo "$out" | awk '$1 == "99%" {print $2}');" \
            "server CPU $(python3 -c "print(f'{($after - $before) / $(getconf CLK_TCK) * 1e6 / $requests:.0f}')") µs a GET"
        echo "$out" | grep -E "Non-2xx" || true
    )
}

echo "callseq serve --store (SQLite, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if [ -z "${BASELINE:-}" ]; then
    start this "$CALLSEQ"
    echo "sequence $(. "$work/this/env"; echo "$path")"
    get this
    echo "floor, GET /healthz: $(floor this)"
    rest this
else
    start baseline "$BASELINE"
    start this "$CALLSEQ"
    for round in $(seq "$ROUNDS"); do
        echo "round $round: baseline ($BASELINE):   $(get baseline)"
        echo "round $round: this build ($CALLSEQ): $(get this)"
        echo "round $round: floor, GET /healthz (this build): $(floor this)"
    done
    echo "baseline:";   rest baseline
    echo "this build:"; rest this
    echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
