import CallSequenceEngine
import CallSequenceModel
import Foundation
import Glibc
import Recordings
import TelephonyDSP
import TestSupport
import Testing

/// The process's resident memory in bytes (/proc/self/statm): what compiling adds shows up here whichever
/// thread's malloc arena it used.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

@Suite("Bounds: memory grows with what is distinct, limits in one place, hostile input refused", .serialized)
struct BoundsTests {
    static func doorSequence(_ i: Int) throws -> SequenceDefinition {
        let code = String(format: "%04d#", i % 10_000)
        return SequenceDefinition(name: "door \(i)", steps: [.dtmf(DTMFStep(digits: try DialString(code)))])
    }

    @Test func tenThousandDoorSequencesShareTheirBursts() throws {
        let cache = RecordingCache(library: .empty)
        let sequences = try (0..<10_000).map(Self.doorSequence)
        let before = residentBytes()
        let programs = try sequences.map { try CompiledSequence($0, format: CallFormat(), recordings: cache) }
        let after = residentBytes()
        let schedules = programs.reduce(0) { $0 + $1.scheduleBytes }
        // Every program refers to the same few bursts (at most 11 digits at one timing): 1.6 KB each.
        let referenced = Set(programs.flatMap { $0.digits.map(\.digit) })
        #expect(referenced.count <= 11)
        #expect(programs.allSatisfy { $0.sharedAudioBytes <= 5 * 800 * 2 })
        #expect(schedules < 10_000 * 1024, "schedules: \(schedules) bytes")
        print(
            "10,000 door sequences at 8 kHz: resident +\(after - before) bytes (\((after - before) / 10_000) per sequence), "
                + "schedules \(schedules) bytes, bursts \(ToneBurstCache.shared.live.bytes) bytes live in the process")
        #expect(after - before < 64 << 20)
        // Same audio as the generator renders.
        let player = programs[1234].makePlayer()
        var audio = [Int16](repeating: 0, count: programs[1234].totalSamples)
        audio.withUnsafeMutableBufferPointer { _ = player.render(into: $0) }
        #expect(audio == (try DTMFGenerator.render(DialString("1234#"), sampleRate: 8000)))
    }

    @Test func theExampleAccountCompiledIsSmall() throws {
        let before = residentBytes()
        let account = try exampleAccount()
        try account.compileReachable()
        let after = residentBytes()
        let bytes = account.sequences.compactMap { $0 }.reduce(0) { $0 + $1.scheduleBytes + $1.sharedAudioBytes }
        print(
            "example account compiled at 8 kHz PCM16: resident +\(after - before) bytes; "
                + "\(account.compiledCount) programs refer to \(bytes) bytes of schedules and audio")
        #expect(after - before < 8 << 20)
    }

    @Test func aSequenceNoOptionReachesIsNotCompiled() throws {
        let text = """
            { "dids": [ { "number": "5145550100", "route": { "ivr": "Lobby" } } ],
              "ivrs": [ { "name": "Lobby", "prompt": "none", "options": { "1": { "sequence": "Door" } } },
                        { "name": "Orphan", "prompt": "none", "options": { "1": { "sequence": "Big" } } } ],
              "sequences": [ { "name": "Door", "steps": [ { "type": "dtmf", "digits": "1" } ] },
                             { "name": "Big", "steps": [ { "type": "dtmf", "digits": "2" } ] },
                             { "name": "Unused", "steps": [ { "type": "dtmf", "digits": "3" } ] } ] }
            """
        let (account, library) = try Account.parse(text, source: "a", baseDirectory: "")
        let compiled = try CompiledAccount(account, recordings: RecordingCache(library: library), format: CallFormat())
        try compiled.compileReachable()
        #expect(compiled.sequences.map { $0 != nil } == [true, false, false])
        #expect(compiled.compiledCount == 2)  // the Lobby's prompt and "Door"
        let (_, events) = runSession(try compiled.makeSession(calling: PhoneNumber("5145550100")), presses: [.one])
        #expect(events.contains { $0.kind == .ended(.sequenceFinished) })
    }

