using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;

namespace FederatedSharp.Server.Engine;

/// <summary>A stage sink that forwards everything to the next one unless overridden (the built-in stages derive from it).</summary>
internal abstract class PassThroughSink(IUpdateSink next) : IUpdateSink
{
    protected IUpdateSink Next => next;

    public virtual ConfigRecord Metrics => ConfigRecord.Empty;

    public virtual void Add(IReadOnlyList<ClientUpdate> updates) => next.Add(updates);

    public virtual ModelParameters Complete() => next.Complete();

    public virtual void Dispose()
    {
    }
}
