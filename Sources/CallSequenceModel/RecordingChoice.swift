/// What a Recording step plays: a named recording, nothing, or the system default prompt.
public enum RecordingChoice: Hashable, Sendable, CustomStringConvertible {
    /// Play nothing ("no recording").
    case none
    /// Play the system default prompt that ships with the library ("Thank you. Please hold.", 2.1 s).
    case systemDefault
    /// Play the recording of this name from the account's library.
    case named(String)

    /// Reads the JSON form: `"none"`, `"default"`, or a recording name.
    public init(_ text: String) {
        switch text {
        case "none": self = .none
        case "default": self = .systemDefault
        default: self = .named(text)
        }
    }

    /// The JSON form.
    public var description: String {
        switch self {
        case .none: return "none"
        case .systemDefault: return "default"
        case .named(let name): return name
        }
    }
}

/// The recordings a sequence or an account may name, as validation sees them: the engine's `RecordingLibrary`
/// (a folder of audio files) implements it, an API's store may too. The model reads no file.
public protocol RecordingCatalog: Sendable {
    /// Where the names come from, for messages (a folder, or "recordings").
    var origin: String { get }
    /// The names, sorted.
    var names: [String] { get }
    /// Whether a recording of this name exists.
    func contains(_ name: String) -> Bool
}
