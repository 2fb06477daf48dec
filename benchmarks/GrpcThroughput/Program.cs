// Throughput of a federated round over the gRPC transport on loopback: the server sends a model to K clients and
// receives K updates, with the bytes on the data channel (the default) and on gRPC streams. Measured next to raw
// loopback TCP and TLS copies of the same bytes in the same run (this machine is shared and noisy, so only the ratios
// mean something). Usage: dotnet run -c Release --project benchmarks/GrpcThroughput -- [--params N] [--clients K]
// [--repeats R] [--warmups W] [--tls-only|--plain-only] [--no-grpc-streams]. Each transport runs W untimed rounds
// first (default 3), so the JIT has compiled the hot loops at full optimization, as in a server that runs for hours.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Grpc.Security;
using FederatedSharp.Parameters;

int parameters = 100_000_000;
int clients = 4;
int repeats = 3;
int warmups = 3;
bool tls = true, plain = true, downloadOnly = false, grpcStreams = true;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--params": parameters = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--clients": clients = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--warmups": warmups = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--tls-only": plain = false; break;
        case "--plain-only": tls = false; break;
        case "--download-only": downloadOnly = true; break;
        case "--no-grpc-streams": grpcStreams = false; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var layout = TensorLayout.Create(new TensorSpec("w", [parameters]));
using ModelParameters global = ModelParameters.Create(layout);
new Random(1).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(global.Values));
long modelBytes = FederatedSharp.Serialization.BinaryModelSerializer.GetSerializedLength(global);
long roundBytes = 2L * clients * modelBytes;
Console.WriteLine($"model: {parameters:N0} parameters, {modelBytes / 1e6:0.0} MB; a round moves {roundBytes / 1e9:0.00} GB ({clients} downloads + {clients} uploads); {Environment.ProcessorCount} cores");

using FederationCertificateAuthority ca = FederationCertificateAuthority.Create("bench CA");
using var serverCert = ca.IssueServerCertificate();

var results = new List<(string Name, int Clients, double GBps, double Baseline, string BaselineName)>();
foreach (int k in clients == 1 ? [1] : new[] { clients, 1 })
{
    Console.WriteLine($"{k} client(s):");
    if (plain)
    {
        double raw = Median(await RepeatAsync(repeats, "raw TCP", () => RawLoopbackRoundAsync(modelBytes, k, null, null)));
        results.Add(("raw loopback TCP", k, raw, raw, "raw TCP"));
        results.Add(("data channel, plain TCP (h2c control)", k, Median(await GrpcRoundsAsync(false, true, k)), raw, "raw TCP"));
        if (grpcStreams)
        {
            results.Add(("gRPC streams, HTTP/2 without TLS", k, Median(await GrpcRoundsAsync(false, false, k)), raw, "raw TCP"));
        }
    }

    if (tls)
    {
        using var clientCert = ca.IssueClientCertificate("raw");
        double raw = Median(await RepeatAsync(repeats, "raw TLS", () => RawLoopbackRoundAsync(modelBytes, k, serverCert, clientCert)));
        results.Add(("raw loopback TLS (SslStream, client certificate)", k, raw, raw, "raw TLS"));
        results.Add(("data channel, mutual TLS", k, Median(await GrpcRoundsAsync(true, true, k)), raw, "raw TLS"));
        if (grpcStreams)
        {
            results.Add(("gRPC streams, mutual TLS", k, Median(await GrpcRoundsAsync(true, false, k)), raw, "raw TLS"));
        }
    }
}

Console.WriteLine();
Console.WriteLine($"| transport | clients | GB/s (median of {repeats}) | % of the raw copy of the same kind |");
Console.WriteLine("|---|---:|---:|---:|");
foreach ((string name, int k, double gbps, double baseline, string baselineName) in results)
{
    Console.WriteLine($"| {name} | {k} | {gbps:0.00} | {100 * gbps / baseline:0}% of {baselineName} |");
}

return 0;

