// cs_account: an account file loaded, cross-checked and compiled for one call format (every IVR prompt and
// sequence prepared once), behind a reference-counted handle shared by every call on any thread.

import CallSequenceEngine
import CallSequenceModel
import FileSupport
import Recordings

/// What a `cs_account *` points at.
final class AccountHandle: @unchecked Sendable {
    // @unchecked: immutable after init; the C strings are only read.

    let compiled: CompiledAccount
    /// The SMS texts of each sequence, by the account's sequence index.
    let texts: [SMSTexts]
    /// The most events one render of a call can produce: a sequence's events plus the session's own.
    let eventsPerRender: Int

    init(_ compiled: CompiledAccount) {
        self.compiled = compiled
        texts = compiled.account.sequences.map(SMSTexts.init)
        // The session's own events in one frame: its start, a hang-up, a digit, the choice it makes (two at
        // most: an invalid option, then the menu again or the end), a timeout and its consequence, the end.
        let sessionEvents = 16
        // From the sequences as written: the account compiles them when a call first reaches them.
        eventsPerRender = (compiled.account.sequences.map(SequenceHandle.eventsPerRender).max() ?? 0) + sessionEvents
    }

    deinit {
        for text in texts { text.deallocate() }
    }

    @inline(__always)
    static func from(_ pointer: OpaquePointer) -> Unmanaged<AccountHandle> {
        Unmanaged.fromOpaque(UnsafeRawPointer(pointer))
    }

    /// Loads and compiles an account file.
    static func load(_ path: String, format: CallFormat) throws(APIError) -> AccountHandle {
        switch FileSystem.kind(of: path) {
        case .missing: throw APIError(CS_ERR_NOT_FOUND, "\(path): no such file")
        case .directory, .other: throw APIError(CS_ERR_IO, "\(path): not a file")
        case .file: break
        }
        let account: Account
        let library: RecordingLibrary
        do {
            (account, library) = try Account.load(path)
        } catch {
            let syntax =
                error.problems.count == 1 && error.problems[0].path.isEmpty
                && error.problems[0].message.hasPrefix("invalid JSON")
            throw APIError(
                syntax ? CS_ERR_SYNTAX : CS_ERR_INVALID,
                "\(path): " + error.problems.map(\.description).joined(separator: "; "))
        }
        let compiled: CompiledAccount
        do {
            compiled = try CompiledAccount(account, recordings: RecordingCache(library: library), format: format)
        } catch {
            throw APIError(CS_ERR_RECORDING, "\(path): \(error)")
        }
        Log.write(
            CS_LOG_INFO,
            "loaded \(path): \(account.dids.count) numbers, \(account.ivrs.count) IVRs, "
                + "\(account.sequences.count) sequences, compiled for \(format.sampleRate) Hz \(format.encoding.rawValue)"
        )
        return AccountHandle(compiled)
    }
}

@c @implementation
public func cs_account_load(
    _ path: UnsafePointer<CChar>?, _ format: UnsafePointer<cs_format>?, _ error: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    CallFailure.prepare()
    return ErrorObject.catching(error) { () throws(APIError) -> OpaquePointer in
        let file = try CString.argument(path, "path", in: "cs_account_load")
        let callFormat = try CallFormat(format, in: "cs_account_load")
        return OpaquePointer(Unmanaged.passRetained(try AccountHandle.load(file, format: callFormat)).toOpaque())
    }
}

@c @implementation
public func cs_account_retain(_ a: OpaquePointer?) -> OpaquePointer? {
    guard let a else { return nil }
    _ = AccountHandle.from(a).retain()
    return a
}

@c @implementation
public func cs_account_release(_ a: OpaquePointer?) {
    guard let a else { return }
    AccountHandle.from(a).release()
}

@c @implementation
public func cs_account_sms(
    _ a: OpaquePointer?, _ sequence: Int32, _ step: Int32, _ from: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
    _ to: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> Int32 {
    guard let a else { return Int32(bitPattern: CS_ERR_NULL.rawValue) }
    return AccountHandle.from(a)._withUnsafeGuaranteedRef { handle in
        guard handle.texts.indices.contains(Int(sequence)) else {
            from?.pointee = nil
            to?.pointee = nil
            message?.pointee = nil
            return Int32(bitPattern: CS_ERR_ARGUMENT.rawValue)
        }
        return handle.texts[Int(sequence)].lookup(Int(step), from, to, message)
    }
}
