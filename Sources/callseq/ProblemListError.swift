/// Several problems, one line each, on stderr; exit 1.
struct ProblemListError: Error {
    let lines: [String]
}
