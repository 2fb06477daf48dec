using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server;
using FederatedSharp.Server.Checkpoints;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Server.Checkpoints;

public class FileCheckpointStoreTests
{
    private TempDirectory _temp = null!;

    private string Folder => _temp.Path;

    [SetUp]
    public void SetUp() => _temp = new TempDirectory("fs-ckpt-");

    [TearDown]
    public void TearDown() => _temp.Dispose();

    private static FederationCheckpoint Checkpoint(int round, float value)
    {
        var history = new FederatedSharp.Server.History();
        var state = new AggregatorState("FedAdam", TestModels.SmallLayout);
        state.SetTensor("m", Enumerable.Repeat(value, 8).ToArray());
        state.Scalars["steps"] = round;
        return new FederationCheckpoint(round, 0xABCDEF, TestModels.Filled(TestModels.SmallLayout, value), state, history,
            new Dictionary<string, ClientHealth> { ["a"] = new(1, 0), ["b"] = new(0, round + 3) }, 2);
    }

    [Test]
    public async Task LoadLatestAsync_AfterSave_RoundTripsEverything()
    {
        var store = new FileCheckpointStore(Folder);
        using (FederationCheckpoint c = Checkpoint(7, 0.25f))
        {
            await store.SaveAsync(c).WithTimeout();
        }

        (FederationCheckpoint? loaded, IReadOnlyList<string> skipped) = await store.LoadLatestAsync().WithTimeout();
        using (loaded)
        {
            Assert.Multiple(() =>
            {
                Assert.That(skipped, Is.Empty);
                Assert.That(loaded!.Round, Is.EqualTo(7));
                Assert.That(loaded.ConfigurationHash, Is.EqualTo(0xABCDEFUL));
                Assert.That(loaded.Parameters.Values.ToArray(), Is.All.EqualTo(0.25f));
                Assert.That(loaded.AggregatorState!.TryGetTensor("m", out float[]? m) && m!.All(v => v == 0.25f), Is.True);
                Assert.That(loaded.AggregatorState.Scalars.GetInt64("steps", 0), Is.EqualTo(7));
                Assert.That(loaded.ClientState["b"], Is.EqualTo(new ClientHealth(0, 10)));
                Assert.That(loaded.ConsecutiveFailedRounds, Is.EqualTo(2));
                Assert.That(Directory.GetFiles(Folder, "*.tmp"), Is.Empty, "no temporary file is left behind");
            });
        }
    }

    [Test]
    public async Task SaveAsync_MoreThanKeep_KeepsTheNewest()
    {
        var store = new FileCheckpointStore(Folder, keep: 2);
        for (int round = 1; round <= 5; round++)
        {
            using FederationCheckpoint c = Checkpoint(round, round);
            await store.SaveAsync(c).WithTimeout();
        }

        Assert.That(store.ListFiles().Select(Path.GetFileName), Is.EqualTo(new[] { "checkpoint-000005.fsck", "checkpoint-000004.fsck" }));
    }

    [TestCase("truncated")]
    [TestCase("bitflip")]
    [TestCase("garbage")]
    public async Task LoadLatestAsync_NewestCorrupt_FallsBackToPreviousAndSaysWhy(string damage)
    {
        var store = new FileCheckpointStore(Folder);
        for (int round = 1; round <= 2; round++)
        {
            using FederationCheckpoint c = Checkpoint(round, round);
            await store.SaveAsync(c).WithTimeout();
        }

        string newest = store.ListFiles()[0];
        byte[] bytes = await File.ReadAllBytesAsync(newest);
        switch (damage)
        {
            case "truncated": await File.WriteAllBytesAsync(newest, bytes[..(bytes.Length / 2)]); break;
            case "bitflip": bytes[bytes.Length / 3] ^= 4; await File.WriteAllBytesAsync(newest, bytes); break;
            default: await File.WriteAllTextAsync(newest, "not a checkpoint"); break;
        }

        (FederationCheckpoint? loaded, IReadOnlyList<string> skipped) = await store.LoadLatestAsync().WithTimeout();
        using (loaded)
        {
            Assert.Multiple(() =>
            {
                Assert.That(loaded!.Round, Is.EqualTo(1));
                Assert.That(skipped.Single(), Does.Contain("checkpoint-000002.fsck"));
            });
        }
    }

    [Test]
    public async Task LoadLatestAsync_EmptyFolder_ReturnsNull()
    {
        (FederationCheckpoint? loaded, IReadOnlyList<string> skipped) = await new FileCheckpointStore(Folder).LoadLatestAsync().WithTimeout();
        Assert.That((loaded, skipped.Count), Is.EqualTo(((FederationCheckpoint?)null, 0)));
    }
}
