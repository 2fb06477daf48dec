namespace FederatedSharp.Server;

/// <summary>
/// Settings of buffered asynchronous aggregation (FedBuff, Nguyen et al. 2022, "Federated Learning with Buffered
/// Asynchronous Aggregation"). The server keeps <see cref="Concurrency"/> clients training at all times; every client
/// trains from the newest global model it was given; each finished update <c>d_i = w_i - w_start</c> is weighted by
/// its staleness <c>s(t) = 1 / sqrt(1 + t)</c> (t = server updates since the client started) and buffered; every
/// <see cref="BufferSize"/> updates the server moves <c>w = w + eta * sum(n_i s(t_i) d_i) / sum(n_i)</c> (n_i the
/// example counts, or 1 each without <see cref="WeightByExamples"/>). Slow clients never block fast
/// ones. Each server update is one entry of the history; <see cref="FederatedServerOptions.Rounds"/> counts them.
/// Arrival order decides the result, so unlike synchronous rounds it is not bit-for-bit reproducible.
/// </summary>
public sealed class BufferedAsyncOptions
{
    /// <summary>Client updates per server update, K (default 10, as in the paper).</summary>
    public int BufferSize { get; set; } = 10;

    /// <summary>Clients training at the same time (default 20).</summary>
    public int Concurrency { get; set; } = 20;

    /// <summary>Server learning rate eta (default 1.0).</summary>
    public double ServerLearningRate { get; set; } = 1.0;

    /// <summary>
    /// Weight each buffered update by its example count as well as its staleness (default true, as FedAvg does);
    /// false gives the paper's unweighted mean, which lets small clients pull as hard as large ones.
    /// </summary>
    public bool WeightByExamples { get; set; } = true;

    /// <summary>Updates older than this many server updates are discarded (default 100).</summary>
    public int MaxStaleness { get; set; } = 100;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(BufferSize, nameof(BufferSize));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Concurrency, nameof(Concurrency));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxStaleness, nameof(MaxStaleness));
        if (!(ServerLearningRate > 0) || !double.IsFinite(ServerLearningRate))
        {
            throw new ArgumentOutOfRangeException(nameof(ServerLearningRate), ServerLearningRate, "The server learning rate must be a finite number > 0.");
        }
    }

    /// <summary>The staleness weight <c>1 / sqrt(1 + t)</c>.</summary>
    /// <param name="staleness">Server updates since the client started.</param>
    /// <returns>The weight.</returns>
    public static double StalenessWeight(int staleness) => 1 / Math.Sqrt(1 + staleness);
}
