// The VoIP.ms-style REST API: POST .../api/v1/rest.php with api_username, api_password,
// method=sendSMS, did, dst, message as a form body (never in the URL, so they stay out of access logs);
// success is {"status":"success","sms":23434}, any other status is the provider's error code.
//
// What an answer means for the text (see SMSTransportError): 500 and 503 from the provider itself (no Via
// header, RFC 9110 §7.6.3) mean it failed before processing, so they are retried; 502 and 504 are a
// gateway's answers (RFC 9110 §15.6.3, §15.6.5) that can come after the provider accepted the text, so the
// outcome is unknown, as for any 5xx an intermediary answers. Connection failures are reported at once (the
// client does not retry connecting in the background until the deadline): the dispatcher retries them.

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import TelephonyDSP

/// Sends texts through a VoIP.ms-compatible REST endpoint over async-http-client.
public struct VoipMsTransport: SMSTransport, CustomReflectable {
    /// The endpoint, e.g. `https://voip.ms/api/v1/rest.php`.
    public let endpoint: String
    /// The API account.
    public let credentials: SMSCredentials
    /// How long one request may take, connection included.
    public let timeout: TimeAmount
    private let client: HTTPClient

    /// The public VoIP.ms endpoint.
    public static let defaultEndpoint = "https://voip.ms/api/v1/rest.php"

    /// The longest answer read, in bytes.
    static let maximumAnswerBytes = 64 * 1024

