using System.Globalization;
using FederatedSharp.Server;
using ScottPlot;
using Spectre.Console;

namespace HeartDisease;

/// <summary>The cross-site matrix as a console table and a PNG heat map (rows: models, columns: test sets).</summary>
public static class CrossSitePlot
{
    public static void Print(CrossSiteMatrix matrix, string metric)
    {
        double[,] values = matrix.Values(metric);
        var table = new Table().Title($"Cross-site {metric}: each model (row) on each hospital's test set (column)").AddColumn("Model");
        foreach (string site in matrix.Sites)
        {
            table.AddColumn(new TableColumn(Markup.Escape(site)).RightAligned());
        }

        for (int m = 0; m < matrix.Models.Count; m++)
        {
            string name = matrix.Models[m] == CrossSiteMatrix.GlobalModel ? "[bold]global[/]" : Markup.Escape(matrix.Models[m]) + " (local)";
            table.AddRow(new[] { name }.Concat(Enumerable.Range(0, matrix.Sites.Count).Select(s => double.IsNaN(values[m, s]) ? "-" : values[m, s].ToString("F3", CultureInfo.InvariantCulture))).ToArray());
        }

        AnsiConsole.Write(table);
        foreach (ClientFailure failure in matrix.Failures)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(failure.ClientId)}[/]: {Markup.Escape(failure.Reason)}");
        }
    }

    public static void Write(string path, CrossSiteMatrix matrix, string metric)
    {
        double[,] values = matrix.Values(metric);
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap).Label = metric;
        int rows = matrix.Models.Count;
        int columns = matrix.Sites.Count;
        for (int m = 0; m < rows; m++)
        {
            for (int s = 0; s < columns; s++)
            {
                if (!double.IsNaN(values[m, s]))
                {
                    var text = plot.Add.Text(values[m, s].ToString("F3", CultureInfo.InvariantCulture), s, rows - 1 - m);
                    text.LabelFontColor = Colors.White;
                    text.LabelFontSize = 16;
                    text.LabelAlignment = Alignment.MiddleCenter;
                }
            }
        }

        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(i => (double)i).ToArray(), matrix.Sites.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(i => (double)(rows - 1 - i)).ToArray(),
            matrix.Models.Select(m => m == CrossSiteMatrix.GlobalModel ? "global" : m + " (local)").ToArray());
        plot.Title($"Fed-Heart-Disease cross-site {metric}");
        plot.XLabel("Test set");
        plot.YLabel("Model");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 900, 650);
    }
}
