using System.Text;
using FederatedSharp.Aggregation;
using FederatedSharp.Parameters;
using FederatedSharp.Privacy;
using FederatedSharp.Server;
using FederatedSharp.Server.Audit;
using FederatedSharp.Tests.TestUtilities;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Tests.Server.Audit;

public class FileAuditLogTests
{
    private static AuditEntry Entry(int round, params string[] participants) => new()
    {
        Round = round,
        Timestamp = new DateTimeOffset(2026, 11, 27, 12, 0, round, TimeSpan.Zero),
        ModelSha256 = new string((char)('a' + round), 64),
        Strategy = "FedAvg",
        ConfigurationHash = "0123456789abcdef",
        Participants = participants,
        Rejected = [new AuditRejection("mallory", "fit", "Rejected", "update norm 1e9 above bound 100")],
        StrategyParameters = new Dictionary<string, string> { ["dp_clip_norm"] = "1.5", ["dp_noise_stddev"] = "0.01" },
        EpsilonSoFar = 0.25 * round,
    };

    private static async Task<string> WriteLogAsync(TempDirectory dir, int records)
    {
        string path = Path.Combine(dir.Path, "audit.jsonl");
        var log = new FileAuditLog(path);
        for (int r = 1; r <= records; r++)
        {
            await log.AppendAsync(Entry(r, "hospital-a", "hospital-b"));
        }

        return path;
    }

    [Test]
    public async Task AppendAsync_ThreeRounds_ChainVerifiesAndReadsBack()
    {
        using var dir = new TempDirectory("audit-");
        string path = await WriteLogAsync(dir, 3);

        AuditVerification result = FileAuditLog.Verify(path);
        IReadOnlyList<AuditRecord> records = FileAuditLog.ReadAll(path);

        Assert.Multiple(() =>
        {
            Assert.That(result.IsValid, Is.True, result.Problem);
            Assert.That(result.RecordCount, Is.EqualTo(3));
            Assert.That(records.Select(r => r.Sequence), Is.EqualTo(new long[] { 0, 1, 2 }));
            Assert.That(records[0].PreviousHash, Is.EqualTo(FileAuditLog.GenesisHash));
            Assert.That(records[1].PreviousHash, Is.EqualTo(records[0].Hash));
            Assert.That(records[2].Entry.Participants, Is.EqualTo(new[] { "hospital-a", "hospital-b" }));
            Assert.That(records[2].Entry.Rejected[0].Reason, Does.Contain("norm"));
            Assert.That(records[2].Entry.EpsilonSoFar, Is.EqualTo(0.75));
            Assert.That(records[2].Entry.StrategyParameters["dp_clip_norm"], Is.EqualTo("1.5"));
            Assert.That(result.LastHash, Is.EqualTo(records[2].Hash));
        });
    }

    [Test]
    public async Task Verify_AnySingleByteChanged_IsCaught()
    {
        using var dir = new TempDirectory("audit-");
        string path = await WriteLogAsync(dir, 3);
        byte[] original = await File.ReadAllBytesAsync(path);
        string tampered = Path.Combine(dir.Path, "tampered.jsonl");
        int caught = 0;

        for (int i = 0; i < original.Length - 1; i++)
        {
            byte[] copy = (byte[])original.Clone();
            copy[i] ^= 0x01;
            await File.WriteAllBytesAsync(tampered, copy);
            if (!FileAuditLog.Verify(tampered).IsValid)
            {
                caught++;
            }
        }

        Assert.That(caught, Is.EqualTo(original.Length - 1), "every changed byte (all but the final newline) breaks the chain");
    }

    [Test]
    public async Task Verify_OneByteChangedInTheSecondRecord_ReportsThatLine()
    {
        using var dir = new TempDirectory("audit-");
        string path = await WriteLogAsync(dir, 3);
        string[] lines = await File.ReadAllLinesAsync(path);
        lines[1] = lines[1].Replace("hospital-b", "hospital-c", StringComparison.Ordinal);
        await File.WriteAllTextAsync(path, string.Join("\n", lines) + "\n", Encoding.UTF8);

        AuditVerification result = FileAuditLog.Verify(path);

        Assert.Multiple(() =>
        {
            Assert.That(result.IsValid, Is.False);
            Assert.That(result.BrokenAtLine, Is.EqualTo(2));
            Assert.That(result.RecordCount, Is.EqualTo(1), "the first record still verifies");
            Assert.That(result.Problem, Does.Contain("does not match its hash"));
        });
    }

