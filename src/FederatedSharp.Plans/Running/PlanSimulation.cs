using FederatedSharp.Analytics;
using FederatedSharp.Server;
using FederatedSharp.Transport.InMemory;

namespace FederatedSharp.Plans;

/// <summary>Runs a plan in one process over sites' tables, exactly as nodes would run it over the network.</summary>
public static class PlanSimulation
{
    /// <summary>Runs the plan on the sites.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="sites">Each site's name and table.</param>
    /// <param name="configure">Further server settings; null for none.</param>
    /// <param name="progress">Receives a report after every round; null for none.</param>
    /// <param name="maxConcurrency">Sites training at once (default: the number of processors).</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The final model and history (the caller disposes it).</returns>
    /// <exception cref="PlanDataException">A site's table does not fit the plan.</exception>
    public static async Task<FederationResult> RunAsync(
        TrainingPlan plan,
        IReadOnlyDictionary<string, TabularDataset> sites,
        Action<FederatedServerBuilder>? configure = null,
        IProgress<RoundReport>? progress = null,
        int? maxConcurrency = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(sites);
        var clients = new List<PlanClient>();
        try
        {
            foreach ((string site, TabularDataset table) in sites.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                try
                {
                    clients.Add(new PlanClient(plan, site, table));
                }
                catch (PlanDataException e)
                {
                    throw new PlanDataException($"Site '{site}': {e.Message}", e);
                }
            }

            var transport = new InMemoryTransport(new InMemoryTransportOptions { MaxConcurrency = maxConcurrency ?? Environment.ProcessorCount });
            await using (transport.ConfigureAwait(false))
            {
                foreach (PlanClient client in clients)
                {
                    transport.AddClient(client.Site, client);
                }

                return await PlanFederation.RunAsync(plan, transport, configure, progress, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (PlanClient client in clients)
            {
                client.Dispose();
            }
        }
    }
}
