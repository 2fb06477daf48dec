using FederatedSharp.Clients;

namespace FederatedSharp.Aggregation;

/// <summary>
/// Creates strategies by name with hyperparameters given by Flower's names, for configuration files, command lines
/// and dependency injection: <c>Aggregators.Create("fedadam", new ConfigRecord { ["eta"] = 0.01 })</c>.
/// </summary>
public static class Aggregators
{
    /// <summary>The accepted names (case-insensitive) and their hyperparameters.</summary>
    public static IReadOnlyDictionary<string, string> Names { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["fedavg"] = "(none)",
        ["fedprox"] = "proximal_mu",
        ["fedavgm"] = "server_learning_rate, server_momentum",
        ["fedadagrad"] = "eta, beta_1, tau",
        ["fedadam"] = "eta, beta_1, beta_2, tau",
        ["fedyogi"] = "eta, beta_1, beta_2, tau",
        ["scaffold"] = "server_learning_rate",
        ["cyclic"] = "group_size, deterministic_cycle",
        ["fedmedian"] = "(none)",
        ["fedtrimmedavg"] = "beta",
        ["krum"] = "num_malicious_clients",
        ["multikrum"] = "num_malicious_clients, num_clients_to_keep",
        ["bulyan"] = "num_malicious_clients",
        ["qfedavg"] = "q_param, qffl_learning_rate",
    };

    /// <summary>Creates the strategy called <paramref name="name"/>.</summary>
    /// <param name="name">A name from <see cref="Names"/> (case-insensitive).</param>
    /// <param name="hyperparameters">Hyperparameters by Flower's names; absent ones take the strategy's defaults.</param>
    /// <returns>The strategy.</returns>
    /// <exception cref="ArgumentException">The name is unknown, or a hyperparameter is not one the strategy takes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A hyperparameter is out of range.</exception>
    public static IAggregator Create(string name, ConfigRecord? hyperparameters = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ConfigRecord h = hyperparameters ?? ConfigRecord.Empty;
        string key = name.ToLowerInvariant();
        if (!Names.TryGetValue(key, out string? accepted))
        {
            throw new ArgumentException($"Unknown strategy '{name}'. Known: {string.Join(", ", Names.Keys)}.", nameof(name));
        }

        foreach (string given in h.Keys)
        {
            if (!accepted.Split(", ").Contains(given))
            {
                throw new ArgumentException($"Strategy '{key}' has no hyperparameter '{given}'; it takes: {accepted}.", nameof(hyperparameters));
            }
        }

        return key switch
        {
            "fedavg" => new FedAvg(),
            "fedprox" => new FedProx(h.GetDouble("proximal_mu", 0.01)),
            "fedavgm" => new FedAvgM(h.GetDouble("server_learning_rate", 1.0), h.GetDouble("server_momentum", 0.0)),
            "fedadagrad" => new FedAdagrad(h.GetDouble("eta", 0.1), h.GetDouble("beta_1", 0.0), 0.0, h.GetDouble("tau", 1e-9)),
            "fedadam" => new FedAdam(h.GetDouble("eta", 0.1), h.GetDouble("beta_1", 0.9), h.GetDouble("beta_2", 0.99), h.GetDouble("tau", 1e-9)),
            "fedyogi" => new FedYogi(h.GetDouble("eta", 0.01), h.GetDouble("beta_1", 0.9), h.GetDouble("beta_2", 0.99), h.GetDouble("tau", 1e-3)),
            "scaffold" => new Scaffold(h.GetDouble("server_learning_rate", 1.0)),
            "cyclic" => new Cyclic((int)h.GetInt64("group_size", 1), h.GetBoolean("deterministic_cycle", false)),
            "fedmedian" => new FedMedian(),
            "fedtrimmedavg" => new FedTrimmedAvg(h.GetDouble("beta", 0.2)),
            "krum" => new Krum((int)h.GetInt64("num_malicious_clients", 0)),
            "multikrum" => new Krum((int)h.GetInt64("num_malicious_clients", 0), (int)h.GetInt64("num_clients_to_keep", 1)),
            "bulyan" => new Bulyan((int)h.GetInt64("num_malicious_clients", 0)),
            _ => new QFedAvg(h.GetDouble("q_param", 0.2), h.GetDouble("qffl_learning_rate", 0.1)),
        };
    }
}
