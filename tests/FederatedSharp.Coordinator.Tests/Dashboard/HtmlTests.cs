using FederatedSharp.Coordinator.Dashboard;

namespace FederatedSharp.Coordinator.Tests.Dashboard;

public sealed class HtmlTests
{
    [Test]
    public void Of_TextHoles_AreEncodedAndHtmlHolesAreNot()
    {
        string name = "<script>alert('x')</script>";
        Html bold = Html.Of($"<b>{"a & b"}</b>");

        Html html = Html.Of($"<td title=\"{name}\">{name} {bold} {42} {1.5}</td>");

        Assert.That(html.Value, Does.Not.Contain("<script>"));
        Assert.That(html.Value, Does.Contain("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"));
        Assert.That(html.Value, Does.Contain("<b>a &amp; b</b>"), "an Html hole is written as it is");
        Assert.That(html.Value, Does.EndWith(" 42 1.5</td>"), "numbers in the invariant culture");
    }

    [Test]
    public void Of_SequenceOfHtml_WritesEachPartWhateverItsStaticType()
    {
        Html[] array = [Html.Of($"<li>{"1"}</li>"), Html.Of($"<li>{"<2>"}</li>")];
        IEnumerable<Html> lazy = array.Select(h => h);
        object boxed = array;

        Assert.That(Html.Of($"<ul>{array}</ul>").Value, Is.EqualTo("<ul><li>1</li><li>&lt;2&gt;</li></ul>"));
        Assert.That(Html.Of($"<ul>{lazy}</ul>").Value, Is.EqualTo("<ul><li>1</li><li>&lt;2&gt;</li></ul>"));
        Assert.That(Html.Of($"<ul>{boxed}</ul>").Value, Is.EqualTo("<ul><li>1</li><li>&lt;2&gt;</li></ul>"));
    }

    [Test]
    public void Text_Null_IsEmpty()
    {
        Assert.That(Html.Text(null).Value, Is.Empty);
        Assert.That(Html.Of($"[{(string?)null}]").Value, Is.EqualTo("[]"));
    }
}
