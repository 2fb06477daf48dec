using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Parameters;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Grpc.Tests.TestUtilities;

/// <summary>A federation CA shared by the tests (ECDSA keys are cheap, but one CA per run is enough).</summary>
public static class TestCertificates
{
    private static readonly Lazy<FederationCertificateAuthority> LazyAuthority = new(() => FederationCertificateAuthority.Create("FederatedSharp test CA"));
    private static readonly Lazy<X509Certificate2> LazyServer = new(() => Authority.IssueServerCertificate());

    public static FederationCertificateAuthority Authority => LazyAuthority.Value;

    public static X509Certificate2 Server => LazyServer.Value;

    /// <summary>The CA certificate without its key, as participants get it.</summary>
    public static X509Certificate2 PublicAuthority => X509CertificateLoader.LoadCertificate(Authority.Certificate.RawData);
}

public static class TestFederation
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Timeout);

    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Timeout);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after the timeout.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        DateTime end = DateTime.UtcNow + (timeout ?? Timeout);
        while (!condition())
        {
            if (DateTime.UtcNow > end)
            {
                Assert.Fail("The condition did not hold in time.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>A host with mutual TLS on loopback, port 0.</summary>
    public static Task<GrpcFederationHost> StartMutualTlsAsync(Action<GrpcFederationHostOptions>? configure = null)
    {
        var options = new GrpcFederationHostOptions { ServerCertificate = TestCertificates.Server };
        options.Federation.ClientCertificateAuthority = TestCertificates.PublicAuthority;
        options.Federation.HeartbeatInterval = TimeSpan.FromMilliseconds(200);
        options.Federation.HeartbeatTimeout = TimeSpan.FromSeconds(5);
        configure?.Invoke(options);
        return GrpcFederationHost.StartAsync(options, TestLogging.Factory);
    }

    /// <summary>Client options for <paramref name="clientId"/> with a certificate from the test CA.</summary>
    public static GrpcClientRunner Runner(GrpcClientOptions options) => new(options, TestLogging.Factory.CreateLogger<GrpcClientRunner>());

    public static GrpcClientOptions MutualTlsClient(GrpcFederationHost host, string clientId) => new()
    {
        ServerAddress = host.Address,
        ClientId = clientId,
        ClientCertificate = TestCertificates.Authority.IssueClientCertificate(clientId),
        TrustedCertificateAuthority = TestCertificates.PublicAuthority,
        InitialReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
    };

    public static TensorLayout Layout { get; } = TensorLayout.Create(new TensorSpec("w", [3, 5]), new TensorSpec("b", [7]));
}

/// <summary>Moves the model halfway towards its own target; deterministic.</summary>
public sealed class TargetClient : IClient
{
    private readonly float _target;
    private readonly long _examples;

    public TargetClient(float target, long examples)
    {
        _target = target;
        _examples = examples;
    }

    public Func<FitInstructions, CancellationToken, Task>? BeforeFit { get; set; }

    public int Fits;

    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult(new ConfigRecord { { "target", ConfigValue.FromDouble(_target) } }.Freeze());

    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        if (BeforeFit is not null)
        {
            await BeforeFit(instructions, cancellationToken);
        }

        Interlocked.Increment(ref Fits);
        ModelParameters update = instructions.Parameters.Clone();
        float step = (float)instructions.Config.GetDouble("step", 0.5);
        Span<float> v = update.Values;
        for (int i = 0; i < v.Length; i++)
        {
            v[i] += step * ((_target + (i * 0.01f)) - v[i]);
        }

        var metrics = new ConfigRecord { { "train_loss", ConfigValue.FromDouble(Loss(update)) }, { "blob", ConfigValue.FromBytes([1, 2, 3]) } };
        return new FitResult(update, _examples, metrics);
    }

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(Loss(instructions.Parameters), _examples, new ConfigRecord { { "accuracy", ConfigValue.FromDouble(0.5) } }));

    private double Loss(ModelParameters p)
    {
        double sum = 0;
        ReadOnlySpan<float> v = p.Values;
        for (int i = 0; i < v.Length; i++)
        {
            double d = v[i] - (_target + (i * 0.01));
            sum += d * d;
        }

        return v.Length == 0 ? 0 : sum / v.Length;
    }
}
