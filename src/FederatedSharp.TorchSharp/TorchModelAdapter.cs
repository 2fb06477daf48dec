using System.Runtime.InteropServices;
using FederatedSharp.Parameters;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp;

/// <summary>
/// Connects a TorchSharp module to <see cref="ModelParameters"/>. The layout comes from the module's
/// <c>named_parameters()</c> (and, optionally, <c>named_buffers()</c> such as batch-norm statistics) in registration
/// order. The tensor list is captured once, so copying in either direction allocates nothing per parameter: values move
/// through spans over the tensors' own CPU memory.
/// </summary>
public sealed class TorchModelAdapter
{
    private readonly Tensor[] _tensors;

    /// <summary>Captures the module's tensors.</summary>
    /// <param name="module">The module; its parameters must be float32 on the CPU.</param>
    /// <param name="includeBuffers">Also exchange buffers (running statistics); default false.</param>
    /// <exception cref="ArgumentException">A tensor is not float32 on the CPU.</exception>
    public TorchModelAdapter(nn.Module module, bool includeBuffers = false)
        : this(module, includeBuffers, excluded: null)
    {
    }

    /// <summary>Captures the module's parameters except <paramref name="excluded"/> (personal tensors that stay at the site).</summary>
    internal TorchModelAdapter(nn.Module module, bool includeBuffers, ISet<string>? excluded)
    {
        ArgumentNullException.ThrowIfNull(module);
        var named = module.named_parameters().Where(p => excluded is null || !excluded.Contains(p.name)).Select(p => (p.name, (Tensor)p.parameter)).ToList();
        if (includeBuffers)
        {
            named.AddRange(module.named_buffers().Select(b => (b.name, b.buffer)));
        }

        foreach ((string name, Tensor tensor) in named)
        {
            if (tensor.dtype != ScalarType.Float32 || tensor.device_type != DeviceType.CPU)
            {
                throw new ArgumentException($"Tensor '{name}' is {tensor.dtype} on {tensor.device_type}; FederatedSharp exchanges float32 CPU tensors.", nameof(module));
            }
        }

        _tensors = named.Select(n => n.Item2).ToArray();
        Layout = new TensorLayout(named.Select(n => new TensorSpec(n.name, n.Item2.shape.Select(d => checked((int)d)).ToArray())));
        Module = module;
    }

    /// <summary>The module.</summary>
    public nn.Module Module { get; }

    /// <summary>The module's layout.</summary>
    public TensorLayout Layout { get; }

    /// <summary>Copies the module's current values into new parameters.</summary>
    /// <returns>New parameters the caller owns.</returns>
    public ModelParameters ToParameters()
    {
        ModelParameters parameters = ModelParameters.CreateUninitialized(Layout);
        CopyTo(parameters);
        return parameters;
    }

    /// <summary>Copies the module's current values into <paramref name="destination"/>.</summary>
    /// <param name="destination">Parameters with this adapter's layout.</param>
    /// <exception cref="LayoutMismatchException">The layouts differ.</exception>
    public void CopyTo(ModelParameters destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Layout.EnsureCompatible(destination.Layout, "copy destination");
        for (int i = 0; i < _tensors.Length; i++)
        {
            Tensor t = _tensors[i];
            if (t.is_contiguous())
            {
                View(t).CopyTo(destination.GetTensor(i));
            }
            else
            {
                using Tensor contiguous = t.contiguous();
                View(contiguous).CopyTo(destination.GetTensor(i));
            }
        }
    }

    /// <summary>Overwrites the module's values with <paramref name="source"/> (under <c>no_grad</c>).</summary>
    /// <param name="source">Parameters with this adapter's layout.</param>
    /// <exception cref="LayoutMismatchException">The layouts differ.</exception>
    public void CopyFrom(ModelParameters source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Layout.EnsureCompatible(source.Layout, "parameters loaded into the module");
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _tensors.Length; i++)
        {
            Tensor t = _tensors[i];
            if (!t.is_contiguous())
            {
                throw new InvalidOperationException($"Tensor '{Layout.Tensors[i].Name}' is not contiguous; cannot load in place.");
            }

            source.GetTensor(i).CopyTo(View(t));
        }
    }

    private static Span<float> View(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}
