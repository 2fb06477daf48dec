using System.Globalization;
using System.Text.Json;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;

namespace CustomTransport;

/// <summary>The client side of <see cref="FolderTransport"/>: registers in its folder, answers requests with any <see cref="IClient"/>.</summary>
public sealed class FolderClientRunner(string root, string clientId, IClient client, IModelSerializer serializer)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string folder = Path.Combine(root, clientId);
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "registered"), DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (string request in Directory.GetFiles(folder, "*.request").Order(StringComparer.Ordinal))
            {
                string stem = request[..^".request".Length];
                string kind = Path.GetFileName(stem).Split('-')[0];
                int round = int.Parse(Path.GetFileName(stem).Split('-')[1], CultureInfo.InvariantCulture);
                ConfigRecord config = ReadConfig(stem + ".config");
                ModelParameters parameters;
                await using (FileStream stream = File.OpenRead(request))
                {
                    parameters = await serializer.DeserializeAsync(stream, cancellationToken).ConfigureAwait(false);
                }

                using (parameters)
                {
                    var meta = new Dictionary<string, double>();
                    if (kind == "fit")
                    {
                        using FitResult result = await client.FitAsync(new FitInstructions(round, parameters, config), cancellationToken).ConfigureAwait(false);
                        await using (FileStream stream = File.Create(stem + ".answer.model"))
                        {
                            await serializer.SerializeAsync(result.Parameters, stream, cancellationToken).ConfigureAwait(false);
                        }

                        meta["examples"] = result.ExampleCount;
                        Copy(result.Metrics, meta);
                    }
                    else
                    {
                        EvaluateResult result = await client.EvaluateAsync(new EvaluateInstructions(round, parameters, config), cancellationToken).ConfigureAwait(false);
                        meta["examples"] = result.ExampleCount;
                        meta["loss"] = result.Loss;
                        Copy(result.Metrics, meta);
                    }

                    await File.WriteAllTextAsync(stem + ".answer.meta.tmp", JsonSerializer.Serialize(meta), cancellationToken).ConfigureAwait(false);
                    File.Move(stem + ".answer.meta.tmp", stem + ".answer.meta", overwrite: true);
                }

                File.Delete(request);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Copy(ConfigRecord metrics, Dictionary<string, double> meta)
    {
        foreach ((string key, ConfigValue value) in metrics.Where(p => p.Value.IsNumeric))
        {
            meta[key] = value.AsDouble();
        }
    }

    private static ConfigRecord ReadConfig(string path)
    {
        var raw = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? new Dictionary<string, string>();
        var config = new ConfigRecord();
        foreach ((string key, string value) in raw)
        {
            config[key] = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? l
                : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d
                : bool.TryParse(value, out bool b) ? b
                : (ConfigValue)value;
        }

        return config.Freeze();
    }
}
