import CallSequenceModel
import FileSupport
import Recordings
import TelephonyDSP

// Reading an account from its file: the folder of recordings it names is read and confined here; the model
// checks the names against it (RecordingCatalog).

extension Account {
    /// How the messages name the operator's recordings folder (read in place of the account's): a host names it
    /// in its own terms (the command line maps it to `--recordings`).
    public static let operatorRecordingsPhrase = "the operator's recordings folder"
    /// The end of a message about a recordings folder outside the account's: a host names the wider folder in
    /// its own terms (the command line maps it to `--recordings-root`).
    public static let recordingsRootHint = "; an operator may allow a wider folder as a recordings root"

    /// Reads an account file and checks everything, each problem with its JSON path: unknown keys, types
    /// and ranges; routes (a DID routed to a sequence is refused); IVR options that name missing IVRs or
    /// sequences; recordings that the folder lacks; SMS steps on an account that may not send SMS, from a
    /// number that is not one of its SMS-enabled DIDs.
    ///
    /// - Parameters:
    ///   - path: the account file.
    ///   - recordingsRoot: a folder the operator allows recordings folders in, besides the account's own
    ///     (the command line's `--recordings-root`); `nil` confines them to the account file's folder.
    ///   - recordings: the operator's recordings folder (`validate --recordings`), used in place of the
    ///     one the account names; `nil` uses the account's.
    /// - Returns: the account and its recording library (the folder it names, relative to the file).
    /// - Throws: `InvalidDocumentError` listing every problem.
    public static func load(
        _ path: String, recordingsRoot: String? = nil,
        recordings: String? = nil
    ) throws(InvalidDocumentError) -> (Account, RecordingLibrary) {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.contents(of: path, limit: ProductLimits.default.maximumFileBytes)
        } catch {
            let message: String
            switch error.kind {
            case .tooLarge(let size):
                message =
                    "\(size) bytes is too large for an account file (at most \(ProductLimits.default.maximumFileBytes))"
            default: message = error.description
            }
            throw InvalidDocumentError(source: path, problems: [ValidationProblem(path: "", message: message)])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InvalidDocumentError(
                source: path, problems: [ValidationProblem(path: "", message: "not readable as UTF-8 text")])
        }
        return try parse(
            text, source: path, baseDirectory: FileSystem.deletingLastComponent(path),
            recordingsRoot: recordingsRoot, recordings: recordings)
    }

    /// Reads an account from JSON text; `recordings` is resolved against `baseDirectory` and must stay
    /// inside it (or inside `recordingsRoot`), symbolic links resolved. `recordings`, when given, is the
    /// operator's folder, read in place of the account's.
    public static func parse(
        _ text: String, source: String, baseDirectory: String, recordingsRoot: String? = nil,
        recordings: String? = nil
    ) throws(InvalidDocumentError) -> (Account, RecordingLibrary) {
        var library = RecordingLibrary.empty
        let account = try parse(text, source: source) { folder in
            let resolution = resolveRecordings(
                folder, baseDirectory: baseDirectory, recordingsRoot: recordingsRoot,
                recordings: recordings)
            if let catalog = resolution.catalog as? RecordingLibrary { library = catalog }
            return resolution
        }
        return (account, library)
    }

    /// The library of the account's folder `folder` (relative to `baseDirectory`, confined), or of the operator's
    /// `override`; a problem instead when it cannot be read.
    static func resolveRecordings(
        _ folder: String?, baseDirectory: String, recordingsRoot: String?,
        recordings override: String?
    ) -> RecordingsResolution {
        if let override {
            // The operator's folder replaces the account's: it is theirs, so it is not confined.
            do {
                return RecordingsResolution(catalog: try RecordingLibrary(directory: override))
            } catch {
                return RecordingsResolution(
                    catalog: nil,
                    problem: ValidationProblem(path: "", message: "\(operatorRecordingsPhrase): \(error.description)"))
            }
        }
        guard let folder else { return RecordingsResolution(catalog: RecordingLibrary.empty) }
        let resolved = folder.hasPrefix("/") ? folder : FileSystem.appending(folder, to: baseDirectory)
        if let problem = confinementProblem(
            folder, resolved: resolved, baseDirectory: baseDirectory,
            recordingsRoot: recordingsRoot)
        {
            return RecordingsResolution(catalog: nil, problem: ValidationProblem(path: "recordings", message: problem))
        }
        do {
            return RecordingsResolution(
                catalog: try RecordingLibrary(directory: resolved, confinedTo: FileSystem.resolved(resolved)))
        } catch {
            return RecordingsResolution(
                catalog: nil, problem: ValidationProblem(path: "recordings", message: error.description))
        }
    }

    /// Why the recordings folder `folder` may not be used, or `nil`: it must be relative and, links
    /// resolved, inside the account file's folder, unless the operator's `recordingsRoot` holds it.
    static func confinementProblem(
        _ folder: String, resolved: String, baseDirectory: String,
        recordingsRoot: String?
    ) -> String? {
        let shown = "\"\(InputText.escaped(folder))\""
        let widen = recordingsRootHint
        let root = recordingsRoot.flatMap(FileSystem.resolved)
        if folder.hasPrefix("/") && root == nil {
            return "\(shown) is an absolute path: the recordings folder is relative to the account file\(widen)"
        }
        guard let real = FileSystem.resolved(resolved) else {
            switch FileSystem.kind(of: resolved) {
            case .missing: return "\(shown): no such folder"
            default: return "\(shown): cannot be resolved"
            }
        }
        guard FileSystem.kind(of: real) == .directory else { return "\(shown) is not a folder" }
        let base = FileSystem.resolved(baseDirectory)
        if let base, FileSystem.isInside(real, base) { return nil }
        if let root, FileSystem.isInside(real, root) { return nil }
        return "\(shown) leads outside the account's folder\(widen)"
    }
}
