namespace FederatedSharp.Analytics;

/// <summary>What a site's policy did to a query.</summary>
public enum DisclosureAction
{
    /// <summary>The whole query, or one of its parts, was refused.</summary>
    Refused,

    /// <summary>A value was withheld from the reply (a small count, a small histogram cell, a survival tail).</summary>
    Suppressed,
}

/// <summary>One entry of a site's disclosure log.</summary>
/// <param name="Time">When it happened (from the site's <see cref="TimeProvider"/>).</param>
/// <param name="Query">The query's name.</param>
/// <param name="Action">Refused or suppressed.</param>
/// <param name="Detail">What and why, without the withheld value.</param>
public sealed record DisclosureEvent(DateTimeOffset Time, string Query, DisclosureAction Action, string Detail);

/// <summary>
/// Thrown by a site that refuses a query under its <see cref="DisclosurePolicy"/>: its privacy budget is spent, the
/// query asks for a finer resolution than the policy allows or than an earlier reply, or it needs data the policy
/// withholds. The server records it as the client's failure and the federation goes on.
/// </summary>
public sealed class QueryRefusedException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the query was refused.</param>
    public QueryRefusedException(string message)
        : base(message)
    {
    }
}
