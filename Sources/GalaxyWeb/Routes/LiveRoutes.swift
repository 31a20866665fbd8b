import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

extension WebAPI {
    /// `GET /v1/events`: server-sent events, one `status` event (queue, batches, counts) per
    /// interval until the client goes away or the server shuts down (then the stream ends cleanly
    /// within an interval, so a shutdown never waits on a client that listens forever).
    func events() -> Response {
        let store = self.store
        let interval = config.eventInterval
        let body = ResponseBody { writer in
            var lastSent = ""
            var quietTicks = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let text: String
                do {
                    let status = try await store.status()
                    text = String(decoding: try JSONResponse.encoder.encode(status), as: UTF8.self)
                } catch {
                    text = "{\"error\":\"database unavailable\"}"
                }
                // Send changes at once and a keep-alive copy every 15 ticks.
                if text != lastSent || quietTicks >= 15 {
                    try await writer.write(ByteBuffer(string: "event: status\ndata: \(text)\n\n"))
                    lastSent = text
                    quietTicks = 0
                } else {
                    quietTicks += 1
                }
                try await Task.sleep(for: interval)
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
            body: body)
    }
}
