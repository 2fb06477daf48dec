using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy.SecureAggregation;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Privacy.SecureAggregation;

public class SecureAggregationServerTests
{
    private static readonly TensorLayout Layout = TensorLayout.Create(new TensorSpec("w", [50, 40]), new TensorSpec("b", [37]));

    /// <summary>Moves every parameter by a client-specific, element-varying amount.</summary>
    private sealed class DeltaClient(int index, long examples) : IClient
    {
        public float Delta(int i) => (float)(Math.Sin((index + 1) * 0.37 * (i + 1)) * 0.01 * (index + 1));

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            ModelParameters p = instructions.Parameters.Clone();
            for (int i = 0; i < p.Length; i++)
            {
                p.Values[i] += Delta(i);
            }

            return Task.FromResult(new FitResult(p, examples, new ConfigRecord { ["train_loss"] = 0.5 }));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(0, examples));
    }

    /// <summary>Records what the server receives from this client in the masked-input phase.</summary>
    private sealed class SpyClient(IClient inner) : IClient
    {
        public byte[]? Masked { get; private set; }

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            FitResult result = await inner.FitAsync(instructions, cancellationToken);
            if (result.Metrics.TryGetValue("secagg.masked", out ConfigValue value))
            {
                Masked = value.AsBytes().ToArray();
            }

            return result;
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);
    }

    private static (InMemoryTransport Transport, DeltaClient[] Plain, List<SecureAggregationClient> Secure) Federation(int n, Func<int, IClient, IClient>? wrap = null)
    {
        var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = n });
        var plain = new DeltaClient[n];
        var secure = new List<SecureAggregationClient>();
        for (int i = 0; i < n; i++)
        {
            plain[i] = new DeltaClient(i, 10 + (7 * i));
            var client = new SecureAggregationClient($"site-{i}", plain[i]);
            secure.Add(client);
            transport.AddClient($"site-{i}", wrap?.Invoke(i, client) ?? client);
        }

        return (transport, plain, secure);
    }

    /// <summary>The plain FedAvg of the contributors' deltas in double precision.</summary>
    private static double[] Reference(DeltaClient[] clients, IEnumerable<int> contributors, int length)
    {
        var sum = new double[length];
        double examples = 0;
        foreach (int c in contributors)
        {
            long n = 10 + (7 * c);
            examples += n;
            for (int i = 0; i < length; i++)
            {
                sum[i] += n * clients[c].Delta(i);
            }
        }

        return sum.Select(s => s / examples).ToArray();
    }

    [Test]
    public async Task RunRoundAsync_NoDropOuts_EqualsPlainFedAvgWithinQuantization()
    {
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(5);
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(Layout);

        using SecureAggregationResult result = await new SecureAggregationServer().RunRoundAsync(transport, transport.GetAvailableClients(), 1, global).WithTimeout();

        double[] expected = Reference(plain, Enumerable.Range(0, 5), Layout.TotalLength);
        double worst = expected.Select((e, i) => Math.Abs(e - result.Parameters.Values[i])).Max();
        Assert.Multiple(() =>
        {
            Assert.That(result.Contributors, Has.Count.EqualTo(5));
            Assert.That(result.Dropped, Is.Empty);
            Assert.That(result.TotalExamples, Is.EqualTo(10 + 17 + 24 + 31 + 38));
            Assert.That(worst, Is.LessThan(1e-6), "float32 rounding of the result; fixed-point error is far below it");
        });
    }

    [Test]
    public async Task RunRoundAsync_MaskedVectorOfOneClient_IsUniformWhileItsPlainInputIsNot()
    {
        SpyClient? spy = null;
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(4, (i, c) => i == 2 ? spy = new SpyClient(c) : c);
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(TensorLayout.Create(new TensorSpec("w", [65_536])));

        using SecureAggregationResult result = await new SecureAggregationServer().RunRoundAsync(transport, transport.GetAvailableClients(), 1, global).WithTimeout();

        byte[] masked = spy!.Masked!;
        var plainBytes = new byte[masked.Length];
        for (int i = 0; i < 65_536; i++)
        {
            BitConverter.TryWriteBytes(plainBytes.AsSpan(i * 8), (long)Math.Round(plain[2].Delta(i) * 1e12));
        }

        double maskedChi = ChiSquare(masked);
        double plainChi = ChiSquare(plainBytes);
        TestContext.Out.WriteLine($"chi-square of byte values over {masked.Length} bytes (255 d.f.): masked {maskedChi:F1}, plain {plainChi:F0}");
        Assert.Multiple(() =>
        {
            Assert.That(maskedChi, Is.LessThan(350), "the server's view of one client is indistinguishable from uniform bytes (p > 1e-4)");
            Assert.That(plainChi, Is.GreaterThan(10_000), "the same test tells the unmasked input apart");
        });
    }

    [Test]
    public async Task RunRoundAsync_DropOutsAfterMaskedInputUpToNMinusT_StillSucceedsWithTheirInputs()
    {
        // 7 clients, threshold floor(14/3) + 1 = 5: two may drop out after sending their masked inputs.
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(7, (i, c) => i is 1 or 4 ? new DropOutClient(c, "unmask") : c);
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(Layout);

        using SecureAggregationResult result = await new SecureAggregationServer().RunRoundAsync(transport, transport.GetAvailableClients(), 1, global).WithTimeout();

        double[] expected = Reference(plain, Enumerable.Range(0, 7), Layout.TotalLength);
        Assert.Multiple(() =>
        {
            Assert.That(result.Contributors, Has.Count.EqualTo(7), "their masked inputs count");
            Assert.That(result.Dropped, Is.EquivalentTo(new[] { "site-1", "site-4" }));
            Assert.That(expected.Select((e, i) => Math.Abs(e - result.Parameters.Values[i])).Max(), Is.LessThan(1e-6));
        });
    }

    [Test]
    public async Task RunRoundAsync_DropOutsBeforeMaskedInput_PairwiseMasksRecoveredAndSumOverTheRest()
    {
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(7, (i, c) => i is 0 or 6 ? new DropOutClient(c, "masked") : c);
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(Layout);

        using SecureAggregationResult result = await new SecureAggregationServer().RunRoundAsync(transport, transport.GetAvailableClients(), 3, global).WithTimeout();

        double[] expected = Reference(plain, [1, 2, 3, 4, 5], Layout.TotalLength);
        Assert.Multiple(() =>
        {
            Assert.That(result.Contributors, Is.EquivalentTo(new[] { "site-1", "site-2", "site-3", "site-4", "site-5" }));
            Assert.That(expected.Select((e, i) => Math.Abs(e - result.Parameters.Values[i])).Max(), Is.LessThan(1e-6));
        });
    }

    [Test]
    public async Task RunRoundAsync_MoreDropOutsThanNMinusT_FailsCleanly()
    {
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(7, (i, c) => i is 1 or 3 or 5 ? new DropOutClient(c, "unmask") : c);
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(Layout);

        var ex = await Assert.ThrowsAsync<SecureAggregationException>(async () =>
            await new SecureAggregationServer().RunRoundAsync(transport, transport.GetAvailableClients(), 1, global).WithTimeout());

        Assert.That(ex!.Message, Does.Contain("4 clients remain, the threshold is 5").And.Contain("Nothing was revealed"));
    }

    [Test]
    public async Task RunRoundAsync_CentralNoise_SeededAndAroundTheNoiselessResult()
    {
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(4);
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(Layout);
        var noisy = new SecureAggregationOptions { NoiseMultiplier = 1e-6, MaxExampleCount = 100, ClipNorm = 1, Seed = 9 };

        using SecureAggregationResult clean = await new SecureAggregationServer(new SecureAggregationOptions { MaxExampleCount = 100, ClipNorm = 1 }).RunRoundAsync(transport, transport.GetAvailableClients(), 1, global).WithTimeout();
        using SecureAggregationResult first = await new SecureAggregationServer(noisy).RunRoundAsync(transport, transport.GetAvailableClients(), 2, global).WithTimeout();
        using SecureAggregationResult second = await new SecureAggregationServer(noisy).RunRoundAsync(transport, transport.GetAvailableClients(), 2, global).WithTimeout();

        double[] differences = clean.Parameters.Values.ToArray().Select((v, i) => (double)first.Parameters.Values[i] - v).ToArray();
        double std = Math.Sqrt(differences.Select(d => d * d).Average());
        double expectedStd = 1e-6 * 1 * 100 / first.TotalExamples;
        Assert.Multiple(() =>
        {
            Assert.That(second.Parameters.Values.ToArray(), Is.EqualTo(first.Parameters.Values.ToArray()), "same seed, same noise");
            Assert.That(std, Is.EqualTo(expectedStd).Within(0.15 * expectedStd));
        });
    }

    [Test]
    public async Task RunRoundAsync_SecAggPlusSixNeighboursOfTwenty_EqualsFedAvgAlsoWithDropOuts()
    {
        // Sites 3 and 11 drop out before their masked input, site 17 after it.
        (InMemoryTransport transport, DeltaClient[] plain, List<SecureAggregationClient> secure) = Federation(20, (i, c) => i switch
        {
            3 or 11 => new DropOutClient(c, "masked"),
            17 => new DropOutClient(c, "unmask"),
            _ => c,
        });
        await using InMemoryTransport owned = transport;
        using ModelParameters global = ModelParameters.Create(Layout);
        var options = new SecureAggregationOptions { Neighbours = 6, Seed = 5 };

        using SecureAggregationResult result = await new SecureAggregationServer(options).RunRoundAsync(transport, transport.GetAvailableClients(), 1, global).WithTimeout();

        double[] expected = Reference(plain, Enumerable.Range(0, 20).Where(i => i is not 3 and not 11), Layout.TotalLength);
        Assert.Multiple(() =>
        {
            Assert.That(result.Contributors, Has.Count.EqualTo(18));
            Assert.That(result.Dropped, Is.EquivalentTo(new[] { "site-3", "site-11", "site-17" }));
            Assert.That(expected.Select((e, i) => Math.Abs(e - result.Parameters.Values[i])).Max(), Is.LessThan(1e-6));
        });
    }

    private static double ChiSquare(byte[] bytes)
    {
        var counts = new long[256];
        foreach (byte b in bytes)
        {
            counts[b]++;
        }

        double expected = bytes.Length / 256.0;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }
}

