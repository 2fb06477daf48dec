using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Tests;

public class TorchModelAdapterTests
{
    [Test]
    public void Layout_Sequential_NamesAndShapesFromNamedParameters()
    {
        using var module = nn.Sequential(("fc1", nn.Linear(4, 3)), ("act", nn.ReLU()), ("fc2", nn.Linear(3, 1)));
        var adapter = new TorchModelAdapter(module);
        Assert.Multiple(() =>
        {
            Assert.That(adapter.Layout.Tensors.Select(t => t.Name), Is.EqualTo(new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }));
            Assert.That(adapter.Layout.Tensors[0].Shape, Is.EqualTo(new[] { 3, 4 }));
            Assert.That(adapter.Layout.TotalLength, Is.EqualTo(12 + 3 + 3 + 1));
        });
    }

    [Test]
    public void ToParameters_ThenCopyFrom_RoundTripsValuesExactly()
    {
        using var module = nn.Linear(5, 2);
        var adapter = new TorchModelAdapter(module);
        using ModelParameters original = adapter.ToParameters();
        float[] expected = module.weight!.data<float>().ToArray().Concat(module.bias!.data<float>().ToArray()).ToArray();
        Assert.That(original.Values.ToArray(), Is.EqualTo(expected));

        using ModelParameters changed = original.Clone();
        for (int i = 0; i < changed.Length; i++)
        {
            changed.Values[i] = i * 0.5f;
        }

        adapter.CopyFrom(changed);
        Assert.Multiple(() =>
        {
            Assert.That(module.weight!.data<float>().ToArray(), Is.EqualTo(changed.Values[..10].ToArray()));
            Assert.That(module.bias!.data<float>().ToArray(), Is.EqualTo(changed.Values[10..].ToArray()));
            Assert.That(module.weight!.requires_grad, Is.True, "loading does not detach the parameters");
        });
    }

    [Test]
    public void CopyFrom_OtherLayout_ThrowsLayoutMismatch()
    {
        using var module = nn.Linear(5, 2);
        var adapter = new TorchModelAdapter(module);
        using ModelParameters other = ModelParameters.Create(TensorLayout.Create(new TensorSpec("weight", 2, 4), new TensorSpec("bias", 2)));
        var ex = Assert.Throws<LayoutMismatchException>(() => adapter.CopyFrom(other));
        Assert.That(ex!.Message, Does.Contain("weight").And.Contain("[2, 4]").And.Contain("[2, 5]"));
    }

    [Test]
    public void Constructor_DoubleParameters_ThrowsNamingTensor()
    {
        using var module = nn.Linear(2, 1, dtype: ScalarType.Float64);
        var ex = Assert.Throws<ArgumentException>(() => _ = new TorchModelAdapter(module));
        Assert.That(ex!.Message, Does.Contain("weight").And.Contain("Float64"));
    }

    [Test]
    public void CopyTo_ManyTimes_AllocatesNothingPerParameter()
    {
        using var module = nn.Sequential(("a", nn.Linear(50, 50)), ("b", nn.Linear(50, 50)), ("c", nn.Linear(50, 50)));
        var adapter = new TorchModelAdapter(module);
        using ModelParameters target = ModelParameters.Create(adapter.Layout);
        adapter.CopyTo(target);
        adapter.CopyFrom(target);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            adapter.CopyTo(target);
        }

        long perCopy = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        TestContext.Out.WriteLine($"managed bytes allocated per CopyTo of 6 tensors: {perCopy}");
        Assert.That(perCopy, Is.LessThan(6 * 64), "at most a few small objects, never a copy of the values (7,650 floats)");
    }
}
