namespace FederatedSharp.Privacy;

/// <summary>What <see cref="UpdateValidator"/> checks besides the layout.</summary>
public sealed class UpdateValidationOptions
{
    /// <summary>Reject updates holding NaN or infinity (default true).</summary>
    public bool RequireFinite { get; set; } = true;

    /// <summary>Reject updates whose L2 distance from the global model exceeds this bound; null (default) for no bound.</summary>
    public double? MaxUpdateNorm { get; set; }

    /// <summary>
    /// Reject updates whose norm exceeds this multiple of the median norm of the updates accepted recently (the last
    /// <see cref="RelativeNormWindow"/>); null (default) for no relative bound. The reference is the past, not the
    /// current round, so updates can be checked as they stream in, and attackers inside a round cannot move it. It
    /// applies once <see cref="RelativeNormMinimumHistory"/> norms are known.
    /// </summary>
    public double? MaxUpdateNormToMedian { get; set; }

    /// <summary>How many recently accepted update norms the median is taken over (default 100).</summary>
    public int RelativeNormWindow { get; set; } = 100;

    /// <summary>Accepted norms needed before the relative bound applies (default 5).</summary>
    public int RelativeNormMinimumHistory { get; set; } = 5;

    /// <summary>
    /// Per-client rate limit: at most this many accepted updates from one client within any <see cref="RateLimitRounds"/>
    /// consecutive rounds (model versions, in buffered mode); null (default) for no limit. In synchronous rounds a client
    /// is asked once per round anyway; the limit matters for buffered asynchronous aggregation and for sampling plans
    /// that should not let one site dominate.
    /// </summary>
    public int? MaxUpdatesPerClient { get; set; }

    /// <summary>The window of <see cref="MaxUpdatesPerClient"/>, in rounds (default 1).</summary>
    public int RateLimitRounds { get; set; } = 1;

    /// <summary>Largest accepted example count per update (default: no limit). Bounds the weight a single client can claim.</summary>
    public long MaxExampleCount { get; set; } = long.MaxValue;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not positive.</exception>
    public void Validate()
    {
        if (MaxUpdateNorm is { } norm && !(norm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUpdateNorm), norm, "The update norm bound must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxExampleCount, nameof(MaxExampleCount));
        if (MaxUpdateNormToMedian is { } multiple && !(multiple > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUpdateNormToMedian), multiple, "The relative norm bound must be positive.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RelativeNormWindow, nameof(RelativeNormWindow));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RelativeNormMinimumHistory, nameof(RelativeNormMinimumHistory));
        if (MaxUpdatesPerClient is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxUpdatesPerClient), MaxUpdatesPerClient, "The rate limit must be at least 1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(RateLimitRounds, nameof(RateLimitRounds));
    }

    /// <summary>A copy (every setting is a value).</summary>
    internal UpdateValidationOptions Clone() => (UpdateValidationOptions)MemberwiseClone();
}
