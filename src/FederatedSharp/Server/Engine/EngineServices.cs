using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Transport;
using Microsoft.Extensions.Logging;

namespace FederatedSharp.Server.Engine;

/// <summary>Everything the builder resolved once, at <see cref="FederatedServerBuilder.Build"/>, for the engine, its driver and its features.</summary>
internal sealed class EngineServices
{
    public required FederatedServerOptions Options { get; init; }

    public required IAggregator Aggregator { get; init; }

    public required ITransport Transport { get; init; }

    public required ModelParameters InitialParameters { get; init; }

    /// <summary>Built by BuildForQueries: no strategy or model of the caller's, so RunAsync refuses.</summary>
    public bool QueryOnly { get; init; }

    public required TimeProvider TimeProvider { get; init; }

    public required ILogger Logger { get; init; }

    public required ClientCaller Caller { get; init; }

    public required IReadOnlyList<FederationFeature> Features { get; init; }

    public required IReadOnlyList<UpdateStage> Stages { get; init; }

    public required RoundDriver Driver { get; init; }

    public required MetricAggregationOptions Metrics { get; init; }

    public Func<int, ConfigRecord>? FitConfig { get; init; }

    public Func<int, ConfigRecord>? EvaluateConfig { get; init; }

    public CentralizedEvaluator? CentralizedEvaluator { get; init; }

    /// <summary>The strategy's declared capabilities, resolved once.</summary>
    public IStatefulAggregator? Stateful => Aggregator as IStatefulAggregator;

    /// <summary>The strategy's own client selection, when it declares one.</summary>
    public IClientSelector? Selector => Aggregator as IClientSelector;

    /// <summary>The clients' states, when the transport declares it hosts them.</summary>
    public ClientStateStore? ClientStates => (Transport as IClientStateHost)?.ClientStates;

    public ulong ConfigurationHash { get; init; }

    /// <summary>A round's fit configuration: the user's, the round number, the strategy's keys, then the features'; frozen.</summary>
    public ConfigRecord CreateFitConfig(int round)
    {
        ConfigRecord config = FitConfig?.Invoke(round)?.Copy() ?? new ConfigRecord();
        config[ConfigKeys.Round] = round;
        Aggregator.ConfigureFit(round, config);
        foreach (FederationFeature feature in Features)
        {
            feature.ConfigureFit(round, config);
        }

        return config.Freeze();
    }

    /// <summary>Sends one client its fit task through every feature's <see cref="FederationFeature.InvokeFitAsync"/>, in order.</summary>
    public Task<FitResult> FitAsync(IClientConnection connection, string clientId, FitInstructions instructions, CancellationToken cancellationToken)
    {
        FitInvoker invoke = connection.FitAsync;
        for (int i = Features.Count - 1; i >= 0; i--)
        {
            FederationFeature feature = Features[i];
            FitInvoker next = invoke;
            invoke = (fit, ct) => feature.InvokeFitAsync(clientId, fit, next, ct);
        }

        return invoke(instructions, cancellationToken);
    }

    /// <summary>The candidates of a round after every feature's filter (quarantine...).</summary>
    public IReadOnlyList<string> FilterClients(FederationContext context, int round, IReadOnlyList<string> available)
    {
        foreach (FederationFeature feature in Features)
        {
            available = feature.FilterClients(context, round, available);
        }

        return available;
    }

    /// <summary>Waits until the transport has <paramref name="minimum"/> clients, and returns them.</summary>
    public async Task<IReadOnlyList<string>> WaitForClientsAsync(int minimum, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> available = Transport.GetAvailableClients();
        if (available.Count < minimum)
        {
            Diagnostics.Log.WaitingForClients(Logger, minimum, available.Count);
            await Transport.WaitForClientsAsync(minimum, cancellationToken).ConfigureAwait(false);
            available = Transport.GetAvailableClients();
        }

        return available;
    }
}
