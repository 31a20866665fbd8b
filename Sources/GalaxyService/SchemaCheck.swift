import GalaxyPostgres

/// Checks that the database has the daemon protocol before the daemon or the CLI use it, and says
/// what to do when it does not (the daemon never migrates: `galaxy migrate` does).
public enum SchemaCheck {
    /// - Throws: `ServiceError.schemaMissing` when `galaxy.claim_jobs` and its siblings are absent.
    public static func requireDaemonProtocol(on connection: PostgresConnection) throws {
        let present = try connection.query(
            """
            select to_regprocedure('galaxy.claim_jobs(text,integer,double precision)') is not null
               and to_regprocedure('galaxy.complete_jobs(text,bigint[],text[],text[],jsonb[],real[],jsonb)') is not null
               and to_regprocedure('galaxy.fail_jobs(text,bigint[],text[],text[],double precision[])') is not null
            """
        ).scalar(Bool.self)
        guard present else {
            throw ServiceError.schemaMissing(target: connection.target)
        }
    }
}
