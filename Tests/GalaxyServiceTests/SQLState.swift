import GalaxyPostgres

/// The SQLSTATE of a failed call (and the error's text), or nil if it succeeded.
func sqlState(_ body: () throws -> Void) -> (state: String?, message: String) {
    do {
        try body()
        return (nil, "")
    } catch let error as PostgresError {
        return (error.sqlState, "\(error)")
    } catch {
        return ("not a PostgresError", "\(error)")
    }
}
