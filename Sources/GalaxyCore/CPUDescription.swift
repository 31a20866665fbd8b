import Foundation

/// The machine's processor, for reports that quote speeds or say where a run happened.
public enum CPUDescription {
    /// The processor's model name (`/proc/cpuinfo` on Linux, `machdep.cpu.brand_string` on macOS)
    /// and the logical core count, e.g. `AMD EPYC 7B13 (2 cores)`.
    public static var current: String {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return "\(modelName ?? "unknown CPU") (\(cores) core\(cores == 1 ? "" : "s"))"
    }

    private static var modelName: String? {
        #if os(Linux)
            guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
            for line in text.split(separator: "\n")
            where line.hasPrefix("model name") || line.hasPrefix("Model") {
                if let colon = line.firstIndex(of: ":") {
                    let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    if !name.isEmpty { return name }
                }
            }
            return nil
        #else
            var size = 0
            guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else {
                return nil
            }
            var bytes = [CChar](repeating: 0, count: size)
            guard sysctlbyname("machdep.cpu.brand_string", &bytes, &size, nil, 0) == 0 else { return nil }
            return String(cString: bytes)
        #endif
    }
}
