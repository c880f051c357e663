#!/usr/bin/env python3
"""Prints the benchmark table: ours, the reference, the ratio (medians of wall-clock time)."""
import json, os, statistics, subprocess, sys, time

jmh, work, callseq = sys.argv[1], sys.argv[2], sys.argv[3]
runs = {e["benchmark"].split("CallSequenceBenchmarks.")[-1]: e["secondaryMetrics"] for e in json.load(open(jmh))}

def p50(name, metric="Time (wall clock)"):
    m = runs.get(name, {}).get(metric)
    if not m:
        return None
    value = m["scorePercentiles"]["50.0"]
    return value * 1000 if m["scoreUnit"] == "ms" else value   # microseconds

def mallocs(name):
    m = runs.get(name, {}).get("Malloc (total)")
    return None if m is None else int(m["scorePercentiles"]["100.0"])

def process_us(command):
    """Median wall time of a whole process over 10 runs, in microseconds."""
    times = []
    for _ in range(10):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)

floor = mallocs("Harness.Empty") or 0
rows = []
def row(what, ours_name, ref_label, ref_us, ratio_note, ours_us=None, goal=""):
    ours = ours_us if ours_us is not None else p50(ours_name)
    if ours is None or ref_us is None:
        return
    extra = mallocs(ours_name)
    extra = "" if extra is None else str(extra - floor)
    rows.append((what, f"{ours:,.1f}", ref_label, f"{ref_us:,.1f}", ratio_note(ours, ref_us), extra, goal))

faster = lambda ours, ref: f"{ref / ours:.2f}x faster"
share = lambda ours, ref: f"{100 * ref / ours:.0f}% of copy"

row("DTMF synthesis, 25.6 s in 20 ms frames, 8 kHz", "Synthesis.Ours.8kHz.20ms", "spandsp dtmf_tx",
    p50("Synthesis.SpanDSP.8kHz.20ms"), faster, goal=">= 3x")
row("DTMF detection, 130 s speech + digits, 8 kHz", "Detection.Ours.8kHz", "spandsp dtmf_rx",
    p50("Detection.SpanDSP.8kHz"), faster, goal=">= 2x")
for name, label in [("PCM16.8kHz", "8 kHz PCM16"), ("MuLaw.8kHz", "8 kHz mu-law"), ("PCM16.48kHz", "48 kHz PCM16")]:
    row(f"player, 25 s sequence in 20 ms frames, {label}", f"Player.{name}.20ms", "copy of the frames",
        p50(f"FrameCopy.{name}.20ms"), share, goal=">= 25%")
relative = lambda ours, ref: f"{ours / ref:.2f}x its time"
row("C API: cs_player_render, the same 25 s in 20 ms frames, 8 kHz mu-law", "CAPI.Player.MuLaw.8kHz.20ms",
    "the Swift player", p50("Player.MuLaw.8kHz.20ms"), relative, goal="within 5 %")
row("C API: cs_call_render, the IVR session below, caller audio as mu-law", "CAPI.Call.8kHz.20ms",
    "the Swift IVR session", p50("IVR.Session.8kHz.20ms"), relative)
row("G.711 mu-law encoding, 60 s at 8 kHz", "G711.MuLawEncode.Ours", "spandsp linear_to_ulaw",
    p50("G711.MuLawEncode.SpanDSP"), faster)
row("G.711 A-law encoding, 60 s at 8 kHz", "G711.ALawEncode.Ours", "spandsp linear_to_alaw",
    p50("G711.ALawEncode.SpanDSP"), faster)
for fmt in ["FLAC", "MP3"]:
    path = os.path.join(work, f"speech-60s-44k-stereo.{fmt.lower()}")
    if not os.path.exists(path):
        continue
    sox = process_us(["sox", "-D", path, "-r", "8000", os.path.join(work, "sox.wav")])
    row(f"load + resample 60 s 44.1 kHz stereo {fmt} to 8 kHz (in process)", f"Load.{fmt}.60s.To8kHz",
        "sox IN -r 8000 OUT.wav (process)", sox, faster, goal="faster than sox")
    if os.path.exists(callseq):
        ours = process_us([callseq, "convert", path, "-o", os.path.join(work, "ours.wav")])
        row(f"the same with callseq convert (whole process)", None, "sox IN -r 8000 OUT.wav (process)", sox, faster,
            ours_us=ours)

ivr_us = p50("IVR.Session.8kHz.20ms")
compile_us = p50("Compile.FrontDoor.8kHz")
per_call = runs.get("Player.PerCall", {}).get("Per-call heap bytes")

print("| benchmark | ours (µs) | reference | reference (µs) | ratio | mallocs in run | goal |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    print("| " + " | ".join(r) + " |")
if ivr_us is not None:
    print(f"| IVR session, 14 s (menu + waiting) in 20 ms frames, receiver on the caller's speech, 8 kHz mu-law | "
          f"{ivr_us:,.1f} ({ivr_us / 700 * 1000:,.0f} ns a frame) | | | | {mallocs('IVR.Session.8kHz.20ms') - floor} | |")
if compile_us is not None:
    print(f"| compile Examples/front-door.json (recordings cached) | {compile_us:,.1f} | | | | | |")
if per_call:
    print(f"| per-call state: one Player | {int(per_call['scorePercentiles']['50.0'])} bytes, "
          f"{mallocs('Player.PerCall')} allocation | | | | | <= 256 bytes |")
print()
print(f"Medians of wall-clock time. 'mallocs in run' counts allocations in the whole measured run beyond the "
      f"harness's own ({floor}); 0 means none per frame.")
