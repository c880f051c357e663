// The VoIP.ms-style REST API (REFERENCE.md): POST .../api/v1/rest.php with api_username, api_password,
// method=sendSMS, did, dst, message as a form body (never in the URL, so they stay out of access logs);
// success is {"status":"success","sms":23434}, any other status is the provider's error code.

import AsyncHTTPClient
import CallSequence
import Foundation
import NIOCore
import NIOPosix

/// Sends texts through a VoIP.ms-compatible REST endpoint over async-http-client.
public struct VoipMsTransport: SMSTransport {
    /// The endpoint, e.g. `https://voip.ms/api/v1/rest.php`.
    public let endpoint: String
    /// The API account.
    public let credentials: SMSCredentials
    /// How long one request may take, connection included.
    public let timeout: TimeAmount
    private let client: HTTPClient

    /// The public VoIP.ms endpoint.
    public static let defaultEndpoint = "https://voip.ms/api/v1/rest.php"

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - endpoint: the REST endpoint (http or https).
    ///   - credentials: the API account.
    ///   - timeout: the limit for one request (default 10 s).
    ///   - client: the HTTP client (default: the shared one).
    /// - Throws: ``SMSConfigurationError`` for an endpoint that is not an http(s) URL.
    public init(endpoint: String = defaultEndpoint, credentials: SMSCredentials, timeout: TimeAmount = .seconds(10),
                client: HTTPClient = .shared) throws(SMSConfigurationError) {
        guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              url.host != nil, url.query == nil
        else {
            throw SMSConfigurationError("--sms-endpoint '\(endpoint)' is not an http(s) URL without a query")
        }
        self.endpoint = endpoint
        self.credentials = credentials
        self.timeout = timeout
        self.client = client
    }

    public func send(_ message: SMSMessage) async throws(SMSTransportError) -> String {
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = [
            ("api_username", credentials.user), ("api_password", credentials.password), ("method", "sendSMS"),
            ("did", message.from.digits), ("dst", message.to.digits), ("message", message.message),
        ].map { "\($0)=\(Self.formEncode($1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))

        let status: Int
        let body: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw Self.classify(error)
        }
        if status >= 500 { throw SMSTransportError(.serverError(status: status)) }
        guard (200..<300).contains(status) else { throw SMSTransportError(.httpStatus(status)) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
              let state = object["status"] as? String
        else {
            throw SMSTransportError(.outcomeUnknown("the answer is not the provider's JSON"))
        }
        guard state == "success" else { throw SMSTransportError(.rejected(state)) }
        if let id = object["sms"] as? Int { return String(id) }
        if let id = object["sms"] as? String, !id.isEmpty { return id }
        throw SMSTransportError(.outcomeUnknown("success without an sms id"))
    }

    /// Whether an error happened before the request could reach the provider.
    static func classify(_ error: any Error) -> SMSTransportError {
        if let http = error as? HTTPClientError {
            switch http {
            case .connectTimeout, .getConnectionFromPoolTimeout, .alreadyShutdown, .invalidURL, .emptyHost:
                return SMSTransportError(.notSent(String(describing: http)))
            case .readTimeout, .remoteConnectionClosed, .deadlineExceeded, .writeTimeout:
                return SMSTransportError(.outcomeUnknown(String(describing: http)))
            default:
                return SMSTransportError(.outcomeUnknown(String(describing: http)))
            }
        }
        if error is NIOConnectionError { return SMSTransportError(.notSent("connection failed")) }
        if let io = error as? IOError, io.errnoCode == ECONNREFUSED {
            return SMSTransportError(.notSent("connection refused"))
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return SMSTransportError(.notSent("connect timeout"))
        }
        return SMSTransportError(.outcomeUnknown(String(describing: type(of: error))))
    }

    static func formEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
