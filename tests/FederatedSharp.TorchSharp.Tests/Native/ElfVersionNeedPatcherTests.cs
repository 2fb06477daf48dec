using System.Reflection;
using FederatedSharp.TorchSharp.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests.Native;

public class ElfVersionNeedPatcherTests
{
    private static string ShippedShim()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string version = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        string path = Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(File.Exists(path), Is.True, $"TorchSharp's shipped shim is expected at {path} (the NuGet cache this test run restored from).");
        return path;
    }

    [Test]
    public void MarkVersionNeedWeak_ShippedShim_ChangesOnlyTheFlagOfThatEntry()
    {
        byte[] original = File.ReadAllBytes(ShippedShim());
        byte[] patched = (byte[])original.Clone();

        ElfPatchOutcome outcome = ElfVersionNeedPatcher.MarkVersionNeedWeak(patched, ElfVersionNeedPatcher.LibStdCxxFile, ElfVersionNeedPatcher.MissingGlibcxxVersion);

        int[] changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(outcome, Is.EqualTo(ElfPatchOutcome.Patched));
            Assert.That(changed, Has.Length.EqualTo(1), "exactly one byte (the low byte of vna_flags) changes");
            Assert.That(patched[changed[0]] ^ original[changed[0]], Is.EqualTo(0x2), "only the VER_FLG_WEAK bit is set");
            Assert.That(ElfVersionNeedPatcher.MarkVersionNeedWeak(patched, ElfVersionNeedPatcher.LibStdCxxFile, ElfVersionNeedPatcher.MissingGlibcxxVersion),
                Is.EqualTo(ElfPatchOutcome.AlreadyWeak));
        });
    }

    [Test]
    public void MarkVersionNeedWeak_VersionNotNeeded_NotFoundAndUnchanged()
    {
        byte[] original = File.ReadAllBytes(ShippedShim());
        byte[] copy = (byte[])original.Clone();
        Assert.Multiple(() =>
        {
            Assert.That(ElfVersionNeedPatcher.MarkVersionNeedWeak(copy, ElfVersionNeedPatcher.LibStdCxxFile, "GLIBCXX_9.9.99"), Is.EqualTo(ElfPatchOutcome.NotFound));
            Assert.That(ElfVersionNeedPatcher.MarkVersionNeedWeak(copy, "libfoo.so.1", ElfVersionNeedPatcher.MissingGlibcxxVersion), Is.EqualTo(ElfPatchOutcome.NotFound));
            Assert.That(copy, Is.EqualTo(original));
        });
    }

    [Test]
    public void PatchFile_CopyOfShim_PatchesTheCopyOnly()
    {
        string shipped = ShippedShim();
        byte[] before = File.ReadAllBytes(shipped);
        string copy = Path.Combine(Path.GetTempPath(), $"fs-shim-{Guid.NewGuid():N}.so");
        File.Copy(shipped, copy);
        try
        {
            Assert.That(ElfVersionNeedPatcher.PatchFile(copy), Is.EqualTo(ElfPatchOutcome.Patched));
            Assert.That(ElfVersionNeedPatcher.PatchFile(copy), Is.EqualTo(ElfPatchOutcome.AlreadyWeak));
            Assert.That(File.ReadAllBytes(shipped), Is.EqualTo(before), "the NuGet cache is never modified");
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestCase(new byte[0])]
    [TestCase(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' })]
    [TestCase(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64 })]
    public void MarkVersionNeedWeak_NotAnElf_ThrowsInvalidData(byte[] image)
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeedPatcher.MarkVersionNeedWeak(image, "a", "b"));
    }

    [Test]
    [Platform("Linux")]
    public void BuildOutput_ShimInOutput_IsPatchedExactlyWhenThisSystemNeedsIt()
    {
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        byte[] expected = File.ReadAllBytes(ShippedShim());
        if (LibTorchSharpCompatibility.IsFixNeeded)
        {
            ElfVersionNeedPatcher.MarkVersionNeedWeak(expected, ElfVersionNeedPatcher.LibStdCxxFile, ElfVersionNeedPatcher.MissingGlibcxxVersion);
        }

        TestContext.Out.WriteLine($"fix needed on this system: {LibTorchSharpCompatibility.IsFixNeeded}");
        Assert.That(File.ReadAllBytes(output), Is.EqualTo(expected));
    }

    [Test]
    public void TorchSharp_AfterTheFix_TrainsALinearModel()
    {
        torch.random.manual_seed(0);
        using var scope = torch.NewDisposeScope();
        var model = nn.Linear(3, 1);
        var optimizer = optim.SGD(model.parameters(), 0.1);
        Tensor x = torch.randn(64, 3);
        Tensor y = x.matmul(torch.tensor(new float[] { 1, -2, 0.5f }).reshape(3, 1));
        float first = 0;
        float last = 0;
        for (int step = 0; step < 100; step++)
        {
            optimizer.zero_grad();
            Tensor loss = nn.functional.mse_loss(model.forward(x), y);
            loss.backward();
            optimizer.step();
            last = loss.item<float>();
            if (step == 0)
            {
                first = last;
            }
        }

        Assert.That(last, Is.LessThan(first * 0.01));
    }
}
