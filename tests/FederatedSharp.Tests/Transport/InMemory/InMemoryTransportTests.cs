using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Transport.InMemory;

public class InMemoryTransportTests
{
    private static FitInstructions Instructions(ModelParameters global, int round = 1) => new(round, global, ConfigRecord.Empty);

    [Test]
    public async Task GetAvailableClients_AddedOutOfOrder_SortedOrdinal()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("b", new ShiftClient(1, 1));
        transport.AddClient("a", new ShiftClient(1, 1));
        transport.AddVirtualClients(new[] { "C", "c" }, _ => new ShiftClient(1, 1));
        Assert.That(transport.GetAvailableClients(), Is.EqualTo(new[] { "C", "a", "b", "c" }));
    }

    [Test]
    public async Task AddClient_DuplicateId_Throws()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 1));
        Assert.Throws<ArgumentException>(() => transport.AddClient("a", new ShiftClient(1, 1)));
    }

    [Test]
    public async Task GetConnection_UnknownId_ThrowsUnknownClient()
    {
        await using var transport = new InMemoryTransport();
        var ex = Assert.Throws<UnknownClientException>(() => transport.GetConnection("nobody"));
        Assert.That(ex!.ClientId, Is.EqualTo("nobody"));
    }

    [Test]
    public async Task FitAsync_VirtualClient_CreatedPerCallAndDisposedAfter()
    {
        await using var transport = new InMemoryTransport();
        var created = new List<DisposableClient>();
        transport.AddVirtualClients(new[] { "v1" }, id =>
        {
            var c = new DisposableClient();
            lock (created)
            {
                created.Add(c);
            }

            return c;
        });
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        IClientConnection connection = transport.GetConnection("v1");

        using (await connection.FitAsync(Instructions(global)).WithTimeout())
        {
        }

        using (await connection.FitAsync(Instructions(global, 2)).WithTimeout())
        {
        }

        Assert.That(created.Select(c => c.Disposed), Is.EqualTo(new[] { true, true }));
    }

    [Test]
    public async Task FitAsync_ClientMutatesItsParameters_CallerGlobalUnchanged()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("vandal", new FixedResultClient(p =>
        {
            p.Values.Fill(99);
            return p.Clone();
        }));
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 1);
        using FitResult result = await transport.GetConnection("vandal").FitAsync(Instructions(global)).WithTimeout();
        Assert.That(global.Values.ToArray(), Is.All.EqualTo(1f));
    }

    [Test]
    public async Task FitAsync_ClientThrows_WrappedWithClientId()
    {
        await using var transport = new InMemoryTransport();
        transport.AddClient("crashy", new ThrowingClient());
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        var ex = await Assert.ThrowsAsync<ClientFailedException>(() => transport.GetConnection("crashy").FitAsync(Instructions(global)));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ClientId, Is.EqualTo("crashy"));
            Assert.That(ex.Message, Does.Contain("disk full"));
            Assert.That(ex.InnerException, Is.InstanceOf<InvalidOperationException>());
        });
    }

    [Test]
    public async Task FitAsync_ManyClients_ConcurrencyBoundedByOption()
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 2 });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ConcurrencyProbe(gate.Task);
        for (int i = 0; i < 6; i++)
        {
            transport.AddClient($"c{i}", probe);
        }

        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        Task<FitResult>[] calls = transport.GetAvailableClients().Select(id => transport.GetConnection(id).FitAsync(Instructions(global))).ToArray();
        // Calls start synchronously: without the limit all six would be inside the probe by now.
        await probe.Entered(2).WithTimeout();
        gate.SetResult();
        foreach (Task<FitResult> call in calls)
        {
            (await call.WithTimeout()).Dispose();
        }

        Assert.That(probe.MaxConcurrent, Is.EqualTo(2));
    }

    [Test]
    public async Task FitAsync_ResultNotYetDisposed_HoldsItsConcurrencySlot()
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 1 });
        transport.AddClient("a", new ShiftClient(1, 1));
        var b = new ShiftClient(1, 1);
        transport.AddClient("b", b);
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);

        FitResult first = await transport.GetConnection("a").FitAsync(Instructions(global)).WithTimeout();
        Task<FitResult> second = transport.GetConnection("b").FitAsync(Instructions(global));

        // With a free slot the call reaches b synchronously (no faults, a synchronous client), so b not having been
        // called yet means the call waits for the slot.
        Assert.Multiple(() =>
        {
            Assert.That(b.FitCalls, Is.Zero, "back-pressure: b is not asked to train while the first update holds the slot");
            Assert.That(second.IsCompleted, Is.False);
        });
        first.Dispose();
        (await second.WithTimeout()).Dispose();
        Assert.That(b.FitCalls, Is.EqualTo(1), "the slot freed by disposing the first update lets b train");
    }

    [Test]
    public async Task WaitForClientsAsync_EnoughClientsJoinLater_Completes()
    {
        await using var transport = new InMemoryTransport();
        Task wait = transport.WaitForClientsAsync(2);
        transport.AddClient("a", new ShiftClient(1, 1));
        Assert.That(wait.IsCompleted, Is.False);
        transport.AddClient("b", new ShiftClient(1, 1));
        await wait.WithTimeout();
    }

    [Test]
    public async Task WaitForClientsAsync_Cancelled_Throws()
    {
        await using var transport = new InMemoryTransport();
        using var cts = new CancellationTokenSource();
        Task wait = transport.WaitForClientsAsync(1, cts.Token);
        await cts.CancelAsync();
        Assert.That(async () => await wait.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task FitAsync_FaultInjection_SameSeedSameFaults()
    {
        async Task<string> Plan(ulong seed)
        {
            await using var transport = new InMemoryTransport(new InMemoryTransportOptions { Faults = new FaultInjectionOptions { Seed = seed, FailureProbability = 0.5 } });
            transport.AddVirtualClients(Enumerable.Range(0, 20).Select(i => $"c{i}"), _ => new ShiftClient(1, 1));
            using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
            var outcome = new System.Text.StringBuilder();
            for (int round = 1; round <= 3; round++)
            {
                foreach (string id in transport.GetAvailableClients())
                {
                    try
                    {
                        using FitResult r = await transport.GetConnection(id).FitAsync(Instructions(global, round)).WithTimeout();
                        outcome.Append('.');
                    }
                    catch (ClientFailedException ex) when (ex.Message.Contains("injected"))
                    {
                        outcome.Append('x');
                    }
                }
            }

            return outcome.ToString();
        }

        string first = await Plan(5);
        string again = await Plan(5);
        string other = await Plan(6);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(first));
            Assert.That(other, Is.Not.EqualTo(first));
            Assert.That(first.Count(c => c == 'x'), Is.InRange(15, 45), "about half of 60 calls fail");
        });
    }

    [Test]
    public async Task FitAsync_DropoutInjected_HangsUntilCancelled()
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { Faults = new FaultInjectionOptions { DropoutProbability = 1 } });
        transport.AddClient("gone", new ShiftClient(1, 1));
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var cts = new CancellationTokenSource();
        Task<FitResult> call = transport.GetConnection("gone").FitAsync(Instructions(global), cts.Token);
        Assert.Multiple(() =>
        {
            Assert.That(transport.InjectedFaults.Select(f => (f.ClientId, f.Kind)), Is.EqualTo(new[] { ("gone", InjectedFaultKind.Dropout) }), "the dropout was drawn");
            Assert.That(call.IsCompleted, Is.False, "and the call hangs");
        });
        await cts.CancelAsync();
        Assert.That(async () => await call.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task FitAsync_DropoutInjected_GivesUpItsConcurrencySlot()
    {
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 1, Faults = new FaultInjectionOptions { DropoutProbability = 1 } });
        transport.AddClient("a", new ShiftClient(1, 1));
        transport.AddClient("b", new ShiftClient(1, 1));
        using ModelParameters global = TestModels.Filled(TestModels.SmallLayout, 0);
        using var cts = new CancellationTokenSource();
        Task<FitResult> first = transport.GetConnection("a").FitAsync(Instructions(global), cts.Token);
        Task<FitResult> second = transport.GetConnection("b").FitAsync(Instructions(global), cts.Token);

        // Faults are drawn once a call holds a slot, and with no latency that happens synchronously: b's drop-out being
        // drawn while a's still hangs means a's vanished call left the only slot to b.
        Assert.That(transport.InjectedFaults.Select(f => f.ClientId), Is.EqualTo(new[] { "a", "b" }));
        await cts.CancelAsync();
        Assert.That(async () => await first.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(async () => await second.WithTimeout(), Throws.InstanceOf<OperationCanceledException>());
    }

    [TestCase(FederatedSharp.Serialization.ElementEncoding.Float32)]
    [TestCase(FederatedSharp.Serialization.ElementEncoding.Float16)]
    [TestCase(FederatedSharp.Serialization.ElementEncoding.Int8)]
    public async Task FitAsync_WireSerializer_ModelsCrossTheWireEncodedAndBytesAreCounted(FederatedSharp.Serialization.ElementEncoding encoding)
    {
        var serializer = new FederatedSharp.Serialization.BinaryModelSerializer(new FederatedSharp.Serialization.BinaryModelSerializerOptions { Encoding = encoding });
        await using var transport = new InMemoryTransport(new InMemoryTransportOptions { WireSerializer = serializer });
        transport.AddClient("a", new ShiftClient(0, 1));
        using ModelParameters global = TestModels.Random(TestModels.SmallLayout, 3);
        using FitResult result = await transport.GetConnection("a").FitAsync(Instructions(global)).WithTimeout();

        long size = FederatedSharp.Serialization.BinaryModelSerializer.GetSerializedLength(global, encoding);
        float maxError = result.Parameters.Values.ToArray().Zip(global.Values.ToArray(), (x, y) => Math.Abs(x - y)).Max();
        Assert.Multiple(() =>
        {
            Assert.That((transport.BytesSent, transport.BytesReceived), Is.EqualTo((size, size)));
            Assert.That(maxError, encoding == FederatedSharp.Serialization.ElementEncoding.Float32 ? Is.Zero : Is.GreaterThan(0f).And.LessThan(0.02f));
        });
    }

    [Test]
    public void Constructor_InvalidFaultProbability_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new InMemoryTransport(new InMemoryTransportOptions { Faults = new FaultInjectionOptions { FailureProbability = 1.5 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = 0 }));
    }

    private sealed class DisposableClient : IClient, IDisposable
    {
        public bool Disposed { get; private set; }

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            Assert.That(Disposed, Is.False);
            return Task.FromResult(new FitResult(instructions.Parameters.Clone(), 1));
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(0, 1));

        public void Dispose() => Disposed = true;
    }

    private sealed class ConcurrencyProbe(Task gate) : IClient
    {
        private readonly object _lock = new();
        private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = new();
        private int _running;
        private int _entered;

        public int MaxConcurrent { get; private set; }

        public Task Entered(int count)
        {
            lock (_lock)
            {
                if (_entered >= count)
                {
                    return Task.CompletedTask;
                }

                var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, tcs));
                return tcs.Task;
            }
        }

        public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

        public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
        {
            lock (_lock)
            {
                _running++;
                _entered++;
                MaxConcurrent = Math.Max(MaxConcurrent, _running);
                foreach ((int count, TaskCompletionSource signal) in _waiters.Where(w => w.Count <= _entered))
                {
                    signal.TrySetResult();
                }
            }

            await gate;
            lock (_lock)
            {
                _running--;
            }

            return new FitResult(instructions.Parameters.Clone(), 1);
        }

        public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
            Task.FromResult(new EvaluateResult(0, 1));
    }
}
