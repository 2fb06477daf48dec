using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.TestUtilities;

/// <summary>Trains only the named tensors: adds its shift to them and returns just those.</summary>
public sealed class PartialClient(float shift, params TensorSpec[] trained) : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ModelParameters part = ModelParameters.Create(TensorLayout.Create(trained));
        for (int t = 0; t < trained.Length; t++)
        {
            Span<float> target = part.GetTensor(t);
            instructions.Parameters.GetTensor(trained[t].Name).CopyTo(target);
            System.Numerics.Tensors.TensorPrimitives.Add(target, shift, target);
        }

        return Task.FromResult(new FitResult(part, 10));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => Task.FromResult(new EvaluateResult(0, 1));
}
