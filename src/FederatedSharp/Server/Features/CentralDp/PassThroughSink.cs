using FederatedSharp.Aggregation;
using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using FederatedSharp.Server.Engine;

namespace FederatedSharp.Server.Features.CentralDp;

/// <summary>A stage sink that forwards to the next one unless overridden.</summary>
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
