using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Validates bound options with their own <c>Validate()</c>, so a bad setting fails at start with its name (shared with the gRPC package).</summary>
internal sealed class ValidateBy<TOptions>(Action<TOptions> validate) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        try
        {
            validate(options);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"{typeof(TOptions).Name}: {ex.Message}");
        }
    }
}
