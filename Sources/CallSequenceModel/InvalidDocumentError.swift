/// A document with problems: the first `ProductLimits.maximumProblemsListed` problems found, in document
/// order, then (if there were more) one last problem saying "and N more problems".
public struct InvalidDocumentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file (or other source) the problems are in.
    public var source: String
    /// The problems.
    public var problems: [ValidationProblem]

    /// Creates a failure.
    public init(source: String, problems: [ValidationProblem]) {
        self.source = source
        self.problems = problems
    }

    /// One line per problem, each starting with the source.
    public var description: String {
        problems.map { "\(source): \($0)" }.joined(separator: "\n")
    }
}
