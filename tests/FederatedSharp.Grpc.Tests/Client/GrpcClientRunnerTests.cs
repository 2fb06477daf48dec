using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Grpc.Tests.TestUtilities;
using Grpc.Core;

namespace FederatedSharp.Grpc.Tests.Client;

public class GrpcClientRunnerTests
{
    private static async Task<FederationAccessDeniedException> RefusedAsync(GrpcFederationHost host, GrpcClientOptions options)
    {
        FederationAccessDeniedException? ex = await Assert.ThrowsAsync<FederationAccessDeniedException>(
            async () => await TestFederation.Runner(options).RunAsync(new TargetClient(1, 1)).WithTimeout());
        Assert.That(host.Transport.GetAvailableClients(), Is.Empty, "a refused client never reaches the round loop");
        Assert.That(host.Transport.RefusedCalls, Is.GreaterThan(0));
        return ex!;
    }

    private static async Task AssertServerStillServesAsync(GrpcFederationHost host)
    {
        using var stop = new CancellationTokenSource();
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "good");
        Task run = TestFederation.Runner(options).RunAsync(new TargetClient(1, 1), stop.Token);
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        Assert.That(host.Transport.GetAvailableClients(), Is.EqualTo(new[] { "good" }));
        await stop.CancelAsync();
        Assert.That(async () => await run, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task RunAsync_CertificateFromAnotherCa_RefusedAsUnauthenticated()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using FederationCertificateAuthority rogue = FederationCertificateAuthority.Create("Rogue CA");
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        options.ClientCertificate = rogue.IssueClientCertificate("hospital-a");

        FederationAccessDeniedException ex = await RefusedAsync(host, options);

        Assert.That(ex.Status, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(ex.Message, Does.Contain("not valid for this federation"));
        await AssertServerStillServesAsync(host);
    }

    [Test]
    public async Task RunAsync_NoCertificate_RefusedAsUnauthenticated()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        options.ClientCertificate = null;

        FederationAccessDeniedException ex = await RefusedAsync(host, options);

        Assert.That(ex.Status, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(ex.Message, Does.Contain("requires a client certificate"));
        await AssertServerStillServesAsync(host);
    }

    [Test]
    public async Task RunAsync_RevokedCertificate_RefusedAsPermissionDenied()
    {
        GrpcClientOptions? options = null;
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        options = TestFederation.MutualTlsClient(host, "hospital-a");
        host.Transport.Options.RevokedCertificateThumbprints.Add(options.ClientCertificate!.Thumbprint);

        FederationAccessDeniedException ex = await RefusedAsync(host, options);

        Assert.That(ex.Status, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Message, Does.Contain("revoked"));
    }

    [Test]
    public async Task Revoke_ConnectedClient_EndsItsSessionAndRefusesItsReturn()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        Task run = TestFederation.Runner(options).RunAsync(new TargetClient(1, 1));
        await host.Transport.WaitForClientsAsync(1).WithTimeout();

        host.Transport.Revoke("hospital-a", "key compromised");

        var ex = await Assert.ThrowsAsync<FederationAccessDeniedException>(async () => await run.WithTimeout());
        Assert.That(ex!.Status, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Message, Does.Contain("'hospital-a' is revoked"));
        Assert.That(host.Transport.GetAvailableClients(), Is.Empty);
    }

