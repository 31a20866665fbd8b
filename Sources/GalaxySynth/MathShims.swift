#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The renderer's transcendental functions in one place, so the hot loops call the C library's
// single-precision versions directly.
@inline(__always) func _exp(_ x: Double) -> Double { exp(x) }
@inline(__always) func _log(_ x: Double) -> Double { log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func _sin(_ x: Double) -> Double { sin(x) }
@inline(__always) func _expf(_ x: Float) -> Float { expf(x) }
@inline(__always) func _logf(_ x: Float) -> Float { logf(x) }
@inline(__always) func _cosf(_ x: Float) -> Float { cosf(x) }
@inline(__always) func _atan2f(_ y: Float, _ x: Float) -> Float { atan2f(y, x) }
@inline(__always) func _powf(_ x: Float, _ y: Float) -> Float { powf(x, y) }
@inline(__always) func _asinhf(_ x: Float) -> Float { asinhf(x) }
@inline(__always) func tgammaShim(_ x: Double) -> Double { tgamma(x) }
@inline(__always) func _sinf(_ x: Float) -> Float { sinf(x) }
