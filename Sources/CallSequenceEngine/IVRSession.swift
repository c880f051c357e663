// IVR sessions: a call reaches a DID, the DID routes to an IVR, the IVR plays its prompt and listens to
// the caller (the DTMF receiver on the caller's audio, or RFC 4733 digits handed to `press`), and the
// digit's option runs a sequence, goes to another IVR, repeats the menu or ends the call. A digit
// during the prompt interrupts it (barge-in). No digit within the timeout, or a digit with no option,
// plays the menu again, up to `attempts` plays; then the call ends. A sequence's end ends the call.
//
// Everything is prepared before the first frame: CompiledAccount.makeSession(calling:), at call set-up,
// compiles the prompts and sequences that number's route can reach (once per account and format: a later
// call reuses them; what no call reaches is never compiled), and the session then makes one player per
// reachable prompt and sequence and the receiver's buffer: rendering a frame allocates nothing. Compiling
// every reachable sequence at set-up rather than when its option is chosen is deliberate: the choice of an
// option happens on the media thread, where compiling (decoding, allocating, locking) is not allowed, and
// since programs are schedules over shared audio (ToneBurstCache, RecordingCache) it costs little memory.
// A frame reads only plain per-session memory (players held unretained, timeouts, attempts and options copied
// when the session starts), and its closures capture values, not the session: the benchmarks IVR.* and
// CAPI.Call.* measure 0 mallocs, 0 retains and 0 releases per call.

import CallSequenceModel
import Recordings
import TelephonyDSP

/// One call's way through an account's IVRs and sequences.
public final class IVRSession {
    /// Why a call ended.
    public enum EndReason: Sendable, Hashable, CustomStringConvertible {
        /// The DID routes to "hangup".
        case routeHangup
        /// The caller chose an option that hangs up.
        case hangupOption
        /// No valid digit after every play of the menu.
        case noChoice
        /// The chosen sequence finished.
        case sequenceFinished
        /// The caller hung up (``IVRSession/hangUp()``).
        case callerHungUp

        /// Why the call ended, as `callseq ivr` prints it and the live server logs it.
        public var description: String {
            switch self {
            case .routeHangup: return "the number routes to hangup"
            case .hangupOption: return "the caller chose to hang up"
            case .noChoice: return "no valid choice after every play of the menu"
            case .sequenceFinished: return "the sequence finished"
            case .callerHungUp: return "the caller hung up"
            }
        }
    }

    /// What happened, and at which sample of the call.
    public struct Event: Sendable, Hashable {
        /// What happened.
        public enum Kind: Sendable, Hashable {
            /// An IVR's menu began to play (`play` counts from 1).
            case menuStarted(ivr: Int, play: Int)
            /// The caller pressed a digit (detected in their audio, or given as an RFC 4733 event).
            case digit(DTMFDigit)
            /// A digit with no option in this IVR.
            case invalidOption(ivr: Int, digit: DTMFDigit)
            /// No digit within the timeout.
            case timedOut(ivr: Int)
            /// A sequence began (index in the account's sequences).
            case sequenceStarted(Int)
            /// An event of the running sequence.
            case sequence(Int, PlayerEvent.Kind)
            /// The call is over.
            case ended(EndReason)
        }
        /// What happened.
        public var kind: Kind
        /// The sample of the call.
        public var sample: Int
    }

    private enum State {
        case menu(ivr: Int, play: Int)
        case waiting(ivr: Int, play: Int, until: Int)
        case sequence(Int)
        case ended
    }

    /// The compiled account.
    public let account: CompiledAccount
    /// The session's players (one per reachable prompt, then one per reachable sequence), owned here; a frame
    /// reaches them through the unretained copies below (nil where the account compiled nothing).
    private let players: [Player]
    private let promptPlayers: UnsafeMutableBufferPointer<Unmanaged<Player>?>
    private let sequencePlayers: UnsafeMutableBufferPointer<Unmanaged<Player>?>
    /// Each IVR's timeout in samples at the call's rate, and its number of plays.
    private let timeoutSamples: UnsafeMutableBufferPointer<Int>
    private let attempts: UnsafeMutableBufferPointer<Int>
    /// The options of every IVR: [ivr * 16 + digit code].
    private let options: UnsafeMutableBufferPointer<CompiledAccount.ResolvedAction?>
    /// The G.711 byte of silence in the account's format (A-law or mu-law).
    private let silenceByte: UInt8
    /// The in-band receiver, in its own object (about 700 bytes), made only for a session that listens to the
    /// caller's audio: owned by `listenerOwner`, reached by a frame through the unretained copy.
    private var listenerOwner: Listener?
    @exclusivity(unchecked) private var listener: Unmanaged<Listener>?
    @exclusivity(unchecked) private var state: State
    /// Key presses not yet handled, oldest first (a small ring: two digits in one packet interval are both
    /// handled, in order; past its capacity the newest are dropped).
    private let pressed: UnsafeMutableBufferPointer<DTMFDigit>
    @exclusivity(unchecked) private var pressedFirst = 0
    @exclusivity(unchecked) private var pressedCount = 0
    @exclusivity(unchecked) private var hungUp = false
    @exclusivity(unchecked) private var startPending = true
    private let route: Account.Route
    /// Samples of the call so far.
    @exclusivity(unchecked) public private(set) var position = 0

