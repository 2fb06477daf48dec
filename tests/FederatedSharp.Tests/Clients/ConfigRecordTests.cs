using FederatedSharp.Clients;

namespace FederatedSharp.Tests.Clients;

public class ConfigRecordTests
{
    [Test]
    public void Indexer_TypedValues_RoundTrip()
    {
        var record = new ConfigRecord
        {
            ["lr"] = 0.01,
            ["steps"] = 100,
            ["prox"] = true,
            ["name"] = "fedavg",
            ["blob"] = new byte[] { 1, 2 },
        };
        Assert.Multiple(() =>
        {
            Assert.That(record.GetDouble("lr", 0), Is.EqualTo(0.01));
            Assert.That(record.GetInt64("steps", 0), Is.EqualTo(100));
            Assert.That(record.GetDouble("steps", 0), Is.EqualTo(100.0), "integers convert to double");
            Assert.That(record.GetBoolean("prox", false), Is.True);
            Assert.That(record.GetString("name", ""), Is.EqualTo("fedavg"));
            Assert.That(record["blob"].AsBytes().ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
            Assert.That(record.GetDouble("absent", 7), Is.EqualTo(7));
        });
    }

    [Test]
    public void AsInt64_OnString_ThrowsInvalidCastNamingKinds()
    {
        ConfigValue value = "x";
        var ex = Assert.Throws<InvalidCastException>(() => value.AsInt64());
        Assert.That(ex!.Message, Does.Contain("String").And.Contain("Int64"));
    }

    [Test]
    public void Set_AfterFreeze_Throws()
    {
        var record = new ConfigRecord { ["a"] = 1 }.Freeze();
        Assert.Throws<InvalidOperationException>(() => record["a"] = 2);
        ConfigRecord copy = record.Copy();
        copy["a"] = 2;
        Assert.That(record.GetInt64("a", 0), Is.EqualTo(1));
    }

    [Test]
    public void Equals_SameKindAndValue_True()
    {
        Assert.Multiple(() =>
        {
            Assert.That((ConfigValue)1 == (ConfigValue)1L, Is.True);
            Assert.That((ConfigValue)1 == (ConfigValue)1.0, Is.False, "an integer and a double are different kinds");
            Assert.That((ConfigValue)new byte[] { 1 } == (ConfigValue)new byte[] { 1 }, Is.True);
        });
    }
}
