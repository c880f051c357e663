// cs_call: an IVR session on one call. The caller's inbound frame, in the call's encoding, is decoded to
// 16-bit linear into a buffer made with the call (G.711: one second of samples, the largest frame) and fed
// to the session's DTMF receiver; the session renders what the caller hears into the host's buffer and
// its events go to the call's fixed queue. No allocation, lock or I/O per frame.

import CallSequenceEngine
import CallSequenceModel
import TelephonyDSP

/// What a `cs_call *` points at.
final class CallHandle {
    /// The account, kept alive by the call.
    let account: AccountHandle
    let session: IVRSession
    let encoding: SampleEncoding
    /// The largest frame: one second.
    let maximumCount: Int
    /// The caller's audio decoded from G.711 (empty for PCM16, read in place).
    let callerPCM: UnsafeMutableBufferPointer<Int16>
    let queue: EventQueue
    @exclusivity(unchecked) var failure: CallFailure = .none

    init(_ account: AccountHandle, session: IVRSession) {
        self.account = account
        self.session = session
        let format = account.compiled.format
        encoding = format.encoding
        maximumCount = format.sampleRate
        callerPCM = .allocate(capacity: format.encoding == .pcm16 ? 0 : format.sampleRate)
        callerPCM.initialize(repeating: 0)
        queue = EventQueue(perCall: account.eventsPerRender)
    }

    deinit {
        callerPCM.deallocate()
        queue.deallocate()
    }

    @inline(__always)
    static func from(_ pointer: OpaquePointer) -> Unmanaged<CallHandle> {
        Unmanaged.fromOpaque(UnsafeRawPointer(pointer))
    }

    @inline(__always)
    func render(_ callerAudio: UnsafeRawPointer?, _ frame: FrameArguments) -> Int {
        let int16 = encoding == .pcm16
        let refusal: CallFailure = int16 && Int(bitPattern: callerAudio) & 1 != 0 ? .callerAudioMisaligned : .none
        return frame.runCommonly(
            maximumCount: maximumCount, int16: int16, refusal: refusal, queue: queue, failure: &failure,
            otherwise: { renderSlowly(callerAudio, frame) }
        ) { samples, count, sink in
            play(callerAudio, samples, count, sink)
        }
    }

    /// ``render(_:_:)`` with every check's status, and events of earlier calls waiting.
    @inline(never)
    func renderSlowly(_ callerAudio: UnsafeRawPointer?, _ frame: FrameArguments) -> Int {
        let int16 = encoding == .pcm16
        let refusal: CallFailure = int16 && Int(bitPattern: callerAudio) & 1 != 0 ? .callerAudioMisaligned : .none
        return frame.run(maximumCount: maximumCount, int16: int16, refusal: refusal, queue: queue, failure: &failure) {
            samples, count, sink in
            play(callerAudio, samples, count, sink)
        }
    }

    /// Hears `callerAudio` and renders `count` samples of the session into `samples`, events into `sink`.
    @inline(__always)
    func play(_ callerAudio: UnsafeRawPointer?, _ samples: UnsafeMutableRawPointer, _ count: Int, _ sink: EventSink) {
        // What the caller sent, as 16-bit linear: in place for PCM16, decoded (G.711) into the call's buffer.
        var heard: UnsafeBufferPointer<Int16>?
        if let callerAudio {
            switch encoding {
            case .pcm16:
                heard = UnsafeBufferPointer(start: callerAudio.assumingMemoryBound(to: Int16.self), count: count)
            case .ulaw:
                let bytes = callerAudio.assumingMemoryBound(to: UInt8.self)
                for i in 0..<count { callerPCM[i] = MuLaw.decode(bytes[i]) }
                heard = UnsafeBufferPointer(rebasing: callerPCM[0..<count])
            case .alaw:
                let bytes = callerAudio.assumingMemoryBound(to: UInt8.self)
                for i in 0..<count { callerPCM[i] = ALaw.decode(bytes[i]) }
                heard = UnsafeBufferPointer(rebasing: callerPCM[0..<count])
            }
        }
        let frameStart = session.position
        if encoding == .pcm16 {
            let buffer = UnsafeMutableBufferPointer(start: samples.assumingMemoryBound(to: Int16.self), count: count)
            session.render(callerAudio: heard, into: buffer) { event in
                sink.put(cs_event(event, offset: min(max(event.sample - frameStart, 0), count)))
            }
        } else {
            let buffer = UnsafeMutableBufferPointer(start: samples.assumingMemoryBound(to: UInt8.self), count: count)
            session.render(callerAudio: heard, into: buffer) { event in
                sink.put(cs_event(event, offset: min(max(event.sample - frameStart, 0), count)))
            }
        }
    }
}

