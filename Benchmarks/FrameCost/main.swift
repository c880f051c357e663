// The per-frame cost of the Swift player and of the C API's player, side by side in one process: the same
// 25 s sequence (the benchmarks' player sequence, 8 kHz mu-law, inband DTMF) in the same 160-sample frames,
// each loop in a function of its own. Run natively it prints the median wall-clock nanoseconds a frame of
// each (the loops alternate, 201 rounds, so both see the same machine load); Benchmarks/frame-cost.sh also
// runs it once under callgrind and divides each loop's inclusive instruction count by its frames.

import CallSequenceC
import CallSequenceEngine
import CallSequenceModel
import Glibc
import Recordings
import TelephonyDSP

let repository = String(#filePath.dropLast("/Benchmarks/FrameCost/main.swift".count))
let sequenceText = """
    { "name": "Bench", "steps": [
      { "type": "recording", "recording": "welcome" },
      { "type": "dtmf", "digits": "\(String(repeating: "1234567890*#ABCD", count: 6))" },
      { "type": "recording", "recording": "default" },
      { "type": "sms", "from": "5145550100", "to": "5145550199", "message": "Bench" } ] }
    """
let frameSize = 160

func fail(_ message: String) -> Never {
    print("frame-cost: \(message)")
    exit(1)
}

/// What the loops write, kept so that no loop is optimised away.
nonisolated(unsafe) var sunk = 0

@inline(never)
func sink(_ value: Int) { sunk &+= value }

/// One call of the Swift player: render until it reports the end, as the Player benchmark does.
@inline(never)
func swiftPlayerLoop(_ player: Player, _ frame: UnsafeMutableBufferPointer<UInt8>) -> Int {
    var frames = 0
    var events = 0
    while !player.isFinished {
        sink(player.render(into: frame) { _ in events += 1 })
        frames += 1
    }
    sink(events)
    return frames
}

/// One call through the C API: cs_player_render until cs_player_is_finished, as the CAPI.Player benchmark does.
@inline(never)
func cPlayerLoop(
    _ player: OpaquePointer, _ frame: UnsafeMutablePointer<UInt8>,
    _ events: UnsafeMutablePointer<cs_event>
) -> Int {
    var frames = 0
    var count = 0
    var total = 0
    while cs_player_is_finished(player) == 0 {
        sink(cs_player_render(player, frame, frameSize, events, 16, &count))
        total += count
        frames += 1
    }
    sink(total)
    return frames
}

/// The same, for a host that reads its events anyway (its SMS requests come that way) and stops at
/// CS_EVENT_FINISHED instead of calling cs_player_is_finished every frame.
@inline(never)
func cPlayerLoopUntilFinishedEvent(
    _ player: OpaquePointer, _ frame: UnsafeMutablePointer<UInt8>,
    _ events: UnsafeMutablePointer<cs_event>
) -> Int {
    var frames = 0
    var count = 0
    var total = 0
    var finished = false
    while !finished {
        sink(cs_player_render(player, frame, frameSize, events, 16, &count))
        for i in 0..<count where events[i].kind == CS_EVENT_FINISHED { finished = true }
        total += count
        frames += 1
    }
    sink(total)
    return frames
}

/// One call of the example account's lobby through a Swift IVRSession: the caller's mu-law audio (silence)
/// decoded and listened to every frame, '1' pressed at frame 100, until the door sequence ends the call.
@inline(never)
func swiftCallLoop(
    _ session: IVRSession, _ caller: UnsafeBufferPointer<UInt8>, _ linear: UnsafeMutableBufferPointer<Int16>,
    _ frame: UnsafeMutableBufferPointer<UInt8>
) -> Int {
    var frames = 0
    var events = 0
    while !session.isEnded {
        if frames == 100 { session.press(.one) }
        for i in 0..<caller.count { linear[i] = MuLaw.decode(caller[i]) }
        session.render(callerAudio: UnsafeBufferPointer(linear), into: frame) { _ in events += 1 }
        frames += 1
    }
    sink(events)
    return frames
}

/// The same call through the C API: cs_call_render with the caller's mu-law audio, until cs_call_is_over.
@inline(never)
func cCallLoop(
    _ call: OpaquePointer, _ caller: UnsafePointer<UInt8>, _ frame: UnsafeMutablePointer<UInt8>,
    _ events: UnsafeMutablePointer<cs_event>
) -> Int {
    var frames = 0
    var count = 0
    var total = 0
    while cs_call_is_over(call) == 0 {
        if frames == 100 { cs_call_press(call, 0x31) }
        sink(cs_call_render(call, caller, frame, frameSize, events, 16, &count))
        total += count
        frames += 1
    }
    sink(total)
    return frames
}

func nanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

let program: CompiledSequence
do {
    let library = try RecordingLibrary(directory: repository + "/Examples/recordings")
    let sequence = try SequenceDefinition.parse(sequenceText, source: "bench", recordings: library)
    program = try CompiledSequence(
        sequence, format: CallFormat(sampleRate: 8000, encoding: .ulaw),
        recordings: RecordingCache(library: library))
} catch {
    fail("\(error)")
}
var format = cs_format(sample_rate: 8000, encoding: CS_ULAW, dtmf_mode: CS_DTMF_INBAND)
guard
    let cSequence = sequenceText.withCString({ json in
        cs_sequence_compile(json, strlen(json), repository + "/Examples/recordings", &format, nil)
    })
else { fail("cs_sequence_compile") }

let frame = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: frameSize)
frame.initialize(repeating: 0)
let events = UnsafeMutablePointer<cs_event>.allocate(capacity: 16)
events.initialize(repeating: cs_event(), count: 16)

