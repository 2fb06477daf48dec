using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FederatedSharp.Grpc.Security;

namespace FederatedSharp.Cli;

/// <summary>An HTTPS client of the coordinator's API: it trusts only the coordinator's CA and sends the bearer token.</summary>
internal sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    private ApiClient(HttpClient http) => _http = http;

    public static Option<Uri?> CoordinatorOption { get; } = new("--coordinator")
    {
        Description = "The coordinator's address (default: $FEDSHARP_COORDINATOR).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FEDSHARP_COORDINATOR") is { Length: > 0 } url ? new Uri(url) : null,
        CustomParser = r => Uri.TryCreate(r.Tokens[0].Value, UriKind.Absolute, out Uri? uri) ? uri : throw new ArgumentException($"'{r.Tokens[0].Value}' is not an absolute address such as https://coordinator.example.org:5400."),
    };

    public static Option<string?> TokenOption { get; } = new("--token")
    {
        Description = "Your API token (default: $FEDSHARP_TOKEN).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FEDSHARP_TOKEN"),
    };

    public static Option<FileInfo?> AuthorityOption { get; } = new("--ca")
    {
        Description = "The coordinator's CA certificate to trust (default: $FEDSHARP_CA).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FEDSHARP_CA") is { Length: > 0 } path ? new FileInfo(path) : null,
    };

    public static void AddOptions(Command command)
    {
        command.Options.Add(CoordinatorOption);
        command.Options.Add(TokenOption);
        command.Options.Add(AuthorityOption);
    }

    public static ApiClient Create(ParseResult parse)
    {
        Uri coordinator = parse.GetValue(CoordinatorOption) ?? throw new ArgumentException("Give the coordinator's address with --coordinator or $FEDSHARP_COORDINATOR.");
        string token = parse.GetValue(TokenOption) ?? throw new ArgumentException("Give your API token with --token or $FEDSHARP_TOKEN.");
        FileInfo authority = parse.GetValue(AuthorityOption) ?? throw new ArgumentException("Give the coordinator's CA certificate with --ca or $FEDSHARP_CA.");
        var ca = FederationCertificates.LoadCertificatePem(authority.FullName);
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => FederationCertificates.ServerValidator(ca)(new object(), certificate, chain, errors) };
        var http = new HttpClient(handler) { BaseAddress = coordinator, Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new ApiClient(http);
    }

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken) =>
        await ReadAsync(await _http.GetAsync(path, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async Task<JsonElement> PostAsync(string path, object? body, CancellationToken cancellationToken) =>
        await ReadAsync(await _http.PostAsJsonAsync(path, body ?? new { }, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public async Task<byte[]> DownloadAsync(string path, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            await ReadAsync(response, cancellationToken).ConfigureAwait(false);
        }

        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonElement body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            if (!response.IsSuccessStatusCode)
            {
                string error = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out JsonElement e) ? e.GetString()! : text;
                throw new ApiException((int)response.StatusCode, error);
            }

            return body;
        }
    }
}

/// <summary>The coordinator answered with an error.</summary>
internal sealed class ApiException(int status, string message) : Exception($"{message} (HTTP {status})")
{
    public int Status { get; } = status;
}
