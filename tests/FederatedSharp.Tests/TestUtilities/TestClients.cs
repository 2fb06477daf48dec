using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>A client whose fit returns the global parameters plus <c>Delta</c>, with a given example count, and records what it saw.</summary>
public sealed class ShiftClient(float delta, long examples, double evalLoss = 1.0, double accuracy = 0.5) : IClient
{
    private int _fitCalls;

    public int FitCalls => Volatile.Read(ref _fitCalls);

    public ConfigRecord? LastFitConfig { get; private set; }

    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new ConfigRecord { ["examples"] = examples }.Freeze());

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _fitCalls);
        LastFitConfig = instructions.Config;
        ModelParameters result = instructions.Parameters.Clone();
        foreach (ref float v in result.Values)
        {
            v += delta;
        }

        return Task.FromResult(new FitResult(result, examples, new ConfigRecord { ["train_loss"] = (double)delta }.Freeze()));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(evalLoss, examples, new ConfigRecord { ["accuracy"] = accuracy }.Freeze()));
}

/// <summary>A client that throws on fit and evaluate.</summary>
public sealed class ThrowingClient : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("disk full");

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException("disk full");
}

/// <summary>A client that never answers unless cancelled (or, with ignoreCancellation, not even then).</summary>
public sealed class HangingClient(bool ignoreCancellation = false) : IClient
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Started => _started.Task;

    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        _started.TrySetResult();
        await Task.Delay(Timeout.Infinite, ignoreCancellation ? CancellationToken.None : cancellationToken);
        throw new InvalidOperationException("unreachable");
    }

    public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        await Task.Delay(Timeout.Infinite, ignoreCancellation ? CancellationToken.None : cancellationToken);
        throw new InvalidOperationException("unreachable");
    }
}

/// <summary>A client that returns a fixed (possibly malformed) result.</summary>
public sealed class FixedResultClient(Func<ModelParameters, ModelParameters> make, long examples = 10) : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new FitResult(make(instructions.Parameters), examples));

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(0.5, examples));
}
