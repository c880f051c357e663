// Files a host names: the recordings folder of a sequence, and whole documents (sequence files).

import CallSequenceEngine
import CallSequenceModel
import FileSupport
import Recordings

/// Reading what a host's paths name, with errors that say which code and which file.
enum RecordingFolder {
    /// The library of `directory`, or the empty library (only "none" and "default") for NULL.
    static func library(_ directory: String?) throws(APIError) -> RecordingLibrary {
        guard let directory else { return .empty }
        switch FileSystem.kind(of: directory) {
        case .missing: throw APIError(CS_ERR_NOT_FOUND, "\(directory): no such recordings folder")
        case .directory: break
        case .file, .other: throw APIError(CS_ERR_IO, "\(directory): not a folder")
        }
        do {
            return try RecordingLibrary(directory: directory)
        } catch {
            throw APIError(CS_ERR_RECORDING, error.description)
        }
    }

    /// A whole UTF-8 text file of at most ``maximumDocumentBytes``.
    static func readText(_ path: String) throws(APIError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.contents(of: path, limit: maximumDocumentBytes)
        } catch {
            switch error.kind {
            case .notFound: throw APIError(CS_ERR_NOT_FOUND, "\(path): no such file")
            case .notAFile, .directory, .permissionDenied: throw APIError(CS_ERR_IO, "\(path): \(error)")
            case .tooLarge(let size):
                throw APIError(CS_ERR_IO, "\(path): \(size) bytes, more than \(maximumDocumentBytes)")
            case .failed(let reason): throw APIError(CS_ERR_IO, "\(path): cannot be read (\(reason))")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw APIError(CS_ERR_ARGUMENT, "\(path): not UTF-8 text")
        }
        return text
    }
}