    init(_ account: CompiledAccount, route: Account.Route, programs: CompiledAccount.Programs, listensInBand: Bool) {
        self.account = account
        self.route = route
        let prompts = programs.prompts.map { $0?.makePlayer() }
        let sequences = programs.sequences.map { $0?.makePlayer() }
        players = (prompts + sequences).compactMap { $0 }
        promptPlayers = .allocate(capacity: prompts.count)
        _ = promptPlayers.initialize(from: prompts.map { $0.map { Unmanaged.passUnretained($0) } })
        sequencePlayers = .allocate(capacity: sequences.count)
        _ = sequencePlayers.initialize(from: sequences.map { $0.map { Unmanaged.passUnretained($0) } })
        let ivrs = account.account.ivrs
        timeoutSamples = .allocate(capacity: ivrs.count)
        _ = timeoutSamples.initialize(from: ivrs.map { $0.timeoutSeconds * account.format.sampleRate })
        attempts = .allocate(capacity: ivrs.count)
        _ = attempts.initialize(from: ivrs.map(\.attempts))
        pressed = .allocate(capacity: IVRSession.pressCapacity)
        options = .allocate(capacity: ivrs.count * 16)
        _ = options.initialize(from: account.options.flatMap { $0 })
        silenceByte = account.format.encoding == .alaw ? ALaw.silence : MuLaw.silence
        if listensInBand {
            let listener = Listener(account.detector)
            listenerOwner = listener
            self.listener = Unmanaged.passUnretained(listener)
        }
        if case .ivr(let name) = route, let index = account.account.ivrs.firstIndex(where: { $0.name == name }) {
            state = .menu(ivr: index, play: 1)
        } else {
            state = .ended
        }
    }

    deinit {
        pressed.deallocate()
        promptPlayers.deallocate()
        sequencePlayers.deallocate()
        timeoutSamples.deallocate()
        attempts.deallocate()
        options.deallocate()
    }

    /// Whether the call is over.
    public var isEnded: Bool {
        if startPending { return false }  // the first frame reports how the call starts (or why it ends)
        if case .ended = state { return true } else { return false }
    }

    /// Whether the menu has finished playing and the session waits for a digit.
    public var isWaitingForDigit: Bool { if case .waiting = state { true } else { false } }

    /// Key presses a session keeps between two frames.
    public static let pressCapacity = 16

    /// A digit the caller sent as an RFC 4733 telephone-event; it takes effect at the next frame, after the
    /// presses before it (at most ``pressCapacity`` wait; more are dropped).
    public func press(_ digit: DTMFDigit) {
        guard pressedCount < pressed.count else { return }
        pressed[(pressedFirst + pressedCount) % pressed.count] = digit
        pressedCount += 1
    }

    /// The caller hung up; the next frame ends the session.
    public func hangUp() { hungUp = true }

    /// Renders the next frame of what the caller hears, as 16-bit linear PCM.
    ///
    /// - Parameters:
    ///   - callerAudio: the same span of the caller's audio (16-bit linear at the call's rate), listened to
    ///     for digits; `nil` when digits come as RFC 4733 events.
    ///   - buffer: the frame to fill.
    ///   - onEvent: called for each event, in order.
    public func render(
        callerAudio: UnsafeBufferPointer<Int16>?, into buffer: UnsafeMutableBufferPointer<Int16>,
        _ onEvent: (Event) -> Void
    ) {
        let frameStart = position  // captured as a value: the closures below hold no reference to the session
        advance(callerAudio: callerAudio, count: buffer.count, onEvent) { player, sequence in
            player.render(into: buffer) { event in
                if let sequence {
                    onEvent(Event(kind: .sequence(sequence, event.kind), sample: frameStart + event.offset))
                }
            }
        } silence: {
            buffer.baseAddress?.update(repeating: 0, count: buffer.count)
        }
    }

    /// Renders the next frame as G.711 bytes (the account's format must be mu-law or A-law).
    public func render(
        callerAudio: UnsafeBufferPointer<Int16>?, into buffer: UnsafeMutableBufferPointer<UInt8>,
        _ onEvent: (Event) -> Void
    ) {
        let silence = silenceByte
        let frameStart = position  // captured as a value: the closures below hold no reference to the session
        advance(callerAudio: callerAudio, count: buffer.count, onEvent) { player, sequence in
            player.render(into: buffer) { event in
                if let sequence {
                    onEvent(Event(kind: .sequence(sequence, event.kind), sample: frameStart + event.offset))
                }
            }
        } silence: {
            buffer.baseAddress?.update(repeating: silence, count: buffer.count)
        }
    }

