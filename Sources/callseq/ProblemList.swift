/// Several problems, one line each, on stderr; exit 1.
struct ProblemList: Error {
    let lines: [String]
}
