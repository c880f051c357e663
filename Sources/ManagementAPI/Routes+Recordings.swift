import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import Recordings
import TelephonyDSP

// Recordings: raw audio uploads, sniffed, decoded from memory and converted as `callseq convert` does.

extension ManagementAPI {
    /// Calls play 8 kHz (G.711); the conversion is kept at that rate.
    static let conversionRate = RecordingConversion.rate

    func recordingJSON(_ r: RecordingInfo) -> JSONValue {
        .object([
            ("name", .string(r.name)), ("contentType", .string(r.contentType)),
            ("originalBytes", .int(r.originalBytes)),
            ("convertedBytes", .int(r.convertedBytes)), ("durationMs", .int(r.durationMs)),
            ("metadata", (try? JSONValue.parse(r.metadata)) ?? .object([])), ("revision", .int(r.revision)),
        ])
    }

    /// A recording's name from the path: what a step or prompt can name.
    func recordingName(_ context: APIRequestContext, forUpload: Bool = false) throws(Problem) -> String {
        let name = try parameter(context, "name")
        // A name no upload could have made names nothing: 404 when reading, 422 when uploading.
        let valid =
            !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty && !name.contains("/")
            && name.count <= ProductLimits.default.maximumNameLength
        if !forUpload && !valid { throw Problem.notFound("recording \"\(InputText.escaped(name, limit: 40))\"") }
        guard !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
            name == name.trimmingCharacters(in: .whitespacesAndNewlines), !name.contains("/"),
            name.count <= ProductLimits.default.maximumNameLength
        else {
            throw Problem.invalid([
                (
                    "",
                    "a recording's name is 1...\(ProductLimits.default.maximumNameLength) characters, "
                        + "without '/' or surrounding spaces"
                )
            ])
        }
        guard case .named = RecordingChoice(name) else {
            throw Problem.invalid([("", "\"\(name)\" is reserved (a step's \"none\" or \"default\")")])
        }
        return name
    }

    func listRecordings(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let found = try await store.recordings(account: account.id, page: try page(request))
        return json(.object([("recordings", .array(found.items.map(recordingJSON))), ("next", .optional(found.next))]))
    }

    func existingRecording(_ name: String, _ account: AccountRecord) async throws -> RecordingInfo? {
        try await found { try await store.recording(name, account: account.id) }
    }

    func putRecording(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let account = try await account(context)
        let name = try recordingName(context, forUpload: true)
        let existing = try await existingRecording(name, account)
        var expected: Int?
        if let existing {
            expected = try ETag.require(request, current: existing.revision)
        } else if try ETag.condition(request) != nil {
            throw Problem(.preconditionFailed, "there is no recording \"\(name)\" to match If-Match against")
        }
        // The limit is enforced here, on what arrives: Content-Length is not trusted, and nothing past the
        // limit is read into memory.
        let limit = limits.maximumRecordingBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw Problem(.contentTooLarge, "the upload is larger than the limit of \(limit) bytes")
        }
        let upload = Array(buffer.readableBytesView)
        guard !upload.isEmpty else {
            throw Problem.invalid([("", "the upload is empty: send the audio file as the body")])
        }
        guard let mediaType = AudioSniffer.mediaType(of: upload) else {
            throw Problem(
                .unsupportedMediaType,
                "the body is not an audio file this service reads (WAV, AIFF, FLAC, Ogg, MP3, AU, CAF, W64)",
                headers: [.accept: "audio/wav, audio/flac, audio/ogg, audio/mpeg, audio/aiff"])
        }
        let converted: (wav: [UInt8], durationMs: Int, metadata: JSONValue)
        do {
            converted = try Self.convert(upload, name: name)
        } catch {
            throw Problem.invalid([("", error.description)])
        }
        let saved = try await store.putRecording(
            RecordingUpload(
                name: name, contentType: mediaType, original: upload, converted: converted.wav,
                durationMs: converted.durationMs, metadata: CanonicalJSON.text(converted.metadata)),
            account: account.id, expectedRevision: expected, origin: context.origin)
        let path =
            "\(accountPath(account.id))/recordings/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name)"
        return json(
            recordingJSON(saved), status: existing == nil ? .created : .ok, revision: saved.revision,
            location: existing == nil ? path : nil)
    }

    /// Decodes the upload from memory and converts it for calls: mono, 8 kHz (libsoxr), PCM16 WAV (the store's
    /// pipeline, which `callseq import` uses too).
    static func convert(
        _ upload: [UInt8], name: String
    ) throws(RecordingError) -> (wav: [UInt8], durationMs: Int, metadata: JSONValue) {
        try RecordingConversion.convert(upload, name: name)
    }

    func recording(_ context: APIRequestContext) async throws -> (AccountRecord, RecordingInfo) {
        let account = try await account(context)
        let name = try recordingName(context)
        guard let info = try await existingRecording(name, account) else {
            throw Problem.notFound("recording \"\(name)\"")
        }
        return (account, info)
    }

    func getRecording(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (_, info) = try await recording(context)
        return json(recordingJSON(info), revision: info.revision)
    }

    func getRecordingAudio(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, info) = try await recording(context)
        let audio = try await store.recordingAudio(info.name, account: account.id, variant: .converted)
        var response = bytes(audio, contentType: "audio/wav")
        response.headers[.eTag] = ETag.text(info.revision)
        return response
    }

    func deleteRecording(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (account, info) = try await recording(context)
        let expected = try ETag.require(request, current: info.revision)
        try await store.deleteRecording(
            info.name, account: account.id, expectedRevision: expected, origin: context.origin)
        return Response(status: .noContent)
    }
}