    [Test]
    public async Task Verify_RecordRemovedOrReordered_IsCaught()
    {
        using var dir = new TempDirectory("audit-");
        string path = await WriteLogAsync(dir, 3);
        string[] lines = await File.ReadAllLinesAsync(path);
        string removed = Path.Combine(dir.Path, "removed.jsonl");
        string swapped = Path.Combine(dir.Path, "swapped.jsonl");
        await File.WriteAllTextAsync(removed, lines[0] + "\n" + lines[2] + "\n");
        await File.WriteAllTextAsync(swapped, lines[1] + "\n" + lines[0] + "\n" + lines[2] + "\n");

        Assert.Multiple(() =>
        {
            Assert.That(FileAuditLog.Verify(removed).Problem, Does.Contain("line 2"));
            Assert.That(FileAuditLog.Verify(swapped).Problem, Does.Contain("line 1"));
        });
    }

    [Test]
    public async Task AppendAsync_TamperedLog_RefusesToAppend()
    {
        using var dir = new TempDirectory("audit-");
        string path = await WriteLogAsync(dir, 2);
        string text = await File.ReadAllTextAsync(path);
        await File.WriteAllTextAsync(path, text.Replace("FedAvg", "FedAvh", StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<AuditLogException>(async () => await new FileAuditLog(path).AppendAsync(Entry(3)));

        Assert.That(ex!.Message, Does.Contain("Refusing to append"));
    }

    [Test]
    public async Task AppendAsync_Reopened_ContinuesTheChain()
    {
        using var dir = new TempDirectory("audit-");
        string path = await WriteLogAsync(dir, 2);

        AuditRecord third = await new FileAuditLog(path).AppendAsync(Entry(3));

        Assert.That(third.Sequence, Is.EqualTo(2));
        Assert.That(FileAuditLog.Verify(path).IsValid, Is.True);
    }

    [Test]
    public async Task RunAsync_WithAuditLog_RecordsEveryRoundModelHashParticipantsRejectionsAndEpsilon()
    {
        using var dir = new TempDirectory("audit-");
        string path = Path.Combine(dir.Path, "audit.jsonl");
        await using var transport = new InMemoryTransport();
        transport.AddClient("a", new ShiftClient(0.1f, 10));
        transport.AddClient("b", new ShiftClient(0.2f, 10));
        transport.AddClient("c", new ShiftClient(0.3f, 10));
        transport.AddClient("crashy", new ThrowingClient());
        using ModelParameters initial = TestModels.Filled(TestModels.SmallLayout, 0);

        using FederationResult result = await new FederatedServerBuilder()
            .UseTransport(transport)
            .UseAggregator(new DpFedAvg(new DpFedAvgOptions { NoiseMultiplier = 1.0, ClipNorm = 1.0, TotalClients = 4, Seed = 3 }))
            .WithInitialParameters(initial)
            .UseAuditLog(new FileAuditLog(path))
            .Configure(o => { o.Rounds = 3; o.MinAvailableClients = 4; o.MinFitClients = 2; o.MinEvaluateClients = 2; o.Seed = 5; })
            .Build()
            .RunAsync()
            .WithTimeout();

        IReadOnlyList<AuditRecord> records = FileAuditLog.ReadAll(path);
        Assert.Multiple(() =>
        {
            Assert.That(records.Select(r => r.Entry.Round), Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(records[^1].Entry.ModelSha256, Is.EqualTo(ModelHash.Sha256(result.Parameters)));
            Assert.That(records[0].Entry.ModelSha256, Is.Not.EqualTo(records[1].Entry.ModelSha256));
            Assert.That(records[0].Entry.Participants, Is.EquivalentTo(new[] { "a", "b", "c" }));
            Assert.That(records[0].Entry.Rejected.Select(r => r.ClientId), Does.Contain("crashy"));
            Assert.That(records[0].Entry.Strategy, Is.EqualTo("DpFedAvg"));
            Assert.That(records.Select(r => r.Entry.EpsilonSoFar), Is.Ordered.Ascending.And.All.GreaterThan(0));
            Assert.That(records[0].Entry.StrategyParameters.Keys, Does.Contain("dp_noise_stddev"));
        });
    }
}
