using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>
/// Returns the global model plus noise that depends only on (client, round): deterministic, yet sensitive to the order
/// of float sums. Evaluation reports a loss and an accuracy derived from the parameters, so histories differ when
/// models do.
/// </summary>
public sealed class NoisyClient(int index, float scale = 1e3f) : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        var random = new DeterministicRandom(DeterministicRandom.Mix((ulong)index, (ulong)instructions.Round));
        ModelParameters p = instructions.Parameters.Clone();
        foreach (ref float v in p.Values)
        {
            v += (float)((random.NextDouble() - 0.5) * scale);
        }

        return Task.FromResult(new FitResult(p, 1 + (index * 7 % 13), new ConfigRecord { ["train_loss"] = random.NextDouble() }));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        double mean = 0;
        foreach (float v in instructions.Parameters.Values)
        {
            mean += v;
        }

        mean /= Math.Max(1, instructions.Parameters.Length);
        return Task.FromResult(new EvaluateResult(Math.Abs(mean) + index, 5 + index, new ConfigRecord { ["accuracy"] = 1 / (1 + Math.Abs(mean)) }));
    }
}
