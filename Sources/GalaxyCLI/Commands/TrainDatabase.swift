import ArgumentParser
import GalaxyTraining

/// The database side of `galaxy train`: labelled images in, the trained model out.
enum TrainingDatabase {
    static func loadLabeledImages(url: String?) async throws -> [LabeledImage] {
        throw ValidationError("'--from-db' is not available in this build yet; export the images and use '--data'.")
    }

    static func register(onnx: [UInt8], name: String, activate: Bool, url: String?) async throws -> Int64 {
        throw ValidationError("'--register' is not available in this build yet; use `galaxy model add`.")
    }
}
