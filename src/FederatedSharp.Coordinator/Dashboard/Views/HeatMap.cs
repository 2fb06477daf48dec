using System.Globalization;
using FederatedSharp.Coordinator.Jobs;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>A cross-site evaluation as an SVG heat map: models by rows, evaluating sites by columns, each cell coloured by its value and labelled with it.</summary>
internal static class HeatMap
{
    private const int Cell = 84, RowHeader = 110, ColumnHeader = 30;

    public static Html Render(CrossSiteTable table)
    {
        double[] known = table.Values.SelectMany(r => r).Where(v => v is not null).Select(v => v!.Value).ToArray();
        double min = known.Length == 0 ? 0 : known.Min(), max = known.Length == 0 ? 1 : known.Max();
        var cells = new List<Html>();
        for (int s = 0; s < table.Sites.Count; s++)
        {
            cells.Add(Html.Of($"""<text class="tick" x="{RowHeader + (s * Cell) + (Cell / 2)}" y="{ColumnHeader - 10}" text-anchor="middle">{table.Sites[s]}</text>"""));
        }

        for (int m = 0; m < table.Models.Count; m++)
        {
            int y = ColumnHeader + (m * Cell / 2);
            cells.Add(Html.Of($"""<text class="tick" x="{RowHeader - 8}" y="{y + (Cell / 4) + 4}" text-anchor="end">{table.Models[m]}</text>"""));
            for (int s = 0; s < table.Sites.Count; s++)
            {
                double? v = table.Values[m][s];
                double t = v is double value ? (max - min < 1e-12 ? 1 : (value - min) / (max - min)) : 0;
                string fill = v is null ? "#d0d4da" : Colour(t);
                string label = v is double x ? x.ToString("G3", CultureInfo.InvariantCulture) : "n/a";
                cells.Add(Html.Of($"""
                    <rect class="cell" x="{RowHeader + (s * Cell)}" y="{y}" width="{Cell - 2}" height="{(Cell / 2) - 2}" fill="{fill}"><title>{table.Models[m]} on {table.Sites[s]}: {label}</title></rect>
                    <text class="{(t > 0.6 ? "cell-label dark" : "cell-label")}" x="{RowHeader + (s * Cell) + (Cell / 2)}" y="{y + (Cell / 4) + 4}" text-anchor="middle">{label}</text>
                    """));
            }
        }

        int width = RowHeader + (table.Sites.Count * Cell) + 8, height = ColumnHeader + (table.Models.Count * Cell / 2) + 8;
        return Html.Of($"""
            <figure class="heatmap" id="cross-site-{table.Metric}">
              <figcaption>{table.Metric}</figcaption>
              <svg viewBox="0 0 {width} {height}" role="img" aria-label="cross-site evaluation of {table.Metric}">{cells}</svg>
            </figure>
            """);
    }

    // From a pale blue (low) to a deep blue (high), readable with dark labels up to about 70%.
    private static string Colour(double t)
    {
        t = Math.Clamp(t, 0, 1);
        int r = (int)(230 - (t * 180)), g = (int)(240 - (t * 120)), b = (int)(250 - (t * 50));
        return $"#{r:x2}{g:x2}{b:x2}";
    }
}
