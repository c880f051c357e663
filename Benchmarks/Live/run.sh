#!/usr/bin/env bash
# Capacity of `callseq serve` on this machine: SIPp places N concurrent calls to Benchmarks/Live/account.json
# (the IVR answers, SIPp presses 1 as RFC 4733 from its own capture of a '1', the ~40 s sequence plays, the
# server ends the call with BYE). For each N it reports the media clock's lateness (the tick's last RTP send
# against its deadline, p99 and max, from the server's statistics at shutdown), the server's CPU per call
# over a steady window, its memory per call (RSS growth over the idle server), and the media loop's system
# calls per RTP packet (sendto/sendmmsg + recvmmsg + epoll_wait, counted by the loop over the whole run, against
# the packets sent and received).
#   CALLS="250 500 1000 2000" [REALTIME=50] [TICK_MS=1] [SEND=sendto] Benchmarks/Live/run.sh
#   (SCHED_FIFO priority; media tick; SEND: serve's --media-send, io-uring by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product callseq >/dev/null
BIN=.build/release/callseq
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true   # one RTP socket per call
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)
printf '| calls | ran the sequence | send lateness p99 (ms) | max (ms) | wake-up p99 (ms) | CPU per call (%% of a core) | memory per call (KiB) | SIPp failed calls | system calls per packet |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for n in ${CALLS:-250 500 1000 2000}; do
    work=$(mktemp -d)
    "$BIN" serve --account Benchmarks/Live/account.json --recordings-root "$PWD/Examples" --listen 127.0.0.1:0 --rtp-ports 20000-29999 \
        --trusted-proxy 127.0.0.1 --rtp-timeout 120 ${REALTIME:+--realtime-priority $REALTIME} ${SEND:+--media-send $SEND} --media-tick-ms ${TICK_MS:-5} > "$work/out" 2> "$work/log" &
    server=$!
    for _ in $(seq 100); do grep -q '^listening' "$work/out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's/^listening on udp .*:\([0-9]*\)$/\1/p' "$work/out")
    idle=$(rss_kb "$server")
    rate=200
    sipp -sf Benchmarks/Live/call.xml -s 5145550100 "127.0.0.1:$port" -i 127.0.0.1 -p "$(free_port)" \
        -mp "$(free_port)" -m "$n" -l "$n" -r "$rate" -timeout 180 -nostdin -trace_stat -stf "$work/stat.csv" \
        > "$work/sipp.out" 2>&1 &
    sipp=$!
    # Steady window: from the end of the ramp (+3 s) for 10 s, while every call plays its sequence.
    sleep $(( n / rate + 3 ))
    t0=$(cpu_ticks "$server"); sleep 10; t1=$(cpu_ticks "$server")
    rss=$(rss_kb "$server")
    wait "$sipp" && failed=0 || failed=$(tail -n 1 "$work/stat.csv" | awk -F';' '{print $16}')
    kill -TERM "$server"; wait "$server" || true
    stats=$(grep -o 'wake-up lateness.*' "$work/log" | tail -n 1)
    wake99=$(sed -n 's/.*wake-up lateness p50 [0-9]* us, p99 \([0-9]*\) us.*/\1/p' <<<"$stats")
    send99=$(sed -n 's/.*send lateness p99 \([0-9]*\) us.*/\1/p' <<<"$stats")
    sendmax=$(sed -n 's/.*send lateness p99 [0-9]* us, max \([0-9]*\) us.*/\1/p' <<<"$stats")
    syscalls=$(sed -n 's/.*epoll_wait, \([0-9.]*\) per packet.*/\1/p' <<<"$stats")
    cpu=$(python3 -c "print(f'{($t1 - $t0) / $hz / 10 / $n * 100:.3f}')")
    mem=$(python3 -c "print(f'{($rss - $idle) / $n:.1f}')")
    ms() { python3 -c "print(f'{${1:-0} / 1000:.2f}')"; }
    ran=$(grep -c 'running sequence' "$work/log" || true)
    printf '| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$ran" "$(ms "$send99")" "$(ms "$sendmax")" "$(ms "$wake99")" "$cpu" "$mem" "$failed" "${syscalls:-?}"
    rm -rf "$work"
done
