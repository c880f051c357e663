import CallSequenceModel
import SMSText
import TelephonyDSP

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
        // Exactly the ten digits: the model's PhoneNumber (NXX NXX XXXX), written in no other way.
        for (name, number) in [("from", from), ("to", to)] where (try? PhoneNumber(number))?.digits != number {
            return "\(name) '\(InputText.escaped(number, limit: 20))' is not a 10-digit US/Canada number (NXX NXX XXXX)"
        }
        if message.isEmpty { return "the message is empty" }
        if let problem = length.problem { return "the message does not fit one SMS: \(problem)" }
        return nil
    }

    /// The text form, for logs and messages.
    public var description: String { "SMS from \(from) to \(to) (\(length))" }
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
