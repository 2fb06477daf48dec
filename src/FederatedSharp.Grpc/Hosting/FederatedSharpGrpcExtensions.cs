using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Grpc.Server;
using FederatedSharp.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>Registers the federation's gRPC service in an ASP.NET Core application.</summary>
public static class FederatedSharpGrpcExtensions
{
    /// <summary>
    /// Adds gRPC, the federation service and a singleton <see cref="GrpcFederationTransport"/> (also registered as
    /// <see cref="ITransport"/>, so a <see cref="FederatedSharp.Server.FederatedServer"/> from the same container runs on it).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets authentication, limits and timeouts.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFederatedSharpGrpc(this IServiceCollection services, Action<GrpcFederationOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new GrpcFederationOptions();
        configure(options);
        return services.AddFederatedSharpGrpc(options);
    }

    /// <summary>Adds gRPC, the federation service and the transport, with options built by the caller.</summary>
    /// <param name="services">The services.</param>
    /// <param name="options">Authentication, limits and timeouts (revocation sets stay live: changes apply to new calls).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFederatedSharpGrpc(this IServiceCollection services, GrpcFederationOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.MaxSendMessageSize = options.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
        });
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new GrpcFederationTransport(
            sp.GetRequiredService<GrpcFederationOptions>(),
            sp.GetService<ILogger<GrpcFederationTransport>>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton<ITransport>(sp => sp.GetRequiredService<GrpcFederationTransport>());
        return services;
    }

    /// <summary>Maps the federation's gRPC service.</summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <returns>The endpoint convention builder.</returns>
    public static GrpcServiceEndpointConventionBuilder MapFederatedSharp(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<FederationService>();
    }

    /// <summary>
    /// Configures a Kestrel HTTPS endpoint for a federation: the server certificate, and client certificates requested
    /// at the TLS handshake and checked against the federation CA by the service (so a refused client gets a clear
    /// gRPC status instead of a failed handshake).
    /// </summary>
    /// <param name="https">The endpoint's HTTPS options.</param>
    /// <param name="serverCertificate">The server certificate with its key.</param>
    /// <returns>The options.</returns>
    public static HttpsConnectionAdapterOptions UseFederationHttps(this HttpsConnectionAdapterOptions https, X509Certificate2 serverCertificate)
    {
        ArgumentNullException.ThrowIfNull(https);
        ArgumentNullException.ThrowIfNull(serverCertificate);
        https.ServerCertificate = serverCertificate;
        https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
        https.ClientCertificateValidation = static (_, _, _) => true;
        https.CheckCertificateRevocation = false;
        return https;
    }
}
