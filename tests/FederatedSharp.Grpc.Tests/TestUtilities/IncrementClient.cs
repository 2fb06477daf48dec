using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>Adds 1 to every value of the model it received and returns that as its update (3 examples).</summary>
public sealed class IncrementClient : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ModelParameters update = instructions.Parameters.Clone();
        System.Numerics.Tensors.TensorPrimitives.Add(update.Values, 1f, update.Values);
        return Task.FromResult(new FitResult(update, 3));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
}
