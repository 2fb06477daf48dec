using System.Security.Cryptography;
using System.Text;
using FederatedSharp.Plans.Json;

namespace FederatedSharp.Plans.Tests.Json;

public sealed class CanonicalJsonTests
{
    [Test]
    public void Serialize_Rfc8785Example_GivesTheRfcsBytes()
    {
        // RFC 8785 section 3.2.2's example.
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";

        Assert.That(Encoding.UTF8.GetString(CanonicalJson.Serialize(input)), Is.EqualTo(expected));
    }

    [TestCase(0.0, "0")]
    [TestCase(-0.0, "0")]
    [TestCase(1.0, "1")]
    [TestCase(-1.5, "-1.5")]
    [TestCase(100.0, "100")]
    [TestCase(0.001, "0.001")]
    [TestCase(0.000001, "0.000001")]
    [TestCase(1e-7, "1e-7")]
    [TestCase(1e21, "1e+21")]
    [TestCase(1e20, "100000000000000000000")]
    [TestCase(123456789012.5, "123456789012.5")]
    [TestCase(5e-324, "5e-324")]
    [TestCase(1.7976931348623157e308, "1.7976931348623157e+308")]
    [TestCase(9007199254740992.0, "9007199254740992")]
    [TestCase(295147905179352830000.0, "295147905179352830000")]
    public void FormatNumber_Value_IsEcmaScriptsShortestForm(double value, string expected) =>
        Assert.That(CanonicalJson.FormatNumber(value), Is.EqualTo(expected));

    [Test]
    public void FormatNumber_NotFinite_Throws() =>
        Assert.Throws<ArgumentException>(() => CanonicalJson.FormatNumber(double.NaN));

    [Test]
    public void Serialize_KeysOrderedByUtf16CodeUnits_NotByCulture()
    {
        // RFC 8785 3.2.3: upper case (0x42) before lower case, the euro sign (0x20AC) before the emoji's first surrogate (0xD83D).
        string json = "{\"b\":1,\"a\":2,\"\\u20ac\":3,\"\\ud83d\\ude00\":4,\"B\":5}";

        string canonical = Encoding.UTF8.GetString(CanonicalJson.Serialize(json));

        Assert.That(canonical, Is.EqualTo("{\"B\":5,\"a\":2,\"b\":1,\"€\":3,\"😀\":4}"));
    }

    [Test]
    public void Sha256_SameDataOtherSpelling_SameHash()
    {
        using var a = System.Text.Json.JsonDocument.Parse("{\"x\": [1.0, 2e0], \"y\": {\"q\": true, \"p\": \"s\"}}");
        using var b = System.Text.Json.JsonDocument.Parse("{ \"y\":{\"p\":\"s\",\"q\":true},\"x\":[1,2] }");

        Assert.That(CanonicalJson.Sha256(a.RootElement), Is.EqualTo(CanonicalJson.Sha256(b.RootElement)));
        Assert.That(CanonicalJson.Sha256(a.RootElement), Is.EqualTo(Convert.ToHexStringLower(SHA256.HashData("{\"x\":[1,2],\"y\":{\"p\":\"s\",\"q\":true}}"u8.ToArray()))));
    }
}
