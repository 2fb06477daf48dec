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

    /// <summary>
    /// The rounds that produced no model, in order (their reasons and client failures are in <see cref="History"/>).
    /// A federation with more than <see cref="FederatedServerOptions.MaxFailedRoundFraction"/> of them does not return
    /// a result: it throws <see cref="FederationFailedException"/>.
    /// </summary>
    public IReadOnlyList<int> FailedRounds => History.Rounds.Where(r => !r.Succeeded).Select(r => r.Round).ToArray();

    /// <summary>Releases the parameters.</summary>
    public void Dispose() => Parameters.Dispose();
}
