using System.Globalization;
using System.Text.Json;
using FederatedSharp.Plans.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.Plans.Model;

/// <summary>
/// <c>dropout</c>: during training each element is zeroed with probability <c>p</c> and the rest scaled by 1/(1-p).
/// The mask comes from the layer's own generator, which the site reseeds from the plan's seed, the site and the
/// round before every fit, so a plan with dropout replays bit for bit (torch's global generator, shared by every
/// client training in a process, would not).
/// </summary>
public sealed class DropoutSpec : LayerSpec
{
    /// <summary>Creates the layer.</summary>
    /// <param name="probability">The probability of zeroing an element, in [0, 1).</param>
    /// <param name="name">The module's name; null for its index.</param>
    public DropoutSpec(double probability, string? name = null)
        : base(name)
    {
        if (!(probability >= 0 && probability < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "The dropout probability must be in [0, 1).");
        }

        Probability = probability;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public double Probability { get; }

    /// <inheritdoc />
    public override string Type => "dropout";

    /// <inheritdoc />
    public override string Summary => "Dropout p = " + Probability.ToString("G", CultureInfo.InvariantCulture);

    internal static DropoutSpec? Read(PlanObject o)
    {
        string? name = ReadName(o);
        return o.Number("p", min: 0, max: 1, maxExclusive: true, required: true) is double p ? new DropoutSpec(p, name) : null;
    }

    internal override int[]? Infer(int[] input, string path, List<PlanError> errors) => input;

    internal override nn.Module<Tensor, Tensor> Build() => new SeededDropout(Probability);

    internal override void WriteProperties(Utf8JsonWriter writer) => writer.WriteNumber("p", Probability);
}

/// <summary>A module whose randomness comes from a generator of its own, reseeded by the site before each fit.</summary>
internal interface ISeededModule
{
    void Reseed(ulong seed);
}

/// <summary>Inverted dropout drawing its mask from its own generator.</summary>
internal sealed class SeededDropout : nn.Module<Tensor, Tensor>, ISeededModule
{
    private readonly double _p;
    private readonly Generator _generator = new(0);

    public SeededDropout(double p)
        : base("SeededDropout") => _p = p;

    public void Reseed(ulong seed) => _generator.manual_seed((long)(seed & long.MaxValue));

    public override Tensor forward(Tensor input)
    {
        if (!training || _p == 0)
        {
            return input.alias();
        }

        using Tensor uniform = torch.rand(input.shape, dtype: input.dtype, generator: _generator);
        using Tensor keep = uniform.ge(_p).to_type(input.dtype);
        return input.mul(keep).div_(1 - _p);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _generator.Dispose();
        }

        base.Dispose(disposing);
    }
}
