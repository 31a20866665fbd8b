import Testing

@testable import GalaxyEngine

extension EngineKernelPath {
    /// Runs `body` once on each path this CPU supports, forced in turn on the calling thread, then
    /// puts the thread's own path back.
    static func forEachSupported(_ body: (String) throws -> Void) rethrows {
        let previous = current
        defer { use(previous) }
        for path in supported {
            #expect(use(path))
            try body(path)
        }
    }

    /// Runs `body` on `path`, forced on the calling thread, then puts the thread's own path back.
    static func on<T>(_ path: String, _ body: () throws -> T) rethrows -> T {
        let previous = current
        defer { use(previous) }
        #expect(use(path))
        return try body()
    }
}

extension Window2D {
    /// Its output over a `side x side` plane (floor rounding), for the im2col tests.
    func output(side: Int) -> (height: Int, width: Int) {
        (
            Window2D.outputSize(input: side, kernel: kernelH, stride: strideH, padHead: padTop, padTail: padBottom, dilation: dilationH, ceil: false),
            Window2D.outputSize(input: side, kernel: kernelW, stride: strideW, padHead: padLeft, padTail: padRight, dilation: dilationW, ceil: false)
        )
    }
}
