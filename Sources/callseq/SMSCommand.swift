import ArgumentParser
import Foundation
import SMSGateway

/// `callseq sms`: the texts ledger.
struct SMSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sms",
        abstract: "The texts ledger.",
        subcommands: [SMSLog.self]
    )
}

/// `callseq sms log`: every text, with its state, per account and UTC day.
struct SMSLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List the texts ledger: pending, sent, failed or unknown, per account and UTC day.",
        discussion: """
            Opening the ledger turns texts left pending by a run that ended mid-request into unknown ones \
            (they may have gone out; they are never sent again). Pending, sent and unknown texts count \
            against the account's daily limit; failed ones do not.
            """
    )

    @OptionGroup var state: StateDirectoryOption

    @Option(help: "Show at most this many texts (the newest).")
    var last: Int = 1000

    func validate() throws {
        guard (1...1_000_000).contains(last) else {
            throw ValidationError("--last \(last) is out of range (1...1000000)")
        }
    }

    func run() throws {
        let ledger = try state.openLedger()
        let entries = try runtime { try ledger.entries(limit: last) }
        print("\(ledger.path): \(entries.count) text\(entries.count == 1 ? "" : "s")")
        var accountDays: [String: [String: Int]] = [:]
        for e in entries {
            var line =
                "#\(e.id) \(e.created) \(e.state.rawValue) \(e.from) -> \(e.to) \(e.encoding) \(e.units) units, "
                + "\(e.attempts) attempt\(e.attempts == 1 ? "" : "s")"
            if let id = e.providerID { line += ", provider id \(printable(id))" }
            if let detail = e.detail { line += ": \(printable(detail))" }
            line += "\n    account \(printable(e.account)); \"\(printable(e.message))\""
            print(line)
            if e.state.counts { accountDays[e.account, default: [:]][e.day, default: 0] += 1 }
        }
        for (account, days) in accountDays.sorted(by: { $0.key < $1.key }) {
            for (day, count) in days.sorted(by: { $0.key < $1.key }) {
                print("\(day) \(printable(account)): \(count) counted (pending, sent, unknown)")
            }
        }
    }

    /// Control characters escaped, so that nothing stored can move the terminal's cursor.
    func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator:
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
