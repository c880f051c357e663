import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Hummingbird
import Recordings
import TelephonyDSP

// Previews: the sequence rendered by the pipeline calls use (compile, then the Player in 20 ms frames).

extension ManagementAPI {
    /// The sequence compiled as a call at 8 kHz with in-band DTMF would play it, its recordings read from
    /// the store.
    func compiled(_ context: APIRequestContext, schedulesOnly: Bool = false) async throws -> CompiledSequence {
        let (account, record) = try await sequence(context)
        return try await compiled(record.body, source: record.id, account: account, schedulesOnly: schedulesOnly)
    }

    /// An unsaved sequence (the body of a POST), checked as a save would check it (as a change of the sequence of
    /// that name when there is one), then compiled: what the editor previews before anything is saved.
    func compiledUnsaved(
        _ request: Request, _ context: APIRequestContext, schedulesOnly: Bool = false
    ) async throws
        -> CompiledSequence
    {
        let account = try await account(context)
        let (_, body) = try await readJSON(request)
        var replacing: String?
        if case .string(let name)? = body["name"] { replacing = name }
        try await validate(.sequence(body, replacing: replacing), in: account)
        return try await compiled(
            CanonicalJSON.text(body), source: "the sequence", account: account, schedulesOnly: schedulesOnly)
    }

    /// `body` (a sequence's JSON text) compiled against `account`'s recordings.
    func compiled(
        _ body: String, source: String, account: AccountRecord, schedulesOnly: Bool
    ) async throws -> CompiledSequence {
        let snapshot = try await store.snapshot(of: account.id, withAudio: false)
        let names = snapshot.recordings.map(\.name)
        let library = RecordingLibrary(
            files: Dictionary(names.map { ($0, $0) }, uniquingKeysWith: { a, _ in a }),
            origin: "the account's recordings")
        let sequence: SequenceDefinition
        do {
            sequence = try SequenceDefinition.parse(body, source: source, recordings: library)
        } catch {
            throw Problem.invalid(error.problems.map { (JSONPointer.from(path: $0.path), $0.message) })
        }
        // The conversions of the recordings it plays, fetched before compiling (the compiler's decoder is
        // synchronous).
        var audio: [String: [UInt8]] = [:]
        for step in sequence.steps {
            if case .recording(let r) = step, case .named(let name) = r.recording, audio[name] == nil {
                audio[name] = try await store.recordingAudio(name, account: account.id, variant: .converted)
            }
        }
        let fetched = audio
        let cache = RecordingCache(library: library) { path, limits throws(RecordingError) in
            guard let bytes = fetched[path] else { throw RecordingError.notFound(path) }
            return try AudioFile.decode(bytes, name: path, limits: limits)
        }
        do {
            return try CompiledSequence(
                sequence, format: CallFormat(sampleRate: Self.conversionRate, encoding: .pcm16, dtmfOutput: .inband),
                recordings: cache, schedulesOnly: schedulesOnly)
        } catch {
            throw Problem.invalid([(JSONPointer.from(path: error.path), error.message)])
        }
    }

    /// Plays `program` through a Player in 20 ms frames, as a media server would.
    static func render(_ program: CompiledSequence) -> [Int16] {
        let frame = program.format.sampleRate / 50
        let player = program.makePlayer()
        var pcm: [Int16] = []
        pcm.reserveCapacity(program.totalSamples)
        var buffer = [Int16](repeating: 0, count: frame)
        while !player.isFinished {
            let n = buffer.withUnsafeMutableBufferPointer { player.render(into: $0) { _ in } }
            pcm.append(contentsOf: buffer.prefix(n))
            if n == 0 { break }
        }
        return pcm
    }

    func previewAudio(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        Self.audio(try await compiled(context))
    }

    func previewPlot(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try Self.plot(try await compiled(context))
    }

    func previewTimeline(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        Self.timeline(try await compiled(context, schedulesOnly: true))
    }

    func previewUnsavedAudio(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        Self.audio(try await compiledUnsaved(request, context))
    }

    func previewUnsavedPlot(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try Self.plot(try await compiledUnsaved(request, context))
    }

    func previewUnsavedTimeline(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        Self.timeline(try await compiledUnsaved(request, context, schedulesOnly: true))
    }

    static func audio(_ program: CompiledSequence) -> Response {
        bytes(WAVFile.pcm16(render(program), sampleRate: program.format.sampleRate), contentType: "audio/wav")
    }

    static func plot(_ program: CompiledSequence) throws -> Response {
        let png = try WaveformPicture.png(render(program), steps: program.steps.map { ($0.startSample, $0.endSample) })
        return bytes(png, contentType: "image/png")
    }

    static func timeline(_ program: CompiledSequence) -> Response {
        let rate = program.format.sampleRate
        func ms(_ samples: Int) -> JSONValue { .int(samples * 1000 / rate) }
        let cues = program.cueSheet.map { cue -> JSONValue in
            var members: [(key: String, value: JSONValue)] = [("step", .int(cue.step))]
            if let digit = cue.digit { members.append(("digit", .int(digit))) }
            members += [("startMs", ms(cue.startSample)), ("endMs", ms(cue.endSample)), ("what", .string(cue.text))]
            return .object(members)
        }
        return json(
            .object([
                ("name", .string(program.sequence.name)), ("sampleRate", .int(rate)),
                ("durationMs", ms(program.totalSamples)), ("cues", .array(cues)),
            ]))
    }
}
