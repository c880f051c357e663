import SMSText

/// A text to send, as plain values: the sending number, the receiving number and the message.
///
/// Hosts map their own types to it (the `callseq` command maps a sequence's SMS step). The dispatcher
/// checks it before anything is sent: both numbers are 10-digit US/Canada (NANP) numbers, the message is
/// one SMS (3GPP TS 23.038, see `SMSLength`).
public struct SMSMessage: Sendable, Hashable, CustomStringConvertible {
    /// The sending number: 10 digits, an SMS-enabled number of the account.
    public var from: String
    /// The receiving number: 10 digits.
    public var to: String
    /// The text.
    public var message: String

    /// Creates a message.
    public init(from: String, to: String, message: String) {
        self.from = from
        self.to = to
        self.message = message
    }

    /// The message's encoding and length as the network counts them.
    public var length: SMSLength { SMSLength(of: message) }

    /// Why the message cannot be sent, or `nil` if it can.
    public var problem: String? {
        for (name, number) in [("from", from), ("to", to)] where !Self.isNANP(number) {
            return "\(name) '\(Self.printable(number, limit: 20))' is not a 10-digit US/Canada number (NXX NXX XXXX)"
        }
        if message.isEmpty { return "the message is empty" }
        if let problem = length.problem { return "the message does not fit one SMS: \(problem)" }
        return nil
    }

    /// Whether `number` is 10 ASCII digits NXX NXX XXXX (N is 2-9, and neither NXX is N11).
    static func isNANP(_ number: String) -> Bool {
        let d = Array(number.utf8)
        guard d.count == 10, d.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        let two = UInt8(ascii: "2"), one = UInt8(ascii: "1")
        return d[0] >= two && !(d[1] == one && d[2] == one) && d[3] >= two && !(d[4] == one && d[5] == one)
    }

    /// The text form, for logs and messages.
    public var description: String { "SMS from \(from) to \(to) (\(length))" }

    /// At most `limit` characters of `text`, with everything but printable ASCII escaped (`\u{1B}`): what
    /// may be printed of a value that came from outside.
    static func printable(_ text: String, limit: Int) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "..."
                break
            }
            count += 1
            switch scalar.value {
            case 0x5C: out += "\\\\"
            case 0x22: out += "\\\""
            case 0x20...0x7E: out.unicodeScalars.append(scalar)
            default: out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            }
        }
        return out
    }
}

/// Who a text is counted against: a stable key (the `callseq` command uses the account file's real path) and
/// its daily limit.
public struct SMSAccount: Sendable, Hashable, CustomStringConvertible {
    /// The stable key the ledger counts under.
    public var key: String
    /// Texts a UTC day (the account's `smsDailyLimit`).
    public var dailyLimit: Int

    /// Creates an account.
    public init(key: String, dailyLimit: Int) {
        self.key = key
        self.dailyLimit = max(0, dailyLimit)
    }

    /// The text form, for logs and messages.
    public var description: String { "\(key) (\(dailyLimit) texts a day)" }
}
