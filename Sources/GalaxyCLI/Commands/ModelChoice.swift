import ArgumentParser
import Foundation
import GalaxyEngine
import GalaxyService

/// The model a file command runs: `--model FILE.onnx`, or the shipped default model without it.
struct ModelChoice {
    let engine: InferenceModel
    /// What the output calls it: the file's path, or `default model (galaxy-default.onnx)`.
    let name: String
    /// SHA-256 of the ONNX bytes, to tell models apart in reports.
    let sha256: String

    /// - Throws: `ValidationError` naming the file and what is wrong with it.
    static func load(path: String?) throws -> ModelChoice {
        let bytes: [UInt8]
        let name: String
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read model \(path): no such file or not readable")
            }
            bytes = [UInt8](data)
            name = path
        } else {
            do { bytes = try DefaultModel.onnx() } catch {
                throw ValidationError("no --model given and \(error)")
            }
            name = "default model (\(DefaultModel.fileName))"
        }
        do {
            let engine = try InferenceModel(onnx: bytes)
            try engine.metadata.requireCheckedPrecision()
            return ModelChoice(engine: engine, name: name, sha256: SHA256.hex(bytes))
        } catch {
            throw ValidationError("cannot load \(name): \(error)")
        }
    }

    /// One line for humans: name, short digest and label count.
    var summary: String {
        "\(name), sha256 \(sha256.prefix(12)), \(engine.metadata.labels.count) labels, \(engine.metadata.precision.rawValue)"
    }
}

/// `--tta 0,45,90`: rotations in degrees for test-time augmentation.
enum RotationList {
    /// - Returns: `[0]` (no augmentation) when `text` is nil.
    /// - Throws: `ValidationError` when a part is not a finite number.
    static func parse(_ text: String?) throws -> [Double] {
        guard let text else { return [0] }
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap(Double.init)
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0.isFinite }) else {
            throw ValidationError(
                "'--tta' takes rotations in degrees separated by commas, for example 0,45,90 (got '\(text)')."
            )
        }
        return values
    }
}
