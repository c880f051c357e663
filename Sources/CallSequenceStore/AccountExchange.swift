// Account files in and out of the store: `callseq import` reads and validates an account file with the model
// (every rule of `callseq validate`) into an AccountSnapshot; `callseq export` writes a snapshot as the account
// file's canonical JSON. Export → import → export gives the same bytes: the exporter's key order is fixed,
// lists are in name order, bodies are stored canonical, and defaults (`dtmf: auto`, `answerAfterMs: 0`) are
// left out both times. This is the one place the store reads the model's account types.

import CallSequenceEngine
import CallSequenceModel
import FileSupport
import Foundation
import Recordings

public enum AccountExchange {
    /// Reads an account file: validated as `callseq validate` does (each problem with its JSON path), its
    /// recordings read from the folder it names and converted for calls as an API upload is
    /// (`RecordingConversion`): the store gets the original bytes, their sniffed media type and the conversion.
    ///
    /// - Throws: `InvalidDocumentError` for the file, `RecordingError` with the decoder's reason for a
    ///   recording it cannot convert.
    public static func snapshot(fromFile path: String) throws -> AccountSnapshot {
        let (account, library) = try Account.load(path)
        let bytes = try FileSystem.contents(of: path, limit: ProductLimits.default.maximumFileBytes)
        let json = try JSONValue.parse(String(decoding: bytes, as: UTF8.self))
        return try snapshot(account, json: json, library: library)
    }

    static func snapshot(_ account: Account, json: JSONValue, library: RecordingLibrary) throws -> AccountSnapshot {
        var numbers: [NumberRecord] = []
        for did in account.dids {
            let route: NumberRoute
            switch did.route {
            case .ivr(let name): route = .ivr(name)
            case .hangup: route = .hangup
            }
            numbers.append(
                NumberRecord(
                    number: did.number.digits, sms: did.sms, route: route,
                    dtmf: DTMFMode(rawValue: did.dtmf.rawValue) ?? .auto,
                    answerAfterMs: did.answerAfterMs))
        }
        func bodies(_ key: String) -> [String] {
            guard case .array(let items)? = json[key] else { return [] }
            return items.map(CanonicalJSON.text)
        }
        var recordings: [RecordingUpload] = []
        for name in library.files.keys.sorted() {
            guard let path = library.files[name] else { continue }
            let original = try FileSystem.contents(of: path, limit: StoreLimits.maximumRecordingBytes)
            let converted = try RecordingConversion.convert(original, name: name)
            recordings.append(
                RecordingUpload(
                    name: name, contentType: AudioSniffer.mediaType(of: original) ?? contentType(path),
                    original: original, converted: converted.wav,
                    durationMs: converted.durationMs, metadata: CanonicalJSON.text(converted.metadata)))
        }
        let c = account.capabilities
        return AccountSnapshot(
            capabilities: StoreCapabilities(sequences: c.sequences, sms: c.sms, smsDailyLimit: c.smsDailyLimit),
            numbers: numbers.sorted { $0.number < $1.number }, ivrs: bodies("ivrs"), sequences: bodies("sequences"),
            recordings: recordings)
    }

    static func contentType(_ path: String) -> String {
        switch path.split(separator: ".").last?.lowercased() {
        case "wav": return "audio/wav"
        case "mp3": return "audio/mpeg"
        case "flac": return "audio/flac"
        case "ogg", "oga", "opus": return "audio/ogg"
        default: return "application/octet-stream"
        }
    }

    /// The account file of `snapshot`, canonical JSON: `capabilities`, `recordings` (the folder `recordings`
    /// when there are recordings), `dids`, `ivrs`, `sequences`.
    public static func accountFile(_ snapshot: AccountSnapshot) -> String {
        let c = snapshot.capabilities
        var members: [(key: String, value: JSONValue)] = [
            (
                "capabilities",
                .object([
                    ("sequences", .bool(c.sequences)), ("sms", .bool(c.sms)),
                    ("smsDailyLimit", .number(Double(c.smsDailyLimit))),
                ])
            )
        ]
        if !snapshot.recordings.isEmpty { members.append(("recordings", .string("recordings"))) }
        let dids: [JSONValue] = snapshot.numbers.sorted { $0.number < $1.number }.map { n in
            var did: [(key: String, value: JSONValue)] = [("number", .string(n.number)), ("sms", .bool(n.sms))]
            switch n.route {
            case .ivr(let name): did.append(("route", .object([("ivr", .string(name))])))
            case .hangup: did.append(("route", .object([("hangup", .bool(true))])))
            }
            if n.dtmf != .auto { did.append(("dtmf", .string(n.dtmf.rawValue))) }
            if n.answerAfterMs != 0 { did.append(("answerAfterMs", .number(Double(n.answerAfterMs)))) }
            return .object(did)
        }
        members.append(("dids", .array(dids)))
        let parse: (String) -> JSONValue = { (try? JSONValue.parse($0)) ?? .null }
        members.append(("ivrs", .array(snapshot.ivrs.map(parse))))
        members.append(("sequences", .array(snapshot.sequences.map(parse))))
        return CanonicalJSON.text(.object(members))
    }
}
