#!/usr/bin/env bash
# `callseq serve --store` at a provider's scale: a SQLite store of ACCOUNTS accounts (default 100,000; a DID, an
# IVR and three sequences each, Benchmarks/StoreScale/generate.py), then serve's time to ready (its
# `listening on udp` line), its RSS, and the INVITE → 200 OK time of CALLS first calls to distinct numbers
# (the account is read, parsed and compiled) and of the same calls again (from the cache), one at a time over
# raw UDP (sipcalls.py). CONFIG=release (default) or debug; CALLSEQ=path uses that binary instead.
#   [ACCOUNTS=100000] [CALLS=1000] [CONFIG=release] Benchmarks/StoreScale/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
config=${CONFIG:-release}
if [ -n "${CALLSEQ:-}" ]; then
    BIN=$CALLSEQ
else
    swift build -c "$config" --product callseq >/dev/null
    BIN=.build/$config/callseq
fi
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
accounts=${ACCOUNTS:-100000} calls=${CALLS:-1000}
"$BIN" keys create --store "$work/store.sqlite3" --operator >/dev/null
python3 Benchmarks/StoreScale/generate.py "$work/store.sqlite3" "$accounts"
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
start=$(date +%s.%N)
"$BIN" serve --store "$work/store.sqlite3" --listen 127.0.0.1:0 --rtp-ports 30000-39999 --trusted-proxy 127.0.0.1 \
    --log-level warning > "$work/out" 2> "$work/log" &
server=$!
until grep -q '^listening on udp' "$work/out" 2>/dev/null; do sleep 0.01; done
ready=$(date +%s.%N)
port=$(sed -n 's/^listening on udp .*:\([0-9]*\)$/\1/p' "$work/out")
idle=$(rss_kb "$server")
numbers=$(python3 -c "import random; random.seed(7); print(' '.join(f'520{200 + i // 10000:03d}{i % 10000:04d}' for i in random.sample(range($accounts), min($calls, $accounts))))")
python3 Benchmarks/StoreScale/sipcalls.py "$port" $numbers > "$work/first"
python3 Benchmarks/StoreScale/sipcalls.py "$port" $numbers > "$work/later"
after=$(rss_kb "$server")
stats() { python3 - "$1" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
ok = sorted(float(r[1]) for r in rows if len(r) == 2)
bad = len(rows) - len(ok)
pick = lambda q: ok[min(len(ok) - 1, int(q * len(ok)))]
print(f"{len(ok)} answered ({bad} not): p50 {pick(0.5):.2f} ms, p99 {pick(0.99):.2f} ms, max {ok[-1]:.2f} ms")
PY
}
echo "config $config, $accounts accounts, store $(du -m "$work/store.sqlite3" | cut -f1) MiB"
echo "ready in $(python3 -c "print(f'{$ready - $start:.3f}')") s, RSS $((idle / 1024)) MiB at start, $((after / 1024)) MiB after $calls accounts loaded"
echo "first calls: $(stats "$work/first")"
echo "later calls: $(stats "$work/later")"
kill -TERM "$server"; wait "$server" || true
