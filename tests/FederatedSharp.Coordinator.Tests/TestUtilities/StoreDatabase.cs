using FederatedSharp.Coordinator.Store;
using Npgsql;

namespace FederatedSharp.Coordinator.Tests.TestUtilities;

/// <summary>
/// A fresh, empty database for one test: a SQLite file in a temporary folder, or a new schema in the PostgreSQL server
/// named by FEDSHARP_TEST_POSTGRES (which .ci/run starts and sets). Without that variable the PostgreSQL tests are
/// skipped with the reason; .ci/run fails when they are.
/// </summary>
internal sealed class StoreDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "FEDSHARP_TEST_POSTGRES";

    private readonly string? _file;
    private readonly string? _server;
    private readonly string? _schema;

    private StoreDatabase(string connectionString, string? file, string? server, string? schema)
    {
        ConnectionString = connectionString;
        _file = file;
        _server = server;
        _schema = schema;
    }

    public string ConnectionString { get; }

    public static async Task<StoreDatabase> CreateAsync(string provider)
    {
        if (provider == "sqlite")
        {
            string file = Path.Combine(Path.GetTempPath(), "fedsharp-store-" + Guid.NewGuid().ToString("N") + ".db");
            return new StoreDatabase("Data Source=" + file, file, null, null);
        }

        string? server = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrEmpty(server))
        {
            Assert.Ignore($"skipped: no PostgreSQL ({PostgresVariable} is not set; .ci/run starts a server and sets it)");
        }

        string schema = "t" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await create.ExecuteNonQueryAsync();
        }

        var builder = new NpgsqlConnectionStringBuilder(server) { SearchPath = schema };
        return new StoreDatabase(builder.ToString(), null, server, schema);
    }

    public CoordinatorStore Open(TimeProvider? time = null) => CoordinatorStore.Open(ConnectionString, time);

    /// <summary>Runs raw SQL against the database, as someone with access to it could (to tamper, in tests).</summary>
    public async Task ExecuteAsync(string sql)
    {
        System.Data.Common.DbConnection connection = _file is not null
            ? new Microsoft.Data.Sqlite.SqliteConnection("Data Source=" + _file)
            : new NpgsqlConnection(ConnectionString);
        await using (connection)
        {
            await connection.OpenAsync();
            await using System.Data.Common.DbCommand command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(_file);
        }

        if (_server is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_server);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP SCHEMA {_schema} CASCADE", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }
}
