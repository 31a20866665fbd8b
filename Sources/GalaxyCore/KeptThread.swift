import Foundation

/// Starts `body` on a thread of its own, named `name` (seen in `ps -L` and debuggers), with an
/// 8 MiB stack: scoring calls into C kernels that want more than Foundation's 512 KiB default.
/// For work that lives as long as its owner (kept pool threads, a scorer), never for one task.
public func startKeptThread(named name: String, _ body: @escaping @Sendable () -> Void) {
    let thread = Thread(block: body)
    thread.name = name
    thread.stackSize = 8 << 20
    thread.start()
}
