namespace FederatedSharp.Plans;

/// <summary>A training plan is malformed or inconsistent; <see cref="Errors"/> lists every problem with its JSON path.</summary>
public sealed class PlanValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errors">The problems (at least one).</param>
    public PlanValidationException(IReadOnlyList<PlanError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    /// <summary>Creates the exception with one problem.</summary>
    /// <param name="path">Where it is.</param>
    /// <param name="message">What is wrong.</param>
    public PlanValidationException(string path, string message)
        : this(new[] { new PlanError(path, message) })
    {
    }

    /// <summary>Every problem found, in document order.</summary>
    public IReadOnlyList<PlanError> Errors { get; }

    private static string Describe(IReadOnlyList<PlanError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return errors.Count == 1
            ? "The training plan is invalid: " + errors[0]
            : $"The training plan has {errors.Count} errors:" + string.Concat(errors.Select(e => Environment.NewLine + "  " + e));
    }
}
