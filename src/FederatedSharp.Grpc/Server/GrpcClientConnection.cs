using FederatedSharp.Clients;
using FederatedSharp.Grpc.Protocol;
using FederatedSharp.Transport;

namespace FederatedSharp.Grpc.Server;

/// <summary>The server's handle on one networked client.</summary>
internal sealed class GrpcClientConnection : IClientConnection
{
    private readonly GrpcFederationTransport _transport;

    public GrpcClientConnection(GrpcFederationTransport transport, string clientId)
    {
        _transport = transport;
        ClientId = clientId;
    }

    public string ClientId { get; }

    public async Task<ConfigRecord> GetPropertiesAsync(CancellationToken cancellationToken = default) =>
        (ConfigRecord)await _transport.RunTaskAsync(ClientId, TaskKind.GetProperties, 0, null, ConfigRecord.Empty, cancellationToken).ConfigureAwait(false);

    public async Task<FitResult> FitAsync(FitInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        return (FitResult)await _transport.RunTaskAsync(ClientId, TaskKind.Fit, instructions.Round, instructions.Parameters, instructions.Config, cancellationToken).ConfigureAwait(false);
    }

    public async Task<EvaluateResult> EvaluateAsync(EvaluateInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        return (EvaluateResult)await _transport.RunTaskAsync(ClientId, TaskKind.Evaluate, instructions.Round, instructions.Parameters, instructions.Config, cancellationToken).ConfigureAwait(false);
    }

    public async Task<QueryResult> QueryAsync(QueryInstructions instructions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(instructions);
        return (QueryResult)await _transport.RunTaskAsync(ClientId, TaskKind.Query, 0, instructions.Parameters, instructions.Config, cancellationToken, instructions.Name).ConfigureAwait(false);
    }
}
