using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.DownlinkDeltas;

/// <summary>Downlink deltas: each client gets the top-k of the difference from the model it holds, with error feedback on the server.</summary>
public class DownlinkDeltasFeatureTests
{
    private const int Clients = 6;
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", 3000));

    private static async Task<(FederationResult Result, long BytesDown)> RunAsync(
        Func<int, IClient> client, DownlinkDeltaOptions? downlink, IModelSerializer? wire = null, int rounds = 6, double fractionFit = 0.5)
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { WireSerializer = wire, UplinkSerializer = new BinaryModelSerializer() });
        for (int i = 0; i < Clients; i++)
        {
            transport.AddClient($"c{i}", client(i));
        }

        using ModelParameters initial = TestModels.Random(Layout, 5, 0.1f);
        FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = rounds;
                o.MinAvailableClients = Clients;
                o.FractionFit = fractionFit;
                o.FractionEvaluate = 0;
                o.Seed = 3;
            });
        if (downlink is not null)
        {
            builder.UseDownlinkDeltas(downlink);
        }

        FederationResult result = await builder.Build().RunAsync().WithTimeout();
        return (result, transport.BytesSent);
    }

    private static DownlinkDeltaOptions Exact => new() { Fraction = 1.0, HalfPrecision = false };

    [Test]
    public async Task RunAsync_EveryValueSentWhileClientsSkipRounds_EqualsTheWholeModelFederation()
    {
        (FederationResult whole, _) = await RunAsync(i => new NoisyClient(i, 0.4f), null);
        var spies = Enumerable.Range(0, Clients).Select(i => new ForgetfulClient(new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), forgetInRound: -1)).ToArray();
        (FederationResult deltas, _) = await RunAsync(i => spies[i], Exact);
        using (whole)
        using (deltas)
        {
            Assert.That(spies.Select(s => s.Offers.Count), Is.All.LessThanOrEqualTo(1), "one whole model per client at most");
            Assert.That(spies.Sum(s => s.Deltas.Count), Is.EqualTo((6 * 3) - spies.Sum(s => s.Offers.Count)), "every other fit a delta");
            Assert.That(spies.Any(s => s.Deltas.Zip(s.Deltas.Skip(1)).Any(p => p.Second - p.First > 1)), Is.True, "some client skipped rounds between deltas");
            Assert.That(deltas.Parameters.Values.ToArray(), Is.EqualTo(whole.Parameters.Values.ToArray()).Within(1e-5f), "reference + (global - reference) is the global model up to rounding, whatever rounds a client skipped");
            Assert.That(deltas.History.Rounds.SelectMany(r => r.Failures), Is.Empty);
        }
    }

    [Test]
    public async Task RunAsync_FedBuffWithEveryValueSent_EqualsTheWholeModelFederation()
    {
        async Task<FederationResult> FedBuffAsync(Func<int, IClient> client, bool deltas)
        {
            await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 2 });
            for (int i = 0; i < Clients; i++)
            {
                transport.AddClient($"c{i}", client(i));
            }

            using ModelParameters initial = TestModels.Random(Layout, 5, 0.1f);
            FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
                .Configure(o => { o.Rounds = 8; o.Seed = 5; o.FractionEvaluate = 0; })
                .UseBufferedAsynchronousAggregation(f => { f.BufferSize = 2; f.Concurrency = 3; });
            if (deltas)
            {
                builder.UseDownlinkDeltas(Exact);
            }

            return await builder.Build().RunAsync().WithTimeout();
        }

        var spies = Enumerable.Range(0, Clients).Select(i => new ForgetfulClient(new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), forgetInRound: -1)).ToArray();
        using FederationResult whole = await FedBuffAsync(i => new NoisyClient(i, 0.4f), deltas: false);
        using FederationResult deltas = await FedBuffAsync(i => spies[i], deltas: true);

        Assert.That(spies.Sum(s => s.Deltas.Count), Is.GreaterThan(0), "deltas went down between versions");
        Assert.That(deltas.History.Rounds.SelectMany(r => r.Failures), Is.Empty);
        Assert.That(deltas.Parameters.Values.ToArray(), Is.EqualTo(whole.Parameters.Values.ToArray()).Within(1e-5f));
    }

    [Test]
    public async Task RunAsync_OnePercentOverTheSparseWire_SendsDeltasAfterTheFirstContact()
    {
        (FederationResult whole, long wholeBytes) = await RunAsync(i => new NoisyClient(i, 0.4f), null, new SparseModelSerializer(), fractionFit: 1.0);
        (FederationResult deltas, long deltaBytes) = await RunAsync(
            i => new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), new DownlinkDeltaOptions { Fraction = 0.01 }, new SparseModelSerializer(), fractionFit: 1.0);
        using (whole)
        using (deltas)
        {
            // Round 1 sends whole models; rounds 2-6 send 1% of the values in float16 and a bitmap: under 10% of float32.
            Assert.That((double)deltaBytes / wholeBytes, Is.InRange(1.0 / 6, (1 + (5 * 0.1)) / 6), $"downlink bytes {deltaBytes} vs {wholeBytes}");
            Assert.That(deltas.Parameters.Values.ToArray(), Is.Not.EqualTo(whole.Parameters.Values.ToArray()), "clients trained from an approximation of the global model");
        }
    }

    [Test]
    public async Task RunAsync_WholeModelsBack_AreRebasedOntoTheGlobalModel()
    {
        (FederationResult whole, _) = await RunAsync(i => new ShiftClient(0.1f * (i + 1), 10), null);
        (FederationResult deltas, _) = await RunAsync(i => new DownlinkDeltaClient(new ShiftClient(0.1f * (i + 1), 10)), new DownlinkDeltaOptions { Fraction = 0.01 });
        using (whole)
        using (deltas)
        {
            // Each client trained from its reference (1% of the difference applied); its step lands on the global model.
            Assert.That(deltas.Parameters.Values.ToArray(), Is.EqualTo(whole.Parameters.Values.ToArray()).Within(1e-5f));
        }
    }

    [Test]
    public async Task RunAsync_ClientsWithoutTheWrapper_GetWholeModels()
    {
        (FederationResult whole, long wholeBytes) = await RunAsync(i => new NoisyClient(i, 0.4f), null, new SparseModelSerializer());
        (FederationResult plain, long plainBytes) = await RunAsync(i => new NoisyClient(i, 0.4f), new DownlinkDeltaOptions { Fraction = 0.01 }, new SparseModelSerializer());
        using (whole)
        using (plain)
        {
            Assert.That(plainBytes, Is.EqualTo(wholeBytes));
            Assert.That(plain.Parameters.Values.ToArray(), Is.EqualTo(whole.Parameters.Values.ToArray()));
        }
    }

    [Test]
    public async Task RunAsync_ClientLosesItsReference_FailsThatFitThenGetsTheWholeModel()
    {
        var forgetful = new ForgetfulClient(new DownlinkDeltaClient(new NoisyClient(0, 0.4f)), forgetInRound: 2);
        (FederationResult result, _) = await RunAsync(i => i == 0 ? forgetful : new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), new DownlinkDeltaOptions { Fraction = 0.1 }, rounds: 4, fractionFit: 1.0);
        using (result)
        {
            ClientFailure failure = result.History.Rounds.SelectMany(r => r.Failures).Single();
            Assert.That(failure.ClientId, Is.EqualTo("c0"));
            Assert.That(failure.Reason, Does.Contain("holds no reference"));
            Assert.That(forgetful.Offers, Is.EqualTo(new[] { 1, 3 }), "whole models in round 1, and again after the failure");
        }
    }

    [Test]
    public async Task RunAsync_LossyDownlink_FallsBackToWholeModelsWithoutFailures()
    {
        var int8 = new BinaryModelSerializer(new BinaryModelSerializerOptions { Encoding = ElementEncoding.Int8 });
        (FederationResult whole, long wholeBytes) = await RunAsync(i => new NoisyClient(i, 0.4f), null, int8);
        (FederationResult lossy, long lossyBytes) = await RunAsync(i => new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), Exact, int8);
        using (whole)
        using (lossy)
        {
            Assert.That(lossy.History.Rounds.SelectMany(r => r.Failures), Is.Empty);
            Assert.That(lossyBytes, Is.EqualTo(wholeBytes), "the reference the client holds is never the one sent, so no delta is");
            Assert.That(lossy.Parameters.Values.ToArray(), Is.EqualTo(whole.Parameters.Values.ToArray()));
        }
    }

    [Test]
    public async Task RunAsync_FixedSeed_GivesTheSameModelTwice()
    {
        (FederationResult first, _) = await RunAsync(i => new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), new DownlinkDeltaOptions { Fraction = 0.05 }, new SparseModelSerializer());
        (FederationResult second, _) = await RunAsync(i => new DownlinkDeltaClient(new NoisyClient(i, 0.4f)), new DownlinkDeltaOptions { Fraction = 0.05 }, new SparseModelSerializer());
        using (first)
        using (second)
        {
            Assert.That(second.Parameters.Values.ToArray(), Is.EqualTo(first.Parameters.Values.ToArray()));
        }
    }

    [TestCase(0.0)]
    [TestCase(1.5)]
    [TestCase(double.NaN)]
    public void UseDownlinkDeltas_FractionOutOfRange_Throws(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FederatedServerBuilder().UseDownlinkDeltas(fraction));
    }

    [Test]
    public void UseDownlinkDeltas_NoTrackedClients_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FederatedServerBuilder().UseDownlinkDeltas(new DownlinkDeltaOptions { MaxTrackedClients = 0 }));
    }

    /// <summary>Drops the downlink reference from its state in one round (a restarted site; -1: never), and records the rounds that sent whole models and deltas.</summary>
    private sealed class ForgetfulClient(IClient inner, int forgetInRound) : IClient
    {
        public List<int> Offers { get; } = new();

        public List<int> Deltas { get; } = new();

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            if (instructions.Config.ContainsKey(ConfigKeys.DownlinkOffer))
            {
                Offers.Add(instructions.Round);
            }

            if (instructions.Config.ContainsKey(ConfigKeys.DownlinkBase))
            {
                Deltas.Add(instructions.Round);
            }

            if (instructions.Round == forgetInRound)
            {
                instructions.State!.Remove(DownlinkDeltaClient.ReferenceKey);
            }

            return inner.FitAsync(instructions, cancellationToken);
        }
    }
}
