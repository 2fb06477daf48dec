namespace GrpcFederation;

/// <summary>
/// The sample's own settings, bound from the <c>Federation</c> section of <c>appsettings.json</c>; environment
/// variables (<c>Federation__Rounds=5</c>) and the command line (<c>--rounds 5</c>) override them.
/// </summary>
public sealed class FederationSettings
{
    /// <summary>The command-line switches and the settings they set.</summary>
    public static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--port"] = "Federation:Port",
        ["--rounds"] = "Federation:Rounds",
        ["--seed"] = "Federation:Seed",
        ["--certs"] = "Federation:CertificateDirectory",
        ["--plot"] = "Federation:Plot",
        ["--host"] = "Federation:ExtraHostNames",
        ["--hospital"] = "Federation:Hospital",
        ["--server"] = "Federation:ServerAddress",
        ["--otel-console"] = "Federation:OpenTelemetryConsole",
    };

    /// <summary>The server's port.</summary>
    public int Port { get; set; } = 5443;

    /// <summary>Rounds of the federation.</summary>
    public int Rounds { get; set; } = 15;

    /// <summary>The seed of sampling, initialisation and local batches.</summary>
    public ulong Seed { get; set; } = 42;

    /// <summary>The folder of the federation's certificates (created by the server on first run).</summary>
    public string CertificateDirectory { get; set; } = "certs";

    /// <summary>Where the server writes its plot.</summary>
    public string Plot { get; set; } = "grpc-federation.png";

    /// <summary>Host names added to the server certificate besides localhost, comma-separated.</summary>
    public string ExtraHostNames { get; set; } = "";

    /// <summary>The hospital a client process serves.</summary>
    public string? Hospital { get; set; }

    /// <summary>The server a client dials; null for localhost on <see cref="Port"/>.</summary>
    public string? ServerAddress { get; set; }

    /// <summary>Export traces and metrics through OpenTelemetry's console exporter.</summary>
    public bool OpenTelemetryConsole { get; set; }
}
