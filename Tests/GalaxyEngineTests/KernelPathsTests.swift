import Foundation
import GalaxyTestSupport
import Testing

@testable import GalaxyEngine

/// Kernel paths come from this machine's features, and a slow OpenBLAS core is never silent.
@Suite struct KernelPathsTests {
    static func features(avx2: Bool, avx512: Bool) -> CPUFeatures {
        var f = CPUFeatures()
        f.avx2 = avx2
        f.fma = avx2
        f.osSavesAVX = avx2
        f.avx512f = avx512
        f.avx512bw = avx512
        f.avx512vl = avx512
        f.osSavesAVX512 = avx512
        return f
    }

    @Test func featuresAgreeWithWhatTheKernelReports() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try #require(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: ":")[1].split(separator: " ").map(String.init))
        let f = CPUFeatures.current
        #expect(Set(f.names).isSubset(of: flags), "\(f.names) vs \(flags.sorted())")
        #expect(f.avx2 == flags.contains("avx2") && f.fma == flags.contains("fma"))
        #expect(f.avx512f == flags.contains("avx512f"))
        let paths = KernelPaths.current()
        #expect(EngineKernelPath.supported.contains(paths.engineKernels))
        #expect(EngineKernelPath.supported.contains("avx2") == f.hasAVX2)
        #expect(EngineKernelPath.supported.contains("avx512") == f.hasAVX512)
        #expect(!paths.openBLASCore.isEmpty && paths.openBLASConfig.contains("OpenBLAS"))
        #expect(paths.summary.contains(paths.openBLASCore) && paths.summary.contains(paths.cpu))
    }

    @Test func aCoreWithoutAVX2OnAnAVX512CPUIsReplacedBySkylakeX() {
        let avx512 = Self.features(avx2: true, avx512: true)
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: avx512, environment: [:]) == "SkylakeX")
        #expect(
            OpenBLASCoreChoice.betterCore(openBLASCore: "Core2", features: Self.features(avx2: true, avx512: false), environment: [:])
                == "Haswell")
        // What OpenBLAS knows stays; a user's choice stays; one restart at most.
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "SkylakeX", features: avx512, environment: [:]) == nil)
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "Zen", features: avx512, environment: [:]) == nil)
        #expect(
            OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: avx512, environment: ["OPENBLAS_CORETYPE": "Prescott"])
                == nil)
        #expect(
            OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: avx512, environment: ["GALAXY_OPENBLAS_PICKED": "Prescott"])
                == nil)
        // A CPU without AVX2 has nothing better to run.
        #expect(OpenBLASCoreChoice.betterCore(openBLASCore: "Prescott", features: CPUFeatures(), environment: [:]) == nil)
    }

    @Test func aSlowCoreWarnsWithWhatToDo() {
        let avx512 = Self.features(avx2: true, avx512: true)
        let forced = KernelPaths.warnings(features: avx512, openBLASCore: "Prescott", forcedCore: "Prescott")
        #expect(forced.count == 1 && forced[0].contains("AVX-512") && forced[0].contains("OPENBLAS_CORETYPE=SkylakeX"))
        let unknown = KernelPaths.warnings(features: avx512, openBLASCore: "Prescott", forcedCore: nil)
        #expect(unknown.count == 1 && unknown[0].contains("does not know the CPU"))
        #expect(KernelPaths.warnings(features: avx512, openBLASCore: "SkylakeX", forcedCore: nil).isEmpty)
        #expect(KernelPaths.warnings(features: CPUFeatures(), openBLASCore: "Prescott", forcedCore: nil).isEmpty)
    }

    @Test func doctorNamesTheCPUAndWarnsAboutAForcedSlowCore() throws {
        let galaxy = try BuiltProducts.galaxy()
        let plain = try ChildProcess.run(galaxy, ["doctor"], timeout: 120)
        #expect(plain.status == 0, "\(plain.error)")
        #expect(plain.output.contains("CPU:") && plain.output.contains("OpenBLAS core:"))
        guard CPUFeatures.current.hasAVX2 else { return }
        let forced = try ChildProcess.run(galaxy, ["doctor"], environment: ["OPENBLAS_CORETYPE": "Prescott"], timeout: 120)
        #expect(forced.status == 0)
        #expect(forced.output.contains("OpenBLAS core:     Prescott (OPENBLAS_CORETYPE)"), "\(forced.output)")
        #expect(forced.output.contains("warning: OpenBLAS runs its Prescott kernels"), "\(forced.output)")
    }
}

/// Every instruction set this CPU can run, forced in turn as `GALAXY_KERNELS` would, gives the
/// baseline loops' results bit for bit (the loops only add, subtract and compare).
@Suite(.serialized) struct EngineKernelPathTests {
    @Test func everyPathThisCPURunsMatchesTheBaselineBitForBit() throws {
        let model = try InferenceModel(model: TestModels.defaultArchitecture(size: 50))
        var generator = SystemRandomNumberGenerator()
        let input = (0..<(4 * model.inputCount)).map { _ in Float.random(in: 0...1, using: &generator) }
        let previous = EngineKernelPath.current
        defer { EngineKernelPath.use(previous) }
        #expect(EngineKernelPath.use("baseline"))
        let reference = try model.run(input, batch: 4, threads: 1)
        for path in EngineKernelPath.supported {
            #expect(EngineKernelPath.use(path))
            #expect(EngineKernelPath.current == path)
            let output = try model.run(input, batch: 4, threads: 1)
            #expect(output.map(\.bitPattern) == reference.map(\.bitPattern), "path \(path)")
        }
        #expect(!EngineKernelPath.use("sse9"))
        for path in EngineKernelPath.all where !EngineKernelPath.supported.contains(path) {
            #expect(!EngineKernelPath.use(path), "\(path) is not runnable here")
        }
    }

    @Test func aRequestThisCPUCannotRunIsNamedByDoctor() throws {
        let galaxy = try BuiltProducts.galaxy()
        let unsupported = EngineKernelPath.all.first { !EngineKernelPath.supported.contains($0) }
        let forced = try ChildProcess.run(galaxy, ["doctor"], environment: ["GALAXY_KERNELS": "baseline"], timeout: 120)
        #expect(forced.output.contains("Winograd transforms and pooling: baseline (GALAXY_KERNELS)"), "\(forced.output)")
        guard let unsupported else { return }
        let refused = try ChildProcess.run(galaxy, ["doctor"], environment: ["GALAXY_KERNELS": unsupported], timeout: 120)
        #expect(refused.output.contains("GALAXY_KERNELS=\(unsupported) names kernels this CPU cannot run"), "\(refused.output)")
    }
}
