namespace FederatedSharp.Serialization;

/// <summary>Thrown when a serialized model is truncated, corrupt, oversized or in another format.</summary>
public sealed class ModelFormatException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the payload.</param>
    public ModelFormatException(string message)
        : base(message)
    {
    }
}
