using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Options that already exist as an object (<c>GrpcFederationHost</c> is handed one): every name gets that instance, validated by its owner.</summary>
internal sealed class InstanceOptionsFactory<TOptions>(TOptions instance) : IOptionsFactory<TOptions>
    where TOptions : class
{
    public TOptions Create(string name) => instance;
}
