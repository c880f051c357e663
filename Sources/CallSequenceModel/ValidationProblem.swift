/// One problem in a sequence or account, with the JSON path of the value concerned.
public struct ValidationProblem: Hashable, Sendable, CustomStringConvertible {
    /// Where: `steps[2].digits`, `name`, or empty for the whole document.
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates a problem.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// The text form, for logs and messages.
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
