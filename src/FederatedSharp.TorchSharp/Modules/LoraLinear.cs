using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Modules;

/// <summary>
/// A linear layer with a low-rank adapter (LoRA, Hu et al. 2021): <c>y = base(x) + (alpha / rank) x Aᵀ Bᵀ</c>, with A
/// (rank x in) drawn like a linear layer's weight and B (out x rank) zero, so the layer starts as its base. Train only
/// the adapters (<c>TorchTrainerOptions.Trainable.Add("*lora_*")</c>) and a site's update is
/// <c>rank x (in + out)</c> values instead of <c>in x out</c>. Its tensors are <c>lora_A</c>, <c>lora_B</c>,
/// <c>base.weight</c> and <c>base.bias</c> under the layer's name.
/// </summary>
public sealed class LoraLinear : nn.Module<Tensor, Tensor>
{
    private readonly Linear @base;
    private readonly Parameter lora_A;
    private readonly Parameter lora_B;
    private readonly double _scale;

    /// <summary>Wraps <paramref name="baseLayer"/> (which the adapter then owns) with an adapter of <paramref name="rank"/>.</summary>
    /// <param name="baseLayer">The linear layer whose output the adapter corrects.</param>
    /// <param name="rank">The adapter's rank (at least 1; it pays off below in x out / (in + out)).</param>
    /// <param name="alpha">The adapter's scale numerator: its output is multiplied by alpha / rank (PEFT's convention).</param>
    /// <exception cref="ArgumentNullException"><paramref name="baseLayer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="alpha"/> is out of range.</exception>
    public LoraLinear(Linear baseLayer, int rank, double alpha)
        : base(nameof(LoraLinear))
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        long outputs = baseLayer.weight!.shape[0], inputs = baseLayer.weight.shape[1];
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1, nameof(rank));
        if (!(alpha > 0) || double.IsInfinity(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The LoRA alpha must be a positive finite number.");
        }

        @base = baseLayer;
        double bound = 1.0 / Math.Sqrt(inputs);
        lora_A = new Parameter(torch.empty(rank, inputs).uniform_(-bound, bound));
        lora_B = new Parameter(torch.zeros(outputs, rank));
        _scale = alpha / rank;
        Rank = rank;
        RegisterComponents();
    }

    /// <summary>The adapter's rank.</summary>
    public int Rank { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using Tensor low = nn.functional.linear(input, lora_A);
        using Tensor correction = nn.functional.linear(low, lora_B);
        using Tensor baseOutput = @base.forward(input);
        return baseOutput.add(correction, _scale);
    }
}
