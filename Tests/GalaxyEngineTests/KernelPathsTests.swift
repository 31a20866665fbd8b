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
        #expect(paths.vectorClone == (f.avx512f && f.osSavesAVX512 ? "avx512f" : f.hasAVX2 ? "avx2" : "default"))
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
