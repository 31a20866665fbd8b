import Foundation

/// Everything needed to continue training after an interrupted run: weights, optimiser moments,
/// the epoch history and the early-stopping state. Written after every epoch.
public struct Checkpoint: Sendable {
    public struct Header: Codable, Sendable {
        public var architecture: Architecture
        public var optimizer: OptimizerSettings
        public var optimizerStep: Int
        public var seed: UInt64
        public var batchSize: Int
        public var epochsDone: Int
        public var history: [EpochRecord]
        public var bestEpoch: Int
        public var bestLoss: Double
        public var epochsSinceBest: Int
        public var sizes: [Int]
    }

    public var header: Header
    public var parameters: [Float]
    public var bestParameters: [Float]
    public var optimizerState: OptimizerState

    private static let magic = Array("GALAXYCKPT1\n".utf8)

    public init(header: Header, parameters: [Float], bestParameters: [Float], optimizerState: OptimizerState) {
        self.header = header
        self.parameters = parameters
        self.bestParameters = bestParameters
        self.optimizerState = optimizerState
    }

    /// Writes atomically (temporary file, then rename), so a crash never leaves half a checkpoint.
    public func write(to url: URL) throws {
        var h = header
        h.optimizerStep = optimizerState.step
        h.sizes = [parameters.count, bestParameters.count, optimizerState.first.count, optimizerState.second.count]
        let json = try JSONEncoder().encode(h)
        var data = Data(Self.magic)
        var length = UInt32(json.count).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(json)
        for array in [parameters, bestParameters, optimizerState.first, optimizerState.second] {
            array.withUnsafeBytes { data.append(contentsOf: $0) }
        }
        let temporary = url.appendingPathExtension("tmp")
        try data.write(to: temporary)
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: temporary, to: url)
    }

    /// - Throws: `TrainingError.checkpoint` naming the file when it is not a checkpoint or is cut short.
    public static func read(from url: URL) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.checkpoint(path: url.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        let bytes = [UInt8](data)
        guard bytes.count > magic.count + 4, Array(bytes[0..<magic.count]) == magic else {
            throw TrainingError.checkpoint(path: url.path, reason: "not a galaxy training checkpoint")
        }
        var offset = magic.count
        let length = Int(UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
        offset += 4
        guard offset + length <= bytes.count else { throw TrainingError.checkpoint(path: url.path, reason: "the header is cut short") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[offset..<(offset + length)])) } catch {
            throw TrainingError.checkpoint(path: url.path, reason: "unreadable header (\(error))")
        }
        offset += length
        guard header.sizes.count == 4, offset + header.sizes.reduce(0, +) * 4 == bytes.count else {
            throw TrainingError.checkpoint(path: url.path, reason: "weights are cut short; the file was not written completely")
        }
        var arrays: [[Float]] = []
        for size in header.sizes {
            var values = [Float](repeating: 0, count: size)
            values.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + size * 4)]))
                }
            }
            arrays.append(values)
            offset += size * 4
        }
        var state = OptimizerState(settings: header.optimizer, parameterCount: arrays[0].count)
        state.step = header.optimizerStep
        state.first = arrays[2]
        state.second = arrays[3]
        return Checkpoint(header: header, parameters: arrays[0], bestParameters: arrays[1], optimizerState: state)
    }
}

/// Failures of `galaxy train` that name the file, row or setting at fault and what to do.
public enum TrainingError: Error, CustomStringConvertible, Sendable {
    case checkpoint(path: String, reason: String)
    case resumeMismatch(String)
    case catalog(path: String, line: Int?, reason: String)
    case image(path: String, reason: String)
    case noData(String)
    case label(origin: String, reason: String)

    public var description: String {
        switch self {
        case .checkpoint(let path, let reason):
            return "checkpoint \(path): \(reason); start without --resume or point it at the .ckpt written beside the model"
        case .resumeMismatch(let what):
            return "cannot resume: \(what); resume with the same architecture and optimiser, or start a new run"
        case .catalog(let path, let line, let reason):
            return "catalog \(path)\(line.map { " line \($0)" } ?? ""): \(reason)"
        case .image(let path, let reason):
            return "image \(path): \(reason)"
        case .noData(let what):
            return "no training data: \(what)"
        case .label(let origin, let reason):
            return "\(origin): \(reason)"
        }
    }
}
