using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using FederatedSharp.Coordinator.Security;
using FederatedSharp.Coordinator.Store;
using FederatedSharp.Grpc.Security;

namespace FederatedSharp.Coordinator;

/// <summary>The coordinator's settings file, <c>coordinator.json</c>.</summary>
public sealed class CoordinatorSettings
{
    /// <summary>The store: a SQLite file path or connection string (default <c>coordinator.db</c> in the home), or a PostgreSQL connection string.</summary>
    public string Store { get; set; } = "coordinator.db";

    /// <summary>The host names nodes and researchers reach the coordinator by (in its TLS certificate).</summary>
    public List<string> HostNames { get; set; } = ["localhost"];
}

/// <summary>
/// The coordinator's home directory: its settings, its CA (whose key signs the nodes' requests and stays here), its
/// TLS certificate, the store (SQLite by default), final models and round checkpoints. No node's private key is ever
/// here: nodes send certificate signing requests.
/// </summary>
public sealed class CoordinatorHome
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private CoordinatorHome(string directory, CoordinatorSettings settings)
    {
        Directory = directory;
        Settings = settings;
    }

    /// <summary>The directory.</summary>
    public string Directory { get; }

    /// <summary>The settings.</summary>
    public CoordinatorSettings Settings { get; }

    /// <summary>The store's connection string (a relative SQLite path is taken inside the home).</summary>
    public string StoreConnectionString =>
        Settings.Store.Contains('=', StringComparison.Ordinal) || Path.IsPathRooted(Settings.Store) ? Settings.Store : Path.Combine(Directory, Settings.Store);

    /// <summary>Where final models are kept, one safetensors file per job.</summary>
    public string ModelsDirectory => Path.Combine(Directory, "models");

    /// <summary>Where each job's round checkpoints are kept.</summary>
    public string CheckpointsDirectory => Path.Combine(Directory, "checkpoints");

    /// <summary>The CA certificate file, which nodes need to trust the coordinator.</summary>
    public string AuthorityCertificatePath => Path.Combine(Directory, "ca.crt");

    /// <summary>
    /// Creates a coordinator home: a new CA and TLS certificate, the settings, the migrated store, and the first admin's
    /// API token. There is no default password: the token is returned once and exists nowhere else.
    /// </summary>
    /// <param name="directory">The directory (must not hold a coordinator yet).</param>
    /// <param name="adminName">The first admin's name.</param>
    /// <param name="settings">The settings (default: SQLite in the home, localhost).</param>
    /// <param name="timeProvider">The clock (default: the system's).</param>
    /// <param name="cancellationToken">Cancels the set-up.</param>
    /// <returns>The home and the admin's token.</returns>
    /// <exception cref="InvalidOperationException">The directory already holds a coordinator.</exception>
    public static async Task<(CoordinatorHome Home, string AdminToken)> InitializeAsync(
        string directory, string adminName, CoordinatorSettings? settings = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(adminName);
        TimeProvider time = timeProvider ?? TimeProvider.System;
        string full = Path.GetFullPath(directory);
        if (File.Exists(Path.Combine(full, "coordinator.json")))
        {
            throw new InvalidOperationException($"{full} already holds a coordinator.");
        }

        System.IO.Directory.CreateDirectory(full);
        var home = new CoordinatorHome(full, settings ?? new CoordinatorSettings());
        using (FederationCertificateAuthority ca = FederationCertificateAuthority.Create("FederatedSharp coordinator CA", timeProvider: time))
        {
            ca.Save(home.AuthorityCertificatePath, Path.Combine(full, "ca.key"));
            using X509Certificate2 server = ca.IssueServerCertificate(home.Settings.HostNames, [IPAddress.Loopback]);
            FederationCertificates.SavePem(server, Path.Combine(full, "server.crt"), Path.Combine(full, "server.key"));
        }

        RestrictToOwner(Path.Combine(full, "ca.key"));
        RestrictToOwner(Path.Combine(full, "server.key"));
        File.WriteAllText(Path.Combine(full, "coordinator.json"), JsonSerializer.Serialize(home.Settings, Json));
        CoordinatorStore store = CoordinatorStore.Open(home.StoreConnectionString, time);
        await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable storeDisposal = store.ConfigureAwait(false);
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        await store.AppendAuditAsync(adminName, "coordinator.initialized", full, $"store {store.Provider}", time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        string token = await ApiTokens.IssueAsync(store, adminName, Role.Admin, TimeSpan.FromDays(365), adminName, time, cancellationToken).ConfigureAwait(false);
        return (home, token);
    }

    /// <summary>Opens an existing coordinator home.</summary>
    /// <param name="directory">The directory.</param>
    /// <returns>The home.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory holds no coordinator (run <c>fedsharp coordinator init</c>).</exception>
    public static CoordinatorHome Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        string file = Path.Combine(full, "coordinator.json");
        if (!File.Exists(file))
        {
            throw new DirectoryNotFoundException($"{full} holds no coordinator (no coordinator.json); create one with `fedsharp coordinator init`.");
        }

        return new CoordinatorHome(full, JsonSerializer.Deserialize<CoordinatorSettings>(File.ReadAllText(file), Json) ?? new CoordinatorSettings());
    }

    /// <summary>The CA, with its key, which signs nodes' requests.</summary>
    /// <param name="timeProvider">The clock issued certificates are dated by.</param>
    /// <returns>The CA (the caller disposes it).</returns>
    public FederationCertificateAuthority LoadAuthority(TimeProvider? timeProvider = null) =>
        FederationCertificateAuthority.Load(AuthorityCertificatePath, Path.Combine(Directory, "ca.key"), timeProvider);

    /// <summary>The coordinator's TLS certificate with its key.</summary>
    /// <returns>The certificate (the caller disposes it).</returns>
    public X509Certificate2 LoadServerCertificate() => FederationCertificates.LoadPem(Path.Combine(Directory, "server.crt"), Path.Combine(Directory, "server.key"));

    private static void RestrictToOwner(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
