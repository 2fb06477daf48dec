namespace FederatedSharp.Privacy.SecureAggregation;

/// <summary>A secure aggregation round cannot complete (too many drop-outs, malformed or inconsistent messages).</summary>
public sealed class SecureAggregationException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public SecureAggregationException(string message)
        : base(message)
    {
    }
}
