namespace FederatedSharp.Analytics;

/// <summary>Small-cell suppression: cells with 1 to k - 1 records are withheld, plus a complementary cell when one alone would be recoverable from a released total.</summary>
internal static class Suppression
{
    /// <summary>Which cells to withhold: primary (0 &lt; count &lt; k) and, when exactly one is primary and the total is released, the smallest other non-empty cell.</summary>
    public static bool[] Cells(IReadOnlyList<long> counts, int k, bool totalReleased)
    {
        var withheld = new bool[counts.Count];
        int primary = 0;
        for (int i = 0; i < counts.Count; i++)
        {
            if (counts[i] > 0 && counts[i] < k)
            {
                withheld[i] = true;
                primary++;
            }
        }

        if (primary == 1 && totalReleased)
        {
            int smallest = -1;
            for (int i = 0; i < counts.Count; i++)
            {
                if (!withheld[i] && counts[i] > 0 && (smallest < 0 || counts[i] < counts[smallest]))
                {
                    smallest = i;
                }
            }

            if (smallest >= 0)
            {
                withheld[smallest] = true;
            }
        }

        return withheld;
    }
}
