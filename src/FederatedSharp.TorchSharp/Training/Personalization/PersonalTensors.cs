using System.Runtime.InteropServices;
using FederatedSharp.Clients;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>
/// Which of a module's tensors are personal under a <see cref="PersonalizationOptions"/>, and their persistence in the
/// client's state: every personal parameter and float buffer under <c>personal/NAME</c>.
/// </summary>
internal sealed class PersonalTensors
{
    private const string Prefix = "personal/";
    private readonly (string Name, Tensor Tensor)[] _tensors;

    private PersonalTensors(HashSet<string> parameterNames, (string Name, Tensor Tensor)[] tensors)
    {
        ParameterNames = parameterNames;
        _tensors = tensors;
    }

    /// <summary>The personal parameters' names (the shared layout is every other parameter).</summary>
    public HashSet<string> ParameterNames { get; }

    public int Count => _tensors.Length;

    public static PersonalTensors Resolve(nn.Module module, PersonalizationOptions options)
    {
        var parameters = module.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var buffers = module.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32).Select(b => (b.name, b.buffer)).ToList();
        Func<string, bool> personal = options.Method switch
        {
            PersonalizationMethod.FedPer or PersonalizationMethod.FedRep => Patterns(options.PersonalLayers, parameters.Select(p => p.name).ToList()),
            PersonalizationMethod.FedBN => NormalisationPrefixes(module),
            _ => _ => false,
        };
        var personalParameters = parameters.Where(p => personal(p.name)).ToList();
        if (personalParameters.Count == parameters.Count && parameters.Count > 0)
        {
            throw new ArgumentException($"Personalisation {options.Method} would keep every parameter at the site; nothing would be federated.", nameof(options));
        }

        if (options.Method == PersonalizationMethod.FedBN && personalParameters.Count == 0 && !buffers.Any(b => personal(b.name)))
        {
            throw new ArgumentException("FedBN found no normalisation layer (BatchNorm, LayerNorm, GroupNorm, InstanceNorm) in the module.", nameof(options));
        }

        // Buffers (running statistics) of personal layers are personal too; float buffers elsewhere stay in the module as before.
        var tensors = personalParameters.Concat(buffers.Where(b => personal(b.name))).ToArray();
        return new PersonalTensors(personalParameters.Select(p => p.name).ToHashSet(StringComparer.Ordinal), tensors);
    }

    /// <summary>Loads the personal tensors from the state, when it holds them (from an earlier round of this site).</summary>
    public void Restore(ClientState? state)
    {
        if (state is null)
        {
            return;
        }

        using var noGrad = torch.no_grad();
        foreach ((string name, Tensor tensor) in _tensors)
        {
            float[]? values = state.GetFloats(Prefix + name);
            if (values is null)
            {
                continue;
            }

            if (values.Length != tensor.numel())
            {
                throw new InvalidOperationException($"The client state's personal tensor '{name}' has {values.Length} values; the module's has {tensor.numel()}.");
            }

            values.CopyTo(MemoryMarshal.Cast<byte, float>(tensor.bytes));
        }
    }

    /// <summary>Saves the personal tensors to the state.</summary>
    public void Save(ClientState? state)
    {
        if (state is null)
        {
            return;
        }

        foreach ((string name, Tensor tensor) in _tensors)
        {
            using Tensor contiguous = tensor.contiguous();
            state.SetFloats(Prefix + name, MemoryMarshal.Cast<byte, float>(contiguous.bytes));
        }
    }

    private static Func<string, bool> Patterns(IList<string> patterns, List<string> names) => ParameterPatterns.Compile(patterns, names, "personal layer");

    private static Func<string, bool> NormalisationPrefixes(nn.Module module)
    {
        string[] prefixes = module.named_modules()
            .Where(m => m.module is BatchNorm1d or BatchNorm2d or BatchNorm3d or LayerNorm or GroupNorm or InstanceNorm1d or InstanceNorm2d or InstanceNorm3d)
            .Select(m => m.name + ".")
            .ToArray();
        return name => prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));
    }
}
