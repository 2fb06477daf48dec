using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.Parameters;

public class TensorLayoutTests
{
    [Test]
    public void Constructor_TwoTensors_AssignsContiguousOffsets()
    {
        var layout = TensorLayout.Create(new TensorSpec("a", 2, 3), new TensorSpec("b", 4), new TensorSpec("scalar"));
        Assert.Multiple(() =>
        {
            Assert.That(layout.TotalLength, Is.EqualTo(11));
            Assert.That(layout.GetOffset(0), Is.EqualTo(0));
            Assert.That(layout.GetOffset(1), Is.EqualTo(6));
            Assert.That(layout.GetOffset(2), Is.EqualTo(10));
            Assert.That(layout.IndexOf("b"), Is.EqualTo(1));
        });
    }

    [Test]
    public void Constructor_DuplicateName_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => TensorLayout.Create(new TensorSpec("w", 1), new TensorSpec("w", 2)));
        Assert.That(ex!.Message, Does.Contain("'w'"));
    }

    [Test]
    public void TensorSpec_NegativeDimension_Throws()
    {
        Assert.Throws<ArgumentException>(() => new TensorSpec("w", 2, -1));
    }

    [Test]
    public void Hash_SameNamesAndShapes_IsEqualAndStable()
    {
        var a = TensorLayout.Create(new TensorSpec("fc.weight", 1, 13), new TensorSpec("fc.bias", 1));
        var b = TensorLayout.Create(new TensorSpec("fc.weight", 1, 13), new TensorSpec("fc.bias", 1));
        Assert.Multiple(() =>
        {
            Assert.That(a.Hash, Is.EqualTo(b.Hash));
            Assert.That(a, Is.EqualTo(b));
            // The fingerprint is part of the wire contract: it must not change between versions or machines.
            Assert.That(a.Hash, Is.EqualTo(TensorLayout.Create(new TensorSpec("fc.weight", 1, 13), new TensorSpec("fc.bias", 1)).Hash));
        });
    }

    [TestCase("fc.weight", new[] { 13, 1 })]
    [TestCase("fc.w", new[] { 1, 13 })]
    public void Hash_DifferentShapeOrName_Differs(string name, int[] shape)
    {
        var a = TensorLayout.Create(new TensorSpec("fc.weight", 1, 13));
        var b = TensorLayout.Create(new TensorSpec(name, shape));
        Assert.That(a.Hash, Is.Not.EqualTo(b.Hash));
    }

    [Test]
    public void EnsureCompatible_ShapeDiffers_NamesTensorAndBothShapes()
    {
        var a = TensorLayout.Create(new TensorSpec("fc.weight", 1, 13), new TensorSpec("fc.bias", 1));
        var b = TensorLayout.Create(new TensorSpec("fc.weight", 1, 12), new TensorSpec("fc.bias", 1));
        var ex = Assert.Throws<LayoutMismatchException>(() => a.EnsureCompatible(b, "update from client 'x'"));
        Assert.That(ex!.Message, Does.Contain("fc.weight").And.Contain("[1, 12]").And.Contain("[1, 13]").And.Contain("client 'x'"));
    }

    [Test]
    public void EnsureCompatible_TensorCountDiffers_Throws()
    {
        var a = TensorLayout.Create(new TensorSpec("w", 2));
        var b = TensorLayout.Create(new TensorSpec("w", 2), new TensorSpec("b", 1));
        Assert.Throws<LayoutMismatchException>(() => a.EnsureCompatible(b));
    }

    [Test]
    public void EnsureCompatible_NameDiffers_Throws()
    {
        var a = TensorLayout.Create(new TensorSpec("w", 2));
        var b = TensorLayout.Create(new TensorSpec("v", 2));
        var ex = Assert.Throws<LayoutMismatchException>(() => a.EnsureCompatible(b));
        Assert.That(ex!.Message, Does.Contain("'v'").And.Contain("'w'"));
    }

    [Test]
    public void IndexOf_UnknownName_ThrowsListingNames()
    {
        var layout = TensorLayout.Create(new TensorSpec("w", 2));
        var ex = Assert.Throws<KeyNotFoundException>(() => layout.IndexOf("nope"));
        Assert.That(ex!.Message, Does.Contain("nope").And.Contain("w"));
    }
}
