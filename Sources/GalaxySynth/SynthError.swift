/// Why synthesis failed, with what to do about it.
public struct SynthError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public enum Code: Sendable { case unknownLabel, invalidArgument, io, encode }
    /// The kind of failure.
    public var code: Code
    /// What failed, where, and what to do.
    public var message: String

    /// An error with a code and a message.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
