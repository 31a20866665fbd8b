/// Add or Mul with numpy broadcasting. Each operand is an activation slot (batched) or a constant;
/// per-item strides are 0 along broadcast axes. Adjacent axes with the same broadcast pattern are
/// merged at load, so the common cases (`[C,H,W] + [C,1,1]`, `[K] + [K]`) run as one or two loops.
final class BroadcastLayer: Layer {
    enum Operation: Sendable { case add, mul }

    struct Operand: Sendable {
        /// The slot when the operand is an activation.
        var slot: Int?
        /// The values when the operand is a constant.
        var constant: [Float]
        /// Elements per item (0 for constants: they do not advance with the batch).
        var itemStride: Int
        /// Stride per merged output axis (0 where broadcast).
        var strides: [Int]
    }

    let operation: Operation
    let a: Operand, b: Operand
    let output: Int
    /// Merged per-item output dims.
    let dims: [Int]
    let countPerItem: Int

    init(operation: Operation, a: Operand, b: Operand, output: Int, dims: [Int]) {
        self.operation = operation
        self.a = a
        self.b = b
        self.output = output
        self.dims = dims
        self.countPerItem = dims.reduce(1, *)
    }

    var inputSlots: [Int] { [a.slot, b.slot].compactMap { $0 } }
    var scratchCount: Int { 0 }

    func run(_ f: Frame) {
        a.constant.withUnsafeBufferPointer { ac in
            b.constant.withUnsafeBufferPointer { bc in
                let aBase: UnsafePointer<Float> = a.slot.map { UnsafePointer(f.slots[$0]) } ?? ac.baseAddress ?? UnsafePointer(f.scratch)
                let bBase: UnsafePointer<Float> = b.slot.map { UnsafePointer(f.slots[$0]) } ?? bc.baseAddress ?? UnsafePointer(f.scratch)
                let y = f.slots[output]
                let rank = dims.count
                let inner = dims[rank - 1]
                let sa = a.strides[rank - 1], sb = b.strides[rank - 1]
                let outerCount = countPerItem / max(inner, 1)
                withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { index in
                    for n in 0..<f.batch {
                        var pa = aBase + n * a.itemStride
                        var pb = bBase + n * b.itemStride
                        var out = y + n * countPerItem
                        index.initialize(repeating: 0)
                        for _ in 0..<outerCount {
                            switch operation {
                            case .add:
                                for i in 0..<inner { out[i] = pa[i * sa] + pb[i * sb] }
                            case .mul:
                                for i in 0..<inner { out[i] = pa[i * sa] * pb[i * sb] }
                            }
                            out += inner
                            // Advance the odometer over the outer axes.
                            var axis = rank - 2
                            while axis >= 0 {
                                index[axis] += 1
                                pa += a.strides[axis]
                                pb += b.strides[axis]
                                if index[axis] < dims[axis] { break }
                                pa -= a.strides[axis] * dims[axis]
                                pb -= b.strides[axis] * dims[axis]
                                index[axis] = 0
                                axis -= 1
                            }
                        }
                    }
                }
            }
        }
    }
}
