import GalaxyService
import Testing

@Suite struct ModelCacheTests {
    @Test func startupValidatesPendingModelsAndPreloadsTheActiveOne() {
        var cache = ModelCache<String>()
        let actions = cache.registryChanged(
            activeModelID: 1, pendingModelIDs: [3, 2], knownModelIDs: [1, 2, 3])
        #expect(actions == [.validate(2), .validate(3), .load(1)])
        // A second notification before validation finished does not validate twice.
        #expect(
            cache.registryChanged(activeModelID: 1, pendingModelIDs: [2, 3], knownModelIDs: [1, 2, 3]) == [
                .load(1)
            ])
    }

    @Test func hotSwapKeepsTheOldModelForTheBatchInFlight() {
        var cache = ModelCache<String>(capacity: 1)
        _ = cache.loaded(1, model: "v1")
        cache.pin([1])  // a batch of jobs for model 1 is being scored
        #expect(
            cache.registryChanged(activeModelID: 2, pendingModelIDs: [], knownModelIDs: [1, 2]) == [.load(2)])
        #expect(cache.loaded(2, model: "v2") == [])  // model 1 is pinned: over capacity but kept
        guard case .ready(let old) = cache.lookup(1), case .ready(let new) = cache.lookup(2) else {
            Issue.record("both models must be available during the swap")
            return
        }
        #expect(old == "v1" && new == "v2")
        // When the batch is done, the old model goes.
        #expect(cache.unpin([1]) == [.evicted(1)])
        #expect(cache.loadedModelIDs == [2])
        #expect(cache.activeModelID == 2)
    }

    @Test func theActiveModelIsNeverEvicted() {
        var cache = ModelCache<String>(capacity: 1)
        _ = cache.registryChanged(activeModelID: 1, pendingModelIDs: [], knownModelIDs: [1, 2, 3])
        _ = cache.loaded(1, model: "a")
        #expect(cache.loaded(2, model: "b") == [.evicted(2)])
        #expect(cache.loadedModelIDs == [1])
    }

    @Test func leastRecentlyUsedModelsAreEvictedBeyondCapacity() {
        var cache = ModelCache<String>(capacity: 2)
        _ = cache.loaded(1, model: "a")
        _ = cache.loaded(2, model: "b")
        cache.pin([1])
        _ = cache.unpin([1])  // model 1 was used after model 2
        #expect(cache.loaded(3, model: "c") == [.evicted(2)])
        #expect(cache.loadedModelIDs == [1, 3])
    }

    @Test func removedModelsLeaveOnceUnused() {
        var cache = ModelCache<String>()
        _ = cache.loaded(1, model: "a")
        _ = cache.loaded(2, model: "b")
        cache.pin([2])
        #expect(cache.registryChanged(activeModelID: 1, pendingModelIDs: [], knownModelIDs: [1]) == [])
        #expect(cache.loadedModelIDs == [1, 2])
        #expect(cache.unpin([2]) == [.evicted(2)])
    }

    @Test func aRejectedModelFailsItsJobsUntilTheRegistryForgetsIt() {
        var cache = ModelCache<String>()
        _ = cache.loaded(1, model: "good")
        _ = cache.registryChanged(activeModelID: 1, pendingModelIDs: [2], knownModelIDs: [1, 2])
        cache.rejected(2, error: "node 'conv1': Conv expects 4-D input")
        guard case .failed(let error) = cache.lookup(2) else {
            Issue.record("a rejected model must report its error")
            return
        }
        #expect(error.contains("conv1"))
        #expect(cache.missing([1, 2]) == [])
        // The previous model stays active and loaded.
        #expect(cache.activeModelID == 1)
        #expect(cache.loadedModelIDs == [1])
        _ = cache.registryChanged(activeModelID: 1, pendingModelIDs: [], knownModelIDs: [1])
        guard case .missing = cache.lookup(2) else {
            Issue.record("a removed model's failure is forgotten")
            return
        }
    }

    @Test func missingListsOnlyModelsNotYetLoaded() {
        var cache = ModelCache<Int>()
        _ = cache.loaded(5, model: 50)
        cache.loadFailed(6, error: "gone")
        #expect(cache.missing([7, 5, 6, 7, 8]) == [7, 8])
    }

    @Test func anInterruptedValidationRunsAgain() {
        var cache = ModelCache<Int>()
        #expect(
            cache.registryChanged(activeModelID: nil, pendingModelIDs: [4], knownModelIDs: [4]) == [
                .validate(4)
            ])
        cache.validationInterrupted(4)
        #expect(
            cache.registryChanged(activeModelID: nil, pendingModelIDs: [4], knownModelIDs: [4]) == [
                .validate(4)
            ])
        #expect(cache.validated(4, model: 40) == [])
        #expect(cache.loadedModelIDs == [4])
    }
}