public class FederatedServerSecureAggregationTests
{
    private static async Task<FederationResult> RunAsync(bool secure, Func<int, IClient, IClient>? wrap = null, string? auditPath = null)
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 5 });
        for (int i = 0; i < 5; i++)
        {
            IClient client = new ShiftClient(0.01f * (i + 1), 10 * (i + 1));
            client = secure ? new SecureAggregationClient($"site-{i}", client) : client;
            transport.AddClient($"site-{i}", wrap?.Invoke(i, client) ?? client);
        }

        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        FederatedServerBuilder builder = new FederatedServerBuilder()
            .UseTransport(transport)
            .WithInitialParameters(initial)
            .Configure(o => { o.Rounds = 3; o.MinAvailableClients = 5; o.MinFitClients = 3; o.MinEvaluateClients = 3; o.Seed = 4; });
        builder = secure ? builder.UseSecureAggregation(new SecureAggregationOptions { ClipNorm = 1.0, MaxExampleCount = 1000 }) : builder.UseAggregator(new FedAvg());
        if (auditPath is not null)
        {
            builder.UseAuditLog(new FederatedSharp.Server.Audit.FileAuditLog(auditPath));
        }

        return await builder.Build().RunAsync().WithTimeout();
    }

    [Test]
    public async Task RunAsync_UseSecureAggregation_SameModelAsPlainFedAvg()
    {
        using FederationResult plain = await RunAsync(secure: false);
        using FederationResult secure = await RunAsync(secure: true);

        Assert.Multiple(() =>
        {
            Assert.That(secure.Parameters.Values.ToArray(), Is.EqualTo(plain.Parameters.Values.ToArray()).Within(1e-6));
            Assert.That(secure.History.Rounds.All(r => r.Succeeded && r.AggregatedUpdates == 5), Is.True);
            Assert.That(secure.History.Rounds[0].AggregatorMetrics.GetInt64("secagg_total_examples", 0), Is.EqualTo(150));
        });
    }

    [Test]
    public async Task RunAsync_ClientDropsOutOfSecureRound_RecordedAsFailureAndRoundSucceeds()
    {
        using var dir = new TempDirectory("secagg-audit-");
        string audit = Path.Combine(dir.Path, "audit.jsonl");

        using FederationResult result = await RunAsync(true, (i, c) => i == 3 ? new DropOutClient(c, "masked") : c, audit);

        IReadOnlyList<FederatedSharp.Server.Audit.AuditRecord> records = FederatedSharp.Server.Audit.FileAuditLog.ReadAll(audit);
        Assert.Multiple(() =>
        {
            Assert.That(result.History.Rounds.All(r => r.Succeeded && r.AggregatedUpdates == 4), Is.True);
            Assert.That(result.History.Rounds[0].Failures.Select(f => f.ClientId), Does.Contain("site-3"));
            Assert.That(records[0].Entry.Rejected.Select(r => r.Reason), Has.Some.StartsWith("dropped out of secure aggregation: ").And.Some.Contains("connection lost"));
        });
    }

    [Test]
    public void Build_SecureAggregationWithKrum_Refused()
    {
        var builder = new FederatedServerBuilder().UseTransport(new InMemoryTransport()).UseAggregator(new Krum(1)).UseSecureAggregation()
            .WithInitialParameters(TestModels.Filled(TestModels.SmallLayout, 0));

        var ex = Assert.Throws<ArgumentException>(() => builder.Build());

        Assert.That(ex!.Message, Does.Contain("Krum needs every individual update"));
    }
}

/// <summary>Drops out (throws) at one phase.</summary>
internal sealed class DropOutClient(IClient inner, string phase) : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => inner.GetPropertiesAsync(cancellationToken);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
        instructions.Config.GetString("secagg.phase", "") == phase ? throw new IOException("connection lost") : inner.FitAsync(instructions, cancellationToken);

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) => inner.EvaluateAsync(instructions, cancellationToken);
}
