// The workloads of the README's benchmark table and their references, on the inputs the suite uses
// (BenchmarkFixtures): each makes its state outside the measured region, which begin() and end() delimit.

import BenchmarkFixtures
import CSpanDSP
import CallSequenceEngine
import CallSequenceModel
import CallgrindControl
import Foundation
import Recordings
import TelephonyDSP

/// Keeps a result alive so the optimizer cannot drop the work that made it.
@inline(never)
func keep<T>(_ value: T) { withExtendedLifetime(value) {} }

/// A workload: `prepare` makes its state (not measured) and returns the measured region.
typealias Workload = () -> () -> Void

func player(rate: Int, encoding: SampleEncoding) -> Workload {
    {
        let program = playerProgram(rate: rate, encoding: encoding)
        let frame = rate / 50
        return {
            let player = program.makePlayer()
            var events = 0
            if encoding == .pcm16 {
                var samples = [Int16](repeating: 0, count: frame)
                samples.withUnsafeMutableBufferPointer { buffer in
                    begin()
                    while !player.isFinished { keep(player.render(into: buffer) { _ in events += 1 }) }
                    end()
                }
            } else {
                var bytes = [UInt8](repeating: 0, count: frame)
                bytes.withUnsafeMutableBufferPointer { buffer in
                    begin()
                    while !player.isFinished { keep(player.render(into: buffer) { _ in events += 1 }) }
                    end()
                }
            }
            keep(events)
        }
    }
}

func frameCopy(rate: Int, encoding: SampleEncoding) -> Workload {
    {
        let frameSize = rate / 50 * encoding.bytesPerSample
        let total = playerProgram(rate: rate, encoding: encoding).totalSamples * encoding.bytesPerSample
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 16)
        source.initializeMemory(as: UInt8.self, repeating: 1)
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: frameSize, alignment: 16)
        return {
            begin()
            var at = 0
            while at < total {
                let n = min(frameSize, total - at)
                frame.baseAddress!.copyMemory(from: source.baseAddress! + at, byteCount: n)
                keep(frame.baseAddress!)
                at += n
            }
            end()
        }
    }
}

/// Loading and resampling to 8 kHz the file CALLSEQ_BENCH_FILE names (instructions.sh makes it), in process.
nonisolated(unsafe) let load: Workload = {
    guard let path = ProcessInfo.processInfo.environment["CALLSEQ_BENCH_FILE"] else {
        fatalError("fixture missing: CALLSEQ_BENCH_FILE (instructions.sh sets it)")
    }
    return {
        begin()
        let audio = required(path) { try AudioFile.read(path) }
        keep(required("8 kHz") { try PreparedRecording(audio, name: "load", sampleRate: 8000, encoding: .pcm16) })
        end()
    }
}

let linear = g711Input

