namespace FederatedSharp.Simulation;

/// <summary>Partitions by a natural key each sample already carries (the hospital, the device, the user).</summary>
public static class NaturalPartitioner
{
    /// <summary>Groups sample indices by their client id.</summary>
    /// <param name="clientIds">Each sample's client id.</param>
    /// <returns>Client id to sample indices (ascending), ordered by client id (ordinal).</returns>
    /// <exception cref="ArgumentException">An id is null or empty.</exception>
    public static IReadOnlyDictionary<string, int[]> Partition(IReadOnlyList<string> clientIds)
    {
        ArgumentNullException.ThrowIfNull(clientIds);
        var groups = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < clientIds.Count; i++)
        {
            string id = clientIds[i];
            if (string.IsNullOrEmpty(id))
            {
                throw new ArgumentException($"Sample {i} has no client id.", nameof(clientIds));
            }

            if (!groups.TryGetValue(id, out List<int>? list))
            {
                groups[id] = list = new List<int>();
            }

            list.Add(i);
        }

        var result = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        foreach ((string id, List<int> list) in groups)
        {
            result[id] = list.ToArray();
        }

        return result;
    }
}
