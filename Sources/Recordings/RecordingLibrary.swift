import CDefaultPrompt
import CallSequenceModel
import FileSupport

/// An account's recordings: names mapped to audio files. The model checks recording names through it
/// (`RecordingCatalog` (CallSequenceModel)).
public struct RecordingLibrary: Sendable, Hashable, RecordingCatalog {
    /// Name → file path.
    public let files: [String: String]
    /// Where the library came from, for error messages (a directory, or "recordings").
    public let origin: String

    /// The file extensions a directory scan takes as recordings.
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "aif", "aiff", "aifc", "caf", "flac", "ogg", "oga", "opus", "mp3", "au", "snd",
        "w64", "rf64",
    ]

    /// A library of the audio files in `directory`: each file's name without its extension is the
    /// recording's name. Hidden files and other extensions are ignored.
    ///
    /// - Parameters:
    ///   - directory: the folder to scan (not recursively).
    ///   - root: when given, a canonical folder every recording must resolve into (symbolic links
    ///     resolved): a link leading out of it is refused.
    /// - Throws: ``RecordingError`` if the folder cannot be read, or two files share a name
    ///   (`welcome.wav` and `welcome.mp3`).
    public init(directory: String, confinedTo root: String? = nil) throws(RecordingError) {
        guard let entries = FileSystem.entries(of: directory) else {
            throw FileSystem.kind(of: directory) == .missing
                ? .notFound(directory) : .unreadable(directory, reason: "not a readable directory")
        }
        var files: [String: String] = [:]
        for entry in entries.sorted() where !entry.hasPrefix(".") {
            let ext = FileSystem.pathExtension(entry).lowercased()
            guard RecordingLibrary.audioExtensions.contains(ext) else { continue }
            let name = FileSystem.deletingExtension(entry)
            let path = FileSystem.appending(entry, to: directory)
            if let root {
                guard let real = FileSystem.resolved(path), FileSystem.isInside(real, root) else {
                    throw .cannotOpen(path, "is a symbolic link that leads outside the recordings folder")
                }
            }
            if let existing = files[name] {
                throw .duplicateName(directory, FileSystem.lastComponent(existing), entry)
            }
            files[name] = path
        }
        self.files = files
        self.origin = directory
    }

    /// A library from an explicit name → path map.
    public init(files: [String: String], origin: String = "recordings") {
        self.files = files
        self.origin = origin
    }

    /// An empty library (only "none" and "default" resolve).
    public static let empty = RecordingLibrary(files: [:])

    /// The recording names, sorted.
    public var names: [String] { files.keys.sorted() }

    /// Whether a recording of this name is in the library.
    public func contains(_ name: String) -> Bool { files[name] != nil }

    /// The file that `choice` plays.
    ///
    /// - Returns: the path, or `nil` for `RecordingChoice/none` and for `RecordingChoice/systemDefault`,
    ///   which is built into the library (``defaultPromptBytes``), not a file.
    /// - Throws: ``RecordingError/unknownRecording(_:library:known:)`` for a name the library lacks.
    public func path(for choice: RecordingChoice) throws(RecordingError) -> String? {
        switch choice {
        case .none, .systemDefault:
            return nil
        case .named(let name):
            guard let path = files[name] else { throw .unknownRecording(name, library: origin, known: names) }
            return path
        }
    }

    /// The system default prompt, an 8 kHz mu-law WAV file built into the library (generated from
    /// `Sources/Recordings/Resources/default-prompt.wav` by `Scripts/embed-default-prompt.sh`), so that it
    /// plays in any process, including a C host that has no resource folder.
    public static var defaultPromptBytes: [UInt8] {
        let count = CDefaultPrompt_length()
        guard let start = CDefaultPrompt_bytes(), count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: start, count: count))
    }

    /// The name the system default prompt has in error messages and metadata.
    public static let defaultPromptName = "default-prompt.wav"
}
