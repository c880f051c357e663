import Foundation
import TelephonyDSP

/// What `callseq plot` and `verify --plot` draw: audio with its spectrogram, and above it lanes of labelled
/// time spans (steps, scheduled digits, digits found, candidates refused), all on one time axis.
struct Plot {
    /// How a span is coloured.
    enum Style: CaseIterable {
        case recording, dtmf, sms, scheduled, expected, found, refused

        var legend: String {
            switch self {
            case .recording: return "recording step"
            case .dtmf: return "DTMF step"
            case .sms: return "SMS step (instant)"
            case .scheduled: return "digit as scheduled"
            case .expected: return "digit expected (offset applied)"
            case .found: return "digit found by our receiver"
            case .refused: return "candidate refused (reason below)"
            }
        }
    }

    /// A labelled span of time in one lane.
    struct Span {
        var lane: Int
        var start: Double  // seconds
        var end: Double
        var label: String
        var style: Style
    }

    var title: String
    var subtitle: String
    /// The audio, floating point on the 16-bit scale.
    var samples: [Float]
    var sampleRate: Int
    /// Lane names, top to bottom.
    var lanes: [String]
    var spans: [Span]
    /// Lines printed under the picture (measurements, reasons).
    var notes: [String]

    /// At most this many note lines are drawn; the rest are counted.
    static let maximumNotes = 48

    /// The picture's geometry, for the caller's summary line (and for the tests that read pixels back).
    struct Geometry {
        var width: Int, height: Int
        var plotLeft: Int, plotWidth: Int
        var spectrogramTop: Int, spectrogramHeight: Int
        var duration: Double
        var maximumFrequency: Double
    }

    // Palette: 0..<64 the spectrogram's ramp, then the fixed colours.
    static let ramp = 64
    static let background: UInt8 = 64, ink: UInt8 = 65, grid: UInt8 = 66, faint: UInt8 = 67
    static let wave: UInt8 = 68, laneBackground: UInt8 = 69, tick: UInt8 = 70, border: UInt8 = 71
    static let styleColors: [Style: UInt8] = [
        .recording: 72, .dtmf: 73, .sms: 74, .scheduled: 75, .expected: 76, .found: 77, .refused: 78,
    ]

    static let palette: [(UInt8, UInt8, UInt8)] = {
        // Black, deep blue, purple, red-orange, yellow, near white: dark is quiet, bright is loud.
        let stops: [(Double, Double, Double)] = [
            (0, 0, 0), (20, 20, 110), (130, 30, 140), (230, 80, 30),
            (255, 210, 40), (255, 255, 220),
        ]
        var colors: [(UInt8, UInt8, UInt8)] = (0..<ramp).map { i in
            let position = Double(i) / Double(ramp - 1) * Double(stops.count - 1)
            let k = min(Int(position), stops.count - 2)
            let f = position - Double(k)
            func mix(_ a: Double, _ b: Double) -> UInt8 { UInt8((a + (b - a) * f).rounded()) }
            return (mix(stops[k].0, stops[k + 1].0), mix(stops[k].1, stops[k + 1].1), mix(stops[k].2, stops[k + 1].2))
        }
        colors += [
            (255, 255, 255), (20, 20, 20), (205, 205, 205), (110, 110, 110),  // background, ink, grid, faint
            (30, 70, 150), (240, 240, 244), (220, 0, 120), (60, 60, 60),  // wave, lane, DTMF tick, border
            (150, 190, 235), (160, 215, 150), (250, 190, 110), (70, 160, 70),  // recording, dtmf, sms, scheduled
            (150, 150, 200), (0, 150, 160), (215, 50, 40),  // expected, found, refused
        ]
        return colors
    }()

    // Layout, in pixels.
    static let left = 70, right = 110, laneHeight = 26, waveHeight = 110, spectrogramHeight = 400
    /// Levels mapped onto the ramp, dBm0.
    static let floorDbm0: Float = -70, ceilingDbm0: Float = -3

