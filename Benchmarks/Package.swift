// swift-tools-version: 6.1
// The benchmark suite, in its own package (as swift-nio does) so that the library's users never build
// ordo-one/benchmark. Run it with ./run.sh (the results table) or `swift package benchmark`.
import PackageDescription

let package = Package(
    name: "Benchmarks",
    dependencies: [
        .package(name: "CallSequence", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // spandsp, the reference DTMF transmitter and receiver measured side by side (Debian libspandsp-dev).
        .systemLibrary(
            name: "CSpanDSP",
            path: "Sources/CSpanDSP",
            pkgConfig: "spandsp",
            providers: [.apt(["libspandsp-dev"])]
        ),
        // Counts the runtime's retain and release calls of the benchmark executable (see arc_count.c).
        .target(name: "ARCCount", path: "Sources/ARCCount"),
        // The workloads' inputs, shared by the suite and the instruction counter.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [
                .product(name: "CallSequenceModel", package: "CallSequence"),
                .product(name: "CallSequenceEngine", package: "CallSequence"),
                .product(name: "TelephonyDSP", package: "CallSequence"),
                .product(name: "Recordings", package: "CallSequence"),
            ],
            path: "Sources/BenchmarkFixtures"
        ),
        // valgrind's callgrind client requests (valgrind-dev), which mark the measured region.
        .target(name: "CallgrindControl", path: "Sources/CallgrindControl"),
        // Instruction counts (under callgrind) and wall-clock medians of the table's workloads: instructions.sh.
        .executableTarget(
            name: "Instructions",
            dependencies: [
                .product(name: "CallSequenceModel", package: "CallSequence"),
                .product(name: "CallSequenceEngine", package: "CallSequence"),
                .product(name: "TelephonyDSP", package: "CallSequence"),
                .product(name: "Recordings", package: "CallSequence"),
                "BenchmarkFixtures",
                "CSpanDSP",
                "CallgrindControl",
            ],
            path: "Sources/Instructions"
        ),
        .executableTarget(
            name: "CallSequenceBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CallSequenceModel", package: "CallSequence"),
                .product(name: "CallSequenceEngine", package: "CallSequence"),
                .product(name: "TelephonyDSP", package: "CallSequence"),
                .product(name: "Recordings", package: "CallSequence"),
                // The C API (cs_* through callsequence.h), measured next to the Swift player it wraps.
                .product(name: "CallSequenceC", package: "CallSequence"),
                "BenchmarkFixtures",
                "CSpanDSP",
                "ARCCount",
            ],
            path: "Benchmarks/CallSequenceBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The Swift player and the C API's player side by side in one process, for callgrind and the clock
        // (frame-cost.sh): no benchmark harness, so the instruction counts are the loops' own.
        .executableTarget(
            name: "FrameCost",
            dependencies: [
                .product(name: "CallSequenceModel", package: "CallSequence"),
                .product(name: "CallSequenceEngine", package: "CallSequence"),
                .product(name: "CallSequenceC", package: "CallSequence"),
                .product(name: "Recordings", package: "CallSequence"),
                .product(name: "TelephonyDSP", package: "CallSequence"),
            ],
            path: "FrameCost"
        ),
    ]
)