    @Test func aSequenceIsCompiledWhenACallFirstReachesItThenShared() throws {
        let text = """
            { "dids": [ { "number": "5145550100", "route": { "ivr": "Front" } },
                        { "number": "5145550101", "route": { "ivr": "Back" } } ],
              "ivrs": [ { "name": "Front", "prompt": "none", "options": { "1": { "sequence": "Front door" },
                                                                          "2": { "ivr": "Back" } } },
                        { "name": "Back", "prompt": "none", "options": { "1": { "sequence": "Back door" } } } ],
              "sequences": [ { "name": "Front door", "steps": [ { "type": "dtmf", "digits": "1" } ] },
                             { "name": "Back door", "steps": [ { "type": "dtmf", "digits": "2" } ] },
                             { "name": "Garage", "steps": [ { "type": "dtmf", "digits": "3" } ] } ] }
            """
        let (account, library) = try Account.parse(text, source: "a", baseDirectory: "")
        let compiled = try CompiledAccount(account, recordings: RecordingCache(library: library), format: CallFormat())
        #expect(compiled.compiledCount == 0, "nothing is compiled before a call")
        // A call to the back door's number reaches only "Back" and its sequence.
        _ = try compiled.makeSession(calling: PhoneNumber("5145550101"))
        #expect(compiled.sequences.map { $0 != nil } == [false, true, false])
        #expect(compiled.compiledCount == 2)
        let backDoor = try #require(compiled.sequences[1])
        // The front number reaches both IVRs (option 2 goes to "Back"): the back door is not compiled again.
        let (_, events) = runSession(try compiled.makeSession(calling: PhoneNumber("5145550100")), presses: [.one])
        #expect(events.contains { $0.kind == .ended(.sequenceFinished) })
        #expect(compiled.sequences.map { $0 != nil } == [true, true, false])
        #expect(compiled.compiledCount == 4)
        #expect(compiled.sequences[1] === backDoor)
    }

    @Test func aCallCompilingAProgramDoesNotHoldUpLookupsOfCompiledSequences() throws {
        let examples = String(#filePath.dropLast("/Tests/CallSequenceTests/BoundsTests.swift".count)) + "/Examples"
        let text = """
            { "recordings": "recordings",
              "dids": [ { "number": "5145550100", "route": { "ivr": "Front" } },
                        { "number": "5145550101", "route": { "ivr": "Back" } } ],
              "ivrs": [ { "name": "Front", "prompt": "welcome", "options": { "1": { "sequence": "Front door" } } },
                        { "name": "Back", "prompt": "none", "options": { "1": { "sequence": "Back door" } } } ],
              "sequences": [ { "name": "Front door", "steps": [ { "type": "dtmf", "digits": "1" } ] },
                             { "name": "Back door", "steps": [ { "type": "dtmf", "digits": "2" } ] } ] }
            """
        let (account, library) = try Account.parse(text, source: "a", baseDirectory: examples)
        // The front prompt's recording decodes only when the test lets it: a first call stuck in its compile.
        let release = DispatchSemaphore(value: 0)
        let decoding = DispatchSemaphore(value: 0)
        let cache = RecordingCache(library: library) { path, limits throws(RecordingError) in
            decoding.signal()
            release.wait()
            return try AudioFile.read(path, limits: limits)
        }
        let compiled = try CompiledAccount(account, recordings: cache, format: CallFormat())
        _ = try compiled.makeSession(calling: PhoneNumber("5145550101"))
        let front = DispatchGroup()
        DispatchQueue.global().async(group: front) { _ = try? compiled.makeSession(calling: PhoneNumber("5145550100")) }
        decoding.wait()
        // While that compile waits, a lookup (what serve's media event thread does for an SMS step) answers
        // at once, and another number's call starts with its programs.
        let answered = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            _ = compiled.compiledSequence(at: 1)
            _ = try? compiled.makeSession(calling: PhoneNumber("5145550101"))
            answered.signal()
        }
        let inTime = answered.wait(timeout: .now() + 10) == .success
        release.signal()
        front.wait()
        #expect(inTime, "a lookup waited for another call's compile")
        #expect(compiled.sequences.map { $0 != nil } == [true, true])
        #expect(compiled.compiledCount == 4)
    }

