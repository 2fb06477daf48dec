using FederatedSharp.Clients;
using FederatedSharp.Serialization;

namespace FederatedSharp.Tests.Clients;

public class ClientStateStoreTests
{
    [Test]
    public void Get_SameId_ReturnsTheSameState()
    {
        var store = new ClientStateStore();
        store.Get("a").Set("n", 3L);

        Assert.Multiple(() =>
        {
            ClientState again = store.Get("a");
            Assert.That(again, Is.SameAs(store.Get("a")));
            Assert.That(store.Get("a").TryGetValue("n", out ConfigValue v) && v.AsInt64() == 3, Is.True);
            Assert.That(store.Get("b").Keys, Is.Empty);
        });
    }

    [Test]
    public void ToBytes_RestoreFrom_RoundTripsEveryKindBitForBit()
    {
        var store = new ClientStateStore();
        store.Get("site-1").SetFloats("c", new[] { 1.5f, float.NaN, -0f, float.Epsilon });
        store.Get("site-1").Set("steps", "0.01|1.1|40");
        store.Get("site-2").Set("rounds", 7L);
        store.Get("site-2").Set("lr", 0.1 + 0.2);
        store.Get("site-2").Set("on", true);

        var restored = new ClientStateStore();
        restored.Get("stale").Set("x", 1L);
        restored.RestoreFrom(store.ToBytes());

        Assert.Multiple(() =>
        {
            Assert.That(restored.ToBytes(), Is.EqualTo(store.ToBytes()));
            Assert.That(BitConverter.SingleToInt32Bits(restored.Get("site-1").GetFloats("c")![1]), Is.EqualTo(BitConverter.SingleToInt32Bits(float.NaN)));
            Assert.That(restored.Get("site-2").ToRecord()["lr"].AsDouble(), Is.EqualTo(0.1 + 0.2));
            Assert.That(restored.Get("stale").Keys, Is.Empty, "a state absent from the bytes is cleared");
        });
    }

    [Test]
    public void RestoreFrom_Truncated_ThrowsClearly()
    {
        var store = new ClientStateStore();
        store.Get("a").SetFloats("c", new float[10]);
        byte[] bytes = store.ToBytes();

        var ex = Assert.Throws<ModelFormatException>(() => new ClientStateStore().RestoreFrom(bytes.AsSpan(0, bytes.Length - 5)));
        Assert.That(ex!.Message, Does.Contain("truncated"));
    }

    [Test]
    public void GetFloats_ValueIsNotAnArray_ThrowsNamingTheKey()
    {
        var state = new ClientState("a");
        state.Set("rounds", 3L);

        var ex = Assert.Throws<InvalidOperationException>(() => state.GetFloats("rounds"));
        Assert.That(ex!.Message, Does.Contain("'rounds'").And.Contain("Int64"));
    }
}
