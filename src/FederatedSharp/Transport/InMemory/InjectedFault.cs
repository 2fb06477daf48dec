namespace FederatedSharp.Transport.InMemory;

/// <summary>What fault injection did to a call.</summary>
public enum InjectedFaultKind
{
    /// <summary>The call never answered (drop-out).</summary>
    Dropout,

    /// <summary>The call threw (crash).</summary>
    Crash,

    /// <summary>A bit of the serialized fit result was flipped (caught by the checksum).</summary>
    CorruptedPayload,

    /// <summary>A NaN was written into the fit result's values (must be caught by validation).</summary>
    CorruptedValues,
}

/// <summary>One fault injected by <see cref="InMemoryTransport"/>, for checking that the server recorded it.</summary>
/// <param name="Round">The round of the call.</param>
/// <param name="ClientId">The client.</param>
/// <param name="Operation"><c>fit</c> or <c>evaluate</c>.</param>
/// <param name="Kind">What was done.</param>
public sealed record InjectedFault(int Round, string ClientId, string Operation, InjectedFaultKind Kind);
