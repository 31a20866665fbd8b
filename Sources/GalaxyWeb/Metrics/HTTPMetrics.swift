import Foundation
import GalaxyCore
import Hummingbird

/// Request counts, latency histograms per route, requests in flight and uploaded bytes, as series
/// of the process's registry.
struct HTTPMetrics: Sendable {
    static let requests = "galaxy_http_requests_total"
    static let duration = "galaxy_http_request_duration_seconds"
    static let inFlight = "galaxy_http_requests_in_flight"
    static let uploadedBytes = "galaxy_http_uploaded_bytes_total"
    /// Histogram bucket upper bounds, in seconds.
    static let buckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    let registry: MetricsRegistry

    init(registry: MetricsRegistry) {
        self.registry = registry
        registry.declareCounter(Self.requests, help: "HTTP requests answered, by method, route and status.")
        registry.declareHistogram(Self.duration, help: "Time to answer HTTP requests, by route.", buckets: Self.buckets)
        registry.declareGauge(Self.inFlight, help: "HTTP requests being answered now.")
        registry.add(Self.inFlight, by: 0)
        registry.declareCounter(Self.uploadedBytes, help: "JPEG bytes accepted by uploads.")
    }

    func started() { registry.add(Self.inFlight, by: 1) }

    func finished(method: String, route: String, status: Int, seconds: Double) {
        registry.add(Self.inFlight, by: -1)
        registry.increment(Self.requests, labels: [("method", method), ("route", route), ("status", "\(status)")])
        registry.observe(Self.duration, seconds, labels: [("route", route)])
    }

    func uploaded(bytes: Int) { registry.increment(Self.uploadedBytes, by: Double(bytes)) }
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
