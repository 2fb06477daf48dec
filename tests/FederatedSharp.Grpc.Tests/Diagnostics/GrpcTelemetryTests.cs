using System.Diagnostics;
using System.Diagnostics.Metrics;
using FederatedSharp.Aggregation;
using FederatedSharp.Diagnostics;
using FederatedSharp.Grpc.Diagnostics;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Tests.TestUtilities;
using FederatedSharp.Parameters;
using FederatedSharp.Serialization;
using FederatedSharp.Server;

namespace FederatedSharp.Grpc.Tests.Diagnostics;

[NonParallelizable]
public class GrpcTelemetryTests
{
    private static readonly string[] Clients = ["hospital-a", "hospital-b", "hospital-c"];

    [Test]
    public async Task RunAsync_ThreeRoundsOverGrpc_SpansNestFromRoundToClientTrainingAndInstrumentsCountEveryCall()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is FederatedSharpTelemetry.Name or GrpcTelemetry.Name or "grpc-telemetry-test",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                lock (spans)
                {
                    spans.Add(a);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        var measurements = new List<(string Name, double Value, Dictionary<string, object?> Tags)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name is FederatedSharpTelemetry.Name or GrpcTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        void Record(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var t = tags.ToArray().ToDictionary(p => p.Key, p => p.Value);
            lock (measurements)
            {
                measurements.Add((i.Name, v, t));
            }
        }

        meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        meters.Start();

        using ModelParameters initial = ModelParameters.Create(TestFederation.Layout);
        using var source = new ActivitySource("grpc-telemetry-test");
        using Activity test = source.StartActivity("test")!;
        GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using var stop = new CancellationTokenSource();
        Task[] runs = Clients.Select((id, i) => TestFederation.Runner(TestFederation.MutualTlsClient(host, id)).RunAsync(new TargetClient(i, 10), stop.Token)).ToArray();
        using FederationResult result = await new FederatedServerBuilder()
            .UseTransport(host.Transport)
            .UseAggregator(new FedAvg())
            .WithInitialParameters(initial)
            .Configure(o =>
            {
                o.Rounds = 3;
                o.MinAvailableClients = 3;
            })
            .Build().RunAsync().WithTimeout();
        long sent = host.Transport.BytesSent;
        long received = host.Transport.BytesReceived;
        await host.DisposeAsync();
        await Task.WhenAll(runs).WithTimeout();

        List<Activity> all;
        lock (spans)
        {
            all = spans.Where(a => a.TraceId == test.TraceId).ToList();
        }

        var rounds = all.Where(a => a.OperationName == "federatedsharp.round" && a.ParentSpanId == test.SpanId).ToList();
        var roundIds = rounds.ToDictionary(a => a.SpanId, a => (int)a.GetTagItem("federatedsharp.round")!);
        var calls = all.Where(a => a.OperationName == "federatedsharp.client.call" && roundIds.ContainsKey(a.ParentSpanId)).ToList();
        var callIds = calls.ToDictionary(a => a.SpanId);
        var training = all.Where(a => a.Source.Name == GrpcTelemetry.Name && a.OperationName == "federatedsharp.client.fit").ToList();
        long model = BinaryModelSerializer.GetSerializedLength(initial);
        double Sum(string name, string? side = null) => measurements.Where(m => m.Name == name && (side is null || (string?)m.Tags.GetValueOrDefault("federatedsharp.grpc.side") == side)).Sum(m => m.Value);

        Assert.Multiple(() =>
        {
            Assert.That(roundIds.Values.Order(), Is.EqualTo(new[] { 1, 2, 3 }), "one span per round, children of the caller's span");
            Assert.That(calls.Select(c => $"{roundIds[c.ParentSpanId]}/{c.GetTagItem("federatedsharp.phase")}/{c.GetTagItem("federatedsharp.client.id")}/{c.GetTagItem("federatedsharp.outcome")}").Order(),
                Is.EqualTo(new[] { 1, 2, 3 }.SelectMany(r => Clients.SelectMany(id => new[] { $"{r}/evaluate/{id}/ok", $"{r}/fit/{id}/ok" })).Order()),
                "a span per client call, child of its round's span, tagged with client, phase and outcome");
            Assert.That(training, Has.Count.EqualTo(9), "each client's training span reached this trace over gRPC");
            Assert.That(training.All(t => callIds.TryGetValue(t.ParentSpanId, out Activity? call)
                && (string?)call.GetTagItem("federatedsharp.phase") == "fit"
                && Equals(call.GetTagItem("federatedsharp.client.id"), t.GetTagItem("federatedsharp.client.id"))
                && Equals(call.GetTagItem("federatedsharp.round"), t.GetTagItem("federatedsharp.round"))), Is.True,
                "a client's fit span is the child of the server's fit call to that client in that round");
            Assert.That(training.Select(t => t.Kind), Is.All.EqualTo(ActivityKind.Server));

            Assert.That(measurements.Count(m => m.Name == "federatedsharp.server.rounds" && (string?)m.Tags["federatedsharp.outcome"] == "succeeded"), Is.EqualTo(3));
            Assert.That(measurements.Count(m => m.Name == "federatedsharp.server.round.duration"), Is.EqualTo(3));
            Assert.That(measurements.Count(m => m.Name == "federatedsharp.server.aggregation.duration"), Is.EqualTo(3));
            Assert.That(measurements.Count(m => m.Name == "federatedsharp.client.call.duration" && (string?)m.Tags["federatedsharp.phase"] == "fit" && (string?)m.Tags["federatedsharp.outcome"] == "ok"), Is.EqualTo(9));
            Assert.That(measurements.Count(m => m.Name == "federatedsharp.client.call.duration" && (string?)m.Tags["federatedsharp.phase"] == "evaluate"), Is.EqualTo(9));
            Assert.That(Sum("federatedsharp.grpc.bytes.sent", "server"), Is.EqualTo(sent).And.EqualTo(3 * 6 * model), "each round: 3 fit and 3 evaluate downloads");
            Assert.That(Sum("federatedsharp.grpc.bytes.received", "client"), Is.EqualTo(sent), "every byte the server sent, a client received");
            Assert.That(Sum("federatedsharp.grpc.bytes.received", "server"), Is.EqualTo(received).And.EqualTo(3 * 3 * model), "each round: 3 uploads");
            Assert.That(Sum("federatedsharp.grpc.bytes.sent", "client"), Is.EqualTo(received));
            Assert.That(measurements.Count(m => m.Name == "federatedsharp.grpc.clients.connected" && m.Value == 1), Is.EqualTo(3), "three sessions opened");
            Assert.That(Sum("federatedsharp.grpc.clients.connected"), Is.Zero, "and all closed when the federation ended");
        });
    }
}