// Under callgrind (FRAME_COST_ROUNDS=1) each loop runs once; natively, enough rounds for a stable median.
let rounds = Int(getenv("FRAME_COST_ROUNDS").map { String(cString: $0) } ?? "") ?? 201
var swiftTimes: [Double] = []
var cTimes: [Double] = []
var cEventTimes: [Double] = []
var swiftFrames = 0
var cFrames = 0
var cEventFrames = 0
for _ in 0..<rounds {
    // A new player for each round (made outside the measured loops): each loop plays the whole sequence.
    let player = program.makePlayer()
    guard let cPlayer = cs_player_new(cSequence) else { fail("cs_player_new") }
    var start = nanoseconds()
    swiftFrames = swiftPlayerLoop(player, frame)
    swiftTimes.append(Double(nanoseconds() - start) / Double(swiftFrames))
    start = nanoseconds()
    cFrames = cPlayerLoop(cPlayer, frame.baseAddress!, events)
    cTimes.append(Double(nanoseconds() - start) / Double(cFrames))
    cs_player_free(cPlayer)
    guard let cEventPlayer = cs_player_new(cSequence) else { fail("cs_player_new") }
    start = nanoseconds()
    cEventFrames = cPlayerLoopUntilFinishedEvent(cEventPlayer, frame.baseAddress!, events)
    cEventTimes.append(Double(nanoseconds() - start) / Double(cEventFrames))
    cs_player_free(cEventPlayer)
}
guard swiftFrames == cFrames, swiftFrames == cEventFrames else {
    fail("the loops rendered \(swiftFrames), \(cFrames) and \(cEventFrames) frames")
}

// The IVR call: the example account's lobby, the receiver listening to the caller every frame.
let accountPath = repository + "/Examples/account.json"
let compiledAccount: CompiledAccount
do {
    let (account, library) = try Account.load(accountPath)
    compiledAccount = try CompiledAccount(
        account, recordings: RecordingCache(library: library),
        format: CallFormat(sampleRate: 8000, encoding: .ulaw))
} catch {
    fail("\(error)")
}
guard let cAccount = cs_account_load(accountPath, &format, nil) else { fail("cs_account_load") }
let caller = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: frameSize)
caller.initialize(repeating: MuLaw.silence)
let linear = UnsafeMutableBufferPointer<Int16>.allocate(capacity: frameSize)
linear.initialize(repeating: 0)
var swiftCallTimes: [Double] = []
var cCallTimes: [Double] = []
var swiftCallFrames = 0
var cCallFrames = 0
for _ in 0..<max(rounds / 4, 1) {
    let session: IVRSession
    do { session = try compiledAccount.makeSession(calling: PhoneNumber("5145550100")) } catch { fail("\(error)") }
    guard let cCall = cs_call_new(cAccount, "5145550100", nil) else { fail("cs_call_new") }
    var start = nanoseconds()
    swiftCallFrames = swiftCallLoop(session, UnsafeBufferPointer(caller), linear, frame)
    swiftCallTimes.append(Double(nanoseconds() - start) / Double(swiftCallFrames))
    start = nanoseconds()
    cCallFrames = cCallLoop(cCall, caller.baseAddress!, frame.baseAddress!, events)
    cCallTimes.append(Double(nanoseconds() - start) / Double(cCallFrames))
    cs_call_free(cCall)
}
guard swiftCallFrames == cCallFrames else {
    fail("the call loops rendered \(swiftCallFrames) and \(cCallFrames) frames")
}
swiftCallTimes.sort()
cCallTimes.sort()
swiftTimes.sort()
cTimes.sort()
cEventTimes.sort()
let swiftMedian = swiftTimes[swiftTimes.count / 2]
let cMedian = cTimes[cTimes.count / 2]
/// A figure with one decimal.
func tenths(_ value: Double) -> String {
    let t = Int((value * 10).rounded())
    return "\(t / 10).\(t % 10)"
}
print("frames \(swiftFrames) of \(frameSize) samples, mu-law 8 kHz, \(rounds) rounds")
print("Player.render     median ns/frame \(tenths(swiftMedian))")
print("cs_player_render  median ns/frame \(tenths(cMedian))")
print("cs_player_render until CS_EVENT_FINISHED median ns/frame \(tenths(cEventTimes[cEventTimes.count / 2]))")
print("call frames \(swiftCallFrames)")
print("IVRSession.render median ns/frame \(tenths(swiftCallTimes[swiftCallTimes.count / 2]))")
print("cs_call_render    median ns/frame \(tenths(cCallTimes[cCallTimes.count / 2]))")
cs_account_release(cAccount)
cs_sequence_release(cSequence)
