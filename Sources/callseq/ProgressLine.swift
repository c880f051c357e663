import Foundation

/// Progress of a long operation (converting a folder, detecting in an hour of audio, loading many accounts),
/// drawn on one line of standard error when it is a terminal (`isatty(2)`), and nothing at all otherwise, so
/// that scripts and CI see only the command's own output.
///
/// Never used on a real-time path: it is called between files, between blocks of seconds of audio, between
/// account files. It redraws at most every ``minimumInterval`` seconds (the last state is always drawn) and
/// erases its line before the command prints a result (``clear()``) and when it is done (``finish()``).
final class ProgressLine {
    /// Whether anything is drawn: standard error is a terminal.
    let enabled: Bool
    /// What is going on ("converting", "detecting", "loading accounts").
    private let label: String
    /// The unit of the counts, after the total ("s"), or nothing.
    private let unit: String
    /// The least time between two drawings, in seconds.
    private let minimumInterval: Double
    /// When the line was last drawn (monotonic seconds), if it was.
    private var lastDrawn: Double?
    /// Whether the line currently shows something (so that clear() has something to erase).
    private var visible = false

    /// - Parameters:
    ///   - label: the operation, first on the line.
    ///   - unit: the unit of the counts, shown after the total ("s"), or nothing.
    ///   - minimumInterval: the least time between two drawings, in seconds.
    init(_ label: String, unit: String = "", minimumInterval: Double = 0.1) {
        self.label = label
        self.unit = unit
        self.minimumInterval = minimumInterval
        self.enabled = isatty(STDERR_FILENO) == 1
    }

    /// Shows `done` of `total` (and the percentage), then `detail`: "converting 3/10 (30%) welcome.mp3".
    ///
    /// - Parameters:
    ///   - done: the units finished.
    ///   - total: all the units (0: no percentage).
    ///   - detail: what is being worked on, or a unit-specific count.
    ///   - force: draw even if the line was drawn less than ``minimumInterval`` ago (the last state).
    func update(_ done: Int, of total: Int, _ detail: String = "", force: Bool = false) {
        guard enabled else { return }
        let now = ProgressLine.monotonicSeconds()
        if !force, let lastDrawn, now - lastDrawn < minimumInterval { return }
        lastDrawn = now
        var line = "\(label) \(done)/\(total)\(unit.isEmpty ? "" : " " + unit)"
        if total > 0 { line += " (\(min(100, max(0, done * 100 / total)))%)" }
        if !detail.isEmpty { line += " \(detail)" }
        // The line is cut to the terminal's width so that it never wraps (a wrapped line cannot be redrawn).
        let width = ProgressLine.terminalColumns()
        if line.count > width - 1 { line = String(line.prefix(max(1, width - 1))) }
        write("\r\(line)\u{1B}[K")
        visible = true
    }

    /// Erases the line (before the command writes a result to standard output on the same terminal).
    func clear() {
        guard enabled, visible else { return }
        write("\r\u{1B}[K")
        visible = false
    }

    /// Ends the progress: erases the line.
    func finish() { clear() }

    private func write(_ text: String) {
        fflush(nil)  // results printed so far come before the line
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(STDERR_FILENO, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    private static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// The terminal's width (TIOCGWINSZ on standard error), 80 if it cannot be read.
    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
