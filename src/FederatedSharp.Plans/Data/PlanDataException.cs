namespace FederatedSharp.Plans;

/// <summary>A site's data set does not fit a plan (a missing column, a label outside its range, too few rows); reported by the site before any training.</summary>
public sealed class PlanDataException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What does not fit.</param>
    public PlanDataException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What does not fit.</param>
    /// <param name="innerException">The cause.</param>
    public PlanDataException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
