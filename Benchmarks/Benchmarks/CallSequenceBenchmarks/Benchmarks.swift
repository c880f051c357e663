// The benchmark suite: every hot path, side by side with spandsp (the reference DTMF transmitter and
// receiver) and with the physical limit of producing a frame (copying one). Each measured region is a
// whole workload in 20 ms frames; set-up (creating generators, detectors, players; loading files) stays
// outside it, so malloc counts are those of the render paths alone. CI checks the malloc, retain and release
// counts (Thresholds/, all zero); ./run.sh prints the throughput table of the README. A fixture that cannot be
// loaded stops the run (`required`): a benchmark that measures nothing must not pass.

import ARCCount
import Benchmark
import BenchmarkFixtures
import CSpanDSP
import CallSequenceC
import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP

// MARK: - Workloads, made once (their inputs: BenchmarkFixtures)

let dial = required("dial string") { try DialString(dialText) }
let detectionSignal = makeDetectionSignal()

/// A C API handle shared by the benchmarks (made once, kept for the process; the library's handles are
/// thread-safe where the benchmarks share them: sequences and accounts).
struct CHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}

let isCI = ProcessInfo.processInfo.environment["CI"] != nil
/// Calls of swift_retain and swift_release (and their _n, bridgeObject and nonatomic forms) in the measured region,
/// counted by ARCCount: package-benchmark's .retainCount/.releaseCount hooks miss retains and crash sessions on
/// Swift 6.3 for Linux (ordo-one/benchmark issue 349).
let retainCalls = BenchmarkMetric.custom("Retains (runtime calls)", polarity: .prefersSmaller, useScalingFactor: false)
let releaseCalls = BenchmarkMetric.custom(
    "Releases (runtime calls)", polarity: .prefersSmaller, useScalingFactor: false)

/// What CI checks on every render path: no allocation and no reference counting (retain or release).
let mallocMetrics: [BenchmarkMetric] = [.mallocCountTotal, retainCalls, releaseCalls]
let allMetrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, retainCalls, releaseCalls]

/// The runtime's reference-counting calls so far.
struct ARCCounts {
    let retains: UInt64
    let releases: UInt64
    static var now: ARCCounts { ARCCounts(retains: arc_count_retains(), releases: arc_count_releases()) }
}

/// Starts the measured region; the counts are read inside it.
func startMeasuring(_ benchmark: Benchmark) -> ARCCounts {
    benchmark.startMeasurement()
    return .now
}

/// Ends the measured region and records its retain and release calls.
func stopMeasuring(_ benchmark: Benchmark, _ start: ARCCounts) {
    let end = ARCCounts.now
    benchmark.stopMeasurement()
    benchmark.measurement(retainCalls, Int(end.retains &- start.retains))
    benchmark.measurement(releaseCalls, Int(end.releases &- start.releases))
}
/// No deviation allowed from the recorded counts (which are 0).
var zero: BenchmarkThresholds {
    BenchmarkThresholds(absolute: [.p0: 0, .p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])
}

func configuration(checked: Bool = false) -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: isCI ? mallocMetrics : allMetrics,
        timeUnits: .microseconds,
        warmupIterations: 2,
        maxDuration: .seconds(isCI ? 1 : 4),
        maxIterations: isCI ? 5 : 1000,
        thresholds: checked ? [.mallocCountTotal: zero, retainCalls: zero, releaseCalls: zero] : nil
    )
}

