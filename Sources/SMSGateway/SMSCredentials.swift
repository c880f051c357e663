import Foundation

/// The provider account's API user and password. Its description, debug description and mirror (what
/// `dump()` and debuggers show) never show the password, and nothing in this module logs, prints, stores or
/// puts either in an error or a URL.
public struct SMSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The API user.
    public let user: String
    /// The API password.
    public let password: String

    /// Creates credentials.
    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// The environment variables read by ``fromEnvironment(_:)``.
    public static let userVariable = "CALLSEQ_SMS_USER"
    /// The environment variable that holds the password.
    public static let passwordVariable = "CALLSEQ_SMS_PASSWORD"

    /// Credentials from `CALLSEQ_SMS_USER` and `CALLSEQ_SMS_PASSWORD`, or `nil` if either is missing or empty.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> SMSCredentials? {
        guard let user = environment[userVariable], !user.isEmpty,
            let password = environment[passwordVariable], !password.isEmpty
        else { return nil }
        return SMSCredentials(user: user, password: password)
    }

    /// Credentials from a JSON file `{ "user": "...", "password": "..." }`.
    ///
    /// - Throws: a ``SMSConfigurationError`` naming the file (never its contents).
    public static func fromFile(_ path: String) throws(SMSConfigurationError) -> SMSCredentials {
        guard let data = FileManager.default.contents(atPath: path), data.count <= 64 * 1024 else {
            throw SMSConfigurationError("\(path): cannot read the SMS credentials file")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let user = object["user"] as? String, !user.isEmpty,
            let password = object["password"] as? String, !password.isEmpty,
            object.count == 2
        else {
            throw SMSConfigurationError("\(path): expected exactly { \"user\": \"...\", \"password\": \"...\" }")
        }
        return SMSCredentials(user: user, password: password)
    }

    /// The text form, for logs and messages.
    public var description: String { "SMSCredentials(user: \(user), password: <redacted>)" }
    /// The same as ``description``: the password redacted.
    public var debugDescription: String { description }
    /// What `dump` and the debugger show: the fields without the password.
    public var customMirror: Mirror {
        Mirror(self, children: ["user": user, "password": "<redacted>"], displayStyle: .struct)
    }

    /// `text` with the password replaced by `<redacted>`, in every form it travels in (as is, form-encoded,
    /// percent-encoded): applied to anything that came back from the provider before it is shown or stored.
    public func scrub(_ text: String) -> String {
        var out = text
        var forms = [password, VoipMsTransport.formEncode(password)]
        if let percent = password.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) {
            forms.append(percent)
        }
        for form in Set(forms) where !form.isEmpty {
            out = out.replacingOccurrences(of: form, with: "<redacted>", options: [.caseInsensitive])
        }
        return out
    }
}

/// A problem with the SMS configuration (credentials, endpoint, state directory).
public struct SMSConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which setting is wrong, so that a host can name it in its own terms (the command line's options).
    public enum Setting: Sendable, Hashable {
        /// The credentials (a file, or the environment).
        case credentials
        /// The endpoint: not an http(s) URL with a host and no query (the endpoint shown, escaped).
        case endpointNotAURL(String)
        /// The endpoint holds a user or password.
        case endpointHoldsCredentials
        /// The endpoint is plain http:// to another machine (the endpoint shown, escaped).
        case endpointInsecure(String)
    }

    /// The setting that is wrong.
    public let setting: Setting
    /// What is wrong, in one line, in the library's terms.
    public let description: String

    init(_ description: String, setting: Setting = .credentials) {
        self.setting = setting
        self.description = description
    }
}
