using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>
/// A client whose update depends on state from its earlier calls (a running "momentum", as SCAFFOLD's control variate
/// does): kept in <see cref="FitInstructions.State"/> when the deployment gives one, else in a field. Disposable, and
/// throws once disposed, like a TorchSharp trainer.
/// </summary>
public sealed class CountingStateClient(int index) : IClient, IDisposable
{
    private float _momentum;
    private bool _disposed;

    public int Disposals { get; private set; }

    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        float momentum = instructions.State is { } state ? (state.GetFloats("momentum")?[0] ?? 0) : _momentum;
        momentum = (0.5f * momentum) + index + 1;
        if (instructions.State is { } s)
        {
            s.SetFloats("momentum", new[] { momentum });
        }

        _momentum = momentum;
        ModelParameters result = instructions.Parameters.Clone();
        foreach (ref float v in result.Values)
        {
            v += momentum;
        }

        return Task.FromResult(new FitResult(result, 10 + index, new ConfigRecord { ["momentum"] = (double)momentum }));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Task.FromResult(new EvaluateResult(instructions.Parameters.Values[0], 5 + index, new ConfigRecord { ["accuracy"] = 0.1 * (index + 1) }));
    }

    public void Dispose()
    {
        _disposed = true;
        Disposals++;
    }
}
