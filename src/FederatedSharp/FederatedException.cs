namespace FederatedSharp;

/// <summary>Base type of the exceptions FederatedSharp throws for federation-level problems.</summary>
public class FederatedException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public FederatedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FederatedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
