// The package's version: one constant for `callseq --version` and the C API's `cs_version()`.
// (callsequence.h repeats it as CS_VERSION_* macros for compile time; Scripts/check-c-api.sh checks all three agree.)

/// The version of the CallSequence package, as "MAJOR.MINOR.PATCH" (Semantic Versioning 2.0.0).
public enum PackageVersion {
    /// "MAJOR.MINOR.PATCH": what `callseq --version` prints and `cs_version()` returns.
    public static let string = "0.2.0"
}