@c @implementation
public func cs_call_new(
    _ a: OpaquePointer?, _ did: UnsafePointer<CChar>?, _ error: UnsafeMutablePointer<OpaquePointer?>?
) -> OpaquePointer? {
    CallFailure.prepare()
    return ErrorObject.catching(error) { () throws(APIError) -> OpaquePointer in
        guard let a else { throw APIError(CS_ERR_NULL, "cs_call_new: the account is NULL") }
        let text = try CString.argument(did, "did", in: "cs_call_new")
        let account = AccountHandle.from(a).takeUnretainedValue()
        let number: PhoneNumber
        do {
            number = try PhoneNumber(text)
        } catch {
            throw APIError(CS_ERR_ARGUMENT, "cs_call_new: did '\(text)' is not a US/Canada number (\(error))")
        }
        let session: IVRSession
        do throws(CompileError) {
            session = try account.compiled.makeSession(calling: number)
        } catch {
            // "dids": the number is not the account's; otherwise a prompt or sequence it reaches did not compile.
            throw APIError(error.path == "dids" ? CS_ERR_NOT_FOUND : CS_ERR_RECORDING, "cs_call_new: \(error)")
        }
        return OpaquePointer(Unmanaged.passRetained(CallHandle(account, session: session)).toOpaque())
    }
}

@c @implementation
public func cs_call_press(_ c: OpaquePointer?, _ digit: CChar) {
    guard let c else { return }
    CallHandle.from(c)._withUnsafeGuaranteedRef { call in
        guard let pressed = DTMFDigit(ascii: UInt8(truncatingIfNeeded: digit)) else {
            call.failure = .notADigit
            return
        }
        call.session.press(pressed)
        call.failure = .none
    }
}

@c @implementation
public func cs_call_hangup(_ c: OpaquePointer?) {
    guard let c else { return }
    CallHandle.from(c)._withUnsafeGuaranteedRef { $0.session.hangUp() }
}

@c @implementation
public func cs_call_render(
    _ c: OpaquePointer?, _ callerAudio: UnsafeRawPointer?, _ samples: UnsafeMutableRawPointer?, _ count: Int,
    _ events: UnsafeMutablePointer<cs_event>?, _ maxEvents: Int, _ eventCount: UnsafeMutablePointer<Int>?
) -> Int {
    guard let c else {
        eventCount?.pointee = 0
        return 0
    }
    return CallHandle.from(c)._withUnsafeGuaranteedRef {
        $0.render(callerAudio, FrameArguments(samples, count, events, maxEvents, eventCount))
    }
}

@c @implementation
public func cs_call_status(_ c: OpaquePointer?, _ message: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    guard let c else { return nullHandleStatus(message) }
    return CallHandle.from(c)._withUnsafeGuaranteedRef { statusResult($0.failure, message) }
}

@c @implementation
public func cs_call_is_over(_ c: OpaquePointer?) -> Int32 {
    guard let c else { return 1 }
    return CallHandle.from(c)._withUnsafeGuaranteedRef { $0.queue.deliveredFinish ? 1 : 0 }
}

@c @implementation
public func cs_call_free(_ c: OpaquePointer?) {
    guard let c else { return }
    CallHandle.from(c).release()
}

extension DTMFDigit {
    /// The digit an ASCII character names (`0-9 * # A-D a-d`), without making a Character.
    init?(ascii: UInt8) {
        switch ascii {
        case 48...57: self.init(rawValue: ascii - 48)  // '0'...'9'
        case 42: self = .star  // '*'
        case 35: self = .pound  // '#'
        case 65...68: self.init(rawValue: ascii - 65 + 12)  // 'A'...'D'
        case 97...100: self.init(rawValue: ascii - 97 + 12)  // 'a'...'d'
        default: return nil
        }
    }
}
