import Foundation

/// One thread's (or one team's) memory for running a model on chunks of up to `capacity` images:
/// a buffer per value slot, the im2col scratch and, for teams, each member's own temporaries.
/// Allocated once, reused for every chunk.
final class Workspace {
    let capacity: Int
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// The slots of one image of the chunk (`pointImageSlots(at:)`).
    let imageSlots: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// Floats from one image to the next in each slot: 0 for the slots every image reuses
    /// (`CompiledGraph.imageLocalSlots`).
    private let imageStrides: [Int]
    private let owned: [UnsafeMutablePointer<Float>]
    let scratch: UnsafeMutablePointer<Float>

    init(graph: CompiledGraph, capacity: Int) {
        self.capacity = capacity
        let imageLocal = graph.imageLocalSlots
        imageStrides = graph.slotSizes.indices.map { imageLocal.contains($0) ? 0 : graph.slotSizes[$0] }
        slots = .allocate(capacity: graph.slotSizes.count)
        imageSlots = .allocate(capacity: graph.slotSizes.count)
        var owned: [UnsafeMutablePointer<Float>] = []
        for (i, size) in graph.slotSizes.enumerated() {
            // The input and output slots point at the caller's buffers at run time.
            let images = imageLocal.contains(i) ? 1 : capacity
            let count = i == graph.inputSlot || i == graph.outputSlot ? 1 : max(1, size * images)
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            buffer.initialize(repeating: 0, count: count)
            owned.append(buffer)
            (slots + i).initialize(to: buffer)
        }
        self.owned = owned
        imageSlots.initialize(from: slots, count: graph.slotSizes.count)
        scratch = .allocate(capacity: max(1, graph.scratchCount))
        scratch.initialize(repeating: 0, count: max(1, graph.scratchCount))
    }

    /// Points `imageSlots` at image `image` of the chunk `slots` hold.
    func pointImageSlots(at image: Int) {
        for (i, stride) in imageStrides.enumerated() { imageSlots[i] = slots[i] + image * stride }
    }

    private var temporaries = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    /// `each` floats for each of `members` team members, kept for the next team run.
    func teamTemporaries(members: Int, each: Int) -> UnsafeMutablePointer<Float> {
        let count = max(1, members * each)
        if temporaries.count < count {
            temporaries.deallocate()
            temporaries = .allocate(capacity: count)
            temporaries.initialize(repeating: 0)
        }
        return temporaries.baseAddress!
    }

    deinit {
        for buffer in owned { buffer.deallocate() }
        slots.deallocate()
        imageSlots.deallocate()
        scratch.deallocate()
        temporaries.deallocate()
    }
}

/// Workspaces shared by the threads that run one model; a thread takes one, runs, gives it back.
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Workspace] = []
    private let graph: CompiledGraph
    let capacity: Int

    init(graph: CompiledGraph, capacity: Int) {
        self.graph = graph
        self.capacity = capacity
    }

    func withWorkspace<T>(_ body: (Workspace) throws -> T) rethrows -> T {
        lock.lock()
        let workspace = free.popLast() ?? Workspace(graph: graph, capacity: capacity)
        lock.unlock()
        defer {
            lock.lock()
            free.append(workspace)
            lock.unlock()
        }
        return try body(workspace)
    }
}
