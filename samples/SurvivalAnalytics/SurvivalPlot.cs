using FederatedSharp.Analytics;
using ScottPlot;

namespace SurvivalAnalytics;

/// <summary>Kaplan-Meier step curves: one panel per region and the pooled curve, one panel per stage group.</summary>
public static class SurvivalPlot
{
    public static void Write(string path, SurvivalReport overall, SurvivalReport byStage)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Plot regions = multiplot.GetPlot(0);
        foreach ((string site, IReadOnlyList<KaplanMeierCurve> curves) in overall.Sites)
        {
            AddCurve(regions, curves[0], site, 1.5f, LinePattern.Dashed);
        }

        AddCurve(regions, overall.Pooled[0], "pooled", 3, LinePattern.Solid);
        Style(regions, "Fed-TCGA-BRCA: Kaplan-Meier per region and pooled");
        Plot stages = multiplot.GetPlot(1);
        foreach (KaplanMeierCurve curve in byStage.Pooled)
        {
            AddCurve(stages, curve, curve.Group, 3, LinePattern.Solid);
        }

        Style(stages, $"Pooled by stage: log-rank p = {byStage.LogRank!.PValue:G3}");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        multiplot.SavePng(path, 1400, 560);
    }

    private static void AddCurve(Plot plot, KaplanMeierCurve curve, string label, float width, LinePattern pattern)
    {
        // A step function: S stays at its value until the next time.
        double[] years = new[] { 0.0 }.Concat(curve.Points.Select(p => p.Time / 365.25)).ToArray();
        double[] survival = new[] { 1.0 }.Concat(curve.Points.Select(p => p.Survival)).ToArray();
        var line = plot.Add.Scatter(years, survival);
        line.ConnectStyle = ConnectStyle.StepHorizontal;
        line.MarkerSize = 0;
        line.LineWidth = width;
        line.LinePattern = pattern;
        line.LegendText = label;
    }

    private static void Style(Plot plot, string title)
    {
        plot.Title(title);
        plot.XLabel("Years");
        plot.YLabel("Survival probability");
        plot.Axes.SetLimitsY(0, 1.02);
        plot.ShowLegend(Alignment.LowerLeft);
    }
}