    /// The client the transports share by default: connect timeout 2 s, a failed connection reported at
    /// once (no background reconnection until the deadline), no redirects (they would carry the form to
    /// another URL). Never shut down, like `HTTPClient.shared`.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(2))
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }()

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - endpoint: the REST endpoint: `https`, or `http` to a loopback host (or any host with
    ///     `allowInsecureEndpoint`, which sends the password in clear text).
    ///   - credentials: the API account.
    ///   - timeout: the limit for one request (default 10 s).
    ///   - allowInsecureEndpoint: accept `http://` to a host that is not loopback.
    ///   - client: the HTTP client (default: ``sharedClient``).
    /// - Throws: ``SMSConfigurationError`` for an endpoint that is not such a URL.
    public init(
        endpoint: String = defaultEndpoint, credentials: SMSCredentials, timeout: TimeAmount = .seconds(10),
        allowInsecureEndpoint: Bool = false, client: HTTPClient = VoipMsTransport.sharedClient
    )
        throws(SMSConfigurationError)
    {
        let shown = InputText.escaped(credentials.scrub(endpoint), limit: 200)
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw SMSConfigurationError(
                "the SMS endpoint '\(shown)' is not an http(s) URL with a host and no query",
                setting: .endpointNotAURL(shown))
        }
        guard url.user == nil, url.password == nil else {
            throw SMSConfigurationError(
                "the SMS endpoint must not hold a user or password (they are the credentials)",
                setting: .endpointHoldsCredentials)
        }
        if scheme == "http", !allowInsecureEndpoint, !Self.isLoopback(host) {
            throw SMSConfigurationError(
                "the SMS endpoint '\(shown)' is http://: the API password would travel in "
                    + "clear text; use https://, or allow an insecure endpoint if you mean it",
                setting: .endpointInsecure(shown))
        }
        self.endpoint = endpoint
        self.credentials = credentials
        self.timeout = timeout
        self.client = client
    }

    /// Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1.
    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// What `dump` and the debugger show: the credentials redacted by their own mirror.
    public var customMirror: Mirror {
        Mirror(
            self, children: ["endpoint": endpoint, "credentials": credentials, "timeout": timeout],
            displayStyle: .struct)
    }

    public func send(_ message: SMSMessage) async throws(SMSTransportError) -> String {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [
            ("api_username", credentials.user), ("api_password", credentials.password), ("method", "sendSMS"),
            ("did", message.from), ("dst", message.to), ("message", message.message),
        ].map { "\($0)=\(Self.formEncode($1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))

        let status: Int
        let viaIntermediary: Bool
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = Int(response.status.code)
            viaIntermediary = response.headers.contains(name: "Via")
            body = try await response.body.collect(upTo: Self.maximumAnswerBytes)
        } catch {
            throw Self.classify(error)
        }
        try Self.check(status: status, viaIntermediary: viaIntermediary)
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let state = object["status"] as? String
        else {
            throw SMSTransportError(.outcomeUnknown("the answer (HTTP \(status)) is not the provider's JSON"))
        }
        switch ProviderStatus(state, scrub: credentials.scrub) {
        case .success:
            if let id = object["sms"] as? Int { return String(id) }
            if let id = object["sms"] as? String, !id.isEmpty {
                return InputText.escaped(credentials.scrub(id), limit: ProviderStatus.excerptLength)
            }
            throw SMSTransportError(.outcomeUnknown("success without an sms id"))
        case .refused(let code):
            throw SMSTransportError(.rejected(code))
        case .unrecognised(let excerpt):
            throw SMSTransportError(.outcomeUnknown("unrecognised provider status \"\(excerpt)\""))
        }
    }

    /// What an HTTP status says about the text: nothing for 2xx (the body says it), otherwise the error.
    static func check(status: Int, viaIntermediary: Bool) throws(SMSTransportError) {
        switch status {
        case 200..<300:
            return
        case 500, 503:
            if viaIntermediary {
                throw SMSTransportError(
                    .outcomeUnknown(
                        "HTTP \(status) from an intermediary (Via): the provider may have the text"))
            }
            throw SMSTransportError(.serverError(status: status))
        case 501, 505:
            throw SMSTransportError(.httpStatus(status))
        case 502, 504:
            throw SMSTransportError(
                .outcomeUnknown(
                    "a gateway answered HTTP \(status): the provider may have accepted the text"))
        case 500...:
            throw SMSTransportError(.outcomeUnknown("HTTP \(status): the provider may have accepted the text"))
        default:
            throw SMSTransportError(.httpStatus(status))
        }
    }

    /// Whether an error happened before the request could reach the provider.
    static func classify(_ error: any Error) -> SMSTransportError {
        if let http = error as? HTTPClientError {
            switch http {
            case .connectTimeout:
                return SMSTransportError(.notSent("connect timeout"))
            case .getConnectionFromPoolTimeout:
                return SMSTransportError(.notSent("no connection became free in time"))
            case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
                return SMSTransportError(.configuration("the endpoint is not a usable URL (\(http))"))
            case .alreadyShutdown:
                return SMSTransportError(.configuration("the HTTP client is shut down"))
            default:
                // readTimeout, remoteConnectionClosed, deadlineExceeded, writeTimeout...: after connecting.
                return SMSTransportError(.outcomeUnknown(String(describing: http)))
            }
        }
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .handshakeFailed, .unableToValidateCertificate, .noCertificateToValidate:
                return SMSTransportError(.tlsFailure(String(describing: ssl).prefix(120).description))
            default:
                return SMSTransportError(.outcomeUnknown("TLS: \(String(describing: ssl).prefix(120))"))
            }
        }
        if let extra = error as? NIOSSLExtraError {
            return SMSTransportError(.tlsFailure(String(describing: extra).prefix(120).description))
        }
        if let connection = error as? NIOConnectionError {
            if connection.connectionErrors.isEmpty {
                return SMSTransportError(.notSent("the host name did not resolve"))
            }
            let refused = connection.connectionErrors.contains {
                ($0.error as? IOError)?.errnoCode == ECONNREFUSED
            }
            return SMSTransportError(.notSent(refused ? "connection refused" : "connection failed"))
        }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
            return SMSTransportError(.notSent("connection refused"))
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return SMSTransportError(.notSent("connect timeout"))
        }
        return SMSTransportError(.outcomeUnknown(String(describing: type(of: error))))
    }

    /// RFC 3986 §2.3 unreserved characters (ASCII only).
    static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `application/x-www-form-urlencoded` value: everything but unreserved characters percent-encoded.
    static func formEncode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
