import CallSequenceEngine
import CallSequenceModel
import Foundation
import Recordings
import TelephonyDSP
import TestSupport
import Testing

let examples = testAudioPath("../Examples")

/// glibc's malloc_usable_size (in <malloc.h>, which Glibc does not import): the heap block of an object.
@_silgen_name("malloc_usable_size")
func mallocUsableSize(_ pointer: UnsafeRawPointer?) -> Int

func loadExample(_ name: String) throws -> SequenceDefinition {
    let library = try RecordingLibrary(directory: examples + "/recordings")
    let text = try String(contentsOfFile: examples + "/" + name, encoding: .utf8)
    return try SequenceDefinition.parse(text, source: name, recordings: library)
}

func compileExample(_ name: String, _ format: CallFormat = CallFormat()) throws -> CompiledSequence {
    let cache = RecordingCache(library: try RecordingLibrary(directory: examples + "/recordings"))
    return try CompiledSequence(try loadExample(name), format: format, recordings: cache)
}

/// Plays a whole program in frames of the given sizes (cycled); returns the PCM and the events.
func play(_ program: CompiledSequence, frames: [Int]) -> (pcm: [Int16], events: [PlayerEvent]) {
    let player = program.makePlayer()
    var pcm: [Int16] = []
    var events: [PlayerEvent] = []
    var i = 0
    while !player.isFinished {
        var frame = [Int16](repeating: 0x7777, count: frames[i % frames.count])
        let n = frame.withUnsafeMutableBufferPointer { player.render(into: $0) { events.append($0) } }
        pcm += frame.prefix(n)
        i += 1
    }
    return (pcm, events)
}

func playBytes(_ program: CompiledSequence, frame: Int) -> [UInt8] {
    let player = program.makePlayer()
    var bytes: [UInt8] = []
    while !player.isFinished {
        var f = [UInt8](repeating: 0x11, count: frame)
        let n = f.withUnsafeMutableBufferPointer { player.render(into: $0) }
        bytes += f.prefix(n)
    }
    return bytes
}

/// Plays a whole G.711 program as bytes in frames of the given sizes (cycled); returns the bytes and the events.
func playBytesWithEvents(_ program: CompiledSequence, frames: [Int]) -> (bytes: [UInt8], events: [PlayerEvent]) {
    let player = program.makePlayer()
    var bytes: [UInt8] = []
    var events: [PlayerEvent] = []
    var i = 0
    while !player.isFinished {
        var frame = [UInt8](repeating: 0x11, count: frames[i % frames.count])
        let n = frame.withUnsafeMutableBufferPointer { player.render(into: $0) { events.append($0) } }
        bytes += frame.prefix(n)
        i += 1
    }
    return (bytes, events)
}

@Suite("Compiler and real-time player")
struct PlayerTests {
    @Test(arguments: ["front-door.json", "gate.json"])
    func eachExampleRendersAndVerifies(file: String) throws {
        let program = try compileExample(file)
        let (pcm, _) = play(program, frames: [160])
        #expect(pcm.count == program.totalSamples)
        let report = try Verifier.verify(program, samples: pcm.map(Float.init), sampleRate: 8000)
        #expect(report.passed, "\(report.lines)")
        #expect(report.worstTimingError < 0.005)
    }

    @Test func theDetectorFindsTheDigitsAtTheTimelinesTimes() throws {
        let program = try compileExample("front-door.json", CallFormat(sampleRate: 16000))
        let (pcm, _) = play(program, frames: [320])
        let found = try detectDigits(pcm, sampleRate: 16000)
        #expect(text(found) == "9876#")
        #expect(program.cueSheet.filter { $0.digit != nil }.count == 5)
        for (tone, digit) in zip(program.digits, found) {
            // The 4 ms raised-cosine edges put the audible tone about 2 ms inside the scheduled one.
            #expect(abs(digit.startSample - tone.startSample) <= 48 && abs(digit.endSample - tone.endSample) <= 48)
        }
    }