    @Test func optionsAAndLowerCaseAAreOneKeyGivenTwice() throws {
        let text = """
            { "dids": [ { "number": "5145550100", "route": { "ivr": "Lobby" } } ],
              "ivrs": [ { "name": "Lobby", "prompt": "none",
                          "options": { "a": { "hangup": true }, "A": { "repeat": true } } } ] }
            """
        #expect(throws: InvalidDocumentError.self) { _ = try Account.parse(text, source: "a", baseDirectory: "") }
        do {
            _ = try Account.parse(text, source: "a", baseDirectory: "")
        } catch {
            #expect(
                error.problems.map(\.description) == [
                    "ivrs[0].options.A: the option \"A\" is the same digit as \"a\" (A-D and a-d are the same keys); give it once"
                ])
        }
    }

    @Test func aHundredThousandKeysGiveFiftyProblemsAndACount() throws {
        var text = #"{ "name": "x", "steps": [ { "type": "dtmf", "digits": "1" } ]"#
        for i in 0..<100_000 { text += #", "k\#(i)": 0"# }
        text += "}"
        do {
            _ = try SequenceDefinition.parse(text, source: "big.json")
            Issue.record("accepted")
        } catch {
            #expect(error.problems.count == 51)
            #expect(error.problems.last?.message == "and 99950 more problems")
            #expect(error.description.split(separator: "\n").count == 51)
        }
    }

    @Test func controlCharactersAreRefusedAndEscapedWhenQuoted() throws {
        let cases: [(String, String)] = [
            (#"{ "name": "a\u0000b", "steps": [ { "type": "dtmf", "digits": "1" } ] }"#, "name"),
            (#"{ "name": "a\u202Eb", "steps": [ { "type": "dtmf", "digits": "1" } ] }"#, "name"),
            (#"{ "name": "a\u0085b", "steps": [ { "type": "dtmf", "digits": "1" } ] }"#, "name"),
            (#"{ "name": "a\u007Fb", "steps": [ { "type": "dtmf", "digits": "1" } ] }"#, "name"),
            (#"{ "name": "n", "steps": [ { "type": "dtmf", "digits": "1\n2" } ] }"#, "steps[0].digits"),
            (
                #"{ "name": "n", "steps": [ { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "hi\u001b[31m" } ] }"#,
                "steps[0].message"
            ),
            (#"{ "name": "n", "steps": [ { "type": "dtmf", "digits": "1", "x\u001bq": 1 } ] }"#, #"steps[0].x\u{1B}q"#),
        ]
        for (text, path) in cases {
            do {
                _ = try SequenceDefinition.parse(text, source: "s")
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.problems.first?.path == path, "\(error)")
                let lines = error.description
                #expect(!lines.unicodeScalars.contains { InputText.isForbidden($0) && $0 != "\n" }, "\(lines)")
            }
        }
    }

    @Test func dialStringsFromElementsAreBounded() {
        #expect(throws: DialStringError.self) { try DialString(elements: [.pause(milliseconds: -1)]) }
        #expect(throws: DialStringError.self) { try DialString(elements: [.pause(milliseconds: Int.max)]) }
        #expect(throws: DialStringError.self) {
            try DialString(elements: Array(repeating: .digit(.one), count: DialString.maximumElements + 1))
        }
        #expect(throws: DialStringError.self) { try DialString(String(repeating: "1", count: 100_000)) }
        #expect((try? DialString(elements: [.digit(.one), .pause(milliseconds: 250)]))?.elements.count == 2)
    }

    @Test func renderingIntoAnEmptyBufferDoesNothing() throws {
        for encoding in [SampleEncoding.pcm16, .ulaw] {
            let program = try CompiledSequence(
                try Self.doorSequence(1), format: CallFormat(encoding: encoding),
                recordings: RecordingCache(library: .empty))
            let player = program.makePlayer()
            if encoding == .pcm16 {
                #expect(player.render(into: UnsafeMutableBufferPointer<Int16>(start: nil, count: 0)) == 0)
            } else {
                #expect(player.render(into: UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)) == 0)
            }
            #expect(player.position == 0)
        }
    }

    @Test func aSequenceOverTheDurationCapDoesNotCompile() throws {
        // 30 DTMF steps of 100 digits of 10 s tones: 500 min; the parser refuses it, and so does the compiler
        // for a sequence built in code.
        let digits = try DialString(String(repeating: "5", count: 100))
        let step = DTMFStep(digits: digits, toneMilliseconds: 10_000, gapMilliseconds: 10_000)
        let sequence = SequenceDefinition(name: "long", steps: Array(repeating: .dtmf(step), count: 30))
        #expect(throws: CompileError.self) {
            _ = try CompiledSequence(sequence, format: CallFormat(), recordings: RecordingCache(library: .empty))
        }
    }

    @Test func timingsOutsideTheLimitsGiveTheReason() {
        #expect(throws: TelephonyDSPError.self) { try DTMFTiming(gapMilliseconds: 20).validate() }
        do {
            try DTMFTiming(levelDbm0: -36).validate()
        } catch {
            #expect(error.description.contains("-25 dBm0"))
        }
    }
}

@Suite("Inputs the fuzzer found")
struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/regressions")

    @Test func aDamagedVorbisHeaderIsRefused() throws {
        let bytes = try [UInt8](Data(contentsOf: Self.folder.appendingPathComponent("vorbis-header-leak.ogg")))
        #expect(throws: RecordingError.self) { _ = try AudioFile.decode(bytes, name: "vorbis-header-leak.ogg") }
    }
}
