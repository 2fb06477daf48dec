namespace FederatedSharp.Coordinator.Store;

/// <summary>
/// The store's schema as numbered migrations, applied in order, each in its own transaction, and recorded in
/// <c>schema_migrations</c>. A migration is never edited once shipped: a change to the schema is a new migration.
/// </summary>
internal static class StoreMigrations
{
    public static IReadOnlyList<(int Version, string Name, Func<SqlDialect, string[]> Statements)> All { get; } =
    [
        (1, "nodes, tokens, jobs, runs, rounds, audit", Initial),
        (2, "job decisions by node and round lookups", Indexes),
        (3, "aggregator and per-node round metrics, cross-site evaluation", RoundDetail),
    ];

    public static int Latest => All[^1].Version;

    private static string[] Initial(SqlDialect d) =>
    [
        """
        CREATE TABLE nodes (
          name TEXT PRIMARY KEY,
          status TEXT NOT NULL,
          csr_pem TEXT,
          certificate_pem TEXT,
          thumbprint TEXT,
          requested_ms BIGINT NOT NULL,
          enrolled_ms BIGINT,
          revoked_ms BIGINT,
          revoked_reason TEXT,
          last_seen_ms BIGINT,
          policy_summary TEXT)
        """,
        """
        CREATE TABLE api_tokens (
          hash TEXT PRIMARY KEY,
          principal TEXT NOT NULL,
          role TEXT NOT NULL,
          created_ms BIGINT NOT NULL,
          expires_ms BIGINT NOT NULL,
          revoked_ms BIGINT)
        """,
        """
        CREATE TABLE enrolment_tokens (
          hash TEXT PRIMARY KEY,
          node TEXT NOT NULL,
          created_ms BIGINT NOT NULL,
          expires_ms BIGINT NOT NULL,
          used_ms BIGINT)
        """,
        """
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          plan_hash TEXT NOT NULL,
          plan_json TEXT NOT NULL,
          datasets TEXT NOT NULL,
          min_nodes INTEGER NOT NULL,
          submitted_by TEXT NOT NULL,
          submitted_ms BIGINT NOT NULL,
          status TEXT NOT NULL,
          status_reason TEXT,
          updated_ms BIGINT NOT NULL)
        """,
        """
        CREATE TABLE job_nodes (
          job_id TEXT NOT NULL REFERENCES jobs (id),
          node TEXT NOT NULL,
          decision TEXT NOT NULL,
          reason TEXT NOT NULL,
          dataset TEXT,
          allow_export INTEGER NOT NULL,
          decided_ms BIGINT NOT NULL,
          PRIMARY KEY (job_id, node))
        """,
        $"""
        CREATE TABLE runs (
          id {d.IdentityColumn},
          job_id TEXT NOT NULL REFERENCES jobs (id),
          started_ms BIGINT NOT NULL,
          ended_ms BIGINT,
          status TEXT NOT NULL,
          error TEXT)
        """,
        """
        CREATE TABLE rounds (
          run_id BIGINT NOT NULL REFERENCES runs (id),
          round INTEGER NOT NULL,
          succeeded INTEGER NOT NULL,
          loss DOUBLE PRECISION,
          metrics TEXT NOT NULL,
          participants TEXT NOT NULL,
          failures TEXT NOT NULL,
          duration_ms BIGINT NOT NULL,
          recorded_ms BIGINT NOT NULL,
          PRIMARY KEY (run_id, round))
        """,
        """
        CREATE TABLE audit (
          seq BIGINT PRIMARY KEY,
          time_ms BIGINT NOT NULL,
          actor TEXT NOT NULL,
          action TEXT NOT NULL,
          subject TEXT NOT NULL,
          detail TEXT NOT NULL,
          prev_hash TEXT NOT NULL,
          hash TEXT NOT NULL)
        """,
    ];

    private static string[] Indexes(SqlDialect d) =>
    [
        "CREATE INDEX job_nodes_by_node ON job_nodes (node, decided_ms)",
        "CREATE INDEX jobs_by_status ON jobs (status, submitted_ms)",
        "CREATE INDEX runs_by_job ON runs (job_id, started_ms)",
    ];

    private static string[] RoundDetail(SqlDialect d) =>
    [
        "ALTER TABLE rounds ADD COLUMN aggregator_metrics TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE rounds ADD COLUMN client_metrics TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE runs ADD COLUMN cross_site TEXT",
    ];
}
