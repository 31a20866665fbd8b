import Foundation
import GalaxyCore

/// Everything `galaxy serve` needs to run, checked once at start.
public struct DaemonConfig: Sendable, Hashable {
    /// A libpq conninfo string or `postgresql://` URL; nil means `DATABASE_URL`, then libpq's own
    /// `PG*` environment variables.
    public var database: String?
    /// This daemon's name in `galaxy.daemons` and in the `lease_owner` of its jobs; unique per
    /// running daemon.
    public var name: String
    /// Threads that decode, preprocess and infer.
    public var threads: Int
    /// The most jobs claimed at once.
    public var batchSize: Int
    /// How long a claimed job stays leased to this daemon; another daemon takes over after that.
    public var leaseSeconds: Double
    /// How often to look for work without a notification (jobs queued while no daemon listened,
    /// retries whose backoff passed, leases that expired).
    public var pollIntervalSeconds: Double
    /// Never LISTEN; find work by polling only (behind a transaction-pooling PgBouncer).
    public var pollOnly: Bool
    /// How often the daemon tells `predict_galaxy` that it is alive.
    public var heartbeatSeconds: Double
    /// The first retry delay of a job that failed for a transient reason; doubled per attempt
    /// (`retryPolicy`).
    public var retryBaseSeconds: Double
    /// Where to serve `/metrics`, if anywhere.
    public var metricsAddress: HostPort?
    /// The Unix socket `galaxy.classify` sends images to, if any.
    public var scoringSocket: ScoringSocketConfig?
    /// The TCP port `galaxy.classify` of other machines sends images to, if any.
    public var scoringTCP: ScoringSocketConfig?

    /// The defaults, for a daemon named `name`.
    public init(name: String) {
        self.database = nil
        self.name = name
        self.threads = WorkerPool.defaultThreadCount
        self.batchSize = 64
        self.leaseSeconds = 60
        self.pollIntervalSeconds = 5
        self.pollOnly = false
        self.heartbeatSeconds = 5
        self.retryBaseSeconds = 2
        self.metricsAddress = nil
        self.scoringSocket = nil
        self.scoringTCP = nil
    }

    /// The retry policy these settings give.
    public var retryPolicy: RetryPolicy { RetryPolicy(retryBaseSeconds: retryBaseSeconds) }

    /// The default daemon name: `host:pid`, unique on one database.
    public static func defaultName(
        host: String = ProcessInfo.processInfo.hostName,
        pid: Int32 = ProcessInfo.processInfo.processIdentifier
    ) -> String {
        "\(host):\(pid)"
    }

    /// Settings as given on the command line or in the environment, still as text.
    public struct Options: Sendable, Hashable {
        public var database: String?
        public var name: String?
        public var threads: String?
        public var batchSize: String?
        public var leaseSeconds: String?
        public var pollInterval: String?
        public var pollOnly: Bool = false
        public var heartbeat: String?
        public var retryBase: String?
        public var metricsAddress: String?
        public var scoringSocket: String?
        public var scoringSocketGroup: String?
        public var scoringSocketMaxBytes: String?
        public var scoringTCP: String?
        public var scoringSecretFile: String?
        public init() {}
    }

