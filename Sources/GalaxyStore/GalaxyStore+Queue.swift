import Foundation
import GalaxyPostgres

/// Queue, scoring and table counts for the live status panel.
public struct QueueCounts: Sendable, Hashable {
    public var queued: Int64
    public var scoring: Int64
    public var failed: Int64
    public var predictions: Int64
    public var images: Int64
    /// Daemons with a heartbeat in the last 30 seconds.
    public var daemons: Int64
}

extension GalaxyStore {
    public func queueCounts() throws -> QueueCounts {
        let row = try connection.query(
            """
            select (select count(*) from galaxy.queue where lease_expires_at is null or lease_expires_at <= now()),
                   (select count(*) from galaxy.queue where lease_expires_at > now()),
                   (select count(*) from galaxy.failed_jobs),
                   (select count(*) from galaxy.predictions),
                   (select count(*) from galaxy.images),
                   (select count(*) from galaxy.daemons where stopped_at is null
                      and heartbeat_at > now() - interval '30 seconds')
            """
        ).first!
        return QueueCounts(
            queued: try row.decode(Int64.self, at: 0), scoring: try row.decode(Int64.self, at: 1),
            failed: try row.decode(Int64.self, at: 2), predictions: try row.decode(Int64.self, at: 3),
            images: try row.decode(Int64.self, at: 4), daemons: try row.decode(Int64.self, at: 5))
    }

    /// Jobs in the queue, from the statistics collector, which needs no privilege on the queue (the
    /// daemon role has none): close to the truth, refreshed within a second or so.
    public func queueDepthEstimate() throws -> Int {
        Int(
            try connection.query(
                "select coalesce(max(n_live_tup), 0) from pg_stat_user_tables where relid = to_regclass('galaxy.queue')"
            ).scalar(Int64.self))
    }
}
