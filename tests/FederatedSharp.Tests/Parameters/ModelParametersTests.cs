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
