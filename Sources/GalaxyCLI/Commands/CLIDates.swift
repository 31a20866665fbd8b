import Foundation

/// Times in tables, in the local time zone: `2026-12-03 14:05` or with seconds.
enum CLIDates {
    static func minutes(_ date: Date) -> String { format(date, "yyyy-MM-dd HH:mm") }
    static func seconds(_ date: Date) -> String { format(date, "yyyy-MM-dd HH:mm:ss") }

    private static func format(_ date: Date, _ pattern: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = pattern
        return formatter.string(from: date)
    }
}