    @Test(arguments: [SampleEncoding.pcm16, .ulaw, .alaw])
    func frameSizeDoesNotChangeOneByte(encoding: SampleEncoding) throws {
        let program = try compileExample("gate.json", CallFormat(encoding: encoding))
        if encoding == .pcm16 {
            let reference = play(program, frames: [4096])
            for frames in [[1], [7], [160], [4096], [3, 500, 1, 161]] {
                let other = play(program, frames: frames)
                #expect(other.pcm == reference.pcm, "frames \(frames)")
                #expect(
                    other.events.map(\.kind) == reference.events.map(\.kind)
                        && other.events.map(\.sample) == reference.events.map(\.sample))
            }
        } else {
            let reference = playBytes(program, frame: 4096)
            #expect(reference.count == program.totalSamples)
            for frame in [1, 7, 160] { #expect(playBytes(program, frame: frame) == reference, "frame \(frame)") }
            let pcm = play(try compileExample("gate.json"), frames: [160]).pcm
            #expect(reference == (encoding == .ulaw ? ReferenceG711.muLaw(pcm) : ReferenceG711.aLaw(pcm)))
        }
    }

    @Test func stepEventsAndTheSMSRequestComeAtTheirSampleWithTheirFrameOffset() throws {
        let program = try compileExample("front-door.json")
        let (_, events) = play(program, frames: [160])
        let recordingEnd = program.steps[0].endSample
        #expect(recordingEnd == 37898)  // the welcome prompt: 4.737 s at 8 kHz
        let sms = try #require(events.first { if case .smsRequested = $0.kind { true } else { false } })
        #expect(sms.kind == .smsRequested(step: 2))
        #expect(sms.sample == program.steps[2].startSample)
        #expect(sms.sample == recordingEnd + 5 * 2000)  // five digits of 150 ms tone + 100 ms gap
        #expect(sms.offset == sms.sample % 160)
        #expect(program.smsRequest(step: 2)?.message == "Front door opened")
        #expect(program.smsRequest(step: 0) == nil)
        let kinds = events.map(\.kind)
        #expect(
            kinds == [
                .stepStarted(0), .stepFinished(0), .stepStarted(1), .stepFinished(1), .stepStarted(2),
                .smsRequested(step: 2), .stepFinished(2), .finished(cancelled: false),
            ])
    }

    @Test func cancellingMidToneGivesSilenceAndOneFinished() throws {
        let program = try compileExample("front-door.json")
        let full = play(program, frames: [160]).pcm
        let player = program.makePlayer()
        let toneMiddle = program.digits[1].startSample + 400
        var pcm: [Int16] = []
        var events: [PlayerEvent] = []
        var frame = [Int16](repeating: 0, count: 160)
        while pcm.count < toneMiddle {
            frame.withUnsafeMutableBufferPointer { _ = player.render(into: $0) { events.append($0) } }
            pcm += frame
        }
        #expect(pcm == Array(full[0..<pcm.count]))
        player.cancel()
        for _ in 0..<3 {
            frame = [Int16](repeating: 0x1234, count: 160)
            let n = frame.withUnsafeMutableBufferPointer { player.render(into: $0) { events.append($0) } }
            #expect(n == 0 && frame.allSatisfy { $0 == 0 })
        }
        #expect(player.isFinished)
        #expect(
            events.filter { if case .finished = $0.kind { true } else { false } }.map(\.kind) == [
                .finished(cancelled: true)
            ])
        #expect(!events.contains { if case .smsRequested = $0.kind { true } else { false } })
    }

    @Test func cancellingMidRecordingIsAsClean() throws {
        let program = try compileExample("front-door.json", CallFormat(encoding: .ulaw))
        let player = program.makePlayer()
        var frame = [UInt8](repeating: 0, count: 160)
        for _ in 0..<50 { frame.withUnsafeMutableBufferPointer { _ = player.render(into: $0) } }
        player.cancel()
        var finished: [PlayerEvent] = []
        frame.withUnsafeMutableBufferPointer { _ = player.render(into: $0) { finished.append($0) } }
        #expect(frame.allSatisfy { $0 == MuLaw.silence })
        #expect(finished.map(\.kind) == [.finished(cancelled: true)])
        #expect(finished.first?.sample == 8000)
    }

    @Test func rfc4733ModeSilencesTheTonesAndBothModeKeepsThem() throws {
        let inband = try compileExample("front-door.json")
        let rfc = try compileExample("front-door.json", CallFormat(dtmfOutput: .rfc4733))
        let both = try compileExample("front-door.json", CallFormat(dtmfOutput: .both))
        let (rfcPCM, rfcEvents) = play(rfc, frames: [160])
        let (bothPCM, bothEvents) = play(both, frames: [160])
        let inbandPCM = play(inband, frames: [160]).pcm
        #expect(text(try detectDigits(rfcPCM, sampleRate: 8000)) == "")
        #expect(bothPCM == inbandPCM)
        for d in rfc.digits { #expect(rfcPCM[d.startSample..<d.endSample].allSatisfy { $0 == 0 }) }
        // The recording still plays in rfc4733 mode.
        #expect(rfcPCM[0..<rfc.steps[0].endSample] == inbandPCM[0..<inband.steps[0].endSample])
        for events in [rfcEvents, bothEvents] {
            let states = events.compactMap { if case .telephoneEvent(let s) = $0.kind { s } else { nil } }
            #expect(states.filter(\.ended).map(\.digit) == [.nine, .eight, .seven, .six, .pound])
            #expect(states.filter(\.ended).allSatisfy { $0.duration == 1200 && $0.volume == 10 })
        }
        #expect(
            !play(inband, frames: [160]).events.contains { if case .telephoneEvent = $0.kind { true } else { false } })
    }

    /// The plain-run copy (a frame with nothing to report) and the full frame loop give the same audio and the
    /// same events, telephone-events included, whatever the frame sizes, and after a restart.
    @Test(arguments: [DTMFOutput.inband, .rfc4733, .both])
    func framesInAndOutOfThePlainRunAgree(output: DTMFOutput) throws {
        let program = try compileExample("front-door.json", CallFormat(dtmfOutput: output))
        let reference = play(program, frames: [program.totalSamples + 1])
        #expect(reference.pcm.count == program.totalSamples)
        for frames in [[1], [160], [159, 161], [800], [0, 160], [3, 500, 1, 161]] {
            let other = play(program, frames: frames)
            #expect(other.pcm == reference.pcm, "frames \(frames)")
            // A telephone-event's interim states come at frame ends, and within one frame the step events come
            // before the telephone-events: compare the step events, and the telephone-events' final states.
            let steps = { (events: [PlayerEvent]) in
                events.filter { if case .telephoneEvent = $0.kind { false } else { true } }
            }
            let tones = { (events: [PlayerEvent]) in
                events.filter { if case .telephoneEvent(let state) = $0.kind { state.ended } else { false } }
            }
            #expect(steps(other.events).map(\.kind) == steps(reference.events).map(\.kind), "frames \(frames)")
            #expect(steps(other.events).map(\.sample) == steps(reference.events).map(\.sample), "frames \(frames)")
            #expect(tones(other.events).map(\.kind) == tones(reference.events).map(\.kind), "frames \(frames)")
            #expect(tones(other.events).map(\.sample) == tones(reference.events).map(\.sample), "frames \(frames)")
            #expect(output == .inband || tones(other.events).count == 5)
        }
        let player = program.makePlayer()
        var first = [Int16](repeating: 0, count: 4000)
        first.withUnsafeMutableBufferPointer { _ = player.render(into: $0) }
        player.restart()
        var again = [Int16](repeating: 0x7777, count: 160)
        var replay: [Int16] = []
        while !player.isFinished {
            let n = again.withUnsafeMutableBufferPointer { player.render(into: $0) }
            replay += again.prefix(n)
        }
        #expect(replay == reference.pcm)
    }

    /// A G.711 program keeps a digit's tone and gap in one burst, a PCM16 one the gap as silence: frames that are
    /// one copy or fill, that cross one segment boundary (inside the frame or at its very end) or several, or that
    /// are empty give the bytes and events of one frame of the whole sequence, in the program's own encoding and
    /// (for G.711, through the frame loop) in PCM16.
    @Test(arguments: [SampleEncoding.pcm16, .ulaw, .alaw], [DTMFOutput.inband, .rfc4733, .both])
    func framesAcrossSegmentBoundariesAgree(encoding: SampleEncoding, output: DTMFOutput) throws {
        let library = try RecordingLibrary(directory: examples + "/recordings")
        let text = """
            { "name": "Crossings", "steps": [
              { "type": "recording", "recording": "welcome" },
              { "type": "dtmf", "digits": "123w45", "toneMs": 43, "gapMs": 47 },
              { "type": "dtmf", "digits": "67890" },
              { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "x" },
              { "type": "dtmf", "digits": "9W8", "toneMs": 150, "gapMs": 100 } ] }
            """
        let sequence = try SequenceDefinition.parse(text, source: "crossings", recordings: library)
        let program = try CompiledSequence(
            sequence, format: CallFormat(encoding: encoding, dtmfOutput: output),
            recordings: RecordingCache(library: library))
        let whole = [program.totalSamples + 1]
        let sizes = [[1], [160], [159, 161], [800], [1600], [0, 160], [3, 500, 1, 161, 4000]]
        let reference = play(program, frames: whole)
        #expect(reference.pcm.count == program.totalSamples)
        #expect(reference.pcm.contains { $0 != 0 })
        var references = [("pcm16", reference.pcm.map { UInt16(bitPattern: $0) }, reference.events)]
        let referenceBytes = encoding == .pcm16 ? nil : playBytesWithEvents(program, frames: whole)
        if let referenceBytes {
            #expect(referenceBytes.bytes.count == program.totalSamples)
            references.append(("bytes", referenceBytes.bytes.map { UInt16($0) }, referenceBytes.events))
        }
        for frames in sizes {
            var others = [("pcm16", play(program, frames: frames))].map {
                ($0.0, $0.1.pcm.map { UInt16(bitPattern: $0) }, $0.1.events)
            }
            if referenceBytes != nil {
                let other = playBytesWithEvents(program, frames: frames)
                others.append(("bytes", other.bytes.map { UInt16($0) }, other.events))
            }
            for ((name, expected, expectedEvents), (_, audio, events)) in zip(references, others) {
                #expect(audio == expected, "\(name), frames \(frames)")
                // Step events, and the telephone-events' final states apart: interim states come at frame ends,
                // and within one frame the step events come first.
                let steps = { (events: [PlayerEvent]) in
                    events.filter { if case .telephoneEvent = $0.kind { false } else { true } }.map {
                        "\($0.kind) \($0.sample)"
                    }
                }
                let tones = { (events: [PlayerEvent]) in
                    events.filter { if case .telephoneEvent(let state) = $0.kind { state.ended } else { false } }
                        .map { "\($0.kind) \($0.sample)" }
                }
                #expect(steps(events) == steps(expectedEvents), "\(name), frames \(frames)")
                #expect(tones(events) == tones(expectedEvents), "\(name), frames \(frames)")
                #expect(output == .inband || tones(events).count == 12)
            }
        }
    }

    @Test func perCallStateFitsIn256Bytes() throws {
        let program = try compileExample("front-door.json")
        let player = program.makePlayer()
        let bytes = mallocUsableSize(Unmanaged.passUnretained(player).toOpaque())
        print(
            "per-call player: \(bytes) bytes of heap; the compiled program shares \(program.sharedAudioBytes) bytes of audio"
        )
        #expect(bytes <= 256)
    }

    @Test func aMissingRecordingIsACompileErrorNamingTheStep() throws {
        let sequence = SequenceDefinition(name: "x", steps: [.recording(RecordingStep(recording: .named("nope")))])
        #expect {
            try CompiledSequence(sequence, format: CallFormat(), recordings: RecordingCache(library: .empty))
        } throws: {
            ($0 as? CompileError)?.description.hasPrefix("steps[0].recording: recordings: no recording named 'nope'")
                ?? false
        }
    }

    @Test func theSystemDefaultAndNoneRecordingsPlay() throws {
        let program = try compileExample("gate.json")
        #expect(program.steps[0].endSample == 16970)  // the default prompt, 2.121 s
        #expect(program.steps[2].startSample == program.steps[2].endSample)  // "none"
    }
}
