using FederatedSharp.Coordinator.Dashboard;

namespace FederatedSharp.Coordinator.Tests.Dashboard;

public sealed class SvgChartTests
{
    [Test]
    public void Line_PointsWithNaN_DrawsOnePointPerFiniteValue()
    {
        Html chart = SvgChart.Line("chart-loss", "loss", [(1, 0.9), (2, double.NaN), (3, 0.5), (4, 0.4)], rounds: 10);

        Assert.That(Count(chart.Value, "<circle class=\"point\""), Is.EqualTo(3));
        Assert.That(chart.Value, Does.Contain("data-points=\"3\""));
        Assert.That(chart.Value, Does.Contain("round 4: 0.4"));
    }

    [Test]
    public void Line_ConstantSeries_StaysInsideThePlot()
    {
        Html chart = SvgChart.Line("c", "flat", [(1, 2.0), (2, 2.0)], rounds: 2);

        Assert.That(chart.Value, Does.Not.Contain("NaN").And.Not.Contain("Infinity"));
        Assert.That(Count(chart.Value, "<circle class=\"point\""), Is.EqualTo(2));
    }

    [Test]
    public void Line_NoPoints_SaysSo()
    {
        Assert.That(SvgChart.Line("c", "loss", [], rounds: 5).Value, Does.Contain("No rounds yet."));
    }

    private static int Count(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;
}
