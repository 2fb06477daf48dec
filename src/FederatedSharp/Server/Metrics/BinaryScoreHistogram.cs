using System.Buffers.Binary;
using FederatedSharp.Clients;

namespace FederatedSharp.Server;

/// <summary>
/// Sufficient statistics for a binary classifier's AUC: per score bin over [0, 1], the number of positive and negative
/// examples. A site reports it as an evaluation metric (<see cref="ToConfigValue"/>); the server merges the sites'
/// histograms and computes the global AUC (<see cref="MetricAggregators.Auc"/>) as if the test sets were pooled, which
/// an average of local AUCs is not. With B bins the only approximation is that a positive and a negative in the same
/// bin count as a tie (half a concordant pair), so the error is at most <see cref="TieBound"/>.
/// </summary>
public sealed class BinaryScoreHistogram
{
    private const int HeaderBytes = 4;

    private readonly long[] _positives;
    private readonly long[] _negatives;

    /// <summary>Creates an empty histogram.</summary>
    /// <param name="bins">The number of equal-width score bins over [0, 1] (default 1000).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is below 1 or above 1,000,000.</exception>
    public BinaryScoreHistogram(int bins = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bins, 1_000_000);
        _positives = new long[bins];
        _negatives = new long[bins];
    }

    /// <summary>The number of bins.</summary>
    public int Bins => _positives.Length;

    /// <summary>The positive examples counted.</summary>
    public long Positives => _positives.Sum();

    /// <summary>The negative examples counted.</summary>
    public long Negatives => _negatives.Sum();

    /// <summary>The largest possible difference to the exact AUC: the share of positive-negative pairs that share a bin, halved.</summary>
    public double TieBound
    {
        get
        {
            double pairs = (double)Positives * Negatives;
            return pairs == 0 ? 0 : _positives.Zip(_negatives, (p, n) => (double)p * n).Sum() / (2 * pairs);
        }
    }

    /// <summary>Counts one example.</summary>
    /// <param name="score">The predicted probability of the positive class, in [0, 1].</param>
    /// <param name="positive">Whether the example is positive.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="score"/> is outside [0, 1] or NaN.</exception>
    public void Add(double score, bool positive)
    {
        if (!(score >= 0 && score <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(score), score, "A score must lie in [0, 1].");
        }

        int bin = Math.Min((int)(score * Bins), Bins - 1);
        (positive ? _positives : _negatives)[bin]++;
    }

    /// <summary>Adds another histogram's counts to this one.</summary>
    /// <param name="other">A histogram with as many bins.</param>
    /// <exception cref="ArgumentException">The bin counts differ.</exception>
    public void Merge(BinaryScoreHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Bins != Bins)
        {
            throw new ArgumentException($"Cannot merge a histogram of {other.Bins} bins into one of {Bins}.", nameof(other));
        }

        for (int i = 0; i < Bins; i++)
        {
            _positives[i] += other._positives[i];
            _negatives[i] += other._negatives[i];
        }
    }

    /// <summary>The AUC: P(score of a positive &gt; score of a negative), ties (same bin) counting half.</summary>
    /// <returns>The AUC; NaN without both classes.</returns>
    public double Auc()
    {
        double concordant = 0;
        double negativesBelow = 0;
        for (int i = 0; i < Bins; i++)
        {
            concordant += _positives[i] * (negativesBelow + (_negatives[i] / 2.0));
            negativesBelow += _negatives[i];
        }

        double pairs = (double)Positives * Negatives;
        return pairs == 0 ? double.NaN : concordant / pairs;
    }

    /// <summary>The histogram as a metric value: little-endian bin count, then positive and negative counts.</summary>
    /// <returns>The value.</returns>
    public ConfigValue ToConfigValue()
    {
        var bytes = new byte[HeaderBytes + (16 * Bins)];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Bins);
        for (int i = 0; i < Bins; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderBytes + (8 * i)), _positives[i]);
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(HeaderBytes + (8 * (Bins + i))), _negatives[i]);
        }

        return ConfigValue.FromBytes(bytes);
    }

    /// <summary>Reads a histogram written by <see cref="ToConfigValue"/>.</summary>
    /// <param name="value">The metric value.</param>
    /// <returns>The histogram.</returns>
    /// <exception cref="FormatException">The value is not such a histogram (wrong kind, length or negative counts).</exception>
    public static BinaryScoreHistogram FromConfigValue(ConfigValue value)
    {
        if (value.Kind != ConfigValueKind.Bytes)
        {
            throw new FormatException($"A score histogram is a byte value, not {value.Kind}.");
        }

        ReadOnlySpan<byte> bytes = value.AsBytes().Span;
        int bins = bytes.Length >= HeaderBytes ? BinaryPrimitives.ReadInt32LittleEndian(bytes) : -1;
        if (bins < 1 || bins > 1_000_000 || bytes.Length != HeaderBytes + (16L * bins))
        {
            throw new FormatException($"A score histogram of {bytes.Length} bytes does not hold the {bins} bins its header states.");
        }

        var histogram = new BinaryScoreHistogram(bins);
        for (int i = 0; i < bins; i++)
        {
            histogram._positives[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(HeaderBytes + (8 * i))..]);
            histogram._negatives[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(HeaderBytes + (8 * (bins + i)))..]);
            if (histogram._positives[i] < 0 || histogram._negatives[i] < 0)
            {
                throw new FormatException($"A score histogram has a negative count in bin {i}.");
            }
        }

        return histogram;
    }
}
