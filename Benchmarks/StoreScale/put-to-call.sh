#!/usr/bin/env bash
# The time from a PUT of a sequence to the first call that plays the change (`callseq serve --store --http`,
# one process): an account with an IVR whose option 1 runs a DTMF sequence; ROUNDS times the sequence is PUT with
# new digits and a call placed at once presses 1 and must receive the new digits (put_to_call.py).
#   [ROUNDS=20] [CONFIG=release] Benchmarks/StoreScale/put-to-call.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
config=${CONFIG:-release}
swift build -c "$config" --product callseq >/dev/null 2>&1
BIN=.build/$config/callseq
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
key=$("$BIN" keys create --store "$work/store.sqlite3" --operator | tail -n 1)
"$BIN" serve --store "$work/store.sqlite3" --http 127.0.0.1:0 --listen 127.0.0.1:0 --rtp-ports 30000-30999 \
    --trusted-proxy 127.0.0.1 > "$work/out" 2> "$work/log" &
server=$!
until grep -q '^listening on udp' "$work/out" 2>/dev/null; do sleep 0.01; done
http=$(sed -n 's/^listening on http \(.*\)$/\1/p' "$work/out"); sip=$(sed -n 's/^listening on udp .*:\([0-9]*\)$/\1/p' "$work/out")
api="http://$http/api/v1"
call() { curl -sS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
account=$(call -X POST "$api/accounts" -d '{"name":"Door"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
call -X POST "$api/accounts/$account/sequences" -d '{"name":"Door","steps":[{"type":"dtmf","digits":"0000#"}]}' -D "$work/h" -o /dev/null
sequence=$(sed -n 's/^[Ll]ocation: \(.*\)\r$/\1/p' "$work/h")
call -X POST "$api/accounts/$account/ivrs" -d '{"name":"Lobby","prompt":"none","options":{"1":{"sequence":"Door"}}}' -o /dev/null
call -X PUT "$api/accounts/$account/numbers/5145550100" -d '{"sms":false,"route":{"ivr":"Lobby"}}' -o /dev/null
echo "config $config"
python3 Benchmarks/StoreScale/put_to_call.py "http://$http" "$key" "$sequence" "$sip" 5145550100 "${ROUNDS:-20}"
