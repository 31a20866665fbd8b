/// A held-out rule that depends on nothing but an image's id: the same image is held out in every
/// run, on every machine, whatever else the catalog holds or in which order, so held-out figures
/// from different runs, seeds and data mixes can be quoted side by side.
///
/// `fraction(of:)` is FNV-1a (64-bit) over the id's UTF-8 bytes, mixed by SplitMix64's finaliser
/// (FNV-1a alone leaves short sequential ids such as 1...120 clustered), its top 53 bits as a
/// number in [0, 1); an image is held out when that number is below the held-out fraction. Raising
/// the fraction only adds images to the held-out set.
public enum HashSplit {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The id's place in [0, 1): `Double(mix(fnv1a64(id)) >> 11) / 2^53`.
    public static func fraction(of id: String) -> Double {
        var hash = offsetBasis
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash &*= prime
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        return Double(hash >> 11) / 9_007_199_254_740_992  // 2^53: every value is exact in a Double
    }

    /// Whether the image with `id` belongs to the held-out set of size `fraction` (0 holds out
    /// nothing, 1 everything).
    public static func isHeldOut(id: String, fraction: Double) -> Bool {
        Self.fraction(of: id) < fraction
    }
}
