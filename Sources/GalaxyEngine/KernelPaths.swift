import CGalaxyKernels
import COpenBLAS
import Foundation
import GalaxyCore

/// The processor's vector and matrix extensions that the engine cares about, as the processor
/// reports them (cpuid) and the operating system allows them (xgetbv, arch_prctl).
public struct CPUFeatures: Sendable, Hashable {
    public var avx2 = false, fma = false
    public var avx512f = false, avx512bw = false, avx512vl = false
    public var avx512VNNI = false, avx512BF16 = false, avx512FP16 = false
    public var amxTile = false, amxBF16 = false, amxINT8 = false
    /// The OS saves the registers, so programs may use them.
    public var osSavesAVX = false, osSavesAVX512 = false
    /// Linux offers AMX tile state to processes that ask for it.
    public var osOffersAMX = false

    public init() {}

    /// This machine's.
    public static let current: CPUFeatures = {
        var raw = galaxy_cpu_features()
        galaxy_read_cpu_features(&raw)
        var f = CPUFeatures()
        f.avx2 = raw.avx2 != 0
        f.fma = raw.fma != 0
        f.avx512f = raw.avx512f != 0
        f.avx512bw = raw.avx512bw != 0
        f.avx512vl = raw.avx512vl != 0
        f.avx512VNNI = raw.avx512_vnni != 0
        f.avx512BF16 = raw.avx512_bf16 != 0
        f.avx512FP16 = raw.avx512_fp16 != 0
        f.amxTile = raw.amx_tile != 0
        f.amxBF16 = raw.amx_bf16 != 0
        f.amxINT8 = raw.amx_int8 != 0
        f.osSavesAVX = raw.os_saves_avx != 0
        f.osSavesAVX512 = raw.os_saves_avx512 != 0
        f.osOffersAMX = raw.os_offers_amx != 0
        return f
    }()

    /// AVX2 with FMA, usable.
    public var hasAVX2: Bool { avx2 && fma && osSavesAVX }
    /// AVX-512 F, BW and VL (the Skylake-server set), usable.
    public var hasAVX512: Bool { avx512f && avx512bw && avx512vl && osSavesAVX512 }

    /// The features present, in the names `/proc/cpuinfo` uses.
    public var names: [String] {
        var out: [String] = []
        if avx2 { out.append("avx2") }
        if fma { out.append("fma") }
        if avx512f { out.append("avx512f") }
        if avx512bw { out.append("avx512bw") }
        if avx512vl { out.append("avx512vl") }
        if avx512VNNI { out.append("avx512_vnni") }
        if avx512BF16 { out.append("avx512_bf16") }
        if avx512FP16 { out.append("avx512_fp16") }
        if amxTile { out.append("amx_tile") }
        if amxBF16 { out.append("amx_bf16") }
        if amxINT8 { out.append("amx_int8") }
        return out
    }
}

/// Which kernels this process runs and why: the CPU's features, OpenBLAS's core (its SGEMM
/// kernels, chosen by OpenBLAS when it loads) and the instruction set of the engine's own C loops. A
/// known slow combination comes with a warning that says what to do.
public struct KernelPaths: Sendable, Hashable {
    public var cpu: String
    public var features: CPUFeatures
    /// `openblas_get_corename()`: `Haswell`, `SkylakeX`, `Zen`, `Prescott`, ...
    public var openBLASCore: String
    /// `openblas_get_config()`: version and build options.
    public var openBLASConfig: String
    /// The instruction set of the engine's GEMM, Winograd and pooling loops: `avx512`, `avx2` or
    /// `baseline`.
    public var engineKernels: String
    /// Who runs the engine's matrix products (`Kernels.gemmBackend`): `galaxy`, `openblas`, `swift`.
    public var gemm: String
    /// Whether `GALAXY_KERNELS` chose `engineKernels`.
    public var engineKernelsForced: Bool
    /// Whether bf16 models' products run on the AVX512-BF16 instruction (`Precision.bf16IsNative`).
    public var bf16Native: Bool
    /// A `GALAXY_KERNELS` value this CPU cannot run (then the best path it can run is used).
    public var ignoredKernelRequest: String?
    /// `OPENBLAS_CORETYPE` as this process was started with.
    public var forcedCore: String?
    public var warnings: [String]

    /// This process's.
    public static func current() -> KernelPaths {
        let features = CPUFeatures.current
        let core = String(cString: openblas_get_corename())
        let environment = ProcessInfo.processInfo.environment
        let forced = environment["OPENBLAS_CORETYPE"]
        let kernels = EngineKernelPath.current
        let ignored = galaxy_kernel_path_ignored_request().map { String(cString: $0) }
        return KernelPaths(
            cpu: CPUDescription.current, features: features, openBLASCore: core,
            openBLASConfig: String(cString: openblas_get_config()).trimmingCharacters(in: .whitespaces),
            engineKernels: kernels, gemm: Kernels.gemmBackend.rawValue, engineKernelsForced: environment["GALAXY_KERNELS"] != nil && ignored == nil,
            bf16Native: Precision.bf16IsNative, ignoredKernelRequest: ignored, forcedCore: forced,
            warnings: warnings(features: features, openBLASCore: core, forcedCore: forced)
                + (ignored.map { ["GALAXY_KERNELS=\($0) names kernels this CPU cannot run; running \(kernels) instead."] }
                    ?? []))
    }

