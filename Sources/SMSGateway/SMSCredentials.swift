import Foundation

/// The provider account's API user and password. Its description never shows the password, and
/// nothing in this module logs, prints or puts either in an error or a URL.
public struct SMSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
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
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> SMSCredentials? {
        guard let user = environment[userVariable], !user.isEmpty,
              let password = environment[passwordVariable], !password.isEmpty else { return nil }
        return SMSCredentials(user: user, password: password)
    }

    /// Credentials from a JSON file `{ "user": "...", "password": "..." }`.
    ///
    /// - Throws: a ``SMSConfigurationError`` naming the file (never its contents).
    public static func fromFile(_ path: String) throws(SMSConfigurationError) -> SMSCredentials {
        guard let data = FileManager.default.contents(atPath: path) else {
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

    public var description: String { "SMSCredentials(user: \(user), password: <redacted>)" }
    public var debugDescription: String { description }
}

/// A problem with the SMS configuration (credentials, endpoint).
public struct SMSConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
