import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import ManagementAPI

@Suite("Management API: the editor's files and unsaved previews")
struct WebEditorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/ManagementAPI/Web").standardized

    @Test func theEmbeddedFilesAreTheFilesOfWebByteForByte() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).sorted()
        #expect(WebAssets.files.map(\.name) == names, "run Scripts/embed-web.sh")
        for (name, text) in WebAssets.files {
            let committed = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
            #expect(committed == text + "\n", "\(name) differs from WebAssets.swift: run Scripts/embed-web.sh")
        }
    }

    @Test func thePageWeighsUnder150KBAndUsesNoMarkupSinksOrInlineCode() throws {
        #expect(WebEditor.totalBytes < 150 * 1024, "the page weighs \(WebEditor.totalBytes) bytes")
        for (name, text) in WebAssets.files where name.hasSuffix(".js") {
            // Data is rendered as text: no HTML parsing of strings, no code from strings (the CSP forbids it too).
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
                #expect(!text.contains(sink), "\(name) uses \(sink)")
            }
            #expect(!text.contains("http://") && !text.contains("https://"), "\(name) names another origin")
        }
        let html = try #require(WebAssets.files.first { $0.name == "index.html" }?.text)
        #expect(
            !html.contains(" style=") && html.range(of: #" on[a-z]+="#, options: .regularExpression) == nil,
            "index.html has an inline style or event handler (the CSP refuses them)")
        #expect(
            html.components(separatedBy: "<script").count == 2
                && html.contains(#"<script type="module" src="/app.js"></script>"#))
    }

    @Test func theEditorIsServedWithoutAKeyWithItsSecurityHeadersAndETags() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let page = try await client.call(.get, "/", key: nil)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.hasPrefix("<!doctype html>"))
            let csp = try #require(page.headers[HTTPFields.Element.Name("Content-Security-Policy")!])
            #expect(
                csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'")
                    && csp.contains("media-src 'self' blob:") && csp.contains("img-src 'self' blob:")
                    && !csp.contains("unsafe"))
            #expect(page.headers[HTTPFields.Element.Name("X-Content-Type-Options")!] == "nosniff")
            let etag = try #require(page.etag)
            let again = try await client.call(.get, "/", key: nil, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.isEmpty)
            let types = [
                "/app.js": "text/javascript; charset=utf-8", "/style.css": "text/css; charset=utf-8",
                "/icon.svg": "image/svg+xml", "/index.html": "text/html; charset=utf-8",
            ]
            for (path, type) in types {
                let file = try await client.call(.get, path, key: nil)
                #expect(file.status == .ok && file.headers[.contentType] == type, "\(path)")
                #expect(file.headers[HTTPFields.Element.Name("X-Content-Type-Options")!] == "nosniff")
            }
            let head = try await client.call(.head, "/app.js", key: nil)
            #expect(head.status == .ok && head.body.isEmpty)
            // Only the files are public: anything else still needs a key, and the files cannot be changed.
            #expect(try await client.call(.get, "/secret.js", key: nil).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/me", key: nil).status == .unauthorized)
            #expect(try await client.call(.post, "/", key: nil).status == .unauthorized)
        }
    }

    @Test func anUnsavedSequenceIsPreviewedAsASaveWouldCheckItAndNothingIsSaved() async throws {
        let h = try await APIHarness()
        defer { h.remove() }
        try await h.test { client in
            let a = try await makeAccount(client, operatorKey: h.operatorKey, name: "Alice")
            let body =
                #"{"name":"Door","steps":[{"type":"recording","recording":"default"},{"type":"dtmf","digits":"12w#"}]}"#
            let timeline = try await client.call(
                .post, "/api/v1/accounts/me/sequences/timeline", key: a.key, json: body)
            #expect(timeline.status == .ok, "\(timeline.text)")
            // The default prompt (16,970 samples at 8 kHz), 3 digits of 100 + 100 ms and a 500 ms pause.
            #expect(timeline["durationMs"]?.int == 16_970 * 1000 / 8000 + 3 * 200 + 500)
            #expect(timeline["cues"]?.array?.filter { $0["digit"] != nil }.count == 3)
            let wav = try await client.call(.post, "/api/v1/accounts/me/sequences/preview.wav", key: a.key, json: body)
            #expect(
                wav.status == .ok && wav.headers[.contentType] == "audio/wav"
                    && Array(wav.body.prefix(4)) == Array("RIFF".utf8))
            #expect((wav.body.count - 44) / 2 == 16_970 + (3 * 200 + 500) * 8)
            let plot = try await client.call(.post, "/api/v1/accounts/me/sequences/plot.png", key: a.key, json: body)
            #expect(plot.status == .ok && Array(plot.body.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
            let list = try await client.call(.get, "/api/v1/accounts/me/sequences", key: a.key)
            #expect(list["sequences"]?.array?.isEmpty == true, "a preview saved the sequence")
            // The problems a save would list, with their pointers.
            let bad =
                #"{"name":"Door","steps":[{"type":"dtmf","digits":"12x4"},{"type":"recording","recording":"nope"}]}"#
            let refused = try await client.call(
                .post, "/api/v1/accounts/me/sequences/preview.wav", key: a.key, json: bad)
            #expect(refused.status == .unprocessableContent, "\(refused.text)")
            let pointers = (refused["errors"]?.array ?? []).compactMap { $0["pointer"]?.string }
            #expect(
                pointers.contains("/steps/0/digits") && pointers.contains { $0.hasPrefix("/steps/1") },
                "\(refused.text)")
            #expect(
                try await client.call(.post, "/api/v1/accounts/me/sequences/timeline", key: nil, json: body).status
                    == .unauthorized)
        }
    }
}
