using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Compression;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.SparseUpdates;

/// <summary>Sparse updates negotiated per federation: top-k deltas expanded before validation, mixed with whole models.</summary>
public class SparseUpdatesFeatureTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", 2000));

    private static async Task<(FederationResult Result, InMemoryTransport Transport)> RunAsync(
        Func<int, IClient> client, double? fraction, IModelSerializer? wire = null, int rounds = 3)
    {
        var transport = new InMemoryTransport(new InMemoryTransportOptions { WireSerializer = wire });
        for (int i = 0; i < 4; i++)
        {
            transport.AddClient($"c{i}", client(i));
        }

        using ModelParameters initial = TestModels.Random(Layout, 5, 0.1f);
        FederatedServerBuilder builder = new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => { o.Rounds = rounds; o.MinAvailableClients = 4; o.Seed = 3; });
        if (fraction is double f)
        {
            builder.UseSparseUpdates(f);
        }

        FederationResult result = await builder.Build().RunAsync().WithTimeout();
        return (result, transport);
    }

    [Test]
    public async Task RunAsync_EveryValueKept_EqualsTheDenseFederation()
    {
        (FederationResult dense, InMemoryTransport t1) = await RunAsync(i => new NoisyClient(i, 0.4f), null);
        (FederationResult sparse, InMemoryTransport t2) = await RunAsync(i => new TopKUpdateClient(new NoisyClient(i, 0.4f)) { HalfPrecision = false }, 1.0);
        using (dense)
        using (sparse)
        {
            await t1.DisposeAsync();
            await t2.DisposeAsync();
            Assert.That(sparse.Parameters.Values.ToArray(), Is.EqualTo(dense.Parameters.Values.ToArray()).Within(1e-5f), "global + (update - global) is the update up to rounding");
            Assert.That(sparse.History.Rounds.All(r => r.Failures.Count == 0), Is.True);
        }
    }

    [Test]
    public async Task RunAsync_CompressingAndPlainClientsMixed_AggregatesBothAsModels()
    {
        (FederationResult dense, InMemoryTransport t1) = await RunAsync(i => new ShiftClient(0.1f * (i + 1), 10), null, rounds: 1);
        (FederationResult mixed, InMemoryTransport t2) = await RunAsync(i => i % 2 == 0 ? new TopKUpdateClient(new ShiftClient(0.1f * (i + 1), 10)) { HalfPrecision = false } : new ShiftClient(0.1f * (i + 1), 10), 1.0, rounds: 1);
        using (dense)
        using (mixed)
        {
            await t1.DisposeAsync();
            await t2.DisposeAsync();
            Assert.That(mixed.Parameters.Values.ToArray(), Is.EqualTo(dense.Parameters.Values.ToArray()).Within(1e-5f));
        }
    }

    [Test]
    public async Task RunAsync_OnePercentOverTheSparseWire_SendsAboutTwoPercentOfTheBytes()
    {
        (FederationResult dense, InMemoryTransport t1) = await RunAsync(i => new NoisyClient(i, 0.4f), null, new SparseModelSerializer());
        (FederationResult sparse, InMemoryTransport t2) = await RunAsync(i => new TopKUpdateClient(new NoisyClient(i, 0.4f)), 0.01, new SparseModelSerializer());
        using (dense)
        using (sparse)
        {
            await t1.DisposeAsync();
            await t2.DisposeAsync();
            double ratio = (double)t2.BytesReceived / t1.BytesReceived;
            Assert.That(ratio, Is.LessThan(0.03), $"update bytes {t2.BytesReceived} vs {t1.BytesReceived}");
            Assert.That(t2.BytesSent, Is.EqualTo(t1.BytesSent), "the global model still goes down whole");
            Assert.That(sparse.Parameters.Values.ToArray(), Is.Not.EqualTo(dense.Parameters.Values.ToArray()), "only part of each update arrived");
        }
    }

    [Test]
    public async Task RunAsync_FractionAsked_ReachesTheClientsInTheFitConfig()
    {
        var clients = Enumerable.Range(0, 4).Select(i => new ShiftClient(0.1f, 10)).ToArray();
        (FederationResult result, InMemoryTransport transport) = await RunAsync(i => clients[i], 0.25, rounds: 1);
        using (result)
        {
            await transport.DisposeAsync();
            Assert.That(clients.Select(c => c.LastFitConfig![ConfigKeys.TopKFraction].AsDouble()), Is.All.EqualTo(0.25));
        }
    }

    [TestCase(0.0)]
    [TestCase(-1.0)]
    [TestCase(1.01)]
    public void UseSparseUpdates_FractionOutOfRange_Throws(double fraction)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FederatedServerBuilder().UseSparseUpdates(fraction));
    }
}
