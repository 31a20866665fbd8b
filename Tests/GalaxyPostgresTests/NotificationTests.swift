import Foundation
import GalaxyPostgres
import GalaxyTestSupport
import Testing

@Suite("LISTEN/NOTIFY")
struct NotificationTests {
    @Test func notificationFromAnotherConnectionWakesTheListener() throws {
        let listener = try TestDatabase.connect()
        let sender = try TestDatabase.connect()
        let channel = "jobs \(UInt32.random(in: 0..<UInt32.max))"
        try listener.listen(channel)
        #expect(try listener.waitForNotifications(timeout: 0.05).isEmpty)
        try sender.transaction { tx in
            try tx.notify(channel, payload: "42")
            try tx.notify(channel, payload: "43")
        }
        var received: [PostgresNotification] = []
        _ = try waitUntil(timeout: 30) {
            received += try listener.waitForNotifications(timeout: 5)
            return received.count >= 2
        }
        #expect(received.map(\.payload) == ["42", "43"])
        #expect(received.allSatisfy { $0.channel == channel && $0.processID == sender.backendPID })
        try listener.unlisten(channel)
        try sender.notify(channel, payload: "ignored")
        #expect(try listener.waitForNotifications(timeout: 0.2).isEmpty)
    }

    @Test func waitingListenerIsWokenByANotificationSentLater() throws {
        let listener = try TestDatabase.connect()
        let url = try TestDatabase.url()
        let channel = "later_\(UInt32.random(in: 0..<UInt32.max))"
        try listener.listen(channel)
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            try? PostgresConnection(conninfo: url).notify(channel, payload: "x")
        }
        thread.start()
        let received = try listener.waitForNotifications(timeout: 60)
        #expect(received.map(\.payload) == ["x"])
    }

    @Test func interrupterEndsAWaitEarly() throws {
        let listener = try TestDatabase.connect()
        try listener.listen("nobody_sends_here")
        let interrupter = try PostgresWaitInterrupter()
        let thread = Thread {
            Thread.sleep(forTimeInterval: 0.1)
            interrupter.interrupt()
        }
        thread.start()
        let start = Date()
        let received = try listener.waitForNotifications(timeout: 120, interrupter: interrupter)
        #expect(received.isEmpty)
        // Bounded by the 120 s timeout only if the interrupt were lost; this checks it was not.
        #expect(Date().timeIntervalSince(start) < 100)
    }
}
