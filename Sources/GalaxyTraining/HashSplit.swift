/// The project's stable held-out rule: an image is held out by its catalog id alone, so training
/// and evaluation agree on the split without sharing any state, on any machine, in any order.
///
/// FNV-1a 64-bit over the id's UTF-8 bytes (offset 0xcbf29ce484222325, prime 0x100000001b3); the
/// top 53 bits as a fraction in [0, 1); held out when that fraction is below the held-out fraction.
public enum HashSplit {
    /// The id's position in [0, 1): `Double(fnv1a64(id) >> 11) / 2^53`.
    public static func fraction(of id: String) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Double(hash >> 11) / 9_007_199_254_740_992  // 2^53
    }

    /// Whether the image with catalog id `id` is in the held-out set of size `fraction`.
    public static func isHeldOut(id: String, fraction: Double) -> Bool {
        Self.fraction(of: id) < fraction
    }
}
