using FederatedSharp.Parameters;
using TorchSharp;
using TorchSharp.Modules;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>Partial training: the <see cref="TorchTrainerOptions.Frozen"/> parameters keep the server's values and stay out of the updates.</summary>
public sealed partial class TorchTrainerClient
{
    // The frozen parameters' names; every one must be a federated (non-personal) parameter, and something must train.
    private static HashSet<string> FrozenNames(IList<string> patterns, IList<string> trainable, TensorLayout federated)
    {
        if (patterns.Count == 0 && trainable.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }

        string[] names = federated.Tensors.Select(t => t.Name).ToArray();
        Func<string, bool> frozen = ParameterPatterns.Compile(patterns, names, "frozen parameter");
        Func<string, bool> trains = trainable.Count == 0 ? _ => true : ParameterPatterns.Compile(trainable, names, "trainable parameter");
        var set = names.Where(n => frozen(n) || !trains(n)).ToHashSet(StringComparer.Ordinal);
        if (set.Count == names.Length)
        {
            throw new ArgumentException($"The frozen and trainable patterns leave no federated parameter of the module to train ({string.Join(", ", names)}); nothing would train.", nameof(patterns));
        }

        return set;
    }

    // The parameters that train this round: the given ones without the frozen.
    private Parameter[] Unfrozen(Parameter[] parameters)
    {
        if (_frozen.Count == 0)
        {
            return parameters;
        }

        var handles = _module.named_parameters().Where(p => _frozen.Contains(p.name)).Select(p => p.parameter.Handle).ToHashSet();
        return parameters.Where(p => !handles.Contains(p.Handle)).ToArray();
    }
}
