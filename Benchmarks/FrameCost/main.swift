// The per-frame cost of the Swift player and of the C API's player, side by side in one process: the same
// 25 s sequence (the benchmarks' player sequence, 8 kHz mu-law, inband DTMF) in the same 160-sample frames,
// each loop in a function of its own. Run natively it prints the median wall-clock nanoseconds a frame of
// each (the loops alternate, 201 rounds, so both see the same machine load); Benchmarks/frame-cost.sh also
// runs it once under callgrind and divides each loop's inclusive instruction count by its frames.

import CallSequence
import CallSequenceC
import Glibc
import Recordings

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
func cPlayerLoop(_ player: OpaquePointer, _ frame: UnsafeMutablePointer<UInt8>,
                 _ events: UnsafeMutablePointer<cs_event>) -> Int {
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

func nanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

let program: CompiledSequence
do {
    let library = try RecordingLibrary(directory: repository + "/Examples/recordings")
    let sequence = try CallSequence.parse(sequenceText, source: "bench", recordings: library)
    program = try CompiledSequence(sequence, format: CallFormat(sampleRate: 8000, encoding: .ulaw),
                                   recordings: RecordingCache(library: library))
} catch {
    fail("\(error)")
}
var format = cs_format(sample_rate: 8000, encoding: CS_ULAW, dtmf_mode: CS_DTMF_INBAND)
guard let cSequence = sequenceText.withCString({ json in
    cs_sequence_compile(json, strlen(json), repository + "/Examples/recordings", &format, nil)
}) else { fail("cs_sequence_compile") }

let frame = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: frameSize)
frame.initialize(repeating: 0)
let events = UnsafeMutablePointer<cs_event>.allocate(capacity: 16)
events.initialize(repeating: cs_event(), count: 16)

// Under callgrind (FRAME_COST_ROUNDS=1) each loop runs once; natively, enough rounds for a stable median.
let rounds = Int(getenv("FRAME_COST_ROUNDS").map { String(cString: $0) } ?? "") ?? 201
var swiftTimes: [Double] = []
var cTimes: [Double] = []
var swiftFrames = 0
var cFrames = 0
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
}
guard swiftFrames == cFrames else { fail("the loops rendered \(swiftFrames) and \(cFrames) frames") }
swiftTimes.sort()
cTimes.sort()
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
cs_sequence_release(cSequence)
