namespace FederatedSharp.Compression;

/// <summary>Exact top-k by magnitude: the k-th largest |x| by selection (linear time), then ties in index order.</summary>
internal static class TopKSelection
{
    /// <summary>
    /// Moves the <paramref name="k"/> values of largest magnitude of <paramref name="values"/> into
    /// <paramref name="kept"/> (zeros elsewhere) and leaves the rest in <paramref name="values"/> (the kept ones zeroed):
    /// what was sent and what is carried over. Ties at the threshold go to the lowest indices, so the choice is
    /// deterministic.
    /// </summary>
    public static void Split(Span<float> values, Span<float> kept, int k)
    {
        kept.Clear();
        if (k <= 0 || values.IsEmpty)
        {
            return;
        }

        k = Math.Min(k, values.Length);
        float[] magnitudes = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            magnitudes[i] = Magnitude(values[i]);
        }

        float threshold = Select(magnitudes, magnitudes.Length - k);
        int above = 0;
        foreach (float value in values)
        {
            above += Magnitude(value) > threshold ? 1 : 0;
        }

        int ties = k - above;
        for (int i = 0; i < values.Length; i++)
        {
            float magnitude = Magnitude(values[i]);
            if (magnitude > threshold || (magnitude == threshold && ties-- > 0))
            {
                kept[i] = values[i];
                values[i] = 0;
            }
        }
    }

    /// <summary>Each value sent becomes its nearest float16 (unless out of its range); the difference joins the residual.</summary>
    public static void RoundToHalf(Span<float> sent, Span<float> residual)
    {
        for (int i = 0; i < sent.Length; i++)
        {
            float rounded = (float)(Half)sent[i];
            if (sent[i] != 0 && float.IsFinite(rounded))
            {
                residual[i] += sent[i] - rounded;
                sent[i] = rounded;
            }
        }
    }

    // The value that would be at index `rank` if `values` were sorted ascending (Hoare's quickselect, median-of-three).
    private static float Select(float[] values, int rank)
    {
        int low = 0, high = values.Length - 1;
        while (low < high)
        {
            int middle = low + ((high - low) / 2);
            float pivot = Median(values[low], values[middle], values[high]);
            int i = low, j = high;
            while (i <= j)
            {
                while (values[i] < pivot)
                {
                    i++;
                }

                while (values[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }

            if (rank <= j)
            {
                high = j;
            }
            else if (rank >= i)
            {
                low = i;
            }
            else
            {
                return values[rank];
            }
        }

        return values[rank];
    }

    // NaN counts as the largest magnitude, so it is sent (and the server's validation rejects the update).
    private static float Magnitude(float value) => float.IsNaN(value) ? float.PositiveInfinity : MathF.Abs(value);

    private static float Median(float a, float b, float c) => MathF.Max(MathF.Min(a, b), MathF.Min(MathF.Max(a, b), c));
}