    /// Draws the picture `width` pixels wide.
    func draw(width: Int) -> (Raster, Geometry) {
        let plotWidth = width - Plot.left - Plot.right
        let duration = max(Double(samples.count) / Double(sampleRate), 0.001)
        let maximumFrequency = min(4000, Double(sampleRate) / 2)
        let shown =
            Array(notes.prefix(Plot.maximumNotes))
            + (notes.count > Plot.maximumNotes ? ["... and \(notes.count - Plot.maximumNotes) more lines"] : [])
        let lanesTop = 50
        let waveTop = lanesTop + lanes.count * Plot.laneHeight + 8
        let spectrogramTop = waveTop + Plot.waveHeight + 8
        let axisTop = spectrogramTop + Plot.spectrogramHeight
        let legendTop = axisTop + 34
        let styles = Style.allCases.filter { style in spans.contains { $0.style == style } }
        let legendRows = (styles.count + 3 + 2) / 3
        let notesTop = legendTop + legendRows * 14 + 8
        let height = notesTop + shown.count * BitmapFont.lineHeight + 10
        var r = Raster(width: width, height: height, palette: Plot.palette, background: Plot.background)
        let geometry = Geometry(
            width: width, height: height, plotLeft: Plot.left, plotWidth: plotWidth,
            spectrogramTop: spectrogramTop, spectrogramHeight: Plot.spectrogramHeight,
            duration: duration, maximumFrequency: maximumFrequency)
        func x(_ seconds: Double) -> Int { Plot.left + Int((seconds / duration * Double(plotWidth)).rounded(.down)) }

        r.text(title, x: Plot.left, y: 8, Plot.ink, scale: 2)
        r.text(subtitle, x: Plot.left, y: 30, Plot.faint)

        // Time grid over lanes and waveform; ticks and labels under the spectrogram.
        let step = Plot.tickStep(duration: duration, pixels: plotWidth)
        var tickCount = 0
        while Double(tickCount) * step <= duration + 1e-9 && tickCount < 1000 {
            let t = Double(tickCount) * step
            let px = min(x(t), Plot.left + plotWidth - 1)
            r.line(from: (px, lanesTop), to: (px, spectrogramTop - 4), Plot.grid, dash: 2)
            r.fill(x: px, y: axisTop, width: 1, height: 5, Plot.ink)
            let label = Plot.format(t, step: step)
            r.text(label, x: px - Raster.textWidth(label) / 2, y: axisTop + 8, Plot.ink)
            tickCount += 1
        }
        let axisLabel = "time (s)"
        r.text(axisLabel, x: Plot.left + plotWidth / 2 - Raster.textWidth(axisLabel) / 2, y: axisTop + 20, Plot.ink)

        // Lanes of spans.
        for (i, name) in lanes.enumerated() {
            let top = lanesTop + i * Plot.laneHeight
            r.fill(x: Plot.left, y: top + 1, width: plotWidth, height: Plot.laneHeight - 2, Plot.laneBackground)
            r.text(name, x: Plot.left - 6 - Raster.textWidth(name), y: top + 9, Plot.ink)
            // Spans clipped to the audio (an expected digit can fall before a late capture starts).
            let inLane = spans.filter { $0.lane == i && $0.end >= 0 && $0.start <= duration }
                .map {
                    Span(
                        lane: $0.lane, start: max($0.start, 0), end: min($0.end, duration), label: $0.label,
                        style: $0.style)
                }
                .sorted { $0.start < $1.start }
            for (j, span) in inLane.enumerated() {
                let x0 = x(span.start)
                let x1 = max(x(span.end), x0 + 2)
                let color = Plot.styleColors[span.style] ?? Plot.faint
                r.fill(x: x0, y: top + 3, width: x1 - x0, height: Plot.laneHeight - 6, color)
                r.frame(x: x0, y: top + 3, width: x1 - x0, height: Plot.laneHeight - 6, Plot.border)
                // The label inside the span; when the span is narrow, after it up to the next span, or before it
                // when there is more room there (an SMS at the very end).
                let after = (j + 1 < inLane.count ? x(inLane[j + 1].start) : Plot.left + plotWidth) - x1 - 4
                let before = x0 - (j > 0 ? x(inLane[j - 1].end) : Plot.left) - 4
                let width = Raster.textWidth(span.label)
                let text: String
                let textX: Int
                if width <= x1 - x0 - 4 {
                    text = span.label
                    textX = x0 + (x1 - x0 - width) / 2
                } else if after >= width || after >= before {
                    text = Plot.clip(span.label, to: after)
                    textX = x1 + 3
                } else {
                    text = Plot.clip(span.label, to: before)
                    textX = x0 - 3 - Raster.textWidth(text)
                }
                r.text(text, x: textX, y: top + 9, Plot.ink)
            }
        }

        // Waveform envelope: the minimum and maximum sample under each column, on a ±full-scale axis.
        let waveMiddle = waveTop + Plot.waveHeight / 2
        r.text("wave", x: Plot.left - 6 - Raster.textWidth("wave"), y: waveMiddle - 3, Plot.ink)
        r.frame(x: Plot.left - 1, y: waveTop - 1, width: plotWidth + 2, height: Plot.waveHeight + 2, Plot.grid)
        r.fill(x: Plot.left, y: waveMiddle, width: plotWidth, height: 1, Plot.grid)
        let total = samples.count
        for column in 0..<plotWidth where total > 0 {
            let from = column * total / plotWidth
            let to = max((column + 1) * total / plotWidth, from + 1)
            var low: Float = 0
            var high: Float = 0
            for i in from..<min(to, total) {
                low = min(low, samples[i])
                high = max(high, samples[i])
            }
            let half = Float(Plot.waveHeight / 2 - 1)
            let y0 = waveMiddle - Int((high / 32768 * half).rounded())
            let y1 = waveMiddle - Int((low / 32768 * half).rounded())
            r.fill(x: Plot.left + column, y: y0, width: 1, height: max(y1 - y0 + 1, 1), Plot.wave)
        }

        // Spectrogram, 0 Hz at the bottom.
        let spectrogram = Spectrogram(samples: samples, sampleRate: sampleRate, columns: plotWidth)
        let span = Plot.ceilingDbm0 - Plot.floorDbm0
        for column in 0..<plotWidth {
            for row in 0..<Plot.spectrogramHeight {
                let frequency = (1 - (Double(row) + 0.5) / Double(Plot.spectrogramHeight)) * maximumFrequency
                let level = spectrogram.level(column: column, frequency: frequency)
                let position = ((level - Plot.floorDbm0) / span * Float(Plot.ramp - 1)).rounded()
                let index = position.isFinite ? Int(min(max(position, 0), Float(Plot.ramp - 1))) : 0
                r.set(Plot.left + column, spectrogramTop + row, UInt8(index))
            }
        }
        r.frame(
            x: Plot.left - 1, y: spectrogramTop - 1, width: plotWidth + 2, height: Plot.spectrogramHeight + 2,
            Plot.ink)
        func y(_ frequency: Double) -> Int {
            spectrogramTop + Int(((1 - frequency / maximumFrequency) * Double(Plot.spectrogramHeight)).rounded(.down))
        }
        // Hz axis on the left, every 500 Hz.
        var hz = 0.0
        while hz <= maximumFrequency {
            let py = min(y(hz), spectrogramTop + Plot.spectrogramHeight - 1)
            r.fill(x: Plot.left - 6, y: py, width: 5, height: 1, Plot.ink)
            let label = "\(Int(hz))"
            r.text(label, x: Plot.left - 9 - Raster.textWidth(label), y: py - 3, Plot.ink)
            hz += 500
        }
        r.text("Hz", x: Plot.left - 9 - Raster.textWidth("Hz"), y: spectrogramTop - 12, Plot.ink)
        // The eight DTMF frequencies of Q.23 on the right: ticks into the margin and staggered labels
        // (697 and 770 Hz are only 7 pixels apart), leaving the spectrogram's own pixels untouched.
        let edge = Plot.left + plotWidth + 1
        r.text("DTMF Hz", x: edge + 8, y: spectrogramTop - 12, Plot.tick)
        for (i, frequency) in (DTMFDigit.lowGroupFrequencies + DTMFDigit.highGroupFrequencies).enumerated() {
            let py = y(frequency)
            let labelX = edge + (i % 2 == 0 ? 12 : 42)
            r.fill(x: edge, y: py, width: labelX - edge - 2, height: 1, Plot.tick)
            r.text("\(Int(frequency))", x: labelX, y: py - 3, Plot.tick)
        }

        // Legend: colours of the spans, then the spectrogram's scale and the DTMF marks.
        var entries: [(UInt8, String)] = styles.map { (Plot.styleColors[$0] ?? Plot.faint, $0.legend) }
        entries.append((Plot.wave, "waveform: min/max per column"))
        entries.append((Plot.tick, "DTMF frequencies (Q.23)"))
        entries.append(
            (
                UInt8(Plot.ramp - 1),
                "spectrogram: dark \(Int(Plot.floorDbm0)) to bright \(Int(Plot.ceilingDbm0)) dBm0"
            ))
        let columnWidth = plotWidth / 3
        for (i, entry) in entries.enumerated() {
            let ex = Plot.left + (i % 3) * columnWidth
            let ey = legendTop + (i / 3) * 14
            r.fill(x: ex, y: ey, width: 18, height: 9, entry.0)
            r.frame(x: ex, y: ey, width: 18, height: 9, Plot.border)
            r.text(entry.1, x: ex + 24, y: ey + 1, Plot.ink)
        }
        for (i, note) in shown.enumerated() {
            r.text(note, x: Plot.left, y: notesTop + i * BitmapFont.lineHeight, Plot.ink)
        }
        return (r, geometry)
    }

    /// A tick spacing of 1, 2 or 5 times a power of ten giving ticks at least 60 pixels apart.
    static func tickStep(duration: Double, pixels: Int) -> Double {
        let minimum = duration * 60 / Double(max(pixels, 1))
        var step = 0.001
        while true {
            for m in [1.0, 2, 5] where step * m >= minimum { return step * m }
            step *= 10
        }
    }

    /// Seconds with as many decimals as the tick step needs.
    static func format(_ t: Double, step: Double) -> String {
        let decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3
        return String(format: "%.\(decimals)f", t)
    }

    /// `text` cut to `pixels` (with '~' marking the cut), or empty when not even one character fits.
    static func clip(_ text: String, to pixels: Int) -> String {
        let fit = pixels / BitmapFont.advance
        guard fit >= 1 else { return "" }
        let scalars = Array(text.unicodeScalars)
        if scalars.count <= fit { return text }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.prefix(fit - 1))
        out.append("~")
        return String(out)
    }
}
