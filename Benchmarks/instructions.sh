#!/usr/bin/env bash
# Instructions (valgrind --tool=callgrind, the measured region only) and the median wall-clock time of
# each workload of the README's table and its reference, with both ratios. Instruction counts do not move
# with the machine's load; wall-clock medians do, so the goals are judged on the two together.
#   Benchmarks/instructions.sh            (make instructions)
# Needs valgrind and libspandsp-dev (make deps). Takes about two minutes.
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product Instructions >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 gives up on the DWARF of Swift 6.3's binaries ("Possibly corrupted debuginfo file"): a copy
# without debug information runs the same code.
bin="$work/Instructions"
cp "$(swift build -c release --show-bin-path)/Instructions" "$bin"
strip --strip-debug "$bin"

# Instructions in the measured region of one run under callgrind (the "totals:" line of its output).
instructions() {
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$work/$1.out" "$bin" "$1" --once \
        >/dev/null 2>"$work/$1.log" || { cat "$work/$1.log" >&2; exit 1; }
    awk '/^totals:/ { print $2 }' "$work/$1.out"
}

# The load + resample rows' input: 60 s of speech at 44.1 kHz stereo, FLAC and MP3 (as run.sh makes them).
sox -D ../TestAudio/speech/talkoff-8k-ulaw.wav -r 44100 -c 2 -b 16 "$work/src.wav" trim 0 60
sox -D "$work/src.wav" "$work/speech.flac"
sox -D "$work/src.wav" -C 128 "$work/speech.mp3"

# sox as a whole process: its instructions under callgrind, and the median of 5 runs' wall-clock time.
sox_instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/sox.out" sox -D "$1" -r 8000 "$work/sox.wav" 2>/dev/null
    awk '/^totals:/ { print $2 }' "$work/sox.out"
}
sox_microseconds() {
    python3 - "$1" "$work/sox.wav" <<'PY'
import statistics, subprocess, sys, time
runs = []
for _ in range(5):
    start = time.monotonic_ns()
    subprocess.run(["sox", "-D", sys.argv[1], "-r", "8000", sys.argv[2]], check=True)
    runs.append((time.monotonic_ns() - start) / 1000)
print(f"{statistics.median(runs):.1f}")
PY
}

# name|ours|reference|what the reference is|how the ratio reads (faster: reference/ours; share: ours/reference)
pairs=(
    "DTMF synthesis, 25.6 s in 20 ms frames, 8 kHz|synthesis.ours|synthesis.spandsp|spandsp dtmf_tx|faster"
    "DTMF detection, 126 s speech + digits, 8 kHz|detection.ours|detection.spandsp|spandsp dtmf_rx|faster"
    "G.711 mu-law encoding, 60 s at 8 kHz|g711.ours|g711.spandsp|spandsp linear_to_ulaw|faster"
    "G.711 A-law encoding, 60 s at 8 kHz|g711a.ours|g711a.spandsp|spandsp linear_to_alaw|faster"
    "player, 25 s sequence in 20 ms frames, 8 kHz PCM16|player.pcm16.8k|copy.pcm16.8k|copy of the frames|share"
    "player, 25 s sequence in 20 ms frames, 8 kHz mu-law|player.ulaw.8k|copy.ulaw.8k|copy of the frames|share"
    "player, 25 s sequence in 20 ms frames, 8 kHz A-law|player.alaw.8k|copy.alaw.8k|copy of the frames|share"
    "player, 25 s sequence in 20 ms frames, 48 kHz PCM16|player.pcm16.48k|copy.pcm16.48k|copy of the frames|share"
    "load + resample 60 s 44.1 kHz stereo FLAC to 8 kHz|load.flac|sox|sox IN -r 8000 OUT.wav (process)|faster"
    "load + resample 60 s 44.1 kHz stereo MP3 to 8 kHz|load.mp3|sox|sox IN -r 8000 OUT.wav (process)|faster"
)
echo "| workload | ours (instructions) | reference | reference (instructions) | instructions ratio" \
    "| ours (µs, median) | reference (µs, median) | wall-clock ratio |"
echo "|---|---|---|---|---|---|---|---|"
for pair in "${pairs[@]}"; do
    IFS='|' read -r what ours reference label kind <<<"$pair"
    export CALLSEQ_BENCH_FILE="$work/speech.${ours#load.}"
    ours_i=$(instructions "$ours"); ours_t=$("$bin" "$ours")
    if [ "$reference" = sox ]; then
        reference_i=$(sox_instructions "$CALLSEQ_BENCH_FILE")
        reference_t=$(sox_microseconds "$CALLSEQ_BENCH_FILE")
    else
        reference_i=$(instructions "$reference"); reference_t=$("$bin" "$reference")
    fi
    python3 - "$what" "$label" "$kind" "$ours_i" "$reference_i" "$ours_t" "$reference_t" <<'PY'
import sys
what, label, kind = sys.argv[1:4]
oi, ri = int(sys.argv[4]), int(sys.argv[5])
ot, rt = float(sys.argv[6]), float(sys.argv[7])
def ratio(ours, ref):
    return f"{ref / ours:.2f}x faster" if kind == "faster" else f"{100 * ref / ours:.0f}% of copy"
print(f"| {what} | {oi:,} | {label} | {ri:,} | {ratio(oi, ri)} | {ot:,.1f} | {rt:,.1f} | {ratio(ot, rt)} |")
PY
done
