import CallSequenceEngine
import CallSequenceModel
import CallSequenceStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ManagementAPI

func fixture(_ path: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
        "../../TestAudio/\(path)")
    return Array(try Data(contentsOf: url.standardized))
}

@Suite("Management API: recordings and previews")
struct RecordingAndPreviewTests {
    @Test func anMP3UploadIsSniffedConvertedAndPlayedInThePreview() async throws {
        let h = try await APIHarness(limits: APILimits(maximumRecordingBytes: 64 << 10))
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            // Content-Type is not trusted: an MP3 sent as octet-stream is still an MP3.
            let mp3 = try fixture("formats/prompt-44k-stereo.mp3")
            let put = try await client.call(
                .put, "/api/v1/accounts/me/recordings/welcome", key: a.key, body: mp3,
                contentType: "application/octet-stream")
            #expect(put.status == .created && put.etag == "\"1\"", "\(put.text)")
            #expect(put["contentType"]?.string == "audio/mpeg")
            #expect(put.json?["metadata"]?["sampleRate"]?.int == 8000)
            let duration = try #require(put["durationMs"]?.int)
            #expect(duration > 500)
            let audio = try await client.call(.get, "/api/v1/accounts/me/recordings/welcome/audio", key: a.key)
            #expect(audio.status == .ok && audio.headers[.contentType] == "audio/wav")
            #expect(Array(audio.body.prefix(4)) == Array("RIFF".utf8) && (audio.body.count - 44) / 16 == duration)
            // Replacing needs If-Match.
            #expect(
                try await client.call(.put, "/api/v1/accounts/me/recordings/welcome", key: a.key, body: mp3).status.code
                    == 428)

            let body =
                #"{"name":"Door","steps":[{"type":"recording","recording":"welcome"},{"type":"dtmf","digits":"1234#"}]}"#
            let created = try await client.call(.post, "/api/v1/accounts/me/sequences", key: a.key, json: body)
            let location = try #require(created.headers[.location])
            let wav = try await client.call(.get, "\(location)/preview.wav", key: a.key)
            #expect(wav.status == .ok && wav.headers[.contentType] == "audio/wav")
            let timeline = try await client.call(.get, "\(location)/timeline", key: a.key)
            let cues = timeline["cues"]?.array ?? []
            let end = try #require(timeline["durationMs"]?.int)
            // The preview lasts as long as the timeline says (8 kHz, 16-bit mono): recording, then 5 digits.
            #expect(abs((wav.body.count - 44) / 16 - end) <= 1)
            #expect(cues.filter { $0["digit"] != nil }.count == 5)
            #expect(
                cues.first?["startMs"]?.int == 0
                    && cues.dropFirst().first(where: { $0["digit"] == nil })?["startMs"]?.int == duration)
            let plot = try await client.call(.get, "\(location)/plot.png", key: a.key)
            #expect(
                plot.status == .ok && Array(plot.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])

            // Used by the sequence: 409 naming it.
            let delete = try await client.call(
                .delete, "/api/v1/accounts/me/recordings/welcome", key: a.key, headers: [.ifMatch: "\"1\""])
            #expect(delete.status == .conflict && delete.text.contains("Door"), "\(delete.text)")
        }
    }

    @Test func uploadsPastTheLimitAre413NonAudio415AndDamaged422() async throws {
        let h = try await APIHarness(limits: APILimits(maximumRecordingBytes: 16 << 10))
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            let big = try fixture("formats/prompt-44k-stereo.wav")
            #expect(big.count > 16 << 10)
            let tooLarge = try await client.call(
                .put, "/api/v1/accounts/me/recordings/big", key: a.key, body: big, contentType: "audio/wav")
            #expect(tooLarge.status == .contentTooLarge && tooLarge.headers[.contentType] == "application/problem+json")
            let text = try await client.call(
                .put, "/api/v1/accounts/me/recordings/text", key: a.key,
                body: try fixture("damaged/text-named.mp3"), contentType: "audio/mpeg")
            #expect(text.status == .unsupportedMediaType, "\(text.text)")
            let truncated = try await client.call(
                .put, "/api/v1/accounts/me/recordings/cut", key: a.key,
                body: try fixture("damaged/garbage-header.wav"), contentType: "audio/wav")
            #expect(truncated.status == .unprocessableContent, "\(truncated.text)")
            let list = try await client.call(.get, "/api/v1/accounts/me/recordings", key: a.key)
            #expect(list["recordings"]?.array?.isEmpty == true)
        }
    }
}
