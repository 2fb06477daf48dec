using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Modules;

/// <summary>Puts LoRA adapters into an existing network: <see cref="Apply"/>.</summary>
public static class Lora
{
    /// <summary>
    /// A network like <paramref name="model"/> in which every linear layer whose name matches one of
    /// <paramref name="targets"/> is wrapped in a <see cref="LoraLinear"/> (PEFT's <c>target_modules</c>). Names are
    /// dotted paths of <see cref="Sequential"/> children (<c>head</c>, <c>encoder.fc1</c>); a pattern may hold <c>*</c>
    /// wildcards (<c>*</c> is every linear layer) or end in a dot for every layer under a module (<c>encoder.</c>). Nested <see cref="Sequential"/> modules are rebuilt; the returned
    /// network takes over the layers of <paramref name="model"/>, which should no longer be used. Layers inside a custom
    /// module cannot be swapped from outside (TorchSharp modules keep them in fields): give those a
    /// <see cref="LoraLinear"/> where they are built.
    /// </summary>
    /// <param name="model">The network, built with <c>nn.Sequential</c>.</param>
    /// <param name="rank">The adapters' rank.</param>
    /// <param name="alpha">The adapters' scale numerator (output times alpha / rank).</param>
    /// <param name="targets">Names of the linear layers to adapt.</param>
    /// <returns>The adapted network; train it with <c>TorchTrainerOptions.Trainable = { "*lora_*" }</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">No target is given, or a target matches no linear layer (the message lists them).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rank"/> or <paramref name="alpha"/> is out of range.</exception>
    public static Sequential Apply(Sequential model, int rank, double alpha, params string[] targets)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Length == 0)
        {
            throw new ArgumentException("Name at least one linear layer to adapt ('*' for all).", nameof(targets));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1, nameof(rank));
        if (!(alpha > 0) || double.IsInfinity(alpha))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "The LoRA alpha must be a positive finite number.");
        }

        var linears = new List<string>();
        CollectLinears(model, prefix: "", linears);
        Func<string, bool> adapt = Training.ParameterPatterns.Compile(targets, linears, "LoRA target", "linear layer");
        return Rebuild(model, prefix: "", adapt, rank, alpha);
    }

    private static void CollectLinears(Sequential sequential, string prefix, List<string> names)
    {
        foreach ((string name, nn.Module child) in sequential.named_children())
        {
            switch (child)
            {
                case Linear:
                    names.Add(prefix + name);
                    break;
                case Sequential nested:
                    CollectLinears(nested, prefix + name + ".", names);
                    break;
            }
        }
    }

    private static Sequential Rebuild(Sequential sequential, string prefix, Func<string, bool> adapt, int rank, double alpha)
    {
        var children = new List<(string, nn.Module<Tensor, Tensor>)>();
        foreach ((string name, nn.Module child) in sequential.named_children())
        {
            nn.Module<Tensor, Tensor> module = child switch
            {
                Linear linear when adapt(prefix + name) => new LoraLinear(linear, rank, alpha),
                Sequential nested => Rebuild(nested, prefix + name + ".", adapt, rank, alpha),
                nn.Module<Tensor, Tensor> other => other,
                _ => throw new ArgumentException($"The child '{prefix}{name}' of a Sequential is not a tensor-to-tensor module.", nameof(sequential)),
            };
            children.Add((name, module));
        }

        return nn.Sequential(children.ToArray());
    }
}
