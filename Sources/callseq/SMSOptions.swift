import ArgumentParser
import CallSequence

/// SMS options (the dry run until the HTTP gateway lands).
struct SMSOptions: ParsableArguments {
    func check() throws {}
    func makeDispatcher(dailyLimit: Int) throws -> Never? { nil }
    func send(_ requests: [SMSStep], with dispatcher: Never) throws -> [String] { [] }
}
