using FederatedSharp.Clients;
using FederatedSharp.Grpc.Client;
using FederatedSharp.Grpc.Hosting;
using FederatedSharp.Parameters;
using FederatedSharp.TorchSharp;
using TorchSharp;

var adapter = new TorchModelAdapter(torch.nn.Linear(3, 2));
using ModelParameters parameters = adapter.ToParameters();

// One fit over the packaged gRPC transport (loopback, plain HTTP/2, no authentication: a smoke test only).
var hostOptions = new GrpcFederationHostOptions { AllowInsecureHttp = true };
hostOptions.Federation.AllowUnauthenticatedClients = true;
await using GrpcFederationHost host = await GrpcFederationHost.StartAsync(hostOptions);
var runner = new GrpcClientRunner(new GrpcClientOptions { ServerAddress = host.Address, ClientId = "smoke", AllowInsecureHttp = true });
Task run = runner.RunAsync(new Echo());
await host.Transport.WaitForClientsAsync(1).WaitAsync(TimeSpan.FromSeconds(30));
using FitResult result = await host.Transport.GetConnection("smoke").FitAsync(new FitInstructions(1, parameters, ConfigRecord.Empty)).WaitAsync(TimeSpan.FromSeconds(30));
await host.DisposeAsync();
await run.WaitAsync(TimeSpan.FromSeconds(30));
Console.WriteLine($"consumer OK: {parameters.Layout}; gRPC round trip returned {result.Parameters.Length} parameters");

sealed class Echo : IClient
{
    public Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) => Task.FromResult(ConfigRecord.Empty);

    public Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new FitResult(instructions.Parameters.Clone(), 1));

    public Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default) =>
        Task.FromResult(new EvaluateResult(0, 1));
}
