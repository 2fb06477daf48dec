using System.Net;
using FederatedSharp.Grpc.DataChannel;
using FederatedSharp.Grpc.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Hosting;

/// <summary>
/// A federation server in one call, for applications that do not run ASP.NET Core themselves: it starts Kestrel with
/// HTTP/2 (TLS with client certificates, or plain HTTP/2 when explicitly allowed), hosts the federation service and
/// exposes the <see cref="Transport"/> to run a <see cref="FederatedSharp.Server.FederatedServer"/> on.
/// </summary>
public sealed class GrpcFederationHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TimeProvider _time;

    private GrpcFederationHost(WebApplication app, GrpcFederationTransport transport, Uri address, TimeProvider time)
    {
        _app = app;
        _time = time;
        Transport = transport;
        Address = address;
    }

    /// <summary>The transport clients connect to.</summary>
    public GrpcFederationTransport Transport { get; }

    /// <summary>The address the server listens on (with the port actually bound).</summary>
    public Uri Address { get; }

    /// <summary>Starts a host.</summary>
    /// <param name="options">Where to listen, the certificate, and the federation settings.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    /// <param name="cancellationToken">Cancels start-up.</param>
    /// <returns>The running host; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">No certificate and plain HTTP not allowed, or invalid federation options.</exception>
    public static async Task<GrpcFederationHost> StartAsync(GrpcFederationHostOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ServerCertificate is null && !options.AllowInsecureHttp)
        {
            throw new ArgumentException("A ServerCertificate is required (or set AllowInsecureHttp for tests and loopback).", nameof(options));
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();

        // The host lives inside the caller's application: it must not take over Ctrl+C and SIGTERM (the default
        // console lifetime would swallow them and wait for a shutdown the caller never asks for).
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, PassiveLifetime>();
        if (loggerFactory is not null)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 1000;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MaxResponseBufferSize = 16 * 1024 * 1024;
            kestrel.Limits.MaxRequestBufferSize = 16 * 1024 * 1024;
            kestrel.Listen(options.ListenAddress, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (options.ServerCertificate is { } certificate)
                {
                    listen.UseHttps(https => https.UseFederationHttps(certificate));
                }
            });
        });
        if (options.EnableDataChannel)
        {
            DataChannelOptions data = options.Federation.DataChannel;
            data.Enabled = true;
            data.ServerCertificate ??= options.ServerCertificate;
            if (data.ListenAddress.Equals(IPAddress.Any))
            {
                data.ListenAddress = options.ListenAddress;
            }
        }

        options.Federation.Validate();
        TimeProvider time = options.TimeProvider ?? TimeProvider.System;
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton<Microsoft.Extensions.Options.IOptionsFactory<GrpcFederationOptions>>(new InstanceOptionsFactory<GrpcFederationOptions>(options.Federation));
        builder.Services.AddFederatedGrpcTransport();

        // This host ends the federation itself in DisposeAsync, before stopping; without the stop hook a crash
        // (CrashAsync) stays a crash instead of telling clients the federation is over.
        builder.Services.Remove(builder.Services.Single(d => d.ImplementationType == typeof(GrpcTransportShutdown)));
        WebApplication app = builder.Build();
        app.MapFederatedGrpcTransport();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var address = new Uri(bound.Replace("[::]", "localhost", StringComparison.Ordinal).Replace("0.0.0.0", IPAddress.Loopback.ToString(), StringComparison.Ordinal));
        return new GrpcFederationHost(app, app.Services.GetRequiredService<GrpcFederationTransport>(), address, time);
    }

    /// <summary>Stops the server abruptly without telling clients the federation is over (a crash, for tests).</summary>
    internal async Task CrashAsync()
    {
        try
        {
            await _app.StopAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Ends the federation for connected clients and stops the server.</summary>
    /// <returns>A task that completes when stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await Transport.DisposeAsync().ConfigureAwait(false);
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5), _time);
        try
        {
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
