namespace FederatedSharp.Transport.InMemory;

/// <summary>
/// Seeded fault injection for simulations. Every decision is a pure function of (<see cref="Seed"/>, round, client id,
/// operation), so the same faults hit the same clients in the same rounds whatever the thread scheduling.
/// </summary>
public sealed class FaultInjectionOptions
{
    /// <summary>The seed of the fault plan.</summary>
    public ulong Seed { get; set; }

    /// <summary>Probability that a call never answers (the client dropped out; the server's deadline ends the wait). A dropped-out call gives up its <see cref="InMemoryTransportOptions.MaxConcurrency"/> slot.</summary>
    public double DropoutProbability { get; set; }

    /// <summary>Probability that a call throws (the client crashed).</summary>
    public double FailureProbability { get; set; }

    /// <summary>
    /// Probability that a fit result is corrupted on its way back: half of these flip a bit of the serialized payload
    /// (the transport then fails the call with the deserializer's checksum error), the other half put a NaN into the
    /// values (which the server's validation must reject). Decided from the seed like every other fault.
    /// </summary>
    public double CorruptionProbability { get; set; }

    /// <summary>Smallest added latency per call.</summary>
    public TimeSpan MinLatency { get; set; } = TimeSpan.Zero;

    /// <summary>Largest added latency per call (uniform between min and max).</summary>
    public TimeSpan MaxLatency { get; set; } = TimeSpan.Zero;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A probability is outside [0, 1] or the latencies are inconsistent.</exception>
    public void Validate()
    {
        CheckProbability(DropoutProbability, nameof(DropoutProbability));
        CheckProbability(FailureProbability, nameof(FailureProbability));
        CheckProbability(CorruptionProbability, nameof(CorruptionProbability));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinLatency, TimeSpan.Zero, nameof(MinLatency));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLatency, MinLatency, nameof(MaxLatency));
    }

    private static void CheckProbability(double p, string name)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(name, p, "A probability must lie in [0, 1].");
        }
    }
}
