using System.Diagnostics;
using System.Diagnostics.Metrics;
using FederatedSharp.Aggregation;
using FederatedSharp.Diagnostics;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Features.Telemetry;

/// <summary>Every server traces and counts its rounds.</summary>
[NonParallelizable]
public class TelemetryFeatureTests
{
    [Test]
    public async Task RunAsync_ListenerAttached_OneRoundSpanAndOneCountPerRoundWithItsOutcome()
    {
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FederatedSharpTelemetry.Name || source.Name == "telemetry-test",
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
        var outcomes = new List<string>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == FederatedSharpTelemetry.Name && instrument.Name is "federatedsharp.server.rounds" or "federatedsharp.client.call.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        var calls = new List<string>();
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (outcomes)
            {
                outcomes.Add((string)tags.ToArray().Single(t => t.Key == "federatedsharp.outcome").Value!);
            }
        });
        meters.SetMeasurementEventCallback<double>((_, seconds, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(p => p.Key, p => p.Value);
            lock (calls)
            {
                calls.Add($"{t["federatedsharp.phase"]}/{t["federatedsharp.outcome"]}");
            }
        });
        meters.Start();

        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(1, 10));
        transport.AddClient("b", new ShiftClient(2, 10));
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);
        using var source = new ActivitySource("telemetry-test");
        using Activity parent = source.StartActivity("test")!;
        using FederationResult result = await new FederatedServerBuilder().UseTransport(transport).UseAggregator(new FedAvg()).WithInitialParameters(initial)
            .Configure(o => o.Rounds = 3)
            .Build().RunAsync().WithTimeout();

        // The round spans of this federation are the children of this test's span (others may run in parallel).
        List<Activity> ours;
        List<Activity> clientCalls;
        lock (spans)
        {
            ours = spans.Where(a => a.OperationName == "federatedsharp.round" && a.ParentSpanId == parent.SpanId).ToList();
            var roundIds = ours.Select(a => a.SpanId).ToHashSet();
            clientCalls = spans.Where(a => a.OperationName == "federatedsharp.client.call" && roundIds.Contains(a.ParentSpanId)).ToList();
        }

        Assert.Multiple(() =>
        {
            Assert.That(ours.Select(a => a.GetTagItem("federatedsharp.round")), Is.EqualTo(new object[] { 1, 2, 3 }));
            Assert.That(ours.Select(a => a.GetTagItem("federatedsharp.outcome")), Is.All.EqualTo("succeeded"));
            Assert.That(outcomes.Count(o => o == "succeeded"), Is.GreaterThanOrEqualTo(3));

            // Per round: a fit and an evaluate call to each of the two clients, each a child of its round's span.
            Assert.That(
                clientCalls.Select(a => $"{a.GetTagItem("federatedsharp.round")}:{a.GetTagItem("federatedsharp.phase")}:{a.GetTagItem("federatedsharp.client.id")}:{a.GetTagItem("federatedsharp.outcome")}").Order(),
                Is.EqualTo(new[] { 1, 2, 3 }.SelectMany(r => new[] { $"{r}:evaluate:a:ok", $"{r}:evaluate:b:ok", $"{r}:fit:a:ok", $"{r}:fit:b:ok" }).Order()));
            Assert.That(clientCalls.Select(a => a.Kind), Is.All.EqualTo(ActivityKind.Client));
            Assert.That(calls.Count(c => c == "fit/ok"), Is.GreaterThanOrEqualTo(6));
            Assert.That(calls.Count(c => c == "evaluate/ok"), Is.GreaterThanOrEqualTo(6));
        });
    }
}
