import Foundation
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Logging
import Testing

/// The daemon against a real server: batches, hot swap, bad inputs, crashes, restarts, and several
/// daemons at once. Every wait is bounded; nothing asserts on speed.
@Suite(.serialized) struct DaemonIntegrationTests {
    /// Every image scored exactly once under `model`: one prediction and one write each.
    private func expectScoredOnce(_ f: ServiceFixture, images: [Int64], model: Int64) throws {
        let written = try f.db.query(
            """
            select count(distinct image_id), count(*) from public.prediction_writes
            where model_id = \(model) and image_id = any(\(images))
            """)
        #expect(try written.first?.decode(Int64.self, at: 0) == Int64(images.count))
        #expect(
            try written.first?.decode(Int64.self, at: 1) == Int64(images.count),
            "an image was written more than once")
        #expect(
            try f.scalar(
                "select count(*) from galaxy.predictions where model_id = \(model) and image_id = any(\(images))",
                as: Int64.self) == Int64(images.count))
    }

    @Test func aDatabaseWithoutTheSchemaStopsTheDaemonWithWhatToDo() throws {
        let cluster = try PostgresCluster.shared()
        let conninfo = try cluster.createDatabase(prefix: "daemon_noschema")
        var config = DaemonConfig(name: "early")
        config.database = conninfo
        let daemon = ScoringDaemon(
            config: config,
            connect: { try PostgresDaemonDatabase(conninfo: conninfo, logger: .init(label: "test")) },
            loader: EngineModelLoader(), logger: .init(label: "test"))
        #expect {
            try daemon.run()
        } throws: { error in
            "\(error)".contains("run 'galaxy migrate'")
        }
    }

    /// Bad bytes are a permanent failure: one attempt, recorded with its code, no retries.
    @Test func aCorruptJPEGFailsAloneWhileTheOthersFinish() throws {
        let f = try ServiceFixture(prefix: "daemon_corrupt")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        var jpegs = (0..<15).map { ServiceFixture.jpeg(seed: $0) }
        jpegs.insert(ServiceFixture.corruptJPEG, at: 7)
        let ids = try f.insertImages(jpegs)
        let daemon = f.startDaemon(batchSize: 16)
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(daemon.stop())
        let good = ids.enumerated().filter { $0.offset != 7 }.map(\.element)
        try expectScoredOnce(f, images: good, model: model)
        let failed = try f.db.query("select image_id, attempts, error, error_code from galaxy.failed_jobs")
        #expect(failed.count == 1)
        #expect(try failed.first?.decode(Int64.self, at: 0) == ids[7])
        #expect(try failed.first?.decode(Int32.self, at: 1) == 1)
        #expect(try failed.first?.decode(String.self, at: 2).hasPrefix("decode image \(ids[7]):") == true)
        #expect(try failed.first?.decode(String.self, at: 3) == "truncated_image")
        #expect(daemon.daemon.metrics.registry.value(ServiceMetrics.jobsFailed) == 1)
    }

    @Test func aBatchReportsProgressAndCanBeCancelled() throws {
        let f = try ServiceFixture(prefix: "daemon_batch")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let ids = try f.insertImages(count: 30)
        var daemon = f.startDaemon()
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(daemon.stop())

        // With no daemon running, a batch waits: its progress says so; then cancel it.
        let registry = GalaxyStore(connection: f.db)
        let cancelled = try registry.startBatch(selection: "all", model: nil, priority: 10)
        var progress = try #require(try registry.batches(id: cancelled).first)
        #expect(progress.total == 30 && progress.done == 0 && progress.status == "running")
        #expect(try registry.cancelBatch(id: cancelled) == 30)
        #expect(try registry.batches(id: cancelled).first?.status == "cancelled")
        #expect(try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0)

        // A batch chosen by a query runs to the end, counted and summarised.
        let chosen = try registry.startBatch(
            selection: "select id from galaxy.images where id % 2 = 0", model: "sb", priority: 10)
        daemon = f.startDaemon()
        #expect(try eventually { try registry.batches(id: chosen).first?.status == "done" })
        progress = try #require(try registry.batches(id: chosen).first)
        let even = ids.filter { $0 % 2 == 0 }
        #expect(
            progress.total == Int64(even.count) && progress.done == Int64(even.count) && progress.failed == 0)
        let summary = try registry.batchSummary(id: chosen)
        #expect(summary.map(\.galaxyClass) == ["Spiral"] && summary.first?.images == Int64(even.count))
        #expect(
            try f.scalar(
                "select count(*) from galaxy.predictions where model_id = \(model) and batch_id = \(chosen)",
                as: Int64.self) == Int64(even.count))
        #expect(daemon.stop())
    }

    @Test func aModelSwitchMidStreamDropsNothing() throws {
        let f = try ServiceFixture(prefix: "daemon_swap")
        let first = try f.addModel("v1", TestModels.constant(label: "Sa"))
        let second = try f.addModel("v2", TestModels.constant(label: "Ec"), activate: false)
        let daemon = f.startDaemon(batchSize: 2)
        let early = try f.insertImages(count: 200)
        // Switch while the first images are being scored.
        _ = try eventually(timeout: 30) {
            try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) > 0
        }
        let registry = GalaxyStore(connection: f.db)
        #expect(try registry.activateModel(name: "v2", rescore: false) == nil)
        let late = try f.insertImages(count: 40, from: 100)
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(daemon.stop())
        // Every early image was scored once, by whichever model was active when it was claimed;
        // every late image by the new model, without a restart.
        let earlyScores = try f.scalar(
            "select count(*) from galaxy.predictions where image_id = any(\(early))", as: Int64.self)
        #expect(earlyScores == Int64(early.count))
        try expectScoredOnce(f, images: late, model: second)
        #expect(
            try f.scalar(
                "select count(*) from galaxy.predictions where model_id = \(second) and label <> 'Ec'",
                as: Int64.self) == 0)
        #expect(
            try f.scalar(
                "select count(*) from galaxy.predictions where model_id = \(first) and label <> 'Sa'",
                as: Int64.self) == 0)
        #expect(try f.scalar("select count(*) from galaxy.failed_jobs", as: Int64.self) == 0)
    }

    @Test func anInvalidModelIsRefusedAndThePreviousStaysActive() throws {
        let f = try ServiceFixture(prefix: "daemon_invalid")
        let good = try f.addModel("good", TestModels.constant(label: "Sb"))
        // The CLI's local validation refuses it with the engine's error, naming the node.
        #expect {
            _ = try ModelValidation.validate(onnx: TestModels.invalid())
        } throws: { error in "\(error)".contains("missing_tensor") }
        #expect(throws: (any Error).self) { _ = try ModelValidation.validate(onnx: TestModels.garbage) }

        // Added through SQL, the daemon validates it, rejects it with the error recorded, and keeps
        // scoring with the active model.
        let daemon = f.startDaemon()
        let bad = try f.scalar(
            "select galaxy.add_model('broken', \(TestModels.invalid()), true)", as: Int64.self)
        #expect(
            try eventually {
                try f.scalar("select status from galaxy.models where id = \(bad)", as: String.self)
                    == "rejected"
            })
        #expect(
            try f.scalar("select error from galaxy.models where id = \(bad)", as: String.self).contains(
                "missing_tensor"))
        #expect(try f.scalar("select id from galaxy.models where active", as: Int64.self) == good)
        let id = try f.insertImages(count: 1)[0]
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        #expect(
            try f.scalar("select model_id from galaxy.predictions where image_id = \(id)", as: Int64.self)
                == good)
        #expect(daemon.stop())
    }

    @Test func aDaemonWithOnlyTheDaemonRoleScores() throws {
        let f = try ServiceFixture(prefix: "daemon_role")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let role = "scorer_\(UInt32.random(in: 0..<UInt32.max))"
        try f.db.executeScript(unsafeSQL: "create role \(role) login in role galaxy_daemon")
        defer { try? f.db.executeScript(unsafeSQL: "drop owned by \(role); drop role \(role)") }
        // Least privilege: this login can run the daemon protocol and nothing else.
        let asDaemon = f.conninfo.replacingOccurrences(
            of: #"user='[^']*'"#, with: "user='\(role)'", options: .regularExpression)
        let probe = try PostgresConnection(conninfo: asDaemon)
        #expect(throws: PostgresError.self) { _ = try probe.query("select count(*) from galaxy.queue") }
        let ids = try f.insertImages(count: 20)
        let daemon = f.startDaemon(name: "least-privilege", conninfo: asDaemon)
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(daemon.stop())
        try expectScoredOnce(f, images: ids, model: model)
        #expect(
            try f.scalar(
                "select stopped_at is not null from galaxy.daemons where name = 'least-privilege'",
                as: Bool.self))
    }

    @Test func twoDaemonsShareTheWorkWithoutScoringAnythingTwice() throws {
        let f = try ServiceFixture(prefix: "daemon_two")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let a = f.startDaemon(name: "daemon-a", batchSize: 4)
        let b = f.startDaemon(name: "daemon-b", batchSize: 4)
        let ids = try f.insertImages(count: 200)
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(a.stop() && b.stop())
        try expectScoredOnce(f, images: ids, model: model)
        #expect(
            try f.scalar("select count(*) from galaxy.daemons where stopped_at is not null", as: Int64.self)
                == 2)
    }

    @Test func aPollOnlyDaemonFindsWorkWithoutNotifications() throws {
        let f = try ServiceFixture(prefix: "daemon_poll")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let ids = try f.insertImages(count: 10)  // queued while no daemon ran
        let daemon = f.startDaemon(pollOnly: true)
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        let late = try f.insertImages(count: 5, from: 50)
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(daemon.stop())
        try expectScoredOnce(f, images: ids + late, model: model)
    }

    @Test func aKilledDaemonsBatchIsFinishedByAnotherExactlyOnce() throws {
        let f = try ServiceFixture(prefix: "daemon_kill9")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let ids = try f.insertImages(count: 300)
        let victim = try f.spawnDaemon(name: "victim")
        let started = try eventually(timeout: 120) {
            try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) > 0 || !victim.isRunning
        }
        #expect(started && victim.isRunning, "galaxy serve did not start scoring: \(victim.standardError)")
        victim.send(signal: SIGKILL)
        _ = victim.wait(timeout: 30)
        let leased = try f.scalar(
            "select count(*) from galaxy.queue where lease_owner = 'victim'", as: Int64.self)
        let rescuer = f.startDaemon(name: "rescuer")
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        #expect(rescuer.stop())
        try expectScoredOnce(f, images: ids, model: model)
        #expect(try f.scalar("select count(*) from galaxy.failed_jobs", as: Int64.self) == 0)
        // Usually the victim dies holding leases; either way nothing was lost or doubled.
        _ = leased
    }

    @Test func aServerRestartMidRunLosesNothing() throws {
        let cluster = try PostgresCluster.makePrivate()
        let f = try ServiceFixture(cluster: cluster, prefix: "daemon_restart")
        let model = try f.addModel("sb", TestModels.constant(label: "Sb"))
        let ids = try f.insertImages(count: 200)
        let daemon = f.startDaemon(batchSize: 4)
        _ = try eventually(timeout: 60) {
            try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) > 0
        }
        try cluster.restart()
        let after = try PostgresConnection(conninfo: f.conninfo)
        let more = try after.transaction { c in
            try (0..<20).map { i in
                try c.query(
                    "insert into galaxy.images (jpeg) values (\(ServiceFixture.jpeg(seed: 500 + i))) returning id"
                ).scalar(Int64.self)
            }
        }
        #expect(
            try eventually { try after.query("select count(*) from galaxy.queue").scalar(Int64.self) == 0 })
        #expect(daemon.stop())
        let check = try ServiceFixtureView(after)
        try check.expectScoredOnce(images: ids + more, model: model)
        #expect(daemon.daemon.metrics.registry.value(ServiceMetrics.reconnects) >= 1)
    }
}

/// Checks over a fresh connection (the fixture's own died with the server restart).
struct ServiceFixtureView {
    let db: PostgresConnection
    init(_ db: PostgresConnection) throws { self.db = db }

    func expectScoredOnce(images: [Int64], model: Int64) throws {
        let written = try db.query(
            """
            select count(distinct image_id), count(*) from public.prediction_writes
            where model_id = \(model) and image_id = any(\(images))
            """)
        #expect(try written.first?.decode(Int64.self, at: 0) == Int64(images.count))
        #expect(
            try written.first?.decode(Int64.self, at: 1) == Int64(images.count),
            "an image was written more than once")
        #expect(try db.query("select count(*) from galaxy.failed_jobs").scalar(Int64.self) == 0)
    }
}
