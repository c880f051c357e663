import CallSequenceEngine
import CallSequenceModel
import Foundation
import Glibc
import Recordings
import Testing

/// An account folder with a `recordings` folder holding one WAV, and a sibling account's folder.
private func makeTree() throws -> (root: URL, account: URL, other: URL) {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("confine-\(UUID().uuidString)")
    let account = root.appendingPathComponent("a")
    let other = root.appendingPathComponent("b")
    for folder in [account.appendingPathComponent("recordings"), other.appendingPathComponent("recordings")] {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }
    let wav = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/recordings/welcome.wav")
    try FileManager.default.copyItem(at: wav, to: other.appendingPathComponent("recordings/secret.wav"))
    try FileManager.default.copyItem(at: wav, to: account.appendingPathComponent("recordings/welcome.wav"))
    return (root, account, other)
}

private func accountText(recordings: String, prompt: String = "welcome") -> String {
    #"{ "recordings": "\#(recordings)", "dids": [ { "number": "5145550100", "route": { "ivr": "L" } } ], "#
        + #""ivrs": [ { "name": "L", "prompt": "\#(prompt)", "options": { "1": { "hangup": true } } } ] }"#
}

private func problems(_ text: String, in folder: URL, root: String? = nil) -> [String] {
    let file = folder.appendingPathComponent("account.json")
    FileManager.default.createFile(atPath: file.path, contents: Data(text.utf8))
    do {
        _ = try Account.load(file.path, recordingsRoot: root)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

@Suite("Recordings folder confined to the account's folder; only regular files opened")
struct ConfinementTests {
    @Test func escapingAndAbsoluteFoldersAreRefusedWithTheJSONPath() throws {
        let (root, account, other) = try makeTree()
        #expect(problems(accountText(recordings: "recordings"), in: account) == [])
        #expect(
            problems(accountText(recordings: "../b/recordings", prompt: "secret"), in: account) == [
                "recordings: \"../b/recordings\" leads outside the account's folder; "
                    + "an operator may allow a wider folder as a recordings root"
            ])
        let absolute = other.appendingPathComponent("recordings").path
        #expect(
            problems(accountText(recordings: absolute, prompt: "secret"), in: account).first?
                .hasPrefix("recordings: \"\(absolute)\" is an absolute path") == true)
        // The operator's root widens it.
        #expect(
            problems(accountText(recordings: "../b/recordings", prompt: "secret"), in: account, root: root.path) == [])
        // A symbolic link to the other folder is resolved and refused.
        try FileManager.default.createSymbolicLink(
            atPath: account.appendingPathComponent("linked").path,
            withDestinationPath: other.appendingPathComponent("recordings").path)
        #expect(
            problems(accountText(recordings: "linked", prompt: "secret"), in: account).first?
                .contains("leads outside the account's folder") == true)
    }

    @Test func aRecordingLinkLeavingTheFolderIsRefused() throws {
        let (_, account, other) = try makeTree()
        try FileManager.default.createSymbolicLink(
            atPath: account.appendingPathComponent("recordings/stolen.wav").path,
            withDestinationPath: other.appendingPathComponent("recordings/secret.wav").path)
        let found = problems(accountText(recordings: "recordings"), in: account)
        #expect(found.count == 1)
        #expect(
            found.first?.hasSuffix("stolen.wav: is a symbolic link that leads outside the recordings folder") == true)
    }

    @Test func aFIFOADirectoryAndAMissingFileGiveTheirOwnCause() throws {
        let (_, account, _) = try makeTree()
        let folder = account.appendingPathComponent("recordings")
        let fifo = folder.appendingPathComponent("pipe.wav").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let directory = folder.appendingPathComponent("dir.wav").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let cases: [(String, String)] = [
            (fifo, "\(fifo): is not a regular file"),
            (directory, "\(directory): is a directory"),
            (
                folder.appendingPathComponent("none.wav").path,
                "\(folder.appendingPathComponent("none.wav").path): no such file"
            ),
        ]
        for (path, expected) in cases {
            do {
                _ = try AudioFile.read(path)  // a FIFO would block an open without O_NONBLOCK
                Issue.record("read \(path)")
            } catch {
                #expect(error.description == expected)
            }
        }
        // An account file that is a directory.
        do {
            _ = try Account.load(directory)
            Issue.record("loaded a directory")
        } catch {
            #expect(error.description == "\(directory): is a directory")
        }
        if geteuid() != 0 {  // root reads anything
            let locked = folder.appendingPathComponent("welcome.wav").path
            chmod(locked, 0)
            #expect(throws: RecordingError.self) { _ = try AudioFile.read(locked) }
            do { _ = try AudioFile.read(locked) } catch { #expect(error.description == "\(locked): permission denied") }
        }
    }
}