    /// OpenBLAS cores whose SGEMM predates AVX2 (SSE or plain AVX).
    static let coresWithoutAVX2: Set<String> = [
        "katmai", "coppermine", "northwood", "prescott", "banias", "core2", "penryn", "dunnington", "nehalem",
        "atom", "amd64", "opteron", "opteron_sse3", "barcelona", "bobcat", "sandybridge", "bulldozer", "piledriver",
        "steamroller", "excavator", "nano", "generic",
    ]

    /// The core OpenBLAS should use on these features: the widest kernels it has for them.
    public static func suggestedCore(for features: CPUFeatures) -> String? {
        if features.hasAVX512 { return "SkylakeX" }
        if features.hasAVX2 { return "Haswell" }
        return nil
    }

    /// The core to run instead of `openBLASCore`, when that one has no AVX2 kernels on a CPU that
    /// could run better ones; nil when it is fine.
    static func replacement(forCore openBLASCore: String, features: CPUFeatures) -> String? {
        coresWithoutAVX2.contains(openBLASCore.lowercased()) ? suggestedCore(for: features) : nil
    }

    /// Why this combination is slow, if it is, and what to do.
    static func warnings(features: CPUFeatures, openBLASCore: String, forcedCore: String?) -> [String] {
        guard let better = replacement(forCore: openBLASCore, features: features) else { return [] }
        let what =
            "OpenBLAS runs its \(openBLASCore) kernels (no AVX2) on a CPU with "
            + (features.hasAVX512 ? "AVX-512" : "AVX2") + ": matrix products run several times slower"
        if let forcedCore {
            return ["\(what), because OPENBLAS_CORETYPE=\(forcedCore) asks for them; set OPENBLAS_CORETYPE=\(better) or unset it."]
        }
        return [
            "\(what): this OpenBLAS does not know the CPU and restarting with OPENBLAS_CORETYPE=\(better) "
                + "did not happen; start galaxy with OPENBLAS_CORETYPE=\(better) set (docs/engine.md)."
        ]
    }

    /// How the OpenBLAS core came about.
    public var coreOrigin: String {
        if let picked = OpenBLASCoreChoice.pickedBeforeRestart {
            return "set by galaxy: OpenBLAS had picked \(picked)"
        }
        return forcedCore == nil ? "picked by OpenBLAS" : "OPENBLAS_CORETYPE"
    }

    /// One line for logs and standard error.
    public var summary: String {
        "engine kernels \(engineKernels)\(engineKernelsForced ? " (GALAXY_KERNELS)" : ""), GEMM \(gemm), "
            + "bf16 \(bf16Native ? "native" : "emulated"), "
            + "OpenBLAS \(openBLASCore) (\(coreOrigin)), on \(cpu): "
            + (features.names.isEmpty ? "no AVX2" : features.names.joined(separator: " "))
    }
}

/// OpenBLAS picks its kernels once, when it loads, from the CPU model it recognises; a CPU newer
/// than the library gets its oldest kernels (Debian's 0.3.21 runs "Prescott" SSE2 code on Intel
/// Emerald Rapids, 5x slower than its SkylakeX kernels). `OPENBLAS_CORETYPE` overrides the pick,
/// but only before the library loads, so the fix is to start the program again with it set.
public enum OpenBLASCoreChoice {
    /// Set in the restarted process: the core OpenBLAS had picked by itself.
    static let restartedFrom = "GALAXY_OPENBLAS_PICKED"

    /// The core to restart with, or nil to keep this process as it is: OpenBLAS picked kernels
    /// without AVX2 on a CPU with AVX2 or AVX-512, and nobody chose a core (`OPENBLAS_CORETYPE`)
    /// or restarted already.
    public static func betterCore(openBLASCore: String, features: CPUFeatures, environment: [String: String])
        -> String?
    {
        guard environment["OPENBLAS_CORETYPE"] == nil, environment[restartedFrom] == nil else { return nil }
        return KernelPaths.replacement(forCore: openBLASCore, features: features)
    }

    /// Restarts this program with the better core when `betterCore` names one; returns
    /// otherwise (also when the restart fails: the program then runs, slowly, and says so).
    public static func restartWithBetterCoreIfNeeded() {
        let picked = String(cString: openblas_get_corename())
        guard
            let better = betterCore(
                openBLASCore: picked, features: .current, environment: ProcessInfo.processInfo.environment)
        else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        setenv(restartedFrom, picked, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")
        unsetenv(restartedFrom)
    }

    /// The core OpenBLAS had picked before this process restarted itself with a better one.
    public static var pickedBeforeRestart: String? { ProcessInfo.processInfo.environment[restartedFrom] }
}

/// The instruction sets of the engine's own C loops, for tests and `GALAXY_KERNELS`.
public enum EngineKernelPath {
    public static let all = ["baseline", "avx2", "avx512", "avx512_bf16"]

    /// The paths this CPU can run.
    public static var supported: [String] { all.filter { galaxy_kernel_path_supported($0) != 0 } }

    /// The path in use on the calling thread.
    public static var current: String { String(cString: galaxy_kernel_path()) }

    /// Switches the calling thread's path (other threads keep the process's); false when this CPU
    /// cannot run it. The paths differ only in the rounding of the GEMM's multiply-adds (fused on
    /// AVX2 and AVX-512), so tests that compare results run the engine on their own thread.
    @discardableResult
    public static func use(_ name: String) -> Bool { galaxy_set_kernel_path(name) == 0 }
}
