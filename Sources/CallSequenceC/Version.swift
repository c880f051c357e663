// The library's version at run time: CallSequenceEngine's PackageVersion, the one source shared with `callseq --version`
// (callsequence.h has the same as CS_VERSION_* macros for compile time).

@_exported import CallSequenceCHeader
import CallSequenceEngine
import CallSequenceModel

/// The version string, in static storage for the life of the process (nonisolated(unsafe): never written).
nonisolated(unsafe) let versionString: UnsafePointer<CChar> = CString.permanent(PackageVersion.string)

/// `cs_version`: "MAJOR.MINOR.PATCH" of the library actually loaded.
@c @implementation
public func cs_version() -> UnsafePointer<CChar>! { versionString }
