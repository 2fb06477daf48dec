namespace FederatedSharp.Plans;

/// <summary>One problem found in a training plan.</summary>
/// <param name="Path">Where it is, as a JSON path such as <c>$.model.layers[2].type</c>.</param>
/// <param name="Message">What is wrong.</param>
public sealed record PlanError(string Path, string Message)
{
    /// <summary>The error as one line: <c>path: message</c>.</summary>
    /// <returns>The line.</returns>
    public override string ToString() => Path + ": " + Message;
}
