#!/usr/bin/env bash
# Allocation and reference counting on the live media path, counted by callgrind in a release `callseq serve`
# carrying CALLS (20) SIPp calls of Benchmarks/Live (IVR, '1' as RFC 4733, the ~40 s sequence, BYE; 5 ms ticks).
# Callgrind collects only inside the media thread's loop (MediaWorker.run: each tick's sends, receives,
# renders and the statistics every 20 ticks). Fails unless malloc, swift_allocObject, swift_retain and
# swift_release are called at most a few times per call (joining and leaving the thread), never per packet,
# and unless the run sent every call's packets and callgrind counted the loop's send calls for them.
# Needs valgrind and sip-tester (make deps). valgrind 3.19 cannot read Swift 6.3's DWARF: the binary is
# run with its debug information stripped (the symbol table stays).
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${CALLS:-20}
swift build -c release --product callseq >/dev/null
work=$(mktemp -d); [ -z "${KEEP:-}" ] || echo "refcount: keeping $work" >&2
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
strip --strip-debug -o "$work/callseq" .build/release/callseq
loop=$(nm "$work/callseq" | awk '/MediaWorkerV3runyyF$/ { name = $3 } END { print name }')
[ -n "$loop" ] || { echo "refcount: MediaWorker.run not found in the binary" >&2; exit 1; }
# valgrind 3.19 (Debian 12) rewrites sigsuspend's mask in place (to remove its own signals) and dies when the
# mask is read-only, as libdispatch's is: an async `main` parks the main thread in sigsuspend with it. A
# preloaded sigsuspend hands the kernel a writable copy; nothing else changes.
cat > "$work/sigsuspend.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);  /* the kernel's sigset is 64 bits on Linux */
}
C
cc -shared -fPIC -O2 -o "$work/sigsuspend.so" "$work/sigsuspend.c"
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --collect-atstart=no --toggle-collect="$loop" --callgrind-out-file="$work/cg" \
    "$work/callseq" serve --account Benchmarks/Live/account.json --recordings-root "$PWD/Examples" \
    --listen 127.0.0.1:0 --rtp-ports 30000-30999 --rtp-timeout 120 --media-tick-ms 5 > "$work/out" 2> "$work/log" &
server=$!
for _ in $(seq 600); do grep -q '^listening' "$work/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on udp .*:\([0-9]*\)$/\1/p' "$work/out")
[ -n "$port" ] || { echo "refcount: the server did not start: $(tail -n 3 "$work/log")" >&2; exit 1; }
sipp -sf Benchmarks/Live/call.xml -s 5145550100 "127.0.0.1:$port" -i 127.0.0.1 -p "$(free_port)" \
    -mp "$(free_port)" -m "$calls" -l "$calls" -r 10 -timeout 240 -nostdin > "$work/sipp.out" 2>&1 \
    || { echo "refcount: SIPp failed: $(tail -n 5 "$work/sipp.out")" >&2; kill -TERM "$server"; exit 1; }
kill -TERM "$server"; wait "$server" || true
packets=$(sed -n 's/.*media: [0-9]* calls, \([0-9]*\) RTP packets sent.*/\1/p' "$work/log" | tail -n 1)
callgrind_annotate --tree=caller --inclusive=yes --threshold=100 "$work/cg" > "$work/tree.txt"
# Calls into a function: the sum of its callers' "(Nx)" counts in the caller tree.
calls_to() {
    python3 - "$1" "$work/tree.txt" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
total, pending = 0, 0
for line in open(path):
    count = re.search(r"\(([\d,]+)x\)", line)  # callgrind_annotate writes 1,234 with commas
    if "< " in line and count:
        pending += int(count.group(1).replace(",", ""))
    elif "*  " in line:
        if ":" + name + " [" in line:
            total += pending
        pending = 0
    else:
        pending = 0
print(total)
PY
}
# The run measured something: every call sent its ~40 s of packets, and callgrind saw the loop send them (a
# symbol never entered, or collection never switched on, would leave every count at 0; 9/10: the server's
# count and the loop's calls need not end on the same tick).
[ -n "$packets" ] && [ "$packets" -ge $(( calls * 1000 )) ] \
    || { echo "refcount: expected at least $(( calls * 1000 )) RTP packets, the server reported '${packets}'" >&2; exit 1; }
# The loop sends a tick's packets with one io_uring submission (liburing's io_uring_submit), or, without
# io_uring, a call's with one sendto (sendmmsg when it has several); it counts those calls.
sends=$(sed -n 's/.*system calls \([0-9]*\) send,.*/\1/p' "$work/log" | tail -n 1)
ring=$(sed -n 's/.* \([0-9]*\) media thread(s) sending through io_uring.*/\1/p' "$work/log" | tail -n 1)
sent=$(( $(calls_to sendto) + $(calls_to sendmmsg) + $(calls_to io_uring_submit) ))
[ -n "$sends" ] && [ "$sent" -ge $(( sends * 9 / 10 )) ] \
    || { echo "refcount: callgrind saw $sent sendto/sendmmsg/io_uring_submit calls in the media loop for ${sends:-?} send calls ($packets packets): nothing measured" >&2; exit 1; }
fail=0
printf 'media thread loop, %s calls, %s RTP packets sent (%s send calls seen; %s thread(s) sending through io_uring):\n' "$calls" "$packets" "$sent" "${ring:-?}"
for fn in malloc swift_allocObject swift_retain swift_release; do
    n=$(calls_to "$fn")
    printf '  %-18s %6d calls (%s per packet)\n' "$fn" "$n" "$(python3 -c "print(f'{$n / max($packets, 1):.4f}')")"
    # Joining and leaving the thread may cost a few each (the command queue, the end records); packets none.
    [ "$n" -le $(( 5 * calls )) ] || fail=1
done
[ "$fail" = 0 ] || { echo "refcount: the media loop allocates or counts references per packet" >&2; exit 1; }
