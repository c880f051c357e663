#!/usr/bin/env bash
# The Swift player and the C API's player side by side, per 20 ms frame at 8 kHz mu-law (160 samples) over
# the benchmarks' 25 s sequence: median wall-clock ns a frame (201 alternating rounds in one process) and
# instructions a frame (the same executable once under callgrind: each loop's inclusive count / its frames);
# and again for a host that stops at CS_EVENT_FINISHED instead of calling cs_player_is_finished each frame;
# then the same for an IVR call (the example account's lobby, the receiver listening, '1' pressed, the door
# sequence to its end) through IVRSession and through cs_call_render.
# Release build. Needs valgrind (make deps installs it).
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product FrameCost >&2
exe="$(swift build -c release --show-bin-path)/FrameCost"
"$exe"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
FRAME_COST_ROUNDS=1 valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$exe" > "$out/run.txt" 2> "$out/valgrind.txt"
frames=$(awk '/^frames/ { print $2 }' "$out/run.txt")
callgrind_annotate --inclusive=yes --threshold=100 "$out/cg" > "$out/annotated.txt"
count() { grep -m1 "$1" "$out/annotated.txt" | awk '{ gsub(",", "", $1); print $1 }'; }
swift=$(count 15swiftPlayerLoop)
c=$(count 11cPlayerLoop)
cEvent=$(count 29cPlayerLoopUntilFinishedEvent)
[ -n "$swift" ] && [ -n "$c" ] && [ -n "$cEvent" ] || { echo "frame-cost: loops not found in the callgrind profile" >&2; exit 1; }
swiftCall=$(count 13swiftCallLoop)
cCall=$(count 9cCallLoop)
callFrames=$(awk '/^call frames/ { print $3 }' "$out/run.txt")
[ -n "$swiftCall" ] && [ -n "$cCall" ] || { echo "frame-cost: call loops not found in the callgrind profile" >&2; exit 1; }
awk -v s="$swift" -v c="$c" -v ce="$cEvent" -v f="$frames" -v sc="$swiftCall" -v cc="$cCall" -v cf="$callFrames" 'BEGIN {
    printf "Player.render     instructions/frame %.1f\n", s / f
    printf "cs_player_render  instructions/frame %.1f (+%.1f %%) with cs_player_is_finished every frame\n", c / f, 100 * (c - s) / s
    printf "cs_player_render  instructions/frame %.1f (+%.1f %%) stopping at CS_EVENT_FINISHED\n", ce / f, 100 * (ce - s) / s
    printf "IVRSession.render instructions/frame %.1f (mu-law decode of the caller included)\n", sc / cf
    printf "cs_call_render    instructions/frame %.1f (%+.1f %%)\n", cc / cf, 100 * (cc - sc) / sc }'
