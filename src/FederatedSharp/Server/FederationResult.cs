using FederatedSharp.Parameters;

namespace FederatedSharp.Server;

/// <summary>The outcome of <see cref="FederatedServer.RunAsync"/>: the final global model and the history. Dispose it to release the model's buffer.</summary>
public sealed class FederationResult : IDisposable
{
    internal FederationResult(ModelParameters parameters, History history)
    {
        Parameters = parameters;
        History = history;
    }

    /// <summary>The final global parameters.</summary>
    public ModelParameters Parameters { get; }

    /// <summary>Every round's record.</summary>
    public History History { get; }

    /// <summary>Releases the parameters.</summary>
    public void Dispose() => Parameters.Dispose();
}
