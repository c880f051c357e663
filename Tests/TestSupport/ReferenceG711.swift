import CSpanDSP

/// G.711 by spandsp (its `linear_to_ulaw` / `linear_to_alaw`), an encoder written independently of ours: the
/// tests compare our bytes with these rather than with our own encoder.
package enum ReferenceG711 {
    /// Each sample as G.711 mu-law (Table 2a of G.711), by spandsp.
    package static func muLaw(_ samples: [Int16]) -> [UInt8] { samples.map { linear_to_ulaw(Int32($0)) } }

    /// Each sample as G.711 A-law (Table 1a of G.711, even bits inverted), by spandsp.
    package static func aLaw(_ samples: [Int16]) -> [UInt8] { samples.map { linear_to_alaw(Int32($0)) } }
}

extension ReferenceG711 {
    /// G.711 mu-law bytes decoded by spandsp.
    package static func muLawDecoded(_ bytes: [UInt8]) -> [Int16] { bytes.map { ulaw_to_linear($0) } }

    /// G.711 A-law bytes decoded by spandsp.
    package static func aLawDecoded(_ bytes: [UInt8]) -> [Int16] { bytes.map { alaw_to_linear($0) } }
}
