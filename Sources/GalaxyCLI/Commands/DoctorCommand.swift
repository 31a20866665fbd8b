import ArgumentParser
import Foundation
import GalaxyCore
import GalaxyEngine

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "Show the CPU, its features and the kernel paths galaxy runs.",
        discussion: """
            Prints what the processor offers (cpuid) and the operating system allows (xgetbv), which \
            path of the engine's own kernels (matrix products, Winograd, pooling) was picked, which \
            OpenBLAS core runs the remaining products, and a warning for each known slow \
            combination with what to do. Never a table of CPU models: everything is read from this \
            machine.
            """)

    func run() throws {
        let paths = KernelPaths.current()
        let f = paths.features
        func yes(_ flag: Bool) -> String { flag ? "yes" : "no" }
        print("CPU:               \(paths.cpu)")
        print("features:          \(f.names.isEmpty ? "(none of avx2, fma, avx512*, amx*)" : f.names.joined(separator: " "))")
        print(
            "OS allows:         AVX \(yes(f.osSavesAVX)), AVX-512 \(yes(f.osSavesAVX512)), "
                + "AMX tiles \(f.amxTile ? (f.osOffersAMX ? "offered" : "not offered") : "no hardware")")
        print("OpenBLAS core:     \(paths.openBLASCore) (\(paths.coreOrigin)); best for these features: \(KernelPaths.suggestedCore(for: f) ?? "its generic kernels")")
        print("OpenBLAS build:    \(paths.openBLASConfig)")
        print(
            "engine kernels:    GEMM, Winograd transforms and pooling: \(paths.engineKernels)"
                + (paths.engineKernelsForced ? " (GALAXY_KERNELS)" : " (best this CPU runs)")
                + "; this CPU runs \(EngineKernelPath.supported.joined(separator: ", "))")
        print(
            "matrix products:   "
                + (paths.gemm == "galaxy"
                    ? "galaxy's own kernels (\(paths.engineKernels)); OpenBLAS for transposed products and the trainer"
                    : "\(paths.gemm) (GALAXY_GEMM)"))
        print(
            "reduced precision: bf16 models (galaxy model add --precision bf16): "
                + (paths.bf16Native
                    ? "native AVX512-BF16 dot products"
                    : "emulated with fp32 arithmetic (no AVX512-BF16 on the \(paths.engineKernels) path): the same results, "
                        + "slower than the fp32 model; keep fp32 models on this CPU"))
        print("threads:           \(WorkerPool.defaultThreadCount) (GALAXY_THREADS, else every core); a single image \(InferenceModel.singleImageThreading)")
        if paths.warnings.isEmpty {
            print("warnings:          none")
        } else {
            for warning in paths.warnings { print("warning: \(warning)") }
        }
    }
}

/// The kernel-path line `classify`, `evaluate` and `train` print before they work, so a slow path
/// is never silent.
enum KernelAnnouncement {
    static func write(for tool: String) {
        let paths = KernelPaths.current()
        var text = "\(tool): kernels: \(paths.summary)\n"
        for warning in paths.warnings { text += "\(tool): warning: \(warning)\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }
}