async Task<List<double>> GrpcRoundsAsync(bool useTls, bool dataChannel, int clients)
{
    long roundBytes = 2L * clients * modelBytes;
    string label = (dataChannel ? "data channel " : "gRPC streams ") + (useTls ? "mTLS" : "plain");
    var hostOptions = new GrpcFederationHostOptions { AllowInsecureHttp = !useTls, ServerCertificate = useTls ? serverCert : null, EnableDataChannel = dataChannel };
    if (useTls)
    {
        hostOptions.Federation.ClientCertificateAuthority = ca.Certificate;
    }
    else
    {
        hostOptions.Federation.AllowUnauthenticatedClients = true;
    }

    await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(hostOptions);
    using var stop = new CancellationTokenSource();
    var runs = new List<Task>();
    for (int c = 0; c < clients; c++)
    {
        string id = "client-" + c;
        var options = new GrpcClientOptions { ServerAddress = host.Address, ClientId = id, AllowInsecureHttp = !useTls };
        if (useTls)
        {
            options.ClientCertificate = ca.IssueClientCertificate(id);
            options.TrustedCertificateAuthority = ca.Certificate;
        }

        runs.Add(new GrpcClientRunner(options).RunAsync(new EchoClient(downloadOnly), stop.Token));
    }

    await host.Transport.WaitForClientsAsync(clients);
    var speeds = new List<double>();
    for (int r = 0; r < repeats + warmups; r++)
    {
        var watch = Stopwatch.StartNew();
        var instructions = new FitInstructions(r + 1, global, ConfigRecord.Empty);
        FitResult[] updates = await Task.WhenAll(host.Transport.GetAvailableClients().Select(id => host.Transport.GetConnection(id).FitAsync(instructions)));
        watch.Stop();
        foreach (FitResult update in updates)
        {
            update.Dispose();
        }

        if (r >= warmups)
        {
            speeds.Add(roundBytes / watch.Elapsed.TotalSeconds / 1e9);
            Console.WriteLine($"  {label} round {r - warmups + 1}: {watch.Elapsed.TotalSeconds:0.000} s, {speeds[^1]:0.00} GB/s");
        }
    }

    await host.DisposeAsync();
    await Task.WhenAll(runs);
    return speeds;
}

static async Task<List<double>> RepeatAsync(int repeats, string label, Func<Task<double>> run)
{
    var speeds = new List<double>();
    for (int r = 0; r < repeats + 1; r++)
    {
        double s = await run();
        if (r > 0)
        {
            speeds.Add(s);
            Console.WriteLine($"  {label} round {r}: {s:0.00} GB/s");
        }
    }

    return speeds;
}

// The same traffic over plain sockets (or TLS with a client certificate when certificates are given): the server writes
// the bytes to each client, each client reads them into a buffer and writes them back, the server reads them. One
// copy in, one copy out, no framing or serialization.
static async Task<double> RawLoopbackRoundAsync(long bytes, int clients, X509Certificate2? serverCert, X509Certificate2? clientCert)
{
    using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    listener.Listen(clients);
    int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
    byte[] source = new byte[1024 * 1024];
    new Random(2).NextBytes(source);
    var watch = Stopwatch.StartNew();
    Task[] clientTasks = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await using Stream stream = await SecureAsync(new NetworkStream(socket, ownsSocket: false), serverCert, clientCert, server: false);
        byte[] buffer = new byte[1024 * 1024];
        for (long left = bytes; left > 0;)
        {
            int n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)));
            if (n == 0) throw new IOException("closed");
            left -= n;
        }

        for (long left = bytes; left > 0;)
        {
            int n = (int)Math.Min(buffer.Length, left);
            await stream.WriteAsync(buffer.AsMemory(0, n));
            left -= n;
        }
    })).ToArray();
    Task[] serverTasks = new Task[clients];
    for (int c = 0; c < clients; c++)
    {
        Socket accepted = await listener.AcceptAsync();
        serverTasks[c] = Task.Run(async () =>
        {
            using Socket s = accepted;
            await using Stream stream = await SecureAsync(new NetworkStream(s, ownsSocket: false), serverCert, clientCert, server: true);
            for (long left = bytes; left > 0;)
            {
                int n = (int)Math.Min(source.Length, left);
                await stream.WriteAsync(source.AsMemory(0, n));
                left -= n;
            }

            byte[] back = new byte[1024 * 1024];
            for (long left = bytes; left > 0;)
            {
                int n = await stream.ReadAsync(back.AsMemory(0, (int)Math.Min(back.Length, left)));
                if (n == 0) throw new IOException("closed");
                left -= n;
            }
        });
    }

    await Task.WhenAll(serverTasks.Concat(clientTasks));
    return 2.0 * clients * bytes / watch.Elapsed.TotalSeconds / 1e9;
}

static async Task<Stream> SecureAsync(NetworkStream stream, X509Certificate2? serverCert, X509Certificate2? clientCert, bool server)
{
    if (serverCert is null)
    {
        return stream;
    }

    var ssl = new SslStream(stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
    if (server)
    {
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = serverCert, ClientCertificateRequired = true });
    }
    else
    {
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", ClientCertificates = new X509CertificateCollection { clientCert! } });
    }

    return ssl;
}

static double Median(List<double> values)
{
    values.Sort();
    return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
}

/// <summary>Returns the model it received as its update (a client whose training costs nothing).</summary>
sealed class EchoClient(bool tiny) : IClient
{
    private static readonly TensorLayout TinyLayout = TensorLayout.Create(new TensorSpec("w", [1]));

    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new FitResult(tiny ? ModelParameters.Create(TinyLayout) : instructions.Parameters, 1));

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(0, 1));
}