    /// Resolves command-line options over `GALAXY_*` environment variables over the defaults.
    ///
    /// Environment: `DATABASE_URL`, `GALAXY_DAEMON_NAME`, `GALAXY_THREADS`, `GALAXY_BATCH_SIZE`,
    /// `GALAXY_LEASE_SECONDS`, `GALAXY_POLL_INTERVAL`, `GALAXY_POLL_ONLY` (1/true),
    /// `GALAXY_HEARTBEAT_SECONDS`, `GALAXY_RETRY_BASE_SECONDS`, `GALAXY_METRICS_ADDRESS`,
    /// `GALAXY_SCORING_SOCKET`, `GALAXY_SCORING_SOCKET_GROUP`, `GALAXY_SCORING_SOCKET_MAX_BYTES`,
    /// `GALAXY_SCORING_TCP`, `GALAXY_SCORING_SECRET_FILE`.
    /// - Throws: `DaemonConfigError` naming the flag, the value and the fix.
    public static func resolve(
        _ options: Options, environment: [String: String] = ProcessInfo.processInfo.environment,
        defaultName: String = DaemonConfig.defaultName()
    ) throws(DaemonConfigError) -> DaemonConfig {
        func pick(_ flag: String?, _ variable: String) -> (String, String)? {
            if let flag { return (flag, "") }
            if let value = environment[variable], !value.isEmpty { return (value, variable) }
            return nil
        }
        var config = DaemonConfig(name: defaultName)
        config.database = options.database ?? environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let (value, source) = pick(options.name, "GALAXY_DAEMON_NAME") {
            let trimmed = value.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.count <= 200 else {
                throw DaemonConfigError(
                    flag: "--name", environment: source, value: value,
                    expected: "a non-empty name of at most 200 characters")
            }
            config.name = trimmed
        }
        if let (value, source) = pick(options.threads, "GALAXY_THREADS") {
            config.threads = try integer(value, flag: "--threads", source, in: 1...1024)
        }
        if let (value, source) = pick(options.batchSize, "GALAXY_BATCH_SIZE") {
            config.batchSize = try integer(value, flag: "--batch-size", source, in: 1...10_000)
        }
        if let (value, source) = pick(options.leaseSeconds, "GALAXY_LEASE_SECONDS") {
            config.leaseSeconds = try seconds(value, flag: "--lease-seconds", source, in: 1...86_400)
        }
        if let (value, source) = pick(options.pollInterval, "GALAXY_POLL_INTERVAL") {
            config.pollIntervalSeconds = try seconds(value, flag: "--poll-interval", source, in: 0.01...3_600)
        }
        if options.pollOnly {
            config.pollOnly = true
        } else if let value = environment["GALAXY_POLL_ONLY"] {
            switch value.lowercased() {
            case "1", "true", "yes", "on": config.pollOnly = true
            case "", "0", "false", "no", "off": config.pollOnly = false
            default:
                throw DaemonConfigError(
                    flag: "--poll-only", environment: "GALAXY_POLL_ONLY", value: value,
                    expected: "1/true/yes/on or 0/false/no/off")
            }
        }
        if let (value, source) = pick(options.heartbeat, "GALAXY_HEARTBEAT_SECONDS") {
            config.heartbeatSeconds = try seconds(value, flag: "--heartbeat", source, in: 0.1...3_600)
        }
        if let (value, source) = pick(options.retryBase, "GALAXY_RETRY_BASE_SECONDS") {
            config.retryBaseSeconds = try seconds(value, flag: "--retry-base", source, in: 0...86_400)
        }
        if let (value, source) = pick(options.metricsAddress, "GALAXY_METRICS_ADDRESS") {
            guard let address = HostPort(value) else {
                throw DaemonConfigError(
                    flag: "--metrics-address", environment: source, value: value,
                    expected: "HOST:PORT, for example 127.0.0.1:9464")
            }
            config.metricsAddress = address
        }
        var maxImageBytes: Int?
        if let (bytes, source) = pick(options.scoringSocketMaxBytes, "GALAXY_SCORING_SOCKET_MAX_BYTES") {
            maxImageBytes = try integer(bytes, flag: "--scoring-socket-max-bytes", source, in: 4...(1 << 30))
        }
        if let (value, source) = pick(options.scoringSocket, "GALAXY_SCORING_SOCKET") {
            guard value.hasPrefix("/"), value.utf8.count < ScoringSocketConfig.maxPathBytes else {
                throw DaemonConfigError(
                    flag: "--scoring-socket", environment: source, value: value,
                    expected: "an absolute path shorter than \(ScoringSocketConfig.maxPathBytes) bytes")
            }
            var socket = ScoringSocketConfig(
                path: value, group: pick(options.scoringSocketGroup, "GALAXY_SCORING_SOCKET_GROUP")?.0)
            if let maxImageBytes { socket.maxImageBytes = maxImageBytes }
            config.scoringSocket = socket
        } else if options.scoringSocketGroup != nil {
            throw DaemonConfigError(
                flag: "--scoring-socket-group", environment: "", value: options.scoringSocketGroup ?? "",
                expected: "to be given together with --scoring-socket PATH")
        }
        if let (value, source) = pick(options.scoringTCP, "GALAXY_SCORING_TCP") {
            guard let address = HostPort(value) else {
                throw DaemonConfigError(
                    flag: "--scoring-tcp", environment: source, value: value, expected: "HOST:PORT, for example 10.0.0.5:7433")
            }
            guard let (file, fileSource) = pick(options.scoringSecretFile, "GALAXY_SCORING_SECRET_FILE") else {
                throw DaemonConfigError(
                    flag: "--scoring-tcp", environment: source, value: value,
                    expected: "--scoring-secret-file FILE as well (a TCP socket admits only backends with the shared secret)")
            }
            var socket = ScoringSocketConfig(tcp: address, secret: try secret(file, fileSource))
            if let maxImageBytes { socket.maxImageBytes = maxImageBytes }
            config.scoringTCP = socket
        } else if options.scoringSecretFile != nil {
            throw DaemonConfigError(
                flag: "--scoring-secret-file", environment: "", value: options.scoringSecretFile ?? "",
                expected: "to be given together with --scoring-tcp HOST:PORT")
        }
        // A lease shorter than a heartbeat would let a live daemon's jobs be taken over routinely.
        guard config.leaseSeconds >= 2 * config.heartbeatSeconds else {
            throw DaemonConfigError(
                flag: "--lease-seconds", environment: "", value: String(config.leaseSeconds),
                expected: "at least twice the heartbeat interval (\(config.heartbeatSeconds) s)")
        }
        return config
    }

