import Foundation
import GalaxyEngine
import GalaxyPostgres
import GalaxyService
import GalaxyStore
import GalaxyTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `galaxy.classify` (the galaxy library's C function) against a real server and a scoring socket
/// served in this process; `make -C sql install` must have installed the library.
@Suite(.serialized) struct ScoringSocketTests {
    private struct RollBack: Error {}

    /// Runs `body` in a transaction that is then rolled back.
    private func rollingBack(_ db: PostgresConnection, _ body: (PostgresConnection) throws -> Void) throws {
        do {
            try db.transaction { tx in
                try body(tx)
                throw RollBack()
            }
        } catch is RollBack {}
    }

    /// A migrated database with the native function, the default model active, and a socket.
    private func setUp(_ prefix: String, model: [UInt8]? = nil) throws -> (ServiceFixture, ScoringSocketFixture) {
        let f = try ServiceFixture(prefix: prefix)
        #expect(
            try f.scalar("select galaxy.classify_available()", as: Bool.self),
            "galaxy.classify is not the library's C function: run make -C sql install, then the tests")
        try f.addModel("default", try model ?? DefaultModel.onnx())
        let socket = try ScoringSocketFixture(conninfo: f.conninfo)
        try socket.start()
        _ = try f.db.execute(PostgresQuery(unsafeSQL: socket.setSQL))
        return (f, socket)
    }

    @Test func classifyReturnsWhatTheEngineComputesAndStoresNothing() throws {
        let (f, socket) = try setUp("classify_engine")
        let jpeg = ServiceFixture.jpeg(seed: 3)
        let row = try #require(
            try f.db.query(
                """
                select label, class, probabilities::text, model, latency_ms, model_id, model_sha256, image_sha256,
                       preprocessing->>'decode_scale', (timings->>'batch_size')::int
                from galaxy.classify(\(jpeg))
                """
            ).first)
        let expected = try #require(
            try Classifier(model: InferenceModel(onnx: DefaultModel.onnx()), threads: 1).classify([jpeg])[0].get())
        #expect(try row.decode(String.self, at: 0) == expected.label)
        #expect(try row.decode(String.self, at: 1) == expected.galaxyClass)
        let probabilities = try JSONDecoder().decode([String: Float].self, from: Data(try row.decode(String.self, at: 2).utf8))
        #expect(probabilities == expected.probabilities)
        #expect(try row.decode(String.self, at: 3) == "default")
        #expect(try row.decode(Double.self, at: 4) > 0)
        #expect(try row.decode(String.self, at: 6) == SHA256.hex(try DefaultModel.onnx()))
        #expect(try row.decode(String.self, at: 7) == SHA256.hex(jpeg))
        #expect(try row.decode(String.self, at: 8) == "1/4")
        #expect(try row.decode(Int32.self, at: 9) == 1)
        #expect(try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) == 0)
        #expect(try f.scalar("select count(*) from galaxy.images", as: Int64.self) == 0)
        // A named model that cannot score is the caller's GZ error, raised before the socket.
        #expect(sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg), 'nope')") }.state == "GZ002")
        // A null image has no class.
        #expect(try f.db.query("select galaxy.classify(null) is null").scalar(Bool.self))
        socket.stop()
    }

    @Test func predictScoresAnImageInsertedByTheOpenTransactionAndARollbackLeavesNothing() throws {
        let (f, socket) = try setUp("classify_in_tx", model: TestModels.constant(label: "Sb"))
        try rollingBack(f.db) { tx in
            let id = try tx.query("insert into galaxy.images (jpeg) values (\(ServiceFixture.jpeg(seed: 1))) returning id")
                .scalar(Int64.self)
            #expect(try tx.query("select predict_galaxy(\(id))").scalar(String.self) == "Spiral")
        }
        #expect(try f.scalar("select count(*) from galaxy.images", as: Int64.self) == 0)
        #expect(try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) == 0)
        // Committed but no longer queued (a daemon-less database with the job removed): scored too.
        let id = try f.insertImages(count: 1)[0]
        _ = try f.db.execute("delete from galaxy.queue")
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Spiral")
        #expect(try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) == 0)
        socket.stop()
    }

    @Test func syncScoringOnInsertWritesThePredictionInTheInsertingTransaction() throws {
        let (f, socket) = try setUp("classify_sync", model: TestModels.constant(label: "Ei"))
        let other = try PostgresConnection(conninfo: f.conninfo)
        _ = try f.db.execute("set galaxy.score_on_insert = sync")
        try rollingBack(f.db) { tx in
            let id = try tx.query("insert into galaxy.images (jpeg) values (\(ServiceFixture.jpeg(seed: 2))) returning id")
                .scalar(Int64.self)
            #expect(try tx.query("select class from galaxy.predictions where image_id = \(id)").scalar(String.self) == "Elliptical")
            #expect(try tx.query("select count(*) from galaxy.queue").scalar(Int64.self) == 0)
            // Another session sees neither the image nor its prediction before COMMIT.
            #expect(try other.query("select count(*) from galaxy.predictions").scalar(Int64.self) == 0)
        }
        #expect(try f.scalar("select count(*) from galaxy.predictions", as: Int64.self) == 0)
        let id = try f.insertImages(count: 1, from: 5)[0]
        #expect(try other.query("select scored_by from galaxy.predictions where image_id = \(id)").scalar(String.self) == "galaxy.classify")
        #expect(try f.scalar("select predict_galaxy(\(id))", as: String.self) == "Elliptical")
        // A corrupt image refuses its insert, and nothing of it is left.
        let refused = sqlState { _ = try f.insertImages([ServiceFixture.corruptJPEG]) }
        #expect(refused.state == "GZ017", "\(refused.message)")
        #expect(try f.scalar("select count(*) from galaxy.images", as: Int64.self) == 1)
        // Any other value is refused by name.
        _ = try f.db.execute("set galaxy.score_on_insert = later")
        #expect(sqlState { _ = try f.insertImages(count: 1, from: 9) }.state == "GZ016")
        socket.stop()
    }

    @Test func aUserTriggerCanClassifyRowsOfItsOwnTable() throws {
        let (f, socket) = try setUp("classify_trigger", model: TestModels.constant(label: "SBb"))
        try f.db.executeScript(
            unsafeSQL: """
                create table public.uploads (id serial primary key, jpeg bytea, class text);
                create function public.classify_upload() returns trigger language plpgsql as $$
                begin
                    new.class := (galaxy.classify(new.jpeg)).class;
                    return new;
                end $$;
                create trigger classify_upload before insert on public.uploads
                    for each row execute function public.classify_upload();
                """)
        for seed in 0..<3 {
            _ = try f.db.execute("insert into public.uploads (jpeg) values (\(ServiceFixture.jpeg(seed: seed)))")
        }
        #expect(try f.scalar("select string_agg(class, ',' order by id) from public.uploads", as: String.self)
            == "BarredSpiral,BarredSpiral,BarredSpiral")
        socket.stop()
    }

    @Test func bytesThatAreNotAJPEGOrTooLargeAreRefusedBeforeTheSocket() throws {
        let (f, socket) = try setUp("classify_refused", model: TestModels.constant(label: "Sb"))
        let notJPEG = sqlState { _ = try f.db.query("select galaxy.classify('\\x89504e470d0a1a0a'::bytea)") }
        #expect(notJPEG.state == "GZ017")
        #expect(notJPEG.message.contains("not a JPEG"))
        _ = try f.db.execute("set galaxy.classify_max_bytes = 100")
        let large = sqlState { _ = try f.db.query("select galaxy.classify(\(ServiceFixture.jpeg(seed: 1)))") }
        #expect(large.state == "GZ017")
        #expect(large.message.contains("galaxy.classify_max_bytes"))
        _ = try f.db.execute("reset galaxy.classify_max_bytes")
        // Bytes that start like a JPEG but are not one fail in the daemon, as this image's error.
        var fuzz = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let bytes = [0xFF, 0xD8, 0xFF] + (0..<Int.random(in: 1...400, using: &fuzz)).map { _ in UInt8.random(in: 0...255, using: &fuzz) }
            let result = sqlState { _ = try f.db.query("select galaxy.classify(\(bytes))") }
            #expect(result.state == "GZ017", "\(result.message)")
        }
        // The backend and the daemon are still there.
        #expect(try f.db.query("select (galaxy.classify(\(ServiceFixture.jpeg(seed: 4)))).class").scalar(String.self) == "Spiral")
        socket.stop()
    }

    @Test func waitsEndOnTimeoutOnCancelAndWhenTheDaemonGoesAway() throws {
        let (f, socket) = try setUp("classify_waits", model: TestModels.constant(label: "Sb"))
        let jpeg = ServiceFixture.jpeg(seed: 1)
        let silent = MisbehavingSocket(directory: socket.directory, behaviour: .silent)
        _ = try f.db.execute(PostgresQuery(unsafeSQL: "set galaxy.scoring_socket = '\(silent.path)'"))

        _ = try f.db.execute("set galaxy.predict_timeout = '300ms'")
        var start = Date()
        let timedOut = sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }
        #expect(timedOut.state == "GZ008", "\(timedOut.message)")
        #expect(Date().timeIntervalSince(start) < 10)

        _ = try f.db.execute("set galaxy.predict_timeout = '1 min'")
        _ = try f.db.execute("set statement_timeout = '300ms'")
        start = Date()
        #expect(sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }.state == "57014")
        #expect(Date().timeIntervalSince(start) < 10)
        _ = try f.db.execute("reset statement_timeout")

        // pg_cancel_backend from another session ends the wait.
        let pid = try f.scalar("select pg_backend_pid()", as: Int32.self)
        let admin = try PostgresConnection(conninfo: f.conninfo)
        let canceller = Thread {
            _ = try? eventually(timeout: 30) {
                try admin.query("select count(*) from pg_stat_activity where pid = \(pid) and wait_event = 'Extension'")
                    .scalar(Int64.self) == 1
            }
            _ = try? admin.query("select pg_cancel_backend(\(pid))")
        }
        canceller.start()
        start = Date()
        #expect(sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }.state == "57014")
        #expect(Date().timeIntervalSince(start) < 30)

        // A daemon that dies mid-request, and one that is not there at all: GZ007 with a hint.
        let dies = MisbehavingSocket(directory: socket.directory, behaviour: .closesMidRequest)
        _ = try f.db.execute(PostgresQuery(unsafeSQL: "set galaxy.scoring_socket = '\(dies.path)'"))
        let died = sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }
        #expect(died.state == "GZ007", "\(died.message)")
        _ = try f.db.execute(PostgresQuery(unsafeSQL: "set galaxy.scoring_socket = '\(socket.directory.path)/absent'"))
        let absent = sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }
        #expect(absent.state == "GZ007")
        #expect(absent.message.contains("galaxy serve --scoring-socket"))
        _ = try f.db.execute("reset galaxy.scoring_socket")
        #expect(sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }.state == "GZ018")

        // The same backend still scores once pointed at the real daemon.
        _ = try f.db.execute(PostgresQuery(unsafeSQL: socket.setSQL))
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")
        withExtendedLifetime((silent, dies)) {}
        socket.stop()
    }

    @Test func aRestartedDaemonServesTheSameBackendAgain() throws {
        let (f, socket) = try setUp("classify_restart", model: TestModels.constant(label: "Sb"))
        let jpeg = ServiceFixture.jpeg(seed: 1)
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")
        socket.stop()
        // Between the restart and the call the backend holds a dead connection: it reconnects.
        let absent = sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }
        #expect(absent.state == "GZ007")
        try socket.start()
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")
        socket.stop()
        try socket.start()
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")
        socket.stop()
    }

    @Test func aSecondDaemonOnTheSamePathIsRefusedAndAStaleSocketIsReplaced() throws {
        let (f, scoring) = try setUp("classify_two", model: TestModels.constant(label: "Sb"))
        let second = SocketScorer(source: { _ in nil }, loader: EngineModelLoader(), threads: 1, logger: .init(label: "t"))
        #expect(throws: ScoringSocketError.self) {
            _ = try ScoringSocketListener(config: scoring.config, scorer: second, logger: .init(label: "t"))
        }
        do {
            _ = try ScoringSocketListener(config: scoring.config, scorer: second, logger: .init(label: "t"))
        } catch {
            #expect("\(error)".contains("another daemon serves the scoring socket"))
        }
        // The first one still answers.
        #expect(try f.db.query("select (galaxy.classify(\(ServiceFixture.jpeg(seed: 1)))).class").scalar(String.self) == "Spiral")
        scoring.stop()

        // A socket file left by a daemon that crashed (no listener, no lock holder) is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = ScoringSocketFixture.address(scoring.path)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(stale)
        #expect(FileManager.default.fileExists(atPath: scoring.path))
        try scoring.start()
        #expect(try f.db.query("select (galaxy.classify(\(ServiceFixture.jpeg(seed: 1)))).class").scalar(String.self) == "Spiral")
        scoring.stop()
        #expect(!FileManager.default.fileExists(atPath: scoring.path))
    }

    @Test func fuzzedBytesOverTheSocketGetErrorsAndTheDaemonKeepsServing() throws {
        let (f, socket) = try setUp("classify_fuzz", model: TestModels.constant(label: "Sb"))
        var random = SystemRandomNumberGenerator()
        let valid = ScoringFrames.encode(
            ScoringFrames.Request(
                modelID: try f.scalar("select id from galaxy.models", as: Int64.self), modelName: "default",
                modelSHA256: SHA256.hex(TestModels.constant(label: "Sb")), jpegs: [ServiceFixture.jpeg(seed: 1)]))
        let validMany = ScoringFrames.encode(
            ScoringFrames.Request(
                modelID: try f.scalar("select id from galaxy.models", as: Int64.self), modelName: "default",
                modelSHA256: SHA256.hex(TestModels.constant(label: "Sb")),
                jpegs: [ServiceFixture.jpeg(seed: 1), ServiceFixture.corruptJPEG, ServiceFixture.jpeg(seed: 2)], many: true))
        var inputs: [[UInt8]] = [
            [],
            Array("GET / HTTP/1.1\r\n\r\n".utf8),
            Array("GZQ1".utf8) + [0xFF, 0xFF, 0xFF, 0xFF],  // a body far over the limit
            Array("GZQ1".utf8) + [0, 0, 0, 3, 1, 2, 3],  // cut off in the model id
            Array(valid.prefix(valid.count - 10)),  // cut off in the image, then closed
        ]
        for _ in 0..<40 {
            var bytes = Bool.random(using: &random) ? valid : validMany
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            inputs.append(bytes)
            inputs.append((0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) })
        }
        for input in inputs {
            let fd = socket.connectRaw()
            if input == Array(valid.prefix(valid.count - 10)) {
                _ = input.withUnsafeBytes { send(fd, $0.baseAddress!, input.count, Int32(MSG_NOSIGNAL)) }
                close(fd)
                continue
            }
            shutdownIfShort(fd, input)
            let reply = ScoringSocketFixture.exchange(fd, send: input, timeout: 5)
            close(fd)
            if !reply.isEmpty {
                // Whatever came back is a well-formed reply (GZN1 to a GZM1 request that survived).
                #expect(throws: Never.self) {
                    if reply.starts(with: Array("GZN1".utf8)) {
                        _ = try ScoringFrames.decodeManyReply(frame: reply)
                    } else {
                        _ = try ScoringFrames.decodeReply(frame: reply)
                    }
                }
            }
        }
        // A valid request on a fresh connection still scores.
        let fd = socket.connectRaw()
        let reply = try ScoringFrames.decodeReply(frame: ScoringSocketFixture.exchange(fd, send: valid))
        close(fd)
        guard case .scored(let label, _, _, _, _, _, _) = reply else {
            Issue.record("expected a score, got \(reply)")
            return
        }
        #expect(label == "Sb")
        // And a GZM1 request gets one reply per image, the corrupt one failing alone.
        let manyFD = socket.connectRaw()
        let manyReply = ScoringSocketFixture.exchange(manyFD, send: validMany)
        close(manyFD)
        let replies = try ScoringFrames.decodeManyReply(frame: manyReply)
        #expect(replies.count == 3)
        if case .scored = replies[0], case .failed(let code, _, _) = replies[1], case .scored = replies[2] {
            #expect(code == "truncated_image" || code == "corrupt_image", "\(code)")
        } else {
            Issue.record("expected scored, failed, scored: \(replies)")
        }
        socket.stop()
    }

    /// Inputs shorter than a header would leave the daemon waiting for more: end the writing side.
    private func shutdownIfShort(_ fd: Int32, _ input: [UInt8]) {
        if input.count < ScoringFrames.headerLength {
            _ = input.withUnsafeBytes { send(fd, $0.baseAddress, input.count, Int32(MSG_NOSIGNAL)) }
            shutdown(fd, Int32(SHUT_WR))
        }
    }

    @Test func theIsolationSpecOfTransactionsPasses() throws {
        let (f, socket) = try setUp("classify_isolation", model: TestModels.constant(label: "Sb"))
        let parameters = f.db.parameters
        // The spec's sessions connect afresh: the database carries the socket's path.
        _ = try f.db.execute(
            PostgresQuery(
                unsafeSQL: "alter database \(PostgresQuery.quoteIdentifier(parameters.database)) set galaxy.scoring_socket = '\(socket.path)'"))
        let output = socket.directory.appendingPathComponent("isolation")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let pgxs = ProcessInfo.processInfo.environment["GALAXY_PGXS"] ?? "/usr/lib/postgresql/15/lib/pgxs"
        let regress = try ChildProcess(
            executable: "\(pgxs)/src/test/isolation/pg_isolation_regress",
            arguments: [
                "--use-existing", "--dbname=\(parameters.database)", "--host=\(parameters.host)",
                "--port=\(parameters.port)", "--user=\(parameters.user)",
                "--inputdir=\(ServiceFixture.root.path)/sql/test/socket", "--outputdir=\(output.path)",
                "classify_transactions",
            ])
        let status = regress.wait(timeout: 120)
        let diffs = (try? String(contentsOf: output.appendingPathComponent("regression.diffs"), encoding: .utf8)) ?? ""
        let results = (try? String(contentsOf: output.appendingPathComponent("results/classify_transactions.out"), encoding: .utf8)) ?? ""
        #expect(status == 0, "pg_isolation_regress: \(regress.standardOutput)\n\(regress.standardError)\n\(diffs)\nresults:\n\(results)")
        socket.stop()
    }

    @Test func aTCPSocketAdmitsOnlyBackendsWithTheSharedSecret() throws {
        let f = try ServiceFixture(prefix: "classify_tcp")
        try f.addModel("sb", TestModels.constant(label: "Sb"))
        let secret = Array("a-shared-secret-of-enough-bytes".utf8)
        let socket = try ScoringSocketFixture(conninfo: f.conninfo, tcpSecret: secret)
        try socket.start()
        _ = try f.db.execute(PostgresQuery(unsafeSQL: socket.setSQL))
        let jpeg = ServiceFixture.jpeg(seed: 1)
        let missing = sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }
        #expect(missing.state == "GZ018", "\(missing.message)")
        #expect(missing.message.contains("galaxy.scoring_secret"))
        _ = try f.db.execute("set galaxy.scoring_secret = 'a-wrong-secret-of-enough-bytes'")
        let wrong = sqlState { _ = try f.db.query("select galaxy.classify(\(jpeg))") }
        #expect(wrong.state == "GZ018", "\(wrong.message)")
        #expect(wrong.message.contains("peer_refused"))
        _ = try f.db.execute("set galaxy.scoring_secret = 'a-shared-secret-of-enough-bytes'")
        #expect(try f.db.query("select (galaxy.classify(\(jpeg))).class").scalar(String.self) == "Spiral")
        #expect(try f.db.query("select count(*) from galaxy.classify_many(array[\(jpeg), \(jpeg)]::bytea[])").scalar(Int64.self) == 2)
        // Other roles cannot read the secret.
        _ = try f.db.execute("set role galaxy_analyst")
        #expect(sqlState { _ = try f.db.query("show galaxy.scoring_secret") }.state == "42501")
        _ = try f.db.execute("reset role")
        socket.stop()
    }

    @Test func classifyManyAnswersEachElementInOrder() throws {
        let (f, socket) = try setUp("classify_array")
        let jpegs = (0..<5).map { ServiceFixture.jpeg(seed: 10 + $0) }
        let singles = try jpegs.map { try f.db.query("select label, probabilities::text from galaxy.classify(\($0))").first! }
        let rows = try f.db.query(
            "select n, label, probabilities::text, image_sha256 from galaxy.classify_many(array[\(jpegs[0]), \(jpegs[1]), null, \(jpegs[2]), \(jpegs[3]), \(jpegs[4])]::bytea[]) with ordinality as r(label, class, probabilities, model, latency_ms, model_id, model_sha256, image_sha256, preprocessing, timings, n) order by n")
        #expect(rows.count == 6)
        var index = 0
        for row in rows {
            let n = try row.decode(Int64.self, at: 0)
            if n == 3 {
                #expect(try row.decode(String?.self, at: 1) == nil)
                continue
            }
            #expect(try row.decode(String.self, at: 1) == singles[index].decode(String.self, at: 0))
            #expect(try row.decode(String.self, at: 2) == singles[index].decode(String.self, at: 1))
            #expect(try row.decode(String.self, at: 3) == SHA256.hex(jpegs[index]))
            index += 1
        }
        // One bad element fails the call, naming its place in the array.
        let failed = sqlState {
            _ = try f.db.query("select * from galaxy.classify_many(array[\(jpegs[0]), \(ServiceFixture.corruptJPEG)]::bytea[])")
        }
        #expect(failed.state == "GZ017")
        #expect(failed.message.contains("image 2 of the array"), "\(failed.message)")
        socket.stop()
    }

    @Test func manyBackendsShareBatches() throws {
        let (f, socket) = try setUp("classify_many", model: TestModels.constant(label: "Sb"))
        socket.stop()
        try socket.start(loader: SlowLoader(seconds: 0.02))
        let connections = try (0..<8).map { _ in try PostgresConnection(conninfo: f.conninfo) }
        for c in connections { _ = try c.execute(PostgresQuery(unsafeSQL: socket.setSQL)) }
        let jpeg = ServiceFixture.jpeg(seed: 1)
        let results = Results()
        // One thread per backend (not concurrentPerform, which runs as many at once as there are cores).
        let done = DispatchGroup()
        for connection in connections {
            done.enter()
            Thread {
                for _ in 0..<20 {
                    guard let row = try? connection.query(
                        "select class, (timings->>'batch_size')::int from galaxy.classify(\(jpeg))"
                    ).first else { continue }
                    results.add(class: (try? row.decode(String.self, at: 0)) ?? "", batch: (try? row.decode(Int32.self, at: 1)) ?? 0)
                }
                done.leave()
            }.start()
        }
        done.wait()
        let (classes, largestBatch) = results.snapshot
        #expect(classes.count == 160)
        #expect(Set(classes) == ["Spiral"])
        // Eight backends at once and 20 ms per batch: requests that waited were scored together.
        #expect(largestBatch > 1)
        socket.stop()
    }
}

/// Classes and batch sizes collected from several threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var classes: [String] = []
    private var largestBatch: Int32 = 0

    func add(class value: String, batch: Int32) {
        lock.withLock {
            classes.append(value)
            largestBatch = max(largestBatch, batch)
        }
    }

    var snapshot: ([String], Int32) { lock.withLock { (classes, largestBatch) } }
}
