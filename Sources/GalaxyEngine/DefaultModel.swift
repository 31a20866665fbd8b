import Foundation

/// The trained model shipped with galaxy (`Resources/galaxy-default.onnx`, under 2 MB), so scoring
/// works before anyone trains. `scripts/train-default-model` reproduces it; docs/training.md says
/// how it was trained and how well it does.
public enum DefaultModel {
    /// The resource's file name.
    public static let fileName = "galaxy-default.onnx"

    /// Where the file is: `GALAXY_DEFAULT_MODEL` when set, else the module's resource bundle beside
    /// the executable (`galaxy_GalaxyEngine.resources` on Linux, `.bundle` on macOS).
    public static var url: URL? {
        if let path = ProcessInfo.processInfo.environment["GALAXY_DEFAULT_MODEL"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        let directory = executable.deletingLastPathComponent()
        let candidates = [
            directory.appendingPathComponent("galaxy_GalaxyEngine.resources").appendingPathComponent(fileName),
            directory.appendingPathComponent("galaxy_GalaxyEngine.bundle/Contents/Resources").appendingPathComponent(fileName),
            directory.appendingPathComponent("galaxy_GalaxyEngine.bundle").appendingPathComponent(fileName),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The ONNX bytes of the default model.
    /// - Throws: `DefaultModelError` when the resource bundle was not installed beside the
    ///   executable; copy it along or set `GALAXY_DEFAULT_MODEL`.
    public static func onnx() throws(DefaultModelError) -> [UInt8] {
        guard let url else { throw DefaultModelError(path: nil) }
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DefaultModelError(path: url.path) }
        return [UInt8](data)
    }
}

/// The shipped default model could not be read.
public struct DefaultModelError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The path tried, or nil when no resource bundle was found at all.
    public var path: String?

    public var description: String {
        if let path {
            return "cannot read the default model at \(path); check the file or unset GALAXY_DEFAULT_MODEL"
        }
        return "the default model \(DefaultModel.fileName) was not found beside the executable; install the "
            + "galaxy_GalaxyEngine.resources directory with the binary or set GALAXY_DEFAULT_MODEL to the file"
    }
}
