// libFuzzer entry point (swiftc -sanitize=fuzzer,address): `make fuzz` builds this module only when
// CALLSEQ_FUZZ is set (see Package.swift) and runs each target for FUZZ_SECONDS. FUZZ_TARGET picks what
// the bytes are fed to: the JSON reader, sequence validation, account validation, dial strings, or
// AudioFile.decode from memory. Any trap, leak or out-of-bounds access is a finding; libFuzzer writes
// the input to Fuzz/crashes/ and it becomes a regression test.

import CallSequence
import Glibc
import Recordings
import TelephonyDSP

/// Which target this run feeds, read once from FUZZ_TARGET.
nonisolated(unsafe) private var target: String = {
    guard let value = getenv("FUZZ_TARGET") else { return "json" }
    return String(cString: value)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "audio":
        _ = try? AudioFile.decode(bytes, name: "fuzz.wav")
    case "dialstring":
        let text = String(decoding: bytes, as: UTF8.self)
        if let dial = try? DialString(text) {
            _ = try? DTMFGenerator(dialString: dial, sampleRate: 8000)
        }
    default:
        let text = String(decoding: bytes, as: UTF8.self)
        switch target {
        case "sequence": _ = try? CallSequence.parse(text, source: "fuzz")
        case "account": _ = try? Account.parse(text, source: "fuzz", baseDirectory: "/nonexistent")
        default: _ = try? JSONValue.parse(text)
        }
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<Int32>,
               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

/// SwiftPM links an executable module's entry point under this name; it hands over to libFuzzer's driver.
@_cdecl("CallSequenceFuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments) { data, size in fuzz(data, size) }
}
