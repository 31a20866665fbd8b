import Hummingbird
import NIOCore

/// The upload page's files, embedded in the binary at build time (no files to install).
enum PageFiles {
    static let index = PackageResources.index_html
    static let script = PackageResources.app_js
    static let style = PackageResources.style_css
    static let openAPI = PackageResources.openapi_json
}

enum PageRoutes {
    static func file(_ bytes: [UInt8], type: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: type, .cacheControl: "no-cache",
                .contentSecurityPolicy: "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
                .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