    [Test]
    public async Task RunAsync_ClientNotAParticipant_RefusedAsUnknown()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o => o.Federation.AllowedClientIds.Add("hospital-a"));

        FederationAccessDeniedException ex = await RefusedAsync(host, TestFederation.MutualTlsClient(host, "intruder"));

        Assert.That(ex.Status, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Message, Does.Contain("Unknown client 'intruder'"));
    }

    [Test]
    public async Task RunAsync_RegistersUnderAnotherClientsName_RefusedAsPermissionDenied()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        options.ClientId = "hospital-b";

        FederationAccessDeniedException ex = await RefusedAsync(host, options);

        Assert.That(ex.Status, Is.EqualTo(StatusCode.PermissionDenied));
        Assert.That(ex.Message, Does.Contain("credentials are for client 'hospital-a'"));
    }

    [Test]
    public async Task RunAsync_WrongBearerToken_RefusedAsUnauthenticated()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.Federation.ClientCertificateAuthority = null;
            o.Federation.ClientTokens["hospital-a"] = "correct-token-0123456789";
        });
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        options.ClientCertificate = null;
        options.BearerToken = "wrong-token-0123456789";

        FederationAccessDeniedException ex = await RefusedAsync(host, options);

        Assert.That(ex.Status, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(ex.Message, Does.Contain("bearer token is not valid"));
    }

    [Test]
    public async Task RunAsync_CorrectBearerToken_Registers()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync(o =>
        {
            o.Federation.ClientCertificateAuthority = null;
            o.Federation.ClientTokens["hospital-a"] = "correct-token-0123456789";
        });
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        options.ClientCertificate = null;
        options.BearerToken = "correct-token-0123456789";
        GrpcClientRunner runner = TestFederation.Runner(options);

        Task run = runner.RunAsync(new TargetClient(1, 1));
        await host.Transport.WaitForClientsAsync(1).WithTimeout();
        await host.DisposeAsync();
        await run.WithTimeout();

        Assert.That(runner.Sessions, Is.EqualTo(1));
    }

    [Test]
    public async Task RunAsync_ServerNotTrusted_DoesNotConnect()
    {
        await using GrpcFederationHost host = await TestFederation.StartMutualTlsAsync();
        using FederationCertificateAuthority other = FederationCertificateAuthority.Create("Other CA");
        GrpcClientOptions options = TestFederation.MutualTlsClient(host, "hospital-a");
        options.TrustedCertificateAuthority = other.Certificate;
        options.MaxReconnectAttempts = 2;

        var ex = await Assert.ThrowsAsync<FederatedException>(async () => await TestFederation.Runner(options).RunAsync(new TargetClient(1, 1)).WithTimeout());

        Assert.That(ex!.Message, Does.Contain("Gave up after 2 reconnection attempts"));
        Assert.That(host.Transport.GetAvailableClients(), Is.Empty);
    }

    [Test]
    public void Constructor_PlainHttpWithoutOptIn_Throws()
    {
        var options = new GrpcClientOptions { ServerAddress = new Uri("http://127.0.0.1:5000"), ClientId = "a" };

        var ex = Assert.Throws<ArgumentException>(() => new GrpcClientRunner(options));

        Assert.That(ex!.Message, Does.Contain("AllowInsecureHttp"));
    }

    [Test]
    public async Task RunAsync_ServerRestarts_ClientReconnectsWithBackoff()
    {
        // The runner's clock is fake: reconnection waits only as long as the test advances it. A runner on the real
        // clock would wait minutes here, and one without backoff would not log the delays below.
        var clock = new TimerObservingClock();
        GrpcFederationHost first = await TestFederation.StartMutualTlsAsync(o => o.Federation.HeartbeatTimeout = TimeSpan.FromMinutes(10));
        int port = first.Address.Port;
        GrpcClientOptions options = TestFederation.MutualTlsClient(first, "hospital-a");
        options.InitialReconnectDelay = TimeSpan.FromMinutes(10);
        options.MaxReconnectDelay = TimeSpan.FromHours(1);
        var log = new ReconnectionLog();
        var runner = new GrpcClientRunner(options, log, clock);
        using var stop = new CancellationTokenSource();
        Task run = runner.RunAsync(new TargetClient(1, 1), stop.Token);
        await first.Transport.WaitForClientsAsync(1).WithTimeout();
        await TestFederation.EventuallyAsync(() => runner.Sessions == 1);

        // Stop the server without ending the federation: the client sees a lost connection, not a shutdown. A stopped
        // Kestrel may keep the connection open, so the client notices at its next heartbeat, which runs on the fake
        // clock: move it one heartbeat interval (the test server's 200 ms) at a time until the runner reports the loss.
        // Only the heartbeat moves here; the backoff measured below starts with its own timer.
        await first.CrashAsync();
        Task<bool> lost = log.WaitToReadAsync().AsTask();
        for (int beat = 0; !lost.IsCompleted && beat < 600; beat++)
        {
            clock.Advance(TimeSpan.FromMilliseconds(200));
            await Task.WhenAny(lost, Task.Delay(TimeSpan.FromMilliseconds(100)));
        }

        (double delay1, int attempt1) = await log.NextAsync().AsTask().WithTimeout();
        Assert.Multiple(() =>
        {
            Assert.That(attempt1, Is.EqualTo(1));
            Assert.That(delay1, Is.InRange(300, 900), "the first wait is the initial delay (600 s) with +-50% jitter");
        });

        // Nothing listens yet: just before the delay runs out nothing happens; at the delay the attempt fails and the
        // next wait doubles. The runner logs before it starts waiting, so time moves only once its timer exists.
        await clock.WaitForTimerAsync(TimeSpan.FromSeconds(delay1)).WithTimeout();
        clock.Advance(TimeSpan.FromSeconds(delay1 - 1));
        Assert.That(log.TryPeek(out _), Is.False, "no new attempt before the delay has passed");
        clock.Advance(TimeSpan.FromSeconds(1.01));
        (double delay2, int attempt2) = await log.NextAsync().AsTask().WithTimeout();
        Assert.Multiple(() =>
        {
            Assert.That(attempt2, Is.EqualTo(2));
            Assert.That(delay2, Is.InRange(600, 1800), "the second wait doubles the backoff (1200 s) with +-50% jitter");
            Assert.That(runner.Sessions, Is.EqualTo(1));
        });

        await using GrpcFederationHost second = await TestFederation.StartMutualTlsAsync(o => o.Port = port);
        await clock.WaitForTimerAsync(TimeSpan.FromSeconds(delay2)).WithTimeout();
        clock.Advance(TimeSpan.FromSeconds(delay2 + 0.01));
        await second.Transport.WaitForClientsAsync(1).WithTimeout();
        await TestFederation.EventuallyAsync(() => runner.Sessions == 2);
        Assert.That(log.TryPeek(out _), Is.False, "reconnected at the second attempt");
        await second.DisposeAsync();
        await run.WithTimeout();
        await first.DisposeAsync();
    }
}