    private func advance(
        callerAudio: UnsafeBufferPointer<Int16>?, count: Int, _ onEvent: (Event) -> Void,
        play: (Player, Int?) -> Int, silence: () -> Void
    ) {
        let frameStart = position
        if startPending {
            startPending = false
            switch state {
            case .menu(let ivr, let n): startMenu(ivr, play: n, at: frameStart, onEvent)
            default: end(.routeHangup, at: frameStart, onEvent)
            }
        }
        if hungUp, !isEnded { end(.callerHungUp, at: frameStart, onEvent) }
        if let audio = callerAudio, !isEnded {
            if listener == nil {
                // Made without listensInBand, then given audio: the receiver is made now (allocates once).
                let made = Listener(account.detector)
                listenerOwner = made
                listener = Unmanaged.passUnretained(made)
            }
            listener.unsafelyUnwrapped._withUnsafeGuaranteedRef { listener in
                listener.detector.process(audio) { event in
                    if case .began(let digit, _) = event { self.press(digit) }
                }
            }
        }
        while pressedCount > 0 {
            let digit = pressed[pressedFirst]
            pressedFirst = (pressedFirst + 1) % pressed.count
            pressedCount -= 1
            onEvent(Event(kind: .digit(digit), sample: frameStart))
            choose(digit, at: frameStart, onEvent)
        }
        switch state {
        case .menu(let ivr, let n):
            guard let player = promptPlayers[ivr] else {  // unreachable by construction
                silence()
                end(.noChoice, at: frameStart, onEvent)
                break
            }
            let (audio, finished) = player._withUnsafeGuaranteedRef { (play($0, nil), $0.isFinished) }
            if finished {
                state = .waiting(ivr: ivr, play: n, until: frameStart + audio + timeoutSamples[ivr])
            }
        case .waiting(let ivr, let n, let until):
            silence()
            if frameStart + count >= until {
                onEvent(Event(kind: .timedOut(ivr: ivr), sample: until))
                replayOrEnd(ivr, play: n, at: frameStart + count, onEvent)
            }
        case .sequence(let index):
            guard let player = sequencePlayers[index] else {  // unreachable by construction
                silence()
                end(.sequenceFinished, at: frameStart, onEvent)
                break
            }
            let (audio, finished) = player._withUnsafeGuaranteedRef { (play($0, index), $0.isFinished) }
            if finished { end(.sequenceFinished, at: frameStart + audio, onEvent) }
        case .ended:
            silence()
        }
        position = frameStart + count
    }

    private func choose(_ digit: DTMFDigit, at sample: Int, _ onEvent: (Event) -> Void) {
        let ivr: Int
        let play: Int
        switch state {
        case .menu(let i, let n), .waiting(let i, let n, _): (ivr, play) = (i, n)
        default: return  // digits during a sequence or after the end are ignored
        }
        switch options[ivr * 16 + Int(digit.rawValue)] {
        case .sequence(let index)?:
            state = .sequence(index)
            sequencePlayers[index]?._withUnsafeGuaranteedRef { $0.restart() }
            onEvent(Event(kind: .sequenceStarted(index), sample: sample))
        case .ivr(let next)?:
            startMenu(next, play: 1, at: sample, onEvent)
        case .repeatMenu?:
            startMenu(ivr, play: play, at: sample, onEvent)
        case .hangup?:
            end(.hangupOption, at: sample, onEvent)
        case nil:
            onEvent(Event(kind: .invalidOption(ivr: ivr, digit: digit), sample: sample))
            replayOrEnd(ivr, play: play, at: sample, onEvent)
        }
    }

    private func replayOrEnd(_ ivr: Int, play: Int, at sample: Int, _ onEvent: (Event) -> Void) {
        if play < attempts[ivr] {
            startMenu(ivr, play: play + 1, at: sample, onEvent)
        } else {
            end(.noChoice, at: sample, onEvent)
        }
    }

    private func startMenu(_ ivr: Int, play: Int, at sample: Int, _ onEvent: (Event) -> Void) {
        promptPlayers[ivr]?._withUnsafeGuaranteedRef { $0.restart() }
        state = .menu(ivr: ivr, play: play)
        onEvent(Event(kind: .menuStarted(ivr: ivr, play: play), sample: sample))
    }

    private func end(_ reason: EndReason, at sample: Int, _ onEvent: (Event) -> Void) {
        state = .ended
        onEvent(Event(kind: .ended(reason), sample: sample))
    }
}

/// A session's in-band DTMF receiver, on its own: only sessions that listen to the caller's audio have one.
private final class Listener {
    @exclusivity(unchecked) var detector: DTMFDetector

    /// A copy of the account's receiver with its own history buffer (allocated here, not on the audio path).
    init(_ template: DTMFDetector) {
        detector = template
        detector.reset()
    }
}
