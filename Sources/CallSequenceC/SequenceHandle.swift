// cs_sequence: a compiled sequence behind a reference-counted handle. Immutable once made, so any number of
// players on any threads read it; the SMS texts are copied to C strings once, owned by the handle.

import CallSequenceEngine
import CallSequenceModel
import Recordings
import TelephonyDSP

/// What a `cs_sequence *` points at (an unmanaged, retained object).
final class SequenceHandle: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init; the C strings are only read.

    /// The compiled program.
    let program: CompiledSequence
    /// The most events one render of a player of this program can produce.
    let eventsPerRender: Int
    /// The sequence's name, as a C string.
    let name: UnsafeMutablePointer<CChar>
    /// The texts of SMS steps, by step index.
    let texts: SMSTexts

    init(_ program: CompiledSequence) {
        self.program = program
        eventsPerRender = SequenceHandle.eventsPerRender(program)
        name = CString.owned(program.sequence.name)
        texts = SMSTexts(program.sequence)
    }

    deinit {
        name.deallocate()
        texts.deallocate()
    }

    /// Step started, finished and SMS requested (at most 3 a step), a telephone-event state per tone, finished.
    static func eventsPerRender(_ program: CompiledSequence) -> Int {
        3 * program.sequence.steps.count + program.digits.count + 1
    }

    /// The same bound from the sequence as written (its digits counted in its dial strings).
    static func eventsPerRender(_ sequence: SequenceDefinition) -> Int {
        var digits = 0
        for case .dtmf(let step) in sequence.steps {
            for case .digit in step.digits.elements { digits += 1 }
        }
        return 3 * sequence.steps.count + digits + 1
    }

    /// Parses, validates and compiles JSON text.
    static func compile(
        text: String, source: String, recordingsDirectory: String?, format: CallFormat
    )
        throws(APIError) -> SequenceHandle
    {
        do {
            _ = try JSONValue.parse(text)
        } catch {
            throw APIError(CS_ERR_SYNTAX, "\(source): invalid JSON at \(error)")
        }
        let library = try RecordingFolder.library(recordingsDirectory)
        let sequence: SequenceDefinition
        do {
            sequence = try SequenceDefinition.parse(text, source: source, recordings: library)
        } catch {
            throw APIError(CS_ERR_INVALID, "\(source): " + error.problems.map(\.description).joined(separator: "; "))
        }
        let program: CompiledSequence
        do {
            program = try CompiledSequence(sequence, format: format, recordings: RecordingCache(library: library))
        } catch {
            throw APIError(CS_ERR_RECORDING, "\(source): \(error)")
        }
        Log.write(
            CS_LOG_INFO,
            "compiled \(source) \"\(sequence.name)\": \(sequence.steps.count) steps, "
                + "\(program.totalSamples) samples at \(format.sampleRate) Hz \(format.encoding.rawValue), "
                + "dtmf \(format.dtmfOutput.rawValue)")
        return SequenceHandle(program)
    }

    /// The handle behind a pointer the host passed.
    @inline(__always)
    static func from(_ pointer: OpaquePointer) -> Unmanaged<SequenceHandle> {
        Unmanaged.fromOpaque(UnsafeRawPointer(pointer))
    }
}

/// The largest sequence file read, in bytes.
let maximumDocumentBytes = 16 << 20

@c @implementation
public func cs_sequence_compile_file(
    _ path: UnsafePointer<CChar>?, _ recordingsDir: UnsafePointer<CChar>?, _ format: UnsafePointer<cs_format>?,
    _ error: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    CallFailure.prepare()
    return ErrorObject.catching(error) { () throws(APIError) -> OpaquePointer in
        let function = "cs_sequence_compile_file"
        let file = try CString.argument(path, "path", in: function)
        let directory = try recordingsDir.map { p throws(APIError) in
            try CString.argument(p, "recordings_dir", in: function)
        }
        let callFormat = try CallFormat(format, in: function)
        let text = try RecordingFolder.readText(file)
        let handle = try SequenceHandle.compile(
            text: text, source: file, recordingsDirectory: directory, format: callFormat)
        return OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func cs_sequence_compile(
    _ json: UnsafePointer<CChar>?, _ length: Int, _ recordingsDir: UnsafePointer<CChar>?,
    _ format: UnsafePointer<cs_format>?, _ error: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    CallFailure.prepare()
    return ErrorObject.catching(error) { () throws(APIError) -> OpaquePointer in
        let function = "cs_sequence_compile"
        guard let json else { throw APIError(CS_ERR_NULL, "\(function): json is NULL") }
        guard length > 0 else { throw APIError(CS_ERR_ARGUMENT, "\(function): length is 0 (an empty document)") }
        guard length <= maximumDocumentBytes else {
            throw APIError(
                CS_ERR_ARGUMENT,
                "\(function): length \(UInt(bitPattern: length)) is more than \(maximumDocumentBytes) bytes")
        }
        let bytes = UnsafeRawBufferPointer(start: json, count: length)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw APIError(CS_ERR_ARGUMENT, "\(function): json is not valid UTF-8")
        }
        let directory = try recordingsDir.map { p throws(APIError) in
            try CString.argument(p, "recordings_dir", in: function)
        }
        let callFormat = try CallFormat(format, in: function)
        let handle = try SequenceHandle.compile(
            text: text, source: "sequence", recordingsDirectory: directory, format: callFormat)
        return OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func cs_sequence_retain(_ s: OpaquePointer?) -> OpaquePointer? {
    guard let s else { return nil }
    _ = SequenceHandle.from(s).retain()
    return s
}

@c @implementation
public func cs_sequence_release(_ s: OpaquePointer?) {
    guard let s else { return }
    SequenceHandle.from(s).release()
}

@c @implementation
public func cs_sequence_name(_ s: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let s else { return nil }
    return SequenceHandle.from(s)._withUnsafeGuaranteedRef { UnsafePointer($0.name) }
}

@c @implementation
public func cs_sequence_step_count(_ s: OpaquePointer?) -> Int32 {
    guard let s else { return -1 }
    return SequenceHandle.from(s)._withUnsafeGuaranteedRef {
        Int32(truncatingIfNeeded: $0.program.sequence.steps.count)
    }
}

@c @implementation
public func cs_sequence_samples(_ s: OpaquePointer?) -> Int64 {
    guard let s else { return -1 }
    return SequenceHandle.from(s)._withUnsafeGuaranteedRef { Int64($0.program.totalSamples) }
}

@c @implementation
public func cs_sequence_sms(
    _ s: OpaquePointer?, _ step: Int32, _ from: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
    _ to: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?
) -> Int32 {
    guard let s else { return Int32(bitPattern: CS_ERR_NULL.rawValue) }
    return SequenceHandle.from(s)._withUnsafeGuaranteedRef { $0.texts.lookup(Int(step), from, to, message) }
}
