namespace FederatedSharp.Analytics;

/// <summary>Where a value falls in a histogram: cell 0 below the first edge, cells 1..B the bins [e_j, e_j+1) (the last one closed), cell B + 1 above the last edge.</summary>
internal static class HistogramBinning
{
    public static int Cell(double[] edges, double value)
    {
        int bins = edges.Length - 1;
        if (value < edges[0])
        {
            return 0;
        }

        if (value > edges[bins])
        {
            return bins + 1;
        }

        if (value == edges[bins])
        {
            return bins;
        }

        int index = Array.BinarySearch(edges, value);
        return (index >= 0 ? index : ~index - 1) + 1;
    }
}
