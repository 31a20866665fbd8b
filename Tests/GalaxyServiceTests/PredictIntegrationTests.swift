import Foundation
import GalaxyPostgres
import GalaxyService
import GalaxyTestSupport
import Testing

/// Every path of `select predict_galaxy(id)` against a real server and a real daemon.
@Suite(.serialized) struct PredictIntegrationTests {
    @Test func anImageAlreadyScoredReturnsItsClass() throws {
        let f = try ServiceFixture(prefix: "predict_scored")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let daemon = f.startDaemon()
        let id = try f.insertImages(count: 1)[0]
        #expect(
            try eventually {
                try f.scalar("select count(*) from galaxy.predictions where image_id = \(id)", as: Int64.self)
                    == 1
            })
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        // The detail function carries label, probabilities, model and provenance.
        let row = try f.db.query(
            "select label, model, (probabilities->>'Sb')::float8, model_sha256, scored_by from galaxy.prediction(\(id))"
        )
        #expect(try row.first?.decode(String.self, at: 0) == "Sb")
        #expect(try row.first?.decode(String.self, at: 1) == "sb")
        #expect(try row.first?.decode(Double.self, at: 2) ?? 0 > 0.9)
        #expect(try row.first?.decode(String.self, at: 3).count == 64)
        #expect(try row.first?.decode(String.self, at: 4) == "test-daemon")
        #expect(daemon.stop())
    }

    @Test func aFreshImageIsQueuedThenReturnedWhileTheCallerWaits() throws {
        let f = try ServiceFixture(prefix: "predict_wait")
        try f.addModel("ei", TestModels.constant(label: "Ei"))
        let daemon = f.startDaemon()
        #expect(try eventually { try f.scalar("select galaxy.live_daemon_count()", as: Int32.self) == 1 })
        for seed in 0..<5 {
            let id = try f.insertImages([ServiceFixture.jpeg(seed: seed)])[0]
            #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Elliptical")
        }
        #expect(daemon.stop())
    }

    @Test func anUnknownIdIsAnError() throws {
        let f = try ServiceFixture(prefix: "predict_unknown")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let result = sqlState { _ = try f.db.query("select predict_galaxy(987654321)") }
        #expect(result.state == "GZ001")
        #expect(result.message.contains("987654321"))
    }

    @Test func aCorruptImageFailsWithItsDecodeError() throws {
        let f = try ServiceFixture(prefix: "predict_corrupt")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let daemon = f.startDaemon()
        let id = try f.insertImages([ServiceFixture.corruptJPEG])[0]
        let result = sqlState { _ = try f.db.query("select predict_galaxy(\(id))") }
        #expect(result.state == "GZ005")
        #expect(result.message.contains("decode image \(id)"))
        // Reported after the first attempt, not after retries that cannot help.
        #expect(result.message.contains("failed (truncated_image) after 1 attempts"))
        #expect(daemon.stop())
    }

    @Test func noLiveDaemonIsAnError() throws {
        let f = try ServiceFixture(prefix: "predict_nodaemon")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let id = try f.insertImages(count: 1)[0]
        let result = sqlState { _ = try f.db.query("select predict_galaxy(\(id))") }
        #expect(result.state == "GZ007")
        // The job stays queued: a daemon started later scores it.
        let daemon = f.startDaemon()
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        #expect(daemon.stop())
    }

    @Test func aWaitThatOutlastsTheTimeoutIsAnError() throws {
        let f = try ServiceFixture(prefix: "predict_timeout")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        // A daemon that registered and heartbeats, but never claims: the job is never scored.
        _ = try f.db.query("select galaxy.daemon_register('silent', 'host', 1, 'test')")
        let id = try f.insertImages(count: 1)[0]
        _ = try f.db.query("set galaxy.predict_timeout = '300ms'")
        let result = sqlState { _ = try f.db.query("select predict_galaxy(\(id))") }
        #expect(result.state == "GZ008")
    }

    @Test func workHiddenByTheCallersOwnTransactionFailsFastWithAHint() throws {
        let f = try ServiceFixture(prefix: "predict_owntx")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let daemon = f.startDaemon()
        let result = sqlState {
            try f.db.transaction { c in
                let id = try c.query(
                    "insert into galaxy.images (jpeg) values (\(ServiceFixture.jpeg(seed: 1))) returning id"
                ).scalar(Int64.self)
                _ = try c.query("select predict_galaxy(\(id))")
            }
        }
        #expect(result.state == "GZ009")
        #expect(result.message.contains("COMMIT"))
        #expect(daemon.stop())
    }

    @Test func insertingIntoTheQueueRescores() throws {
        let f = try ServiceFixture(prefix: "queue_path")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let daemon = f.startDaemon()
        let id = try f.insertImages(count: 1)[0]
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        _ = try f.db.query("insert into galaxy.queue (image_id) values (\(id))")
        #expect(
            try eventually {
                try f.scalar(
                    "select count(*) from public.prediction_writes where image_id = \(id)", as: Int64.self)
                    == 2
            })
        #expect(try eventually { try f.scalar("select count(*) from galaxy.queue", as: Int64.self) == 0 })
        // Rescoring updated the row; it did not add one.
        #expect(
            try f.scalar("select count(*) from galaxy.predictions where image_id = \(id)", as: Int64.self)
                == 1)
        #expect(daemon.stop())
    }
}
