using System.Globalization;
using System.Text.Json;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Transport;

namespace CustomTransport;

// snippet: folder-transport
/// <summary>
/// An <see cref="ITransport"/> over a shared folder (a network share, a synced directory, a USB stick carried between
/// sites). Each client owns a sub-folder; the server drops a request file (model + config) there and waits for the
/// client's answer file. Shows the contract integrators implement: list connected clients, wait for enough of them,
/// and give a connection per client whose calls honour cancellation (the server enforces deadlines through it).
/// </summary>
public sealed class FolderTransport(string root, IModelSerializer serializer) : ITransport
{
    public IReadOnlyList<string> GetAvailableClients()
    {
        if (!Directory.Exists(root))
        {
            return Array.Empty<string>();
        }

        string[] ids = Directory.GetDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, "registered")))
            .Select(Path.GetFileName)
            .OfType<string>()
            .ToArray();
        Array.Sort(ids, StringComparer.Ordinal);
        return ids;
    }

    public async Task WaitForClientsAsync(int minimum, CancellationToken cancellationToken = default)
    {
        while (GetAvailableClients().Count < minimum)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
        }
    }

    public IClientConnection GetConnection(string clientId) =>
        GetAvailableClients().Contains(clientId, StringComparer.Ordinal)
            ? new Connection(Path.Combine(root, clientId), clientId, serializer)
            : throw new UnknownClientException(clientId);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class Connection(string folder, string clientId, IModelSerializer serializer) : IClientConnection
    {
        public string ClientId => clientId;

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            string answer = await ExchangeAsync("fit", instructions.Round, instructions.Parameters, instructions.Config, cancellationToken).ConfigureAwait(false);
            await using FileStream stream = File.OpenRead(answer + ".model");
            ModelParameters parameters = await serializer.DeserializeAsync(stream, cancellationToken).ConfigureAwait(false);
            Dictionary<string, double> meta = ReadMeta(answer);
            return new FitResult(parameters, (long)meta["examples"], Metrics(meta));
        }

        public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
        {
            string answer = await ExchangeAsync("evaluate", instructions.Round, instructions.Parameters, instructions.Config, cancellationToken).ConfigureAwait(false);
            Dictionary<string, double> meta = ReadMeta(answer);
            return new EvaluateResult(meta["loss"], (long)meta["examples"], Metrics(meta));
        }

        // Writes the request atomically (temp file, then rename) and waits for the answer file.
        private async Task<string> ExchangeAsync(string kind, int round, ModelParameters parameters, ConfigRecord config, CancellationToken cancellationToken)
        {
            string request = Path.Combine(folder, $"{kind}-{round.ToString("D4", CultureInfo.InvariantCulture)}");
            await using (FileStream stream = File.Create(request + ".model.tmp"))
            {
                await serializer.SerializeAsync(parameters, stream, cancellationToken).ConfigureAwait(false);
            }

            await File.WriteAllTextAsync(request + ".config.tmp", JsonSerializer.Serialize(config.ToDictionary(p => p.Key, p => p.Value.ToString())), cancellationToken).ConfigureAwait(false);
            File.Move(request + ".config.tmp", request + ".config", overwrite: true);
            File.Move(request + ".model.tmp", request + ".request", overwrite: true);
            string answer = request + ".answer";
            while (!File.Exists(answer + ".meta"))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
            }

            return answer;
        }

        private static Dictionary<string, double> ReadMeta(string answer) =>
            JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(answer + ".meta"))
            ?? throw new InvalidDataException($"Empty answer {answer}.meta.");

        private static ConfigRecord Metrics(Dictionary<string, double> meta)
        {
            var metrics = new ConfigRecord();
            foreach ((string key, double value) in meta.Where(p => p.Key is not ("examples" or "loss")))
            {
                metrics[key] = value;
            }

            return metrics.Freeze();
        }
    }
}
// end snippet
