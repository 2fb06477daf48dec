using System.Globalization;

namespace FederatedSharp.Coordinator.Dashboard;

/// <summary>A line chart of per-round values as inline SVG, drawn on the server: one polyline and one point per round.</summary>
internal static class SvgChart
{
    private const double Width = 420, Height = 200, Left = 46, Right = 12, Top = 12, Bottom = 32;

    /// <summary>The chart of <paramref name="points"/> (round, value), or a note when there is nothing to draw yet.</summary>
    public static Html Line(string id, string title, IReadOnlyList<(int Round, double Value)> points, int rounds)
    {
        (int Round, double Value)[] finite = points.Where(p => double.IsFinite(p.Value)).ToArray();
        if (finite.Length == 0)
        {
            return Html.Of($"""<figure class="chart" id="{id}"><figcaption>{title}</figcaption><p class="muted">No rounds yet.</p></figure>""");
        }

        double min = finite.Min(p => p.Value), max = finite.Max(p => p.Value);
        if (max - min < 1e-12)
        {
            (min, max) = (min - 0.5, max + 0.5);
        }

        double pad = (max - min) * 0.08;
        (min, max) = (min - pad, max + pad);
        int lastRound = Math.Max(rounds, finite.Max(p => p.Round));
        double X(int round) => Left + ((Width - Left - Right) * (lastRound <= 1 ? 0.5 : (round - 1) / (double)(lastRound - 1)));
        double Y(double value) => Top + ((Height - Top - Bottom) * (1 - ((value - min) / (max - min))));

        var ticks = new List<Html>();
        for (int i = 0; i <= 4; i++)
        {
            double v = min + ((max - min) * i / 4);
            ticks.Add(Html.Of($"""<line class="grid" x1="{F(Left)}" x2="{F(Width - Right)}" y1="{F(Y(v))}" y2="{F(Y(v))}"/><text class="tick" x="{F(Left - 6)}" y="{F(Y(v) + 4)}" text-anchor="end">{v.ToString("G3", CultureInfo.InvariantCulture)}</text>"""));
        }

        foreach (int r in RoundTicks(lastRound))
        {
            ticks.Add(Html.Of($"""<text class="tick" x="{F(X(r))}" y="{F(Height - Bottom + 16)}" text-anchor="middle">{r}</text>"""));
        }

        string line = string.Join(' ', finite.Select(p => F(X(p.Round)) + "," + F(Y(p.Value))));
        IEnumerable<Html> dots = finite.Select(p => Html.Of($"""<circle class="point" cx="{F(X(p.Round))}" cy="{F(Y(p.Value))}" r="3"><title>round {p.Round}: {p.Value.ToString("G5", CultureInfo.InvariantCulture)}</title></circle>"""));
        return Html.Of($"""
            <figure class="chart" id="{id}" data-points="{finite.Length}">
              <figcaption>{title} <span class="muted">last {finite[^1].Value.ToString("G4", CultureInfo.InvariantCulture)}</span></figcaption>
              <svg viewBox="0 0 {F(Width)} {F(Height)}" role="img" aria-label="{title} by round">
                {ticks}
                <text class="axis" x="{F((Left + Width - Right) / 2)}" y="{F(Height - 4)}" text-anchor="middle">round</text>
                <polyline class="series" points="{line}"/>
                {dots}
              </svg>
            </figure>
            """);
    }

    private static IEnumerable<int> RoundTicks(int last)
    {
        int step = Math.Max(1, (int)Math.Ceiling(last / 8.0));
        for (int r = 1; r <= last; r += step)
        {
            yield return r;
        }
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
