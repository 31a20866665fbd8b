import CGalaxyKernels

/// The arithmetic a model's convolutions run in (`galaxy.precision` in its metadata). Dense
/// layers, pooling, activations and softmax stay fp32 whatever the precision.
public enum Precision: String, Sendable, Codable, CaseIterable {
    /// fp32 products and sums.
    case fp32
    /// bf16 products (weights and inputs rounded to nearest even), fp32 sums: twice the multiply-adds
    /// per instruction on AVX512-BF16, emulated with the same results elsewhere.
    case bf16

    /// Whether this process runs bf16 products on the AVX512-BF16 instruction (else emulated,
    /// slower than fp32).
    public static var bf16IsNative: Bool { galaxy_bf16_native() != 0 }
}
