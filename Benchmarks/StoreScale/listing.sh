#!/usr/bin/env bash
# Listing and paging through the management API at 1 account, 100 (one full page) and ACCOUNTS (default 100,000;
# generate.py), on SQLite, release build: Benchmarks/StoreScale/listing.py against `serve --store --http` for each
# size, then the query plans of the listing statements (keyset paging on an index: a SEARCH, no SCAN, no temporary B-tree for
# ORDER BY, no OFFSET, no COUNT).
#   [ACCOUNTS=100000] [REQUESTS=300] [CALLSEQ=path] Benchmarks/StoreScale/listing.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${CALLSEQ:-}" ]; then
    swift build -c release --product callseq >/dev/null
    CALLSEQ="$(swift build -c release --show-bin-path)/callseq"
fi
accounts=${ACCOUNTS:-100000} requests=${REQUESTS:-300}
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for n in 1 100 "$accounts"; do
    store="$work/store-$n.sqlite3"
    operator=$("$CALLSEQ" keys create --store "$store" --operator)
    python3 Benchmarks/StoreScale/generate.py "$store" "$n" >/dev/null
    client=$("$CALLSEQ" keys create --store "$store" --account "acc_$(printf '%020x' 0)")
    "$CALLSEQ" serve --store "$store" --http 127.0.0.1:0 --listen 127.0.0.1:0 --rtp-ports 40200-40299 \
        --api-rate 100000 --log-level warning > "$work/out" 2> "$work/err" &
    server=$!
    for _ in $(seq 600); do grep -q "^listening on http" "$work/out" 2>/dev/null && break; sleep 0.1; done
    base="http://$(sed -n 's/^listening on http //p' "$work/out" | head -1)"
    [ "$base" != "http://" ] || { cat "$work/err"; exit 1; }
    echo "== $n accounts ($(du -m "$store" | cut -f1) MiB; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
    python3 Benchmarks/StoreScale/listing.py "$base" "$operator" "$client" "$n" "$requests"
    kill "$server"; wait "$server" 2>/dev/null || true; server=""
done
echo "== query plans ($accounts accounts)"
python3 - "$work/store-$accounts.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
columns = ("a.id, a.name, p.sequences FROM accounts a LEFT JOIN packages p ON p.reseller = a.parent AND p.name = a.package")
for what, sql, binds in [
    ("operator's accounts", f"SELECT {columns} WHERE a.id > ? ORDER BY a.id LIMIT ?", ("acc_", 101)),
    ("a reseller's clients", f"SELECT {columns} WHERE a.parent = ? AND a.id > ? ORDER BY a.id LIMIT ?", ("acc_", "", 101)),
    ("an account's sequences", "SELECT id, name FROM sequences WHERE account = ? AND id > ? ORDER BY id LIMIT ?", ("acc_", "", 101)),
    ("an account's IVRs", "SELECT id, name FROM ivrs WHERE account = ? AND id > ? ORDER BY id LIMIT ?", ("acc_", "", 101)),
    ("an account's numbers", "SELECT number FROM numbers WHERE account = ? AND number > ? ORDER BY number LIMIT ?", ("acc_", "", 101)),
    ("an account's call records", "SELECT id FROM call_records WHERE account = ? AND id < ? ORDER BY id DESC LIMIT ?", ("acc_", 1 << 62, 101)),
]:
    plan = "; ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, binds))
    print(f"{what}: {plan}")
PY
