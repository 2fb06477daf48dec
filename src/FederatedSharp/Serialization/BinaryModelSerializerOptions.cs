namespace FederatedSharp.Serialization;

/// <summary>Limits applied by <see cref="BinaryModelSerializer"/> before it allocates anything.</summary>
public sealed class BinaryModelSerializerOptions
{
    /// <summary>
    /// The encoding written (default <see cref="ElementEncoding.Float32"/>, lossless); float16/bfloat16 halve the bytes,
    /// int8 quarters them. Every encoding is read whatever this says.
    /// </summary>
    public ElementEncoding Encoding { get; set; } = ElementEncoding.Float32;

    /// <summary>Largest accepted number of parameters (default: the largest .NET array, 2,147,483,591).</summary>
    public long MaxParameterCount { get; set; } = Array.MaxLength;

    /// <summary>Largest accepted number of tensors (default 100,000).</summary>
    public int MaxTensorCount { get; set; } = 100_000;

    /// <summary>Largest accepted tensor table in bytes (default 16 MiB).</summary>
    public int MaxHeaderBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest accepted tensor name in UTF-8 bytes (default 1,024).</summary>
    public int MaxNameBytes { get; set; } = 1024;

    /// <summary>Largest accepted tensor rank (default 16).</summary>
    public int MaxRank { get; set; } = 16;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxParameterCount, nameof(MaxParameterCount));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxParameterCount, Array.MaxLength, nameof(MaxParameterCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxTensorCount, nameof(MaxTensorCount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHeaderBytes, nameof(MaxHeaderBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxNameBytes, nameof(MaxNameBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxRank, nameof(MaxRank));
        if (!Enum.IsDefined(Encoding))
        {
            throw new ArgumentOutOfRangeException(nameof(Encoding), Encoding, "Unknown element encoding.");
        }
    }
}
