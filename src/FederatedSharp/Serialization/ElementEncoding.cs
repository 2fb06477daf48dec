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

    /// <summary>
    /// 4-bit integers in blocks of 64 values, each block with its float32 absolute maximum <c>m</c>: 15 symmetric
    /// levels <c>k m / 7</c> for k in -7..7, rounded to nearest. 4.5 bits per value (7.1 times fewer bytes than
    /// float32); every value is within <c>m / 14</c> of the original. Values must be finite.
    /// </summary>
    Int4 = 5,

    /// <summary>
    /// NormalFloat-4 (QLoRA's NF4) in blocks of 64 values, each block with its float32 absolute maximum <c>m</c>: the 16
    /// levels are standard-normal quantiles scaled to [-m, m], with an exact zero, so resolution goes where normally
    /// distributed weights and updates are. 4.5 bits per value; every value is within <c>0.152 m</c> of the
    /// original, and the mean squared error on normal data is lower than <see cref="Int4"/>'s. Values must be finite.
    /// </summary>
    NF4 = 6,
}
