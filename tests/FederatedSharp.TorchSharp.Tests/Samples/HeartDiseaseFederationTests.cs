using HeartDisease;

namespace FederatedSharp.TorchSharp.Tests.Samples;

/// <summary>The FLamby Fed-Heart-Disease federation, in memory, through the sample's public entry point.</summary>
public class HeartDiseaseFederationTests
{
    [Test]
    public async Task RunAsync_FedAvgFlambyProtocol_ReachesFlambyAccuracyAndReplaysExactly()
    {
        var options = new HeartDiseaseOptions { Seed = 42 };
        HeartDiseaseResult first = await HeartDiseaseFederation.RunAsync(options).WaitAsync(TimeSpan.FromMinutes(3));
        HeartDiseaseResult second = await HeartDiseaseFederation.RunAsync(options).WaitAsync(TimeSpan.FromMinutes(3));

        TestContext.Out.WriteLine($"pooled {first.PooledAccuracy:F3}, per-centre mean {first.PerCentreMeanAccuracy:F3}: "
            + string.Join(", ", first.HospitalAccuracy.Select(h => $"{h.Key} {h.Value:F3}")));
        Assert.Multiple(() =>
        {
            Assert.That(first.Rounds, Has.Count.EqualTo(15));
            Assert.That(first.Rounds.Select(r => r.Failures), Is.All.Zero);
            Assert.That(first.PooledAccuracy, Is.GreaterThanOrEqualTo(0.70));
            Assert.That(first.HospitalAccuracy.Keys, Is.EqualTo(HeartDiseaseData.CentreNames));
            Assert.That(second.FinalParameters, Is.EqualTo(first.FinalParameters), "same seed, bit-identical parameters");
            Assert.That(second.PooledAccuracy, Is.EqualTo(first.PooledAccuracy));
        });
    }

    [Test]
    public async Task RunAsync_FedProx_TrainsAndDiffersFromFedAvg()
    {
        HeartDiseaseResult fedProx = await HeartDiseaseFederation.RunAsync(new HeartDiseaseOptions { Seed = 42, Strategy = "fedprox", ProximalMu = 1.0, Rounds = 3 }).WaitAsync(TimeSpan.FromMinutes(3));
        HeartDiseaseResult fedAvg = await HeartDiseaseFederation.RunAsync(new HeartDiseaseOptions { Seed = 42, Rounds = 3 }).WaitAsync(TimeSpan.FromMinutes(3));
        Assert.Multiple(() =>
        {
            Assert.That(fedProx.Aggregator, Is.EqualTo("FedProx"));
            Assert.That(fedProx.FinalParameters, Is.Not.EqualTo(fedAvg.FinalParameters), "the proximal term reached the clients");
            Assert.That(fedProx.PooledAccuracy, Is.GreaterThan(0.5));
        });
    }

    [Test]
    public async Task RunAsync_FedBuffAsynchronous_ConvergesLikeSynchronousFedAvg()
    {
        // 30 server updates of K = 2 client updates each: the same 60 local trainings as 15 synchronous rounds of 4.
        // One training at a time in this process, so updates arrive in the order clients were started (in a real
        // federation arrival order is the network's, and FedBuff's result depends on it).
        HeartDiseaseResult fedBuff = await HeartDiseaseFederation.RunAsync(new HeartDiseaseOptions { Seed = 42, FedBuffBufferSize = 2, Rounds = 30, MaxConcurrency = 1 }).WaitAsync(TimeSpan.FromMinutes(3));
        HeartDiseaseResult sync = await HeartDiseaseFederation.RunAsync(new HeartDiseaseOptions { Seed = 42 }).WaitAsync(TimeSpan.FromMinutes(3));
        TestContext.Out.WriteLine($"FedBuff pooled {fedBuff.PooledAccuracy:F3} (first update {fedBuff.Rounds[0].PooledAccuracy:F3}), synchronous FedAvg {sync.PooledAccuracy:F3}");
        Assert.Multiple(() =>
        {
            Assert.That(fedBuff.Rounds, Has.Count.EqualTo(30));
            Assert.That(fedBuff.PooledAccuracy, Is.GreaterThanOrEqualTo(0.70));
            Assert.That(Math.Abs(fedBuff.PooledAccuracy - sync.PooledAccuracy), Is.LessThan(0.06));
        });
    }

    [Test]
    public void Load_FlambyPreprocessing_MatchesPublishedCounts()
    {
        HeartDiseaseDataSet data = HeartDiseaseData.Load();
        Assert.Multiple(() =>
        {
            Assert.That(data.Centres.Select(c => (c.TrainCount, c.TestCount)), Is.EqualTo(new[] { (199, 104), (172, 89), (30, 16), (85, 45) }));
            Assert.That(data.Centres.Select(c => (int)c.TrainLabels.Sum()), Is.EqualTo(new[] { 91, 65, 30, 66 }));
            Assert.That(data.PooledTestLabels, Has.Length.EqualTo(254));
            // Standardised with the centre's train statistics: every train feature has mean ~0 (chol is constant 0 in Switzerland).
            Assert.That(Enumerable.Range(0, HeartDiseaseData.FeatureCount).Select(f => Enumerable.Range(0, 199).Average(r => data.Centres[0].TrainFeatures[(r * 13) + f])), Is.All.EqualTo(0).Within(1e-5));
        });
    }

    [Test]
    public void CreateAggregator_UnknownStrategy_ThrowsListingChoices()
    {
        var ex = Assert.Throws<ArgumentException>(() => HeartDiseaseFederation.CreateAggregator(new HeartDiseaseOptions { Strategy = "fedsgd" }));
        Assert.That(ex!.Message, Does.Contain("fedavg").And.Contain("fedprox"));
    }
}
