#!/usr/bin/env bash
# Runs the benchmark suite once, in release, and prints one table: our figure, the reference's
# (spandsp, a plain frame copy, or sox), and the ratio. Reproduce the README's table with
#   Benchmarks/run.sh
# It needs sox (with MP3), libspandsp-dev and python3 (make deps installs them) and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 60 s of speech at 44.1 kHz stereo, as FLAC and MP3, for the load + resample benchmarks.
sox -D ../TestAudio/speech/talkoff-8k-ulaw.wav -r 44100 -c 2 -b 16 "$work/src.wav" trim 0 60
sox -D "$work/src.wav" "$work/speech-60s-44k-stereo.flac"
sox -D "$work/src.wav" -C 128 "$work/speech-60s-44k-stereo.mp3"
swift build -c release --package-path .. --product callseq >&2

CALLSEQ_BENCH_AUDIO="$work" swift package --allow-writing-to-directory "$work" \
    benchmark --no-progress --format jmh --path "$work" >&2
python3 results.py "$work/Current_run.jmh.json" "$work" ../.build/release/callseq

# Instructions (callgrind) and wall-clock medians of the same workloads and references, with both ratios.
echo
./instructions.sh
