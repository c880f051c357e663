// Instruction counts and wall-clock medians of the README's benchmark workloads and their references,
// one workload per run: `Instructions NAME` times NAME natively (median of 15 runs, in µs); under
// `valgrind --tool=callgrind --collect-atstart=no` only the measured region is counted (callgrind_begin/end),
// which is deterministic where wall-clock time on a shared machine is not. Benchmarks/instructions.sh runs
// every pair and prints both ratios. The workloads are those of Benchmarks.swift, with their set-up
// (detectors, players, fixtures) outside the measured region.

import Foundation

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let workload = workloads[name] else {
    print("usage: Instructions WORKLOAD [--once]\nworkloads: \(workloads.keys.sorted().joined(separator: " "))")
    exit(64)
}
let region = workload()
if arguments.contains("--once") {
    region()  // under callgrind: the one measured region counted
    exit(0)
}
region()  // warm-up
let runs = (0..<15).map { _ in nanoseconds(region) }.sorted()
print(String(format: "%.1f", Double(runs[runs.count / 2]) / 1000))
