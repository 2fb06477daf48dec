using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using System.Runtime.CompilerServices;

namespace FederatedSharp.Coordinator.Store;

/// <summary>
/// The coordinator's database: jobs, runs, rounds and metrics, the node registry, tokens and the audit trail. SQLite is
/// the embedded default (one file, nothing to set up); PostgreSQL is chosen by its connection string. The same SQL and
/// the same tests run on both. <see cref="MigrateAsync"/> brings the schema to the latest version.
/// </summary>
public sealed partial class CoordinatorStore : IAsyncDisposable
{
    private readonly Func<DbConnection> _connect;
    private readonly SqlDialect _dialect;
    private readonly NpgsqlDataSource? _postgres;
    private readonly TimeProvider _time;

    private CoordinatorStore(Func<DbConnection> connect, SqlDialect dialect, NpgsqlDataSource? postgres, TimeProvider? time)
    {
        _connect = connect;
        _dialect = dialect;
        _postgres = postgres;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised after a write changed something (the dashboard's live pages refresh on it).</summary>
    internal event Action? Changed;

    /// <summary>The database: <c>sqlite</c> or <c>postgresql</c>.</summary>
    public string Provider => _dialect.Name;

    /// <summary>The schema version this library writes.</summary>
    public static int LatestSchemaVersion => StoreMigrations.Latest;

    /// <summary>
    /// Opens a store by connection string: a PostgreSQL one (<c>Host=...;Username=...</c>), or a SQLite one
    /// (<c>Data Source=coordinator.db</c>), or simply a file path for SQLite.
    /// </summary>
    /// <param name="connectionString">The connection string or file path.</param>
    /// <param name="timeProvider">The clock for the store's own timestamps (default: the system's).</param>
    /// <returns>The store (call <see cref="MigrateAsync"/> before use).</returns>
    public static CoordinatorStore Open(string connectionString, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        if (connectionString.Contains("Host=", StringComparison.OrdinalIgnoreCase) || connectionString.Contains("Server=", StringComparison.OrdinalIgnoreCase))
        {
            return OpenPostgres(connectionString, timeProvider);
        }

        return connectionString.Contains('=', StringComparison.Ordinal)
            ? OpenSqlite(new SqliteConnectionStringBuilder(connectionString).DataSource, timeProvider)
            : OpenSqlite(connectionString, timeProvider);
    }

    /// <summary>Opens (or creates) a SQLite store in one file.</summary>
    /// <param name="path">The database file.</param>
    /// <param name="timeProvider">The clock for the store's own timestamps (default: the system's).</param>
    /// <returns>The store.</returns>
    public static CoordinatorStore OpenSqlite(string path, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string connection = new SqliteConnectionStringBuilder { DataSource = full, ForeignKeys = true, Pooling = true, DefaultTimeout = 30 }.ToString();
        return new CoordinatorStore(() => new SqliteConnection(connection), SqlDialect.Sqlite, null, timeProvider);
    }

    /// <summary>Opens a PostgreSQL store.</summary>
    /// <param name="connectionString">An Npgsql connection string; <c>Search Path</c> selects the schema.</param>
    /// <param name="timeProvider">The clock for the store's own timestamps (default: the system's).</param>
    /// <returns>The store.</returns>
    public static CoordinatorStore OpenPostgres(string connectionString, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        NpgsqlDataSource source = NpgsqlDataSource.Create(connectionString);
        return new CoordinatorStore(source.CreateConnection, SqlDialect.Postgres, source, timeProvider);
    }

    /// <summary>Applies every migration the database lacks, each in its own transaction.</summary>
    /// <param name="cancellationToken">Cancels the migration (the current one rolls back).</param>
    /// <returns>The versions applied now (empty when the schema was current).</returns>
    /// <exception cref="InvalidOperationException">The database has a newer schema than this library knows.</exception>
    public async Task<IReadOnlyList<int>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionDisposal = connection.ConfigureAwait(false);
        await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)", [], cancellationToken).ConfigureAwait(false);
        var applied = new List<int>();
        foreach ((int version, string name, Func<SqlDialect, string[]> statements) in StoreMigrations.All)
        {
            DbTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken).ConfigureAwait(false);
            await using ConfiguredAsyncDisposable transactionDisposal = transaction.ConfigureAwait(false);
            if (_dialect.LockMigrations.Length > 0)
            {
                await ExecuteAsync(connection, transaction, _dialect.LockMigrations, [], cancellationToken).ConfigureAwait(false);
            }

            long? present = await ScalarAsync<long?>(connection, transaction, "SELECT MAX(version) FROM schema_migrations", [], cancellationToken).ConfigureAwait(false);
            if (present > StoreMigrations.Latest)
            {
                throw new InvalidOperationException($"The {Provider} database has schema version {present}, newer than this coordinator's {StoreMigrations.Latest}; upgrade the coordinator.");
            }

            if (present >= version)
            {
                continue;
            }

            foreach (string sql in statements(_dialect))
            {
                await ExecuteAsync(connection, transaction, sql, [], cancellationToken).ConfigureAwait(false);
            }

            await ExecuteAsync(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (@v, @n, @t)",
                [("v", version), ("n", name), ("t", _time.GetUtcNow())], cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            applied.Add(version);
        }

        return applied;
    }

    /// <summary>The database's schema version (0 before the first migration).</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The version.</returns>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionDisposal = connection.ConfigureAwait(false);
        await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)", [], cancellationToken).ConfigureAwait(false);
        return (int)(await ScalarAsync<long?>(connection, null, "SELECT MAX(version) FROM schema_migrations", [], cancellationToken).ConfigureAwait(false) ?? 0);
    }

    /// <summary>Releases the connection pool.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = _connect();
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, (string Name, object? Value)[] parameters)
    {
        DbCommand command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach ((string name, object? value) in parameters)
        {
            DbParameter p = command.CreateParameter();
            p.ParameterName = "@" + name;
            p.Value = value switch
            {
                null => DBNull.Value,
                bool b => b ? 1 : 0,
                DateTimeOffset t => t.ToUnixTimeMilliseconds(),
                Enum e => StoreText.Of(e),
                _ => value,
            };
            command.Parameters.Add(p);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        DbCommand command = Command(connection, transaction, sql, parameters);
        await using ConfiguredAsyncDisposable commandDisposal = command.ConfigureAwait(false);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T?> ScalarAsync<T>(DbConnection connection, DbTransaction? transaction, string sql, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        DbCommand command = Command(connection, transaction, sql, parameters);
        await using ConfiguredAsyncDisposable commandDisposal = command.ConfigureAwait(false);
        object? value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (value is null or DBNull)
        {
            return default;
        }

        Type target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)Convert.ChangeType(value, target, System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<List<T>> QueryAsync<T>(string sql, (string, object?)[] parameters, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionDisposal = connection.ConfigureAwait(false);
        DbCommand command = Command(connection, null, sql, parameters);
        await using ConfiguredAsyncDisposable commandDisposal = command.ConfigureAwait(false);
        DbDataReader reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable readerDisposal = reader.ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    private async Task<int> ExecuteAsync(string sql, (string, object?)[] parameters, CancellationToken cancellationToken)
    {
        DbConnection connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable connectionDisposal = connection.ConfigureAwait(false);
        int changed = await ExecuteAsync(connection, null, sql, parameters, cancellationToken).ConfigureAwait(false);
        if (changed > 0)
        {
            Changed?.Invoke();
        }

        return changed;
    }
}
