namespace FederatedSharp.Parameters;

/// <summary>Thrown when two parameter sets that must share a layout (names, order and shapes) do not.</summary>
public sealed class LayoutMismatchException : FederatedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which tensor differs and how.</param>
    public LayoutMismatchException(string message)
        : base(message)
    {
    }
}
