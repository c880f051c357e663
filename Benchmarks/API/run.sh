#!/usr/bin/env bash
# The management API's latency on SQLite (issue figures: GET p99 <= 2 ms at 2,000/s; PUT with validation and a
# new revision p99 <= 10 ms at 200/s), measured at a fixed rate (Benchmarks/API/load.py, open loop), plus the
# most wrk gets from 4 connections (closed loop). Uses the release callseq (built when missing) or $CALLSEQ.
#   Benchmarks/API/run.sh            SECONDS=10 GET_RATE=2000 PUT_RATE=200 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_EACH=${SECONDS:-10}
GET_RATE=${GET_RATE:-2000}
PUT_RATE=${PUT_RATE:-200}
if [ -z "${CALLSEQ:-}" ]; then
    swift build -c release --product callseq >/dev/null
    CALLSEQ="$(swift build -c release --show-bin-path)/callseq"
fi
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
operator=$("$CALLSEQ" keys create --store "$work/store.sqlite" --operator)
"$CALLSEQ" serve --store "$work/store.sqlite" --http 127.0.0.1:0 --listen 127.0.0.1:0 --rtp-ports 40100-40199 \
    --api-rate 100000 --log-level warning > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 600); do grep -q "^listening on http" "$work/out" 2>/dev/null && break; sleep 0.1; done
base="http://$(sed -n 's/^listening on http //p' "$work/out" | head -1)"
[ "$base" != "http://" ] || { cat "$work/err"; exit 1; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
account=$(curl -sf -X POST "$base/api/v1/accounts" -H "Authorization: Bearer $operator" \
    -H 'Content-Type: application/json' -d '{"name":"Bench"}' | json "['id']")
key=$(curl -sf -X POST "$base/api/v1/accounts/$account/keys" -H "Authorization: Bearer $operator" | json "['key']")
location=$(curl -sf -D - -o /dev/null -X POST "$base/api/v1/accounts/me/sequences" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' \
    -d '{"name":"Front door","steps":[{"type":"recording","recording":"default"},{"type":"dtmf","digits":"1234#"}]}' |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
path="/api/v1/accounts/me/sequences/${location##*/}"
echo "callseq serve --store (SQLite, $(nproc) cores, $(uptime | sed 's/.*load average: //') load), sequence $path"
python3 Benchmarks/API/load.py get "$base" "$key" "$path" 200 2 2 >/dev/null   # warm-up
python3 Benchmarks/API/load.py get "$base" "$key" "$path" "$GET_RATE" "$SECONDS_EACH" 8
python3 Benchmarks/API/load.py put "$base" "$key" "$path" "$PUT_RATE" "$SECONDS_EACH"
cat > "$work/auth.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $key"
EOF
echo "wrk, 4 connections, 1 thread, ${SECONDS_EACH} s, GET (closed loop: as fast as answers come):"
wrk -t1 -c4 -d"${SECONDS_EACH}s" --latency -s "$work/auth.lua" "$base$path" |
    grep -E "Requests/sec|50%|90%|99%|requests in|Non-2xx"
