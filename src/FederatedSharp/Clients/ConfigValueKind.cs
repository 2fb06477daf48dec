namespace FederatedSharp.Clients;

/// <summary>The type held by a <see cref="ConfigValue"/>.</summary>
public enum ConfigValueKind
{
    /// <summary>A <see cref="bool"/>.</summary>
    Boolean,

    /// <summary>A 64-bit integer.</summary>
    Int64,

    /// <summary>A double-precision number.</summary>
    Double,

    /// <summary>A string.</summary>
    String,

    /// <summary>A byte array.</summary>
    Bytes,
}
