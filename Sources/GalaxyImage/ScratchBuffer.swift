/// A growable buffer reused across images, so the hot path allocates only when an image is
/// larger than every one before it.
final class ScratchBuffer<Element> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
    }

    deinit { pointer.deallocate() }

    /// Room for at least `count` elements; the contents are not kept when it grows.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, capacity * 3 / 2)
            pointer = .allocate(capacity: capacity)
        }
        return pointer
    }
}

extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the typed error of the body.
    func withImageBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ImageError) -> R) throws(ImageError) -> R {
        try withUnsafeBufferPointer { (bytes) throws(ImageError) -> R in
            try body(UnsafeRawBufferPointer(bytes))
        }
    }
}
