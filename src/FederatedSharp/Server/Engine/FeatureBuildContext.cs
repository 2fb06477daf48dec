using FederatedSharp.Aggregation;
using FederatedSharp.Transport;

namespace FederatedSharp.Server.Engine;

/// <summary>What a feature sees at <see cref="FederatedServerBuilder.Build"/>: the configuration, and where to register update stages.</summary>
public sealed class FeatureBuildContext
{
    private readonly List<UpdateStage> _stages = new();
    private (RoundDriver Driver, string Feature)? _driver;

    internal FeatureBuildContext(FederatedServerOptions options, IAggregator aggregator, ITransport transport, IReadOnlyList<FederationFeature> features)
    {
        Options = options;
        Aggregator = aggregator;
        Transport = transport;
        Features = features;
    }

    /// <summary>The server's options (validated; read them, do not change them).</summary>
    public FederatedServerOptions Options { get; }

    /// <summary>The strategy.</summary>
    public IAggregator Aggregator { get; }

    /// <summary>The transport.</summary>
    public ITransport Transport { get; }

    /// <summary>Every feature of the server, in hook order.</summary>
    public IReadOnlyList<FederationFeature> Features { get; }

    internal IReadOnlyList<UpdateStage> Stages => _stages.OrderBy(s => s.Order).ToArray();

    internal RoundDriver? Driver => _driver?.Driver;

    /// <summary>Whether the server has a feature of type <typeparamref name="TFeature"/>.</summary>
    /// <typeparam name="TFeature">The feature type.</typeparam>
    /// <returns>Whether it has one.</returns>
    public bool Has<TFeature>()
        where TFeature : FederationFeature => Features.OfType<TFeature>().Any();

    /// <summary>Adds a stage to the update pipeline.</summary>
    /// <param name="stage">The stage.</param>
    public void AddUpdateStage(UpdateStage stage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        _stages.Add(stage);
    }

    /// <summary>Replaces the synchronous rounds with another driver; two features may not both do so.</summary>
    internal void UseDriver(RoundDriver driver, string feature)
    {
        if (_driver is { } existing)
        {
            throw new InvalidOperationException($"{feature} and {existing.Feature} both change how rounds run; a federation can use only one of them.");
        }

        _driver = (driver, feature);
    }
}
