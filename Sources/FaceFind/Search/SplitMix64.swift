import Foundation

/// A small, fast, seedable generator (Steele et al.'s SplitMix64), so synthetic data is identical on every
/// machine and run.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state &- 0x9E37_79B9_7F4A_7C15)
    }

    /// Uniform in (0, 1].
    public mutating func nextUnit() -> Float { Float((next() >> 40) + 1) * (1 / Float(1 << 24)) }

    /// Standard normal (Box–Muller; one of the pair is discarded for simplicity of state).
    public mutating func nextGaussian() -> Float {
        let u = nextUnit(), v = nextUnit()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