    /// The shared secret in `file` (without a trailing newline): at least 16 bytes, and readable
    /// by its owner only.
    private static func secret(_ file: String, _ source: String) throws(DaemonConfigError) -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
            let data = FileManager.default.contents(atPath: file)
        else {
            throw DaemonConfigError(
                flag: "--scoring-secret-file", environment: source, value: file, expected: "a readable file")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw DaemonConfigError(
                flag: "--scoring-secret-file", environment: source, value: file,
                expected: String(format: "a file only its owner can read (it has mode %o: chmod 600 it)", mode))
        }
        var bytes = [UInt8](data)
        while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
        guard bytes.count >= ScoringSocketConfig.minSecretBytes else {
            throw DaemonConfigError(
                flag: "--scoring-secret-file", environment: source, value: file,
                expected: "a secret of at least \(ScoringSocketConfig.minSecretBytes) bytes (e.g. openssl rand -hex 32)")
        }
        return bytes
    }

    private static func integer(
        _ text: String, flag: String, _ source: String, in range: ClosedRange<Int>
    ) throws(DaemonConfigError) -> Int {
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw DaemonConfigError(
                flag: flag, environment: source, value: text,
                expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    private static func seconds(
        _ text: String, flag: String, _ source: String, in range: ClosedRange<Double>
    ) throws(DaemonConfigError) -> Double {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite,
            range.contains(value)
        else {
            throw DaemonConfigError(
                flag: flag, environment: source, value: text,
                expected: "seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }
}

/// A setting of `galaxy serve` that cannot be used.
public struct DaemonConfigError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The command-line flag.
    public var flag: String
    /// The environment variable the value came from, or "" for the command line.
    public var environment: String
    public var value: String
    /// What would be accepted.
    public var expected: String

    public var description: String {
        let origin = environment.isEmpty ? flag : "\(environment) (or \(flag))"
        return "invalid \(origin) '\(value)': expected \(expected)."
    }
}

/// A host and TCP port such as `127.0.0.1:9464` or `[::1]:9464`.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces); nil when malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil
        }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
