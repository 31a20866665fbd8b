import Foundation
import GalaxyPostgres
import GalaxyTestSupport
import Testing

@Suite("reconnecting", .serialized)
struct ReconnectTests {
    @Test func connectionRecoversAfterServerRestartAndListensAgain() throws {
        let cluster = try PostgresCluster.makePrivate()
        let url = try cluster.createDatabase(prefix: "reconnect")
        let listener = try PostgresConnection(conninfo: url)
        try listener.listen("after_restart")
        let pidBefore = listener.backendPID

        try cluster.restart()

        let error = #expect(throws: PostgresError.self) { try listener.query("select 1") }
        #expect(error?.isConnectionLoss == true)
        #expect(listener.isConnected == false)

        try listener.reconnect(policy: .init(initialDelay: 0.05, maxDelay: 0.5, maxAttempts: 100))
        #expect(listener.isConnected)
        #expect(listener.backendPID != pidBefore)
        #expect(try listener.query("select 1").scalar(Int.self) == 1)

        let sender = try PostgresConnection(conninfo: url)
        try sender.notify("after_restart", payload: "back")
        var received: [PostgresNotification] = []
        _ = try waitUntil(timeout: 30) {
            received += try listener.waitForNotifications(timeout: 5)
            return !received.isEmpty
        }
        #expect(received.map(\.payload) == ["back"])
    }

    @Test func connectWaitsForAServerThatIsStillStarting() throws {
        let cluster = try PostgresCluster.makePrivate()
        let url = try cluster.createDatabase(prefix: "late")
        try cluster.kill9()
        let starter = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            try? cluster.start()
        }
        starter.start()
        let connection = try PostgresConnection.connect(
            conninfo: url, policy: .init(initialDelay: 0.05, maxDelay: 0.5, maxAttempts: 400))
        #expect(try connection.query("select 2").scalar(Int.self) == 2)
        _ = waitUntil(timeout: 60) { starter.isFinished }
    }

    @Test func waitingListenerSeesTheServerGo() throws {
        let cluster = try PostgresCluster.makePrivate()
        let url = try cluster.createDatabase(prefix: "gone")
        let listener = try PostgresConnection(conninfo: url)
        try listener.listen("anything")
        try cluster.kill9()
        let error = #expect(throws: PostgresError.self) {
            _ = try listener.waitForNotifications(timeout: 60)
        }
        #expect(error?.isConnectionLoss == true)
        try cluster.start()
    }

    @Test func backoffGrowsToItsCap() {
        let policy = PostgresReconnectPolicy(initialDelay: 0.1, maxDelay: 1, multiplier: 2)
        let delays = (1...7).map { policy.delay(beforeAttempt: $0) }
        #expect(delays.map { ($0 * 1000).rounded() } == [0, 100, 200, 400, 800, 1000, 1000])
    }
}
