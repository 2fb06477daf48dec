using FederatedSharp.Node.Tests.TestUtilities;

namespace FederatedSharp.Node.Tests.Datasets;

public sealed class DatasetRegistryTests
{
    [Test]
    public void Register_CsvWithHeader_RecordsColumnsRowsAndTime()
    {
        using var node = new TestNode(registerHeart: false);

        RegisteredDataset dataset = node.Home.Datasets.Register("heart", TestNode.HeartCsv("va"));

        Assert.That(dataset.Rows, Is.EqualTo(200));
        Assert.That(dataset.Columns, Does.Contain("is_test").And.Contain("thalach"));
        Assert.That(dataset.RegisteredAt, Is.EqualTo(node.Clock.GetUtcNow()));
        Assert.That(node.Home.Datasets.Load("heart").RowCount, Is.EqualTo(200));
    }

    [Test]
    public void Register_TextCells_RefusedWithWhere()
    {
        using var node = new TestNode(registerHeart: false);
        string csv = Path.Combine(node.Directory, "bad.csv");
        File.WriteAllText(csv, "age,ward\n50,east\n");

        Assert.Throws<InvalidDataException>(() => node.Home.Datasets.Register("bad", csv));
        Assert.That(node.Home.Datasets.List(), Is.Empty);
    }

    [Test]
    public void Register_MissingFileOrBadName_Refused()
    {
        using var node = new TestNode(registerHeart: false);

        Assert.Throws<FileNotFoundException>(() => node.Home.Datasets.Register("x", Path.Combine(node.Directory, "none.csv")));
        Assert.Throws<ArgumentException>(() => node.Home.Datasets.Register("../x", TestNode.HeartCsv("va")));
    }

    [Test]
    public void Load_UnknownName_SaysSo()
    {
        using var node = new TestNode(registerHeart: false);

        var e = Assert.Throws<KeyNotFoundException>(() => node.Home.Datasets.Load("heart"));

        Assert.That(e!.Message, Is.EqualTo("This node has no dataset named 'heart'."));
    }
}
