import Foundation

/// A child process whose output goes to temporary files (so a chatty child never blocks on a full
/// pipe). For tests that run `galaxy` or server tools. Spawned with `posix_spawn` and reaped with
/// `waitpid`, independent of Foundation's `Process`.
public final class ChildProcess: @unchecked Sendable {
    private let lock = NSLock()
    private var exitStatus: Int32?
    private let outputPath: String
    private let errorPath: String
    private let inputPath: String?
    /// The command line, for messages.
    public let commandLine: String
    /// The child's process id.
    public let pid: pid_t

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - environment: added to (and overriding) this process's environment.
    ///   - input: bytes the child reads from standard input.
    /// - Throws: `ChildProcessError` when the executable cannot be started.
    public init(
        executable: String, arguments: [String], environment: [String: String] = [:],
        currentDirectory: String? = nil, input: [UInt8]? = nil
    ) throws {
        commandLine = ([executable] + arguments).joined(separator: " ")
        let base = NSTemporaryDirectory() + "/galaxy-child-" + UUID().uuidString.prefix(8)
        outputPath = base + ".out"
        errorPath = base + ".err"
        if let input {
            inputPath = base + ".in"
            _ = FileManager.default.createFile(atPath: base + ".in", contents: Data(input))
        } else {
            inputPath = nil
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var program = executable
        var words = [executable] + arguments
        if let currentDirectory {
            // glibc's addchdir_np is not exported to Swift; a shell changes folder then execs.
            program = "/bin/sh"
            words = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", currentDirectory] + words
        }
        let env = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, program, &actions, nil, argv, envp)
        guard rc == 0 else {
            throw ChildProcessError(commandLine: commandLine, message: "cannot start: \(String(cString: strerror(rc)))", output: "")
        }
        pid = child
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = wait(timeout: 10)
        }
        for path in [outputPath, errorPath] + (inputPath.map { [$0] } ?? []) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Reaps the child if it ended; returns its status then.
    private func poll() -> Int32? {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            guard r == pid else { return nil }
            // Exit code when it exited, 128 + signal when a signal ended it (as shells report).
            let signal = status & 0x7F
            exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
            return exitStatus
        }
    }

    /// Whether it still runs.
    public var isRunning: Bool { poll() == nil }

    /// Sends `signal` (SIGTERM, SIGKILL, SIGINT...).
    public func send(signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits for the child to exit and returns its exit status (128 + signal number when a signal
    /// ended it), or nil if `timeout` seconds pass first (the child then keeps running).
    @discardableResult
    public func wait(timeout: Double = 300) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = poll() { return status }
            if Date() > deadline { return nil }
            usleep(5_000)
        }
    }

    /// Everything the child wrote to standard output so far.
    public var standardOutput: String { Self.readText(outputPath) }

    /// Everything the child wrote to standard error so far.
    public var standardError: String { Self.readText(errorPath) }

    /// Reads a whole file with POSIX calls (Foundation's file reading leaks a buffer on empty
    /// files, which LeakSanitizer reports in the sanitizer runs).
    static func readText(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs a command to completion.
    /// - Returns: exit status, standard output and standard error.
    /// - Throws: `ChildProcessError` when it cannot start or does not finish within `timeout` seconds.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        currentDirectory: String? = nil, input: [UInt8]? = nil, timeout: Double = 600
    ) throws -> (status: Int32, output: String, error: String) {
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment,
            currentDirectory: currentDirectory, input: input)
        guard let status = child.wait(timeout: timeout) else {
            child.send(signal: SIGKILL)
            _ = child.wait(timeout: 10)
            throw ChildProcessError(commandLine: child.commandLine, message: "did not finish within \(Int(timeout)) s", output: child.standardError)
        }
        return (status, child.standardOutput, child.standardError)
    }
}

/// A child process that failed.
public struct ChildProcessError: Error, CustomStringConvertible {
    public var commandLine: String
    public var message: String
    public var output: String
    public var description: String {
        "\(commandLine): \(message)" + (output.isEmpty ? "" : "\n" + output.suffix(2000))
    }
}

/// Waits for a condition that another process or thread makes true (not a timing assertion: the
/// timeout only bounds a hang).
public func waitUntil(timeout: Double = 60, interval: Double = 0.02, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return try condition()
}

/// Paths of the package and its built products.
public enum BuiltProducts {
    /// The package's root folder (where Package.swift is).
    public static var packageRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    /// The `galaxy` executable: `GALAXY_BIN` when set, else the one built next to the running
    /// test bundle, else `.build/debug/galaxy`.
    /// - Throws: `ChildProcessError` when none exists (build it with `swift build`).
    public static func galaxy() throws -> String {
        try product("galaxy", environmentOverride: "GALAXY_BIN")
    }

    /// A built executable named `name`, found as for `galaxy()`.
    public static func product(_ name: String, environmentOverride: String? = nil) throws -> String {
        let fm = FileManager.default
        if let key = environmentOverride, let path = ProcessInfo.processInfo.environment[key], fm.isExecutableFile(atPath: path) {
            return path
        }
        var candidates: [String] = []
        // The test runner lives in the build folder, next to the executables.
        var dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent(name).path)
            dir.deleteLastPathComponent()
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/\(name)").path)
        if let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) { return found }
        throw ChildProcessError(
            commandLine: name, message: "no built executable found (looked in \(candidates.joined(separator: ", "))); run `swift build` first",
            output: "")
    }
}
