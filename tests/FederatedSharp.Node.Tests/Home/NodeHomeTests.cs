using FederatedSharp.Node.Tests.TestUtilities;

namespace FederatedSharp.Node.Tests.Home;

public sealed class NodeHomeTests
{
    [Test]
    public void Create_ThenOpen_KeepsIdentityAndPolicy()
    {
        using var node = new TestNode();
        node.Home.SavePolicy(new SitePolicy { AllowExport = true, MinimumCount = 5 });

        NodeHome reopened = NodeHome.Open(node.Directory, node.Clock);

        Assert.That(reopened.Identity.Name, Is.EqualTo("cleveland"));
        Assert.That(reopened.LoadPolicy().AllowExport, Is.True);
        Assert.That(reopened.LoadPolicy().MinimumCount, Is.EqualTo(5));
        Assert.That(reopened.Datasets.List().Single().Name, Is.EqualTo("heart"));
    }

    [Test]
    public void Create_DirectoryOfAnotherNode_Refused()
    {
        using var node = new TestNode();

        var e = Assert.Throws<ArgumentException>(() => NodeHome.Create(node.Directory, "hungary"));

        Assert.That(e!.Message, Does.Contain("already holds node 'cleveland'"));
    }

    [Test]
    public void Open_NoNode_SaysHowToCreateOne()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => NodeHome.Open(Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"))));

        Assert.That(e!.Message, Does.Contain("fedsharp node init"));
    }

    [Test]
    public void Create_InvalidName_Refused() =>
        Assert.Throws<ArgumentException>(() => NodeHome.Create(Path.GetTempPath(), "bad name/.."));
}