nonisolated(unsafe) let workloads: [String: Workload] = [
    "synthesis.ours": {
        let dial = required("dial string") { try DialString(dialText) }
        let limits = benchmarkLimits
        return {
            var generator = required("generator") {
                try DTMFGenerator(dialString: dial, timing: .default, sampleRate: 8000, limits: limits)
            }
            var frame = [Int16](repeating: 0, count: 160)
            frame.withUnsafeMutableBufferPointer { buffer in
                begin()
                while !generator.isFinished { keep(generator.render(into: buffer)) }
                end()
            }
        }
    },
    "synthesis.spandsp": {
        let storage = spandspState()
        return {
            storage.initializeMemory(as: UInt8.self, repeating: 0, count: 16384)
            let tx = required("spandsp dtmf_tx") { dtmf_tx_init(OpaquePointer(storage)) }
            dtmf_tx_set_timing(tx, 100, 100)
            dtmf_tx_set_level(tx, -10, 2)
            _ = dtmf_tx_put(tx, dialText, -1)
            var frame = [Int16](repeating: 0, count: 160)
            frame.withUnsafeMutableBufferPointer { buffer in
                begin()
                while dtmf_tx(tx, buffer.baseAddress, 160) > 0 {}
                end()
            }
        }
    },
    "detection.ours": {
        let signal = makeDetectionSignal()
        return {
            var detector = required("detector") { try DTMFDetector(sampleRate: 8000) }
            var count = 0
            signal.withUnsafeBufferPointer { all in
                begin()
                var at = 0
                while at + 160 <= all.count {
                    detector.process(UnsafeBufferPointer(rebasing: all[at..<(at + 160)])) {
                        if case .began = $0 { count += 1 }
                    }
                    at += 160
                }
                end()
            }
            keep(count)
        }
    },
    "detection.spandsp": {
        var signal = makeDetectionSignal()
        let storage = spandspState()
        return {
            storage.initializeMemory(as: UInt8.self, repeating: 0, count: 16384)
            let rx = required("spandsp dtmf_rx") { dtmf_rx_init(OpaquePointer(storage), nil, nil) }
            signal.withUnsafeMutableBufferPointer { all in
                begin()
                var at = 0
                while at + 160 <= all.count {
                    _ = dtmf_rx(rx, all.baseAddress! + at, 160)
                    at += 160
                }
                end()
            }
        }
    },
    "g711.ours": {
        {
            var out = [UInt8](repeating: 0, count: linear.count)
            linear.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    begin()
                    for i in 0..<input.count { output[i] = MuLaw.encode(input[i]) }
                    end()
                }
            }
            keep(out)
        }
    },
    "g711.spandsp": {
        {
            var out = [UInt8](repeating: 0, count: linear.count)
            linear.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    begin()
                    for i in 0..<input.count { output[i] = linear_to_ulaw(Int32(input[i])) }
                    end()
                }
            }
            keep(out)
        }
    },
    "g711a.ours": {
        {
            var out = [UInt8](repeating: 0, count: linear.count)
            linear.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    begin()
                    for i in 0..<input.count { output[i] = ALaw.encode(input[i]) }
                    end()
                }
            }
            keep(out)
        }
    },
    "g711a.spandsp": {
        {
            var out = [UInt8](repeating: 0, count: linear.count)
            linear.withUnsafeBufferPointer { input in
                out.withUnsafeMutableBufferPointer { output in
                    begin()
                    for i in 0..<input.count { output[i] = linear_to_alaw(Int32(input[i])) }
                    end()
                }
            }
            keep(out)
        }
    },
    "load.flac": load,
    "load.mp3": load,
    "player.pcm16.8k": player(rate: 8000, encoding: .pcm16),
    "copy.pcm16.8k": frameCopy(rate: 8000, encoding: .pcm16),
    "player.ulaw.8k": player(rate: 8000, encoding: .ulaw),
    "copy.ulaw.8k": frameCopy(rate: 8000, encoding: .ulaw),
    "player.alaw.8k": player(rate: 8000, encoding: .alaw),
    "copy.alaw.8k": frameCopy(rate: 8000, encoding: .alaw),
    "player.pcm16.48k": player(rate: 48000, encoding: .pcm16),
    "copy.pcm16.48k": frameCopy(rate: 48000, encoding: .pcm16),
]

/// When the measured region of the last run began, and how long it lasted (CLOCK_MONOTONIC), in ns.
nonisolated(unsafe) var regionStart: UInt64 = 0
nonisolated(unsafe) var regionNanoseconds: UInt64 = 0

/// Starts the measured region: callgrind counts from here, and the clock is read.
@inline(__always)
func begin() {
    callgrind_begin()
    regionStart = DispatchTime.now().uptimeNanoseconds
}

/// Ends the measured region.
@inline(__always)
func end() {
    regionNanoseconds = DispatchTime.now().uptimeNanoseconds - regionStart
    callgrind_end()
}

/// Wall-clock time of the measured region of one run of `region`, in nanoseconds.
func nanoseconds(_ region: () -> Void) -> UInt64 {
    region()
    return regionNanoseconds
}
