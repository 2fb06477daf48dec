using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Aggregation;

/// <summary>
/// Every strategy against its scalar double-precision reference on random data: lengths 0, 1, odd, vector-width
/// multiples and past the parallel threshold; odd client counts; random example counts; several rounds for stateful
/// strategies (so momentum and moments are exercised). Runs again with narrower SIMD paths in CI.
/// </summary>
[Category("Kernels")]
public class AggregatorReferenceTests
{
    private static readonly int[] Lengths = { 0, 1, 7, 16, 33, 255, 4099, 300_007 };

    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (int length in Lengths)
        {
            foreach (int clients in new[] { 5, 7 })
            {
                foreach (string strategy in new[] { "fedavgm", "fedadagrad", "fedadam", "fedyogi", "fedmedian", "fedtrimmedavg", "krum", "multikrum", "bulyan", "qfedavg", "cyclic" })
                {
                    if (strategy == "bulyan" && clients < 7)
                    {
                        continue;
                    }

                    yield return new TestCaseData(strategy, length, clients).SetName($"Complete_{strategy}_{length}x{clients}_MatchesReference");
                }
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Complete_RandomRounds_MatchesScalarReference(string strategy, int length, int clients)
    {
        var random = new DeterministicRandom(DeterministicRandom.Mix((ulong)length, (ulong)clients, DeterministicRandom.HashString(strategy)));
        var layout = TensorLayout.Create(new TensorSpec("w", length));
        IAggregator aggregator = strategy switch
        {
            "fedavgm" => new FedAvgM(0.7, 0.9),
            "fedadagrad" => new FedAdagrad(0.1, 0.0, 0.0, 1e-3),
            "fedadam" => new FedAdam(0.1, 0.9, 0.99, 1e-3),
            "fedyogi" => new FedYogi(0.05, 0.9, 0.99, 1e-3),
            "fedmedian" => new FedMedian(),
            "fedtrimmedavg" => new FedTrimmedAvg(0.2),
            "krum" => new Krum(1),
            "multikrum" => new Krum(1, 2),
            "bulyan" => new Bulyan(1),
            "qfedavg" => new QFedAvg(0.5, 0.1),
            _ => new Cyclic(groupSize: clients),
        };
        double[] w = TestModels.RandomArray(length, random).Select(v => (double)v).ToArray();
        double[]? m = null, v2 = null;
        int rounds = aggregator is IStatefulAggregator ? 3 : 1;
        using ModelParameters global = ModelParameters.FromValues(layout, w.Select(x => (float)x).ToArray());
        for (int round = 1; round <= rounds; round++)
        {
            var xs = new List<double[]>();
            var ns = new List<long>();
            var losses = new List<double>();
            var updates = new List<ModelParameters>();
            using IRoundAggregator r = aggregator.BeginRound(global, new AggregationContext(round, clients, clients));
            for (int c = 0; c < clients; c++)
            {
                float[] x = TestModels.RandomArray(length, random, 2);
                for (int i = 0; i < length; i++)
                {
                    x[i] += global.Values[i];
                }

                long n = random.Next(1, 500);
                double loss = 0.1 + random.NextDouble();
                xs.Add(x.Select(v => (double)v).ToArray());
                ns.Add(n);
                losses.Add(loss);
                var p = ModelParameters.FromValues(layout, x);
                updates.Add(p);
                r.Add(new ClientUpdate($"c{c}", p, n, new ConfigRecord { [ConfigKeys.InitialLoss] = loss }));
            }

            if (length == 0 && aggregator is Krum or Bulyan)
            {
                // All distances are zero: any choice is right, only check it completes.
                using ModelParameters trivial = r.Complete();
                Assert.That(trivial.Length, Is.EqualTo(0));
                return;
            }

            double[] gw = global.Values.ToArray().Select(x => (double)x).ToArray();
            double[] expected = Reference(strategy, aggregator, gw, xs, ns, losses, ref m, ref v2, round);
            using ModelParameters result = r.Complete();
            for (int i = 0; i < length; i++)
            {
                double tolerance = 2e-4 * (1 + Math.Abs(expected[i]));
                if (Math.Abs(result.Values[i] - expected[i]) > tolerance)
                {
                    Assert.Fail($"{strategy} round {round}, element {i} of {length}: got {result.Values[i]}, expected {expected[i]}");
                }
            }

            result.Values.CopyTo(global.Values);
            foreach (ModelParameters u in updates)
            {
                u.Dispose();
            }
        }
    }

    private static double[] Reference(string strategy, IAggregator aggregator, double[] w, List<double[]> xs, List<long> ns, List<double> losses, ref double[]? m, ref double[]? v, int round)
    {
        double[] avg = xs.Count == 0 ? Array.Empty<double>() : ReferenceAggregation.WeightedMean(xs.Zip(ns).Select(p => (p.First, p.Second)).ToList());
        int p = w.Length;
        switch (strategy)
        {
            case "fedavgm":
            {
                var a = (FedAvgM)aggregator;
                double[] g = w.Zip(avg, (x, y) => x - y).ToArray();
                m = m is null ? g : m.Zip(g, (mv, gv) => (a.ServerMomentum * mv) + gv).ToArray();
                double[] mm = m;
                return w.Select((x, i) => x - (a.ServerLearningRate * mm[i])).ToArray();
            }

            case "fedadagrad" or "fedadam" or "fedyogi":
            {
                var a = (FedOpt)aggregator;
                double eta = a.Eta, b1 = a.Beta1, b2 = a.Beta2, tau = a.Tau;
                m ??= new double[p];
                v ??= new double[p];
                var r = new double[p];
                for (int i = 0; i < p; i++)
                {
                    double d = avg[i] - w[i];
                    m[i] = (b1 * m[i]) + ((1 - b1) * d);
                    v[i] = strategy switch
                    {
                        "fedadagrad" => v[i] + (d * d),
                        "fedadam" => (b2 * v[i]) + ((1 - b2) * d * d),
                        _ => v[i] - ((1 - b2) * d * d * Math.Sign(v[i] - (d * d))),
                    };
                    r[i] = w[i] + (eta * m[i] / (Math.Sqrt(v[i]) + tau));
                }

                return r;
            }

            case "fedmedian":
                return ReferenceAggregation.Median(xs);
            case "fedtrimmedavg":
                return ReferenceAggregation.TrimmedMean(xs, 0.2);
            case "krum":
                return xs[ReferenceAggregation.KrumOrder(xs, Enumerable.Range(0, xs.Count).ToList(), 1)[0]];
            case "multikrum":
            {
                int[] best = ReferenceAggregation.KrumOrder(xs, Enumerable.Range(0, xs.Count).ToList(), 1).Take(2).ToArray();
                return ReferenceAggregation.WeightedMean(best.Select(i => (xs[i], ns[i])).ToList());
            }

            case "bulyan":
                return ReferenceAggregation.Bulyan(xs, 1);
            case "qfedavg":
            {
                double q = 0.5, l = 1 / 0.1;
                var sumD = new double[p];
                double sumH = 0;
                for (int k = 0; k < xs.Count; k++)
                {
                    double f = losses[k] + 1e-10;
                    double[] dw = w.Zip(xs[k], (a, b) => l * (a - b)).ToArray();
                    double norm = dw.Sum(d => d * d);
                    for (int i = 0; i < p; i++)
                    {
                        sumD[i] += Math.Pow(f, q) * dw[i];
                    }

                    sumH += (q * Math.Pow(f, q - 1) * norm) + (l * Math.Pow(f, q));
                }

                return w.Select((x, i) => x - (sumD[i] / sumH)).ToArray();
            }

            default:
                return avg; // cyclic with one group: the group's weighted mean
        }
    }
}
