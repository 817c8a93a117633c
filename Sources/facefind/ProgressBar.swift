import FaceFind
import Foundation

/// A one-line progress bar on standard error: done/total, images/s and time left. Silent when standard error
/// is not a terminal unless forced, so logs and CI output stay clean.
final class ProgressBar: @unchecked Sendable {
    private let label: String
    private let enabled: Bool
    private let lock = NSLock()
    private var started: Date?

    init(label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    func update(_ p: IndexProgress) {
        guard enabled else { return }
        lock.withLock {
            let fraction = p.total > 0 ? Double(p.done) / Double(p.total) : 1
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            let rate = p.elapsed > 0 ? Double(p.done) / p.elapsed : 0
            let eta = rate > 0 ? Double(p.total - p.done) / rate : 0
            let line = String(format: "\r%@ [%@] %d/%d  %.1f img/s  ETA %@  faces %d  failed %d ",
                              label, bar, p.done, p.total, rate, Self.clock(eta), p.faces, p.failed)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A bar of plain work (no images): done/total, `unit`/s and time left.
    func update(done: Int, total: Int, unit: String) {
        guard enabled else { return }
        lock.withLock {
            if started == nil { started = Date() }
            let elapsed = Date().timeIntervalSince(started!)
            let fraction = total > 0 ? Double(done) / Double(total) : 1
            let filled = Int(fraction * 30)
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: 30 - filled)
            let rate = elapsed > 0 ? Double(done) / elapsed : 0
            let eta = rate > 0 ? Double(total - done) / rate : 0
            let line = String(format: "\r%@ [%@] %d/%d  %.0f %@/s  ETA %@ ", label, bar, done, total, rate, unit,
                              Self.clock(eta))
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
