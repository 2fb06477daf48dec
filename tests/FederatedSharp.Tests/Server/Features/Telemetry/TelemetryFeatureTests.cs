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
                if (instrument.Meter.Name == FederatedSharpTelemetry.Name && instrument.Name == "federatedsharp.server.rounds")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (outcomes)
            {
                outcomes.Add((string)tags.ToArray().Single(t => t.Key == "outcome").Value!);
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
        lock (spans)
        {
            ours = spans.Where(a => a.OperationName == "federatedsharp.round" && a.ParentSpanId == parent.SpanId).ToList();
        }

        Assert.Multiple(() =>
        {
            Assert.That(ours.Select(a => a.GetTagItem("federatedsharp.round")), Is.EqualTo(new object[] { 1, 2, 3 }));
            Assert.That(ours.Select(a => a.GetTagItem("federatedsharp.round.succeeded")), Is.All.EqualTo(true));
            Assert.That(outcomes.Count(o => o == "succeeded"), Is.GreaterThanOrEqualTo(3));
        });
    }
}
