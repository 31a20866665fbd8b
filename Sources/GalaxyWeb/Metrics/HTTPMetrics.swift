import Foundation
import Hummingbird

/// Request counts and latency histograms per route, rendered in the Prometheus text format.
final class HTTPMetrics: @unchecked Sendable {
    /// Histogram bucket upper bounds, in seconds.
    static let buckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    private struct RequestKey: Hashable { var method: String; var route: String; var status: Int }
    private struct Histogram {
        var counts = [Int](repeating: 0, count: HTTPMetrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var durations: [String: Histogram] = [:]
    private var inFlight = 0
    private var uploadedBytes = 0

    func started() {
        lock.lock(); inFlight += 1; lock.unlock()
    }

    func finished(method: String, route: String, status: Int, seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        inFlight -= 1
        requests[RequestKey(method: method, route: route, status: status), default: 0] += 1
        var histogram = durations[route] ?? Histogram()
        for (i, bound) in Self.buckets.enumerated() where seconds <= bound { histogram.counts[i] += 1 }
        histogram.sum += seconds
        histogram.count += 1
        durations[route] = histogram
    }

    func uploaded(bytes: Int) {
        lock.lock(); uploadedBytes += bytes; lock.unlock()
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    func prometheusText() -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        out += "# HELP galaxy_http_requests_total HTTP requests answered, by method, route and status.\n"
        out += "# TYPE galaxy_http_requests_total counter\n"
        for (key, count) in requests.sorted(by: { ($0.key.route, $0.key.method, $0.key.status) < ($1.key.route, $1.key.method, $1.key.status) }) {
            out += "galaxy_http_requests_total{method=\"\(key.method)\",route=\"\(escape(key.route))\",status=\"\(key.status)\"} \(count)\n"
        }
        out += "# HELP galaxy_http_request_duration_seconds Time to answer HTTP requests, by route.\n"
        out += "# TYPE galaxy_http_request_duration_seconds histogram\n"
        for (route, histogram) in durations.sorted(by: { $0.key < $1.key }) {
            let r = escape(route)
            for (i, bound) in Self.buckets.enumerated() {
                out += "galaxy_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"\(bound)\"} \(histogram.counts[i])\n"
            }
            out += "galaxy_http_request_duration_seconds_bucket{route=\"\(r)\",le=\"+Inf\"} \(histogram.count)\n"
            out += "galaxy_http_request_duration_seconds_sum{route=\"\(r)\"} \(histogram.sum)\n"
            out += "galaxy_http_request_duration_seconds_count{route=\"\(r)\"} \(histogram.count)\n"
        }
        out += "# HELP galaxy_http_requests_in_flight HTTP requests being answered now.\n"
        out += "# TYPE galaxy_http_requests_in_flight gauge\n"
        out += "galaxy_http_requests_in_flight \(inFlight)\n"
        out += "# HELP galaxy_http_uploaded_bytes_total JPEG bytes accepted by uploads.\n"
        out += "# TYPE galaxy_http_uploaded_bytes_total counter\n"
        out += "galaxy_http_uploaded_bytes_total \(uploadedBytes)\n"
        return out
    }

    private func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }
}

/// Counts every request and its duration under its route pattern (`/v1/predictions/{id}`), so
/// ids do not explode the label set.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: HTTPMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        metrics.started()
        do {
            let response = try await next(request, context)
            record(request, context, status: response.status.code, start: start)
            return response
        } catch let error as any HTTPResponseError {
            record(request, context, status: error.status.code, start: start)
            throw error
        } catch {
            record(request, context, status: 500, start: start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, status: Int, start: UInt64) {
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let route = context.endpointPath.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "unmatched"
        metrics.finished(method: request.method.rawValue, route: route, status: status, seconds: seconds)
    }
}