let benchmarks: @Sendable () -> Void = {
    // MARK: The harness's own allocations (the floor every other malloc count is compared with)

    Benchmark("Harness.Empty", configuration: configuration(checked: true)) { benchmark in
        let counted = startMeasuring(benchmark)
        blackHole(benchmark)
        stopMeasuring(benchmark, counted)
    }

    // MARK: Synthesis: DTMF into 20 ms frames at 8 kHz

    Benchmark("Synthesis.Ours.8kHz.20ms", configuration: configuration(checked: true)) { benchmark in
        var generator = try DTMFGenerator(
            dialString: dial ?? DialString("0"), timing: .default, sampleRate: 8000,
            limits: benchmarkLimits)
        var frame = [Int16](repeating: 0, count: 160)
        let counted = startMeasuring(benchmark)
        frame.withUnsafeMutableBufferPointer { buffer in
            while !generator.isFinished { blackHole(generator.render(into: buffer)) }
        }
        stopMeasuring(benchmark, counted)
        blackHole(frame)
    }

    Benchmark("Synthesis.SpanDSP.8kHz.20ms", configuration: configuration()) { benchmark in
        let storage = spandspState()
        defer { storage.deallocate() }
        let tx = required("spandsp dtmf_tx") { dtmf_tx_init(OpaquePointer(storage)) }
        dtmf_tx_set_timing(tx, 100, 100)
        dtmf_tx_set_level(tx, -10, 2)
        _ = dtmf_tx_put(tx, dialText, -1)
        var frame = [Int16](repeating: 0, count: 160)
        let counted = startMeasuring(benchmark)
        frame.withUnsafeMutableBufferPointer { buffer in
            while dtmf_tx(tx, buffer.baseAddress, 160) > 0 {}
        }
        stopMeasuring(benchmark, counted)
        blackHole(frame)
    }

    // MARK: Detection over DTMF + speech at 8 kHz

    Benchmark("Detection.Ours.8kHz", configuration: configuration(checked: true)) { benchmark in
        var detector = try DTMFDetector(sampleRate: 8000)
        var count = 0
        let counted = startMeasuring(benchmark)
        detectionSignal.withUnsafeBufferPointer { all in
            var at = 0
            while at + 160 <= all.count {
                detector.process(UnsafeBufferPointer(rebasing: all[at..<(at + 160)])) {
                    if case .began = $0 { count += 1 }
                }
                at += 160
            }
        }
        stopMeasuring(benchmark, counted)
        blackHole(count)
    }

    Benchmark("Detection.SpanDSP.8kHz", configuration: configuration()) { benchmark in
        let storage = spandspState()
        defer { storage.deallocate() }
        let rx = required("spandsp dtmf_rx") { dtmf_rx_init(OpaquePointer(storage), nil, nil) }
        var signal = detectionSignal
        signal[0] = signal[0]  // make the copy now, outside the measurement
        let counted = startMeasuring(benchmark)
        signal.withUnsafeMutableBufferPointer { all in
            var at = 0
            while at + 160 <= all.count {
                _ = dtmf_rx(rx, all.baseAddress! + at, 160)
                at += 160
            }
        }
        stopMeasuring(benchmark, counted)
    }

    // MARK: Player steady state, vs copying frames of the same size (the physical limit)

    for (name, rate, encoding) in [
        ("PCM16.8kHz", 8000, SampleEncoding.pcm16), ("MuLaw.8kHz", 8000, .ulaw), ("PCM16.48kHz", 48000, .pcm16),
    ] {
        let program = playerProgram(rate: rate, encoding: encoding)
        let frameSize = rate / 50
        Benchmark("Player.\(name).20ms", configuration: configuration(checked: true)) { benchmark in
            let player = program.makePlayer()
            var events = 0
            var samples = [Int16](repeating: 0, count: frameSize)
            var bytes = [UInt8](repeating: 0, count: frameSize)
            let counted = startMeasuring(benchmark)
            if encoding == .pcm16 {
                samples.withUnsafeMutableBufferPointer { buffer in
                    while !player.isFinished { blackHole(player.render(into: buffer) { _ in events += 1 }) }
                }
            } else {
                bytes.withUnsafeMutableBufferPointer { buffer in
                    while !player.isFinished { blackHole(player.render(into: buffer) { _ in events += 1 }) }
                }
            }
            stopMeasuring(benchmark, counted)
            blackHole(samples)
            blackHole(bytes)
            blackHole(events)
        }
        let bytesPerSample = encoding.bytesPerSample
        let total = program.totalSamples * bytesPerSample
        Benchmark("FrameCopy.\(name).20ms", configuration: configuration()) { benchmark in
            let source = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 16)
            defer { source.deallocate() }
            source.initializeMemory(as: UInt8.self, repeating: 1)
            let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: frameSize * bytesPerSample, alignment: 16)
            defer { frame.deallocate() }
            let counted = startMeasuring(benchmark)
            var at = 0
            while at < total {
                let n = min(frame.count, total - at)
                frame.baseAddress!.copyMemory(from: source.baseAddress! + at, byteCount: n)
                blackHole(frame.baseAddress!)
                at += n
            }
            stopMeasuring(benchmark, counted)
        }
    }

    // MARK: An IVR session: the menu plays while the receiver listens to the caller (speech), then waits

    let ivrAccount = required("Examples/account.json") {
        let (account, library) = try Account.load(repository.appendingPathComponent("Examples/account.json").path)
        return try CompiledAccount(
            account, recordings: RecordingCache(library: library), format: CallFormat(encoding: .ulaw))
    }
    let number = required("phone number") { try PhoneNumber("5145550100") }
    // 14 s of speech without digits (the 9.4 s menu, then 4.6 s of waiting): every frame is rendered and heard.
    let ivrCaller = Array(fixtureSamples("TestAudio/speech/talkoff-8k-ulaw.wav", minimum: 8000 * 14).prefix(8000 * 14))
    do {
        let caller = ivrCaller
        Benchmark("IVR.Session.8kHz.20ms", configuration: configuration(checked: true)) { benchmark in
            let session = try ivrAccount.makeSession(calling: number)
            var frame = [UInt8](repeating: 0, count: 160)
            var events = 0
            var frames = 0
            let counted = startMeasuring(benchmark)
            caller.withUnsafeBufferPointer { all in
                frame.withUnsafeMutableBufferPointer { out in
                    var at = 0
                    while at + 160 <= all.count && !session.isEnded {
                        session.render(callerAudio: UnsafeBufferPointer(rebasing: all[at..<(at + 160)]), into: out) {
                            _ in events += 1
                        }
                        at += 160
                        frames += 1
                    }
                }
            }
            stopMeasuring(benchmark, counted)
            precondition(frames == 700, "the session ended early: \(frames) frames")
            blackHole(events)
        }
    }

    // MARK: The C API: the same workloads through cs_player_render and cs_call_render (callsequence.h)

    var format = cs_format(sample_rate: 8000, encoding: CS_ULAW, dtmf_mode: CS_DTMF_INBAND)
    let recordingsFolder = repository.appendingPathComponent("Examples/recordings").path
    let cSequence = required("cs_sequence_compile") {
        playerSequenceText.withCString { json in
            cs_sequence_compile(json, strlen(json), recordingsFolder, &format, nil).map(CHandle.init)
        }
    }
    do {
        Benchmark("CAPI.Player.MuLaw.8kHz.20ms", configuration: configuration(checked: true)) { benchmark in
            let player = cs_player_new(cSequence.pointer)
            defer { cs_player_free(player) }
            let frame = UnsafeMutablePointer<UInt8>.allocate(capacity: 160)
            defer { frame.deallocate() }
            let events = UnsafeMutablePointer<cs_event>.allocate(capacity: 16)
            defer { events.deallocate() }
            var count = 0
            var total = 0
            let counted = startMeasuring(benchmark)
            while cs_player_is_finished(player) == 0 {
                blackHole(cs_player_render(player, frame, 160, events, 16, &count))
                total += count
            }
            stopMeasuring(benchmark, counted)
            blackHole(total)
        }
    }
    let cAccount = required("cs_account_load Examples/account.json") {
        cs_account_load(repository.appendingPathComponent("Examples/account.json").path, &format, nil).map(CHandle.init)
    }
    do {
        // The IVR benchmark's caller (14 s of speech), as the mu-law a host receives: cs_call_render decodes it.
        let caller = ivrCaller.map { MuLaw.encode($0) }
        Benchmark("CAPI.Call.8kHz.20ms", configuration: configuration(checked: true)) { benchmark in
            let call = cs_call_new(cAccount.pointer, "5145550100", nil)
            defer { cs_call_free(call) }
            let frame = UnsafeMutablePointer<UInt8>.allocate(capacity: 160)
            defer { frame.deallocate() }
            let events = UnsafeMutablePointer<cs_event>.allocate(capacity: 16)
            defer { events.deallocate() }
            var count = 0
            var frames = 0
            let counted = startMeasuring(benchmark)
            caller.withUnsafeBufferPointer { all in
                var at = 0
                while at + 160 <= all.count && cs_call_is_over(call) == 0 {
                    blackHole(cs_call_render(call, all.baseAddress! + at, frame, 160, events, 16, &count))
                    at += 160
                    frames += 1
                }
            }
            stopMeasuring(benchmark, counted)
            precondition(frames == 700, "the call ended early: \(frames) frames")
        }
    }

    // MARK: Per-call memory: one player

    let perCallBytes = BenchmarkMetric.custom("Per-call heap bytes", polarity: .prefersSmaller, useScalingFactor: false)
    let exact: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(absolute: [.p0: 0, .p50: 0, .p90: 0, .p100: 0]),
        perCallBytes: .init(absolute: [.p0: 0, .p50: 0, .p90: 0, .p100: 0]),
    ]
    Benchmark(
        "Player.PerCall",
        configuration: Benchmark.Configuration(
            metrics: isCI ? [.mallocCountTotal, perCallBytes] : [.mallocCountTotal, .throughput, perCallBytes],
            warmupIterations: 1, maxDuration: .seconds(1), maxIterations: 5, thresholds: exact)
    ) { benchmark in
        let program = playerProgram(rate: 8000, encoding: .ulaw)
        benchmark.startMeasurement()
        let player = program.makePlayer()
        benchmark.stopMeasurement()
        benchmark.measurement(perCallBytes, mallocUsableSize(Unmanaged.passUnretained(player).toOpaque()))
        blackHole(player)
    }

    guard !isCI else { return }

    // MARK: G.711 encoding, 60 s at 8 kHz

    let linear = g711Input
    Benchmark("G711.MuLawEncode.Ours", configuration: configuration()) { benchmark in
        var out = [UInt8](repeating: 0, count: linear.count)
        let counted = startMeasuring(benchmark)
        linear.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for i in 0..<input.count { output[i] = MuLaw.encode(input[i]) }
            }
        }
        stopMeasuring(benchmark, counted)
        blackHole(out)
    }
    Benchmark("G711.MuLawEncode.SpanDSP", configuration: configuration()) { benchmark in
        var out = [UInt8](repeating: 0, count: linear.count)
        let counted = startMeasuring(benchmark)
        linear.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for i in 0..<input.count { output[i] = linear_to_ulaw(Int32(input[i])) }
            }
        }
        stopMeasuring(benchmark, counted)
        blackHole(out)
    }

    Benchmark("G711.ALawEncode.Ours", configuration: configuration()) { benchmark in
        var out = [UInt8](repeating: 0, count: linear.count)
        let counted = startMeasuring(benchmark)
        linear.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for i in 0..<input.count { output[i] = ALaw.encode(input[i]) }
            }
        }
        stopMeasuring(benchmark, counted)
        blackHole(out)
    }
    Benchmark("G711.ALawEncode.SpanDSP", configuration: configuration()) { benchmark in
        var out = [UInt8](repeating: 0, count: linear.count)
        let counted = startMeasuring(benchmark)
        linear.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { output in
                for i in 0..<input.count { output[i] = linear_to_alaw(Int32(input[i])) }
            }
        }
        stopMeasuring(benchmark, counted)
        blackHole(out)
    }

    // MARK: Compiling a sequence (recordings already cached)

    let library = required("Examples/recordings") {
        try RecordingLibrary(directory: repository.appendingPathComponent("Examples/recordings").path)
    }
    let cache = RecordingCache(library: library)
    let frontDoor = required("Examples/front-door.json") {
        let text = try String(
            contentsOf: repository.appendingPathComponent("Examples/front-door.json"), encoding: .utf8)
        return try SequenceDefinition.parse(text, source: "front-door.json", recordings: library)
    }
    do {
        _ = required("compiled front door") {
            try CompiledSequence(frontDoor, format: CallFormat(encoding: .ulaw), recordings: cache)
        }
        Benchmark("Compile.FrontDoor.8kHz", configuration: configuration()) { benchmark in
            blackHole(try CompiledSequence(frontDoor, format: CallFormat(encoding: .ulaw), recordings: cache))
        }
    }

    // MARK: Loading and resampling 60 s of 44.1 kHz stereo to 8 kHz (files made by run.sh)

    if let directory = ProcessInfo.processInfo.environment["CALLSEQ_BENCH_AUDIO"] {
        for (name, file) in [("FLAC", "speech-60s-44k-stereo.flac"), ("MP3", "speech-60s-44k-stereo.mp3")] {
            let path = (directory as NSString).appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: path) else { fatalError("benchmark fixture missing: \(path)") }
            Benchmark(
                "Load.\(name).60s.To8kHz",
                configuration: Benchmark.Configuration(
                    metrics: allMetrics, timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(5),
                    maxIterations: 20)
            ) { benchmark in
                let audio = try AudioFile.read(path)
                blackHole(try PreparedRecording(audio, name: name, sampleRate: 8000, encoding: .pcm16))
            }
        }
    }
}

@_silgen_name("malloc_usable_size")
func mallocUsableSize(_ pointer: UnsafeRawPointer?) -> Int
