/// The sample encodings a telephony channel carries.
public enum SampleEncoding: String, Sendable, CaseIterable, Codable {
    /// Linear 16-bit PCM.
    case pcm16
    /// G.711 mu-law, 8 bits a sample.
    case ulaw
    /// G.711 A-law, 8 bits a sample.
    case alaw

    /// Bytes per sample.
    public var bytesPerSample: Int { self == .pcm16 ? 2 : 1 }

    /// Passes `sample` through the encoding and back: what a receiver hears of it.
    @inlinable
    public func roundTrip(_ sample: Int16) -> Int16 {
        switch self {
        case .pcm16: return sample
        case .ulaw: return MuLaw.decode(MuLaw.encode(sample))
        case .alaw: return ALaw.decode(ALaw.encode(sample))
        }
    }
}
