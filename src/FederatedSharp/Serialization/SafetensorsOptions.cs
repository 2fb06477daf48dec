namespace FederatedSharp.Serialization;

/// <summary>Settings of <see cref="SafetensorsSerializer"/>.</summary>
public sealed class SafetensorsOptions
{
    /// <summary>The dtype written: <see cref="ElementEncoding.Float32"/> (F32, default), <see cref="ElementEncoding.Float16"/> (F16) or <see cref="ElementEncoding.BFloat16"/> (BF16).</summary>
    public ElementEncoding DType { get; set; } = ElementEncoding.Float32;

    /// <summary>String metadata written under <c>__metadata__</c> (read back into <see cref="SafetensorsSerializer.LastMetadata"/>).</summary>
    public IDictionary<string, string> Metadata { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Largest accepted JSON header (default 100 MB, the reference implementation's limit).</summary>
    public long MaxHeaderBytes { get; set; } = 100_000_000;

    /// <summary>Largest accepted number of parameters (default: the largest .NET array).</summary>
    public long MaxParameterCount { get; set; } = Array.MaxLength;

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (DType is not (ElementEncoding.Float32 or ElementEncoding.Float16 or ElementEncoding.BFloat16))
        {
            throw new ArgumentOutOfRangeException(nameof(DType), DType, "safetensors stores F32, F16 or BF16 here.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxHeaderBytes, nameof(MaxHeaderBytes));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxParameterCount, nameof(MaxParameterCount));
    }
}
