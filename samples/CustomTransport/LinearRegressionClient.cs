using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp;

namespace CustomTransport;

/// <summary>A plain C# client: least-squares linear regression y = w.x + b on its own synthetic data, by gradient descent.</summary>
public sealed class LinearRegressionClient : IClient
{
    public static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", 2), new TensorSpec("b", 1));
    private readonly double[][] _x;
    private readonly double[] _y;

    public LinearRegressionClient(int site, int examples)
    {
        var random = new DeterministicRandom((ulong)site);
        _x = Enumerable.Range(0, examples).Select(_ => new[] { random.NextDouble() + site, random.NextDouble() - site }).ToArray();
        _y = _x.Select(x => (2 * x[0]) - (3 * x[1]) + 1 + ((random.NextDouble() - 0.5) * 0.1)).ToArray();
    }

    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ModelParameters model = instructions.Parameters.Clone();
        double lr = instructions.Config.GetDouble(ConfigKeys.LearningRate, 0.05);
        for (int step = 0; step < instructions.Config.GetInt64(ConfigKeys.LocalSteps, 50); step++)
        {
            Span<float> p = model.Values;
            double g0 = 0, g1 = 0, gb = 0;
            for (int i = 0; i < _y.Length; i++)
            {
                double error = (p[0] * _x[i][0]) + (p[1] * _x[i][1]) + p[2] - _y[i];
                g0 += error * _x[i][0];
                g1 += error * _x[i][1];
                gb += error;
            }

            p[0] -= (float)(lr * g0 / _y.Length);
            p[1] -= (float)(lr * g1 / _y.Length);
            p[2] -= (float)(lr * gb / _y.Length);
        }

        return Task.FromResult(new FitResult(model, _y.Length, new ConfigRecord { [ConfigKeys.TrainLoss] = Loss(model.Values) }.Freeze()));
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(Loss(instructions.Parameters.Values), _y.Length));

    private double Loss(ReadOnlySpan<float> p)
    {
        double sum = 0;
        for (int i = 0; i < _y.Length; i++)
        {
            double error = (p[0] * _x[i][0]) + (p[1] * _x[i][1]) + p[2] - _y[i];
            sum += error * error;
        }

        return sum / _y.Length;
    }
}
