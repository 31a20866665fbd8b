import Foundation
import GalaxyEngine
import GalaxyService
import GalaxyTestSupport
import Testing

/// Operations of the one store whose rules the CLI, the web and the daemon share.
@Suite struct StoreTests {
    /// A failure counts for the model it happened with, as in `predict_galaxy`: once another
    /// model is active, the image is not reported as failed any more.
    @Test func anImagesFailureBelongsToTheModelThatFailedIt() throws {
        let f = try ServiceFixture(prefix: "store_failures")
        let store = GalaxyStore(connection: f.db)
        try f.addModel("a", TestModels.constant(label: "Sa"))
        let id = try f.insertImages([ServiceFixture.corruptJPEG])[0]
        try store.registerDaemon(name: "t", host: "h", pid: 1, version: "test")
        let jobs = try store.claimJobs(daemon: "t", maxJobs: 10, leaseSeconds: 60)
        #expect(jobs.map(\.imageID) == [id])
        let error = JobError(.truncatedImage, "decode image \(id): cut short")
        let receipt = try store.commit(
            daemon: "t", batch: BatchResult(completions: [], failures: [JobFailure(jobID: jobs[0].jobID, error: error, retryAfterSeconds: nil)]),
            preprocessing: [:])
        #expect(receipt.failedForGood == [jobs[0].jobID])
        let failed = try #require(try store.failures(imageIDs: [id])[id])
        #expect(failed.error == error.message && failed.errorCode == "truncated_image")
        #expect(try store.pendingImage(id: id)?.state == .failed)

        try f.addModel("b", TestModels.constant(label: "Sb"), activate: false)
        #expect(try store.activateModel(name: "b", rescore: false) == nil)
        #expect(try store.failures(imageIDs: [id]).isEmpty)
        #expect(try store.pendingImage(id: id)?.state == .queued)
    }

    @Test func aBatchStartedWithoutAPriorityTakesTheFunctionsDefault() throws {
        let f = try ServiceFixture(prefix: "store_batches")
        let store = GalaxyStore(connection: f.db)
        try f.addModel("a", TestModels.constant(label: "Sa"))
        try f.insertImages(count: 3)
        // Images already queued for interactive scoring are not taken into a batch.
        try f.db.execute("delete from galaxy.queue")
        let id = try store.startBatch(selection: "all", model: nil)
        let batch = try #require(try store.batches(id: id).first)
        #expect(batch.total == 3 && batch.modelName == "a" && batch.priority == 10, "\(batch)")
        #expect(try store.startBatch(selection: "all", model: "a", priority: 42) > id)
        #expect(try store.batches(limit: 1).first?.priority == 42)
    }
}
