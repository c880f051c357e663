import TelephonyDSP

/// A recording decoded, mixed to mono, resampled to a call's rate, optionally normalised, and encoded:
/// ready to copy into call audio. Immutable, shared by every call that plays it.
public final class PreparedRecording: Sendable {
    /// The recording's name (or path).
    public let name: String
    /// The call's sample rate.
    public let sampleRate: Int
    /// The call's encoding.
    public let encoding: SampleEncoding
    /// The audio as 16-bit linear samples at `sampleRate`.
    public let pcm: [Int16]
    /// The audio as G.711 bytes when `encoding` is mu-law or A-law (empty for PCM16).
    public let encoded: [UInt8]
    /// The file's own format, rate and channels.
    public let source: DecodedAudioInfo
    /// The loudness after preparation.
    public let loudness: LoudnessMeasurement
    /// The normalisation applied, if any.
    public let normalization: NormalizationResult?

    /// Prepares decoded audio for a call.
    ///
    /// - Parameters:
    ///   - audio: the decoded file.
    ///   - name: the recording's name.
    ///   - sampleRate: the call's rate.
    ///   - encoding: the call's encoding.
    ///   - normalizeToDbm0: an active level to normalise to, or `nil` to keep the recording's own.
    /// - Throws: ``RecordingError`` if resampling fails.
    public init(
        _ audio: DecodedAudio, name: String, sampleRate: Int, encoding: SampleEncoding, normalizeToDbm0: Double? = nil
    ) throws(RecordingError) {
        var samples = try Resampler.resample(audio.samples, from: audio.sampleRate, to: sampleRate, name: name)
        normalization = normalizeToDbm0.map { Loudness.normalize(&samples, sampleRate: sampleRate, toDbm0: $0) }
        loudness = Loudness.measure(samples, sampleRate: sampleRate)
        let pcm = samples.map { value -> Int16 in
            let clamped = min(max(value, -32768), 32767)
            return Int16(clamped < 0 ? clamped - 0.5 : clamped + 0.5)
        }
        self.pcm = pcm
        switch encoding {
        case .pcm16: encoded = []
        case .ulaw: encoded = pcm.map(MuLaw.encode)
        case .alaw: encoded = pcm.map(ALaw.encode)
        }
        self.name = name
        self.sampleRate = sampleRate
        self.encoding = encoding
        self.source = DecodedAudioInfo(audio)
    }

    /// The length in samples.
    public var count: Int { pcm.count }
}

/// What a file was before decoding.
public struct DecodedAudioInfo: Sendable, Hashable {
    /// libsndfile's container name.
    public var container: String
    /// libsndfile's encoding name.
    public var encoding: String
    /// The file's rate.
    public var sampleRate: Int
    /// The file's channels.
    public var channels: Int
    /// The decoded length in seconds.
    public var duration: Double

    init(_ audio: DecodedAudio) {
        container = audio.container
        encoding = audio.encoding
        sampleRate = audio.sampleRate
        channels = audio.channels
        duration = audio.duration
    }
}
