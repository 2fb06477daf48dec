namespace FederatedSharp.Coordinator.Store;

/// <summary>Where SQLite and PostgreSQL differ in the store's SQL; everything else is shared.</summary>
internal sealed class SqlDialect
{
    private SqlDialect(string name, string identity, string lockAudit)
    {
        Name = name;
        IdentityColumn = identity;
        LockAudit = lockAudit;
    }

    public static SqlDialect Sqlite { get; } = new("sqlite", "INTEGER PRIMARY KEY AUTOINCREMENT", "");

    public static SqlDialect Postgres { get; } = new("postgresql", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE");

    public string Name { get; }

    /// <summary>A 64-bit auto-numbered primary key column's type.</summary>
    public string IdentityColumn { get; }

    /// <summary>Serialises audit appends inside a transaction (SQLite's write transactions already are).</summary>
    public string LockAudit { get; }

    /// <summary>Serialises migrations inside a transaction.</summary>
    public string LockMigrations => Name == "postgresql" ? "LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE" : "";
}
