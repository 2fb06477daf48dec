using System.Runtime.InteropServices;
using FederatedSharp.Parameters;
using FederatedSharp.Tests.TestUtilities;

namespace FederatedSharp.Tests.Parameters;

public class ModelParametersTests
{
    [Test]
    public void Create_Layout_IsZeroFilled()
    {
        using var p = ModelParameters.Create(TestModels.SmallLayout);
        Assert.That(p.Values.ToArray(), Is.All.EqualTo(0f));
        Assert.That(p.Length, Is.EqualTo(8));
    }

    [Test]
    public void GetTensor_ByName_IsTheRightSlice()
    {
        using var p = ModelParameters.FromValues(TestModels.SmallLayout, new float[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        Assert.That(p.GetTensor("fc.bias").ToArray(), Is.EqualTo(new float[] { 7, 8 }));
        p.GetTensor("fc.bias")[0] = 70;
        Assert.That(p.Values[6], Is.EqualTo(70f));
    }

    // Lengths past the large-object threshold (those arrays do not move), not powers of two (the pool's buffer has room).
    [TestCase(30_000)]
    [TestCase(1_000_000)]
    [TestCase(1_000_003)]
    public void CreateUninitialized_LargeModel_ValuesStartOnA64ByteBoundary(int length)
    {
        var layout = TensorLayout.Create(new TensorSpec("w", length));
        ModelParameters[] held = Enumerable.Range(0, 8).Select(_ => ModelParameters.CreateUninitialized(layout)).ToArray(); // eight buffers, not one reused
        for (int attempt = 0; attempt < held.Length; attempt++)
        {
            ModelParameters p = held[attempt];
            Assert.That(MemoryMarshal.TryGetArray<float>(p.Memory, out ArraySegment<float> segment), Is.True);
            GCHandle handle = GCHandle.Alloc(segment.Array!, GCHandleType.Pinned);
            try
            {
                long address = handle.AddrOfPinnedObject() + (segment.Offset * sizeof(float));
                Assert.That(address % 64, Is.Zero, $"attempt {attempt}: values at offset {segment.Offset} of the buffer");
                Assert.That(segment.Count, Is.EqualTo(length));
                Assert.That(segment.Offset + segment.Count, Is.LessThanOrEqualTo(segment.Array!.Length));
            }
            finally
            {
                handle.Free();
            }
        }

        foreach (ModelParameters p in held)
        {
            p.Dispose();
        }
    }

    // A power of two fills its pooled buffer exactly: no room to move the start, so the values start at the buffer's.
    [Test]
    public void CreateUninitialized_BufferWithoutRoom_StartsAtTheBuffersStart()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 1 << 20));
        ModelParameters[] held = Enumerable.Range(0, 4).Select(_ => ModelParameters.CreateUninitialized(layout)).ToArray();
        foreach (ModelParameters p in held)
        {
            Assert.That(MemoryMarshal.TryGetArray<float>(p.Memory, out ArraySegment<float> segment), Is.True);
            Assert.That(segment.Array!.Length, Is.EqualTo(1 << 20), "the pool's buffer for a power of two");
            Assert.That(segment.Offset, Is.Zero);
            p.Values.Fill(1f);
            Assert.That(p.Values[^1], Is.EqualTo(1f));
            p.Dispose();
        }
    }

    [Test]
    public void GetTensor_AlignedValues_SlicesFromTheValuesStart()
    {
        var layout = TensorLayout.Create(new TensorSpec("a", 20_000), new TensorSpec("b", 20_003));
        using var p = ModelParameters.CreateUninitialized(layout);
        for (int i = 0; i < p.Length; i++)
        {
            p.Values[i] = i;
        }

        Assert.That(p.GetTensor("a")[0], Is.EqualTo(0f));
        Assert.That(p.GetTensor("b")[0], Is.EqualTo(20_000f));
        Assert.That(p.GetTensor("b")[^1], Is.EqualTo(40_002f));
    }

    [Test]
    public void FromValues_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() => ModelParameters.FromValues(TestModels.SmallLayout, new float[3]));
    }

    [Test]
    public void Clone_ModifyCopy_OriginalUnchanged()
    {
        using var p = TestModels.Filled(TestModels.SmallLayout, 1f);
        using var copy = p.Clone();
        copy.Values[0] = 5;
        Assert.That(p.Values[0], Is.EqualTo(1f));
    }

    [Test]
    public void CopyTo_DifferentLayout_ThrowsLayoutMismatch()
    {
        using var p = TestModels.Filled(TestModels.SmallLayout, 1f);
        using var other = ModelParameters.Create(TensorLayout.Create(new TensorSpec("x", 8)));
        Assert.Throws<LayoutMismatchException>(() => p.CopyTo(other));
    }

    [Test]
    public void Values_AfterDispose_ThrowsObjectDisposed()
    {
        var p = TestModels.Filled(TestModels.SmallLayout, 1f);
        p.Dispose();
        p.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(p.IsDisposed, Is.True);
            Assert.Throws<ObjectDisposedException>(() => _ = p.Values.Length);
        });
    }

    [Test]
    public void Create_EmptyLayout_HasNoValues()
    {
        using var p = ModelParameters.Create(new TensorLayout(Array.Empty<TensorSpec>()));
        Assert.That(p.Values.Length, Is.EqualTo(0));
    }

    [Test]
    public void Retain_OwnerDisposed_OwnerThrowsAndRetainedValuesStayIntact()
    {
        var layout = new TensorLayout(new[] { new TensorSpec("w", 3) });
        var owner = ModelParameters.FromValues(layout, new float[] { 1, 2, 3 });
        ModelParameters.RetainedValues retained = owner.Retain();
        owner.Dispose();
        owner.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(owner.IsDisposed, Is.True);
            Assert.That(() => owner.Values.ToArray(), Throws.TypeOf<ObjectDisposedException>());
            Assert.That(retained.Values.ToArray(), Is.EqualTo(new float[] { 1, 2, 3 }));
        });
        retained.Dispose();
        Assert.That(() => retained.Dispose(), Throws.Nothing, "a retention lets go once");
    }

    [Test]
    public void Retain_AfterDispose_Throws()
    {
        var owner = ModelParameters.Create(new TensorLayout(new[] { new TensorSpec("w", 3) }));
        owner.Dispose();
        Assert.That(() => owner.Retain(), Throws.TypeOf<ObjectDisposedException>());
    }
}
