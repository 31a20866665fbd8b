import Foundation

/// A progress line for long work (ingest, training, synthesis, batch scoring): count, rate and ETA.
/// Draws in place on a terminal and prints occasional plain lines otherwise, so logs stay readable.
public final class ProgressBar: @unchecked Sendable {
    private let title: String
    private let total: Int
    private let lock = NSLock()
    private var done = 0
    private var failed = 0
    private var suffix = ""
    private let start = Date()
    private var lastDraw = Date.distantPast
    /// The counts the last drawn line showed, so `finish` does not repeat an identical final line.
    private var drawnCounts: (done: Int, failed: Int)? = nil
    private let interactive: Bool
    private let output: FileHandle

    /// - Parameters:
    ///   - title: what is being counted, for example "ingest".
    ///   - total: how many items there are; 0 when unknown.
    ///   - output: where to draw; standard error by default so standard output stays parseable.
    public init(title: String, total: Int, output: FileHandle = .standardError) {
        self.title = title
        self.total = total
        self.output = output
        self.interactive = isatty(output.fileDescriptor) != 0
    }

    /// Records `count` finished items (and how many of them failed) and redraws at most a few times
    /// a second.
    public func advance(by count: Int = 1, failed newlyFailed: Int = 0, note: String? = nil) {
        lock.lock()
        done += count
        failed += newlyFailed
        if let note { suffix = note }
        let now = Date()
        let interval = interactive ? 0.1 : 5.0
        let shouldDraw = now.timeIntervalSince(lastDraw) >= interval || done == total
        if shouldDraw { lastDraw = now }
        let line = shouldDraw ? render(now: now) : nil
        if shouldDraw { drawnCounts = (done, failed) }
        lock.unlock()
        if let line { draw(line) }
    }

    /// Sets the text shown after the counts (for example the current loss) without advancing.
    public func setNote(_ note: String) {
        lock.lock()
        suffix = note
        lock.unlock()
    }

    /// Draws the final line (unless the last line drawn already shows the final counts) and moves
    /// to a new line.
    public func finish() {
        lock.lock()
        let line = render(now: Date())
        let alreadyShown = drawnCounts.map { $0.done == done && $0.failed == failed } ?? false
        drawnCounts = (done, failed)
        lock.unlock()
        if !alreadyShown || interactive { draw(line) }
        if interactive { output.write(Data("\n".utf8)) }
    }

    /// Items per second so far.
    public var rate: Double {
        lock.lock()
        defer { lock.unlock() }
        return Double(done) / max(Date().timeIntervalSince(start), 1e-9)
    }

    private func render(now: Date) -> String {
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        var parts = ["\(title):"]
        if total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 24
            let filled = Int(fraction * Double(width))
            parts.append(
                "[" + String(repeating: "#", count: filled)
                    + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(done)/\(total)")
        } else {
            parts.append("\(done)")
        }
        if failed > 0 { parts.append("(\(failed) failed)") }
        parts.append(String(format: "%.1f/s", rate))
        if total > 0 && done < total && rate > 0 {
            parts.append("ETA " + Self.formatDuration(Double(total - done) / rate))
        } else {
            parts.append("elapsed " + Self.formatDuration(elapsed))
        }
        if !suffix.isEmpty { parts.append(suffix) }
        return parts.joined(separator: " ")
    }

    private func draw(_ line: String) {
        let text = interactive ? "\r\u{1B}[K" + line : line + "\n"
        output.write(Data(text.utf8))
    }

    /// Formats seconds as `1h02m`, `3m05s` or `12s`.
    public static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
