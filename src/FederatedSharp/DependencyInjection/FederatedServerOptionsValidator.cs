using FederatedSharp.Server;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Validates bound <see cref="FederatedServerOptions"/> with <see cref="FederatedServerOptions.Validate"/>, so a bad <c>appsettings.json</c> fails at start with the setting's name.</summary>
internal sealed class FederatedServerOptionsValidator : IValidateOptions<FederatedServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FederatedServerOptions options)
    {
        try
        {
            options.Validate();
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException ex)
        {
            return ValidateOptionsResult.Fail($"FederatedServerOptions: {ex.Message}");
        }
    }
}
