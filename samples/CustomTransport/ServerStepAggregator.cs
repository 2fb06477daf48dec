using System.Numerics.Tensors;
using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace CustomTransport;

// snippet: custom-aggregator
/// <summary>
/// A custom strategy: move the global model only part of the way towards the example-weighted mean of the updates,
/// <c>w = w + step (avg - w)</c>. Streaming like FedAvg: one running sum, whatever the number of clients.
/// </summary>
public sealed class ServerStepAggregator(double step) : IAggregator
{
    public string Name => "ServerStep";

    public void ConfigureFit(int round, ConfigRecord config) => config["server_step"] = step;

    public IRoundAggregator BeginRound(ModelParameters globalParameters, AggregationContext context) => new Round(globalParameters, (float)step);

    private sealed class Round(ModelParameters global, float step) : IRoundAggregator
    {
        private readonly float[] _sum = new float[global.Length];
        private readonly object _gate = new();
        private double _weight;
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Add(ClientUpdate update)
        {
            global.Layout.EnsureCompatible(update.Parameters.Layout, $"update from {update.ClientId}");
            lock (_gate)
            {
                TensorPrimitives.MultiplyAdd(update.Parameters.Values, update.ExampleCount, _sum, _sum);
                _weight += update.ExampleCount;
                _count++;
            }
        }

        public ModelParameters Complete()
        {
            lock (_gate)
            {
                if (_count == 0)
                {
                    throw new InvalidOperationException("No updates to aggregate.");
                }

                ModelParameters result = global.Clone();
                Span<float> w = result.Values;
                for (int i = 0; i < w.Length; i++)
                {
                    float average = (float)(_sum[i] / _weight);
                    w[i] += step * (average - w[i]);
                }

                return result;
            }
        }

        public void Dispose()
        {
        }
    }
}
// end snippet
