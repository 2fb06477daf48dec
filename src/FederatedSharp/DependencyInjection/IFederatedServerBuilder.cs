namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <see cref="FederatedServiceCollectionExtensions.AddFederatedServer"/>; extension methods configure the server.</summary>
public interface IFederatedServerBuilder
{
    /// <summary>The service collection the server is registered in.</summary>
    IServiceCollection Services { get; }
}
