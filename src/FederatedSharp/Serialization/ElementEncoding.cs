namespace FederatedSharp.Serialization;

/// <summary>How <see cref="BinaryModelSerializer"/> stores values on the wire. The value is the format's encoding byte.</summary>
public enum ElementEncoding : byte
{
    /// <summary>IEEE 754 single precision, 4 bytes per value, lossless.</summary>
    Float32 = 1,

    /// <summary>IEEE 754 half precision, 2 bytes per value (about 3 significant digits; magnitudes above 65,504 become infinity).</summary>
    Float16 = 2,

    /// <summary>bfloat16 (the upper half of a float32, rounded to nearest even), 2 bytes per value: float32's range, about 2-3 significant digits.</summary>
    BFloat16 = 3,

    /// <summary>
    /// 8-bit integers with one float32 scale per tensor (<c>scale = max|x| / 127</c>, <c>q = round(x / scale)</c>):
    /// 1 byte per value plus 4 per tensor. Values must be finite.
    /// </summary>
    Int8 = 4,
}
