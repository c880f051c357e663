import Crypto
import Foundation
import Hummingbird
import NIOCore

// The sequence editor: static HTML, CSS and JavaScript modules (Sources/ManagementAPI/Web, embedded by
// Scripts/embed-web.sh) served without a key — the page signs in itself, with an API key it keeps in
// sessionStorage and sends as a bearer token (no cookies, so no CSRF). Every answer carries a strict
// Content-Security-Policy (W3C CSP Level 3): scripts and styles from this origin only, no inline code, media
// and pictures from here or blob: URLs (previews fetched with the key), no framing.

/// One served file: its bytes, media type and strong validator.
struct WebAsset: Sendable {
    let path: String
    let body: ByteBuffer
    let contentType: String
    let etag: String
}

enum WebEditor {
    /// The page's policy: nothing inline, nothing from another origin (CSP Level 3 §6), not framed
    /// (frame-ancestors replaces X-Frame-Options, RFC 7034).
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
        + "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        + "frame-ancestors 'none'"

    /// The files by path: `/` is index.html, every other file is `/NAME`.
    static let assets: [String: WebAsset] = {
        var byPath: [String: WebAsset] = [:]
        for (name, text) in WebAssets.files {
            let full = text + "\n"
            let type: String
            switch name.split(separator: ".").last ?? "" {
            case "html": type = "text/html; charset=utf-8"
            case "css": type = "text/css; charset=utf-8"
            case "js": type = "text/javascript; charset=utf-8"
            case "svg": type = "image/svg+xml"
            default: type = "application/octet-stream"
            }
            let digest = SHA256.hash(data: Array(full.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
            let asset = WebAsset(
                path: "/\(name)", body: ByteBuffer(string: full), contentType: type, etag: "\"w-\(digest)\"")
            byPath["/\(name)"] = asset
            if name == "index.html" { byPath["/"] = asset }
        }
        return byPath
    }()

    /// Whether `path` is one of the editor's files (served without a key).
    static func serves(_ path: String) -> Bool { assets[path] != nil }

    /// Total bytes of the files (the page weight: the page loads them all).
    static var totalBytes: Int { assets.filter { $0.key != "/" }.values.reduce(0) { $0 + $1.body.readableBytes } }

    /// The security headers every editor answer carries.
    static func securityHeaders(_ fields: inout HTTPFields) {
        for (name, value) in [
            ("Content-Security-Policy", contentSecurityPolicy), ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"), ("Cross-Origin-Opener-Policy", "same-origin"),
        ] {
            if let field = HTTPFields.Element.Name(name) { fields[field] = value }
        }
    }

    /// GET or HEAD of a file: 200 with the file, or 304 when If-None-Match names its ETag (RFC 9110 §13.1.2).
    /// Browsers revalidate every time (`no-cache`), so a new binary's files are used at once.
    static func answer(_ asset: WebAsset, _ request: Request) -> Response {
        var headers: HTTPFields = [.contentType: asset.contentType, .eTag: asset.etag, .cacheControl: "no-cache"]
        securityHeaders(&headers)
        let tags = request.headers[values: .ifNoneMatch].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if tags.contains(asset.etag) || tags.contains("*") {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.body.readableBytes)
        return Response(
            status: .ok, headers: headers,
            body: request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: asset.body))
    }

    /// Adds a GET and a HEAD route for every file.
    static func register(on router: Router<APIRequestContext>) {
        for (path, asset) in assets {
            router.get(RouterPath(path)) { request, _ in answer(asset, request) }
            router.head(RouterPath(path)) { request, _ in answer(asset, request) }
        }
    }
}
