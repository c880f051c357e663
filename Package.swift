// The libFuzzer targets (`make fuzz`): built only on request, because their module has no `main` of its
// own (libFuzzer's is linked in by -sanitize=fuzzer).
import Foundation
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "CallSequence",
    products: [
        .library(name: "TelephonyDSP", targets: ["TelephonyDSP"]),
        .library(name: "Recordings", targets: ["Recordings"]),
        .library(name: "CallSequenceModel", targets: ["CallSequenceModel"]),
        .library(name: "CallSequenceEngine", targets: ["CallSequenceEngine"]),
        .library(name: "SMSText", targets: ["SMSText"]),
        .library(name: "CallSequenceStore", targets: ["CallSequenceStore"]),
        .library(name: "CallSequenceStorePostgres", targets: ["CallSequenceStorePostgres"]),
        .library(name: "SMSGateway", targets: ["SMSGateway"]),
        .library(name: "SIP", targets: ["SIP"]),
        // RTP (RFC 3550) and its RFC 4733 telephone-events: what a media server sends the player's output with.
        .library(name: "RTP", targets: ["RTP"]),
        // The C API: libcallsequence.so (SONAME libcallsequence.so.0) over Sources/CallSequenceC/include/callsequence.h;
        // `make install PREFIX=DIR` installs it with its header, pkg-config file and the Swift runtime it needs.
        .library(name: "callsequence", type: .dynamic, targets: ["CallSequenceCLibrary"]),
        // The same C functions linked into Swift code (the benchmarks call them through the C header).
        .library(name: "CallSequenceC", targets: ["CallSequenceC"]),
        .executable(name: "callseq", targets: ["callseq"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // Already in the graph through async-http-client; named to tell a failed TLS handshake apart.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        // `callseq serve` runs as one ServiceGroup (SIP and media, SMS dispatch) with graceful shutdown;
        // already in the graph through async-http-client.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // SHA-256 of API keys in the management store (and postgres-nio's SCRAM authentication).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The management store on PostgreSQL (several nodes).
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
        // `swift package generate-documentation --target CallSequenceEngine` (and the other library targets).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // The management API's HTTP server (`callseq serve --http`), one service in serve's ServiceGroup.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // A node's Prometheus `/metrics` (`callseq serve --metrics`): counters kept off the media path through
        // swift-metrics, exposed in the Prometheus text format by swift-prometheus's registry.
        .package(url: "https://github.com/apple/swift-metrics", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        // System libraries (Debian packages named in `providers`; `make deps` installs them).
        .systemLibrary(
            name: "CSndFile",
            pkgConfig: "sndfile",
            providers: [.apt(["libsndfile1-dev"])]
        ),
        .systemLibrary(
            name: "CSoxr",
            pkgConfig: "soxr",
            providers: [.apt(["libsoxr-dev"])]
        ),
        // PNG pictures (`callseq plot`), through libpng's simplified API (no setjmp crosses into Swift).
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // The reference DTMF receiver and G.711 codec, used by the tests only.
        .systemLibrary(
            name: "CSpanDSP",
            path: "Tests/CSpanDSP",
            pkgConfig: "spandsp",
            providers: [.apt(["libspandsp-dev"])]
        ),

        // Pure DSP: Q.23 tone plan, synthesizer, Goertzel detector, G.711, levels.
        .target(name: "TelephonyDSP", dependencies: ["CTelephonyKernels"]),
        // The receiver's filter kernel for AVX, chosen at run time when the processor has it (same results to the
        // bit as TelephonyDSP's portable code; see Sources/CTelephonyKernels).
        // DWARF 4 debug info: valgrind 3.19 (Debian 12; the C API's memcheck in make test) cannot read this unit's
        // DWARF 5 and gives up on the whole library.
        .target(name: "CTelephonyKernels", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        // The system default prompt as bytes in the code (a C host has no resource folder);
        // generated from Sources/Recordings/Resources/default-prompt.wav by Scripts/embed-default-prompt.sh.
        .target(name: "CDefaultPrompt"),
        // File-system helpers the package's modules share (`package` access): paths as bytes, bounded reads,
        // confinement checks, the partial file a signal handler removes.
        .target(name: "FileSupport", dependencies: ["TelephonyDSP"]),
        // Audio files through libsndfile.
        .target(
            name: "Recordings",
            dependencies: ["CallSequenceModel", "FileSupport", "TelephonyDSP", "CSndFile", "CSoxr", "CDefaultPrompt"],
            exclude: ["Resources"]
        ),
        // What customers write: sequences, steps, accounts, DIDs, IVRs, phone numbers, the JSON reader and
        // canonical writer, validation, editing, the product limits. Pure Swift: no C library, NIO or Foundation
        // (recording names are checked through `RecordingCatalog`, which the engine's library implements).
        .target(name: "CallSequenceModel", dependencies: ["TelephonyDSP", "SMSText"]),
        // What plays on a call: the compiler, tone and recording caches, the real-time player, IVR sessions,
        // its RFC 4733 updates (RTP's RTPSender writes the packets), the verifier and the cue sheet.
        .target(
            name: "CallSequenceEngine",
            dependencies: ["CallSequenceModel", "FileSupport", "TelephonyDSP", "Recordings", "SMSText", "RTP"]),
        // SMS length rules (3GPP TS 23.038: GSM-7 septets, UCS-2 units), shared by validation and the gateway.
        .target(name: "SMSText"),
        // The C API's header as a Clang module; CallSequenceC implements it.
        .systemLibrary(name: "CallSequenceCHeader", path: "Sources/CallSequenceC/include"),
        // The C API: @c @implementation functions over the hand-written header (the compiler checks each
        // signature against it); no Foundation, so hosts do not load ICU.
        .target(
            name: "CallSequenceC",
            dependencies: [
                "CallSequenceCHeader", "CallSequenceModel", "CallSequenceEngine", "FileSupport", "Recordings",
                "TelephonyDSP",
            ],
            exclude: ["include"]
        ),
        // The shared object's link options: SONAME, and only the cs_* functions exported (a version script).
        .target(
            name: "CallSequenceCLibrary",
            dependencies: ["CallSequenceC"],
            exclude: ["callsequence.map"],
            linkerSettings: [
                .unsafeFlags([
                    "-Xlinker", "-soname=libcallsequence.so.0",
                    "-Xlinker",
                    "--version-script=\(Context.packageDirectory)/Sources/CallSequenceCLibrary/callsequence.map",
                ])
            ]
        ),
        // The management store (issue 21): accounts, keys, numbers, IVRs, sequences with revisions, recordings,
        // audit log, SMS ledger, call records; the protocol, canonical JSON, account import/export, SQLite.
        .target(
            name: "CallSequenceStore",
            dependencies: [
                "CallSequenceModel", "CallSequenceEngine", "FileSupport", "Recordings", "TelephonyDSP", "CSQLite",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The same store on PostgreSQL (postgres-nio): the SQL of CallSequenceStore, a connection pool.
        .target(
            name: "CallSequenceStorePostgres",
            dependencies: [
                "CallSequenceStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Texts over HTTP: the VoIP.ms-compatible REST transport, retries, the ledger (SQLite) with its daily
        // limit, delivery reports. Stands on its own: no audio stack (the model for phone numbers, TelephonyDSP for escaping).
        .target(
            name: "SMSGateway",
            dependencies: [
                "CallSequenceModel",
                "SMSText",
                "TelephonyDSP",
                "CSQLite",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // RTP (RFC 3550) and RFC 4733 telephone-events, UDP sockets and ports, the media clock.
        .target(name: "RTP", dependencies: ["CUDPBatch"]),
        // recvmmsg, sendmmsg and epoll for the media threads (not imported by Swift's Glibc module),
        // and the media threads' io_uring for sends (liburing, Debian's liburing-dev).
        .target(name: "CUDPBatch", dependencies: ["CURing"], cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        .systemLibrary(
            name: "CURing",
            pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]
        ),
        // SIP over UDP (RFC 3261 subset): messages, SDP offer/answer, the user-agent server, its NIO driver.
        // TelephonyDSP for InputText only: the one escaping of untrusted text before it reaches a log.
        .target(
            name: "SIP",
            dependencies: [
                "TelephonyDSP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Live calls: SIP joined to the media engine (media threads, RTP per call, IVR sessions) and the accounts.
        .target(
            name: "CallServer",
            dependencies: [
                "RTP", "SIP", "CallSequenceModel", "CallSequenceEngine", "Recordings", "TelephonyDSP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Calls served from the store (`callseq serve --store`): a called number's account read on first use into
        // a bounded cache, its recordings decoded once per content, dropped when the store's change feed names it.
        .target(
            name: "StoreCalls",
            dependencies: [
                "CallServer", "CallSequenceStore", "CallSequenceModel", "CallSequenceEngine", "Recordings",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The REST API over the store (Hummingbird 2): routes that follow Sources/ManagementAPI/openapi.yaml,
        // RFC 9457 problems, API keys and tenancy, ETags and revisions, recording uploads, previews.
        .target(
            name: "ManagementAPI",
            dependencies: [
                "CallSequenceModel", "CallSequenceEngine", "CallSequenceStore", "Recordings", "TelephonyDSP", "CPNG",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            // openapi.yaml and the editor's files (Web/) are compiled in as Swift strings by
            // Scripts/embed-openapi.sh and Scripts/embed-web.sh.
            exclude: ["openapi.yaml", "Web"]
        ),
        .executableTarget(
            name: "callseq",
            dependencies: [
                "CallSequenceModel",
                "CallSequenceEngine",
                "CallSequenceStore",
                "CallSequenceStorePostgres",
                "CallServer",
                "FileSupport",
                "ManagementAPI",
                "StoreCalls",
                "SMSGateway",
                "SMSText",
                "TelephonyDSP",
                "Recordings",
                "RTP",
                "CPNG",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Content hashes of store recordings (`serve --store` shares decoded audio between accounts).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),

        // Signal generators, independent spectral measurements and spandsp's G.711 (the reference encoder the
        // tests compare ours with) shared by the test targets.
        .target(
            name: "TestSupport",
            dependencies: [
                "TelephonyDSP",
                "CSpanDSP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TelephonyDSPTests", dependencies: ["TelephonyDSP", "Recordings", "TestSupport"]),
        .testTarget(
            name: "RecordingsTests", dependencies: ["Recordings", "CallSequenceModel", "TelephonyDSP", "TestSupport"]),
        .testTarget(
            name: "CallSequenceTests",
            dependencies: [
                "CallSequenceModel", "CallSequenceEngine", "Recordings", "RTP", "TelephonyDSP", "TestSupport",
            ]
        ),
        .testTarget(name: "SMSTextTests", dependencies: ["SMSText"]),
        .testTarget(
            name: "ManagementAPITests",
            dependencies: [
                "ManagementAPI", "CallSequenceModel", "CallSequenceEngine", "CallSequenceStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "SMSGatewayTests",
            dependencies: [
                "SMSGateway", "SMSText", "CallSequenceModel", "CallSequenceEngine", "TelephonyDSP", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "RTPTests", dependencies: ["RTP"]),
        // The store's conformance suite, run by the SQLite and PostgreSQL test targets alike.
        .target(
            name: "StoreConformance", dependencies: ["CallSequenceStore", "CallSequenceModel"],
            path: "Tests/StoreConformance"),
        .testTarget(
            name: "CallSequenceStoreTests",
            dependencies: ["CallSequenceStore", "CallSequenceModel", "StoreConformance", "CSQLite"]),
        // Starts a throw-away PostgreSQL (Debian's `postgresql`) in a temporary folder; fails without it.
        .testTarget(
            name: "CallSequenceStorePostgresTests",
            dependencies: ["CallSequenceStore", "CallSequenceStorePostgres", "StoreConformance"]),
        .testTarget(
            name: "SIPTests",
            dependencies: [
                "SIP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CallServerTests",
            dependencies: [
                "CallServer", "RTP", "CallSequenceModel", "CallSequenceEngine", "Recordings", "TelephonyDSP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "StoreCallsTests",
            dependencies: [
                "StoreCalls", "CallServer", "CallSequenceStore", "CallSequenceModel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // End-to-end tests of the command line, and cross-checks against the reference implementations
        // (spandsp's DTMF receiver and transmitter and its G.711, sox).
        .testTarget(
            name: "CallseqTests",
            dependencies: [
                "callseq", "FileSupport", "TelephonyDSP", "Recordings", "CSpanDSP", "CPNG", "TestSupport",
                "StoreConformance",
            ]
        ),
    ]
)

if ProcessInfo.processInfo.environment["CALLSEQ_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "CallSequenceFuzz",
            dependencies: [
                "CallSequenceModel", "CallSequenceEngine", "Recordings", "TelephonyDSP", "SIP", "RTP",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Fuzz/Sources/CallSequenceFuzz"))
}
