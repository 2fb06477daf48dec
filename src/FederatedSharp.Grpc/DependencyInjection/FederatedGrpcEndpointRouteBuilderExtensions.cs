using FederatedSharp.Grpc.Server;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the federation's gRPC service, as <c>MapGrpcService</c> maps any gRPC service.</summary>
public static class FederatedGrpcEndpointRouteBuilderExtensions
{
    /// <summary>Maps the federation's gRPC service registered by <c>AddFederatedGrpcTransport</c>.</summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <returns>The endpoint convention builder.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="endpoints"/> is null.</exception>
    public static GrpcServiceEndpointConventionBuilder MapFederatedGrpcTransport(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<FederationService>();
    }
}
