using FederatedSharp.Clients;
using FederatedSharp.Parameters;
using TorchSharp;
using static TorchSharp.torch;

namespace FederatedSharp.TorchSharp.Training;

/// <summary>SCAFFOLD's client side: the control variate, kept in the client's state.</summary>
public sealed partial class TorchTrainerClient
{
    /// <summary>
    /// The client's SCAFFOLD control variate c_i after its last SCAFFOLD fit through this object (a copy), or null before
    /// it. The lasting copy is in the client's <see cref="ClientState"/> when the deployment provides one.
    /// </summary>
    /// <returns>The values.</returns>
    public float[]? GetControlVariate() => (float[]?)_controlVariate?.Clone();

    private float[]? ReadServerControl(ConfigRecord config)
    {
        if (!config.TryGetValue(ConfigKeys.ScaffoldServerControl, out ConfigValue value))
        {
            return null;
        }

        ReadOnlyMemory<byte> bytes = value.AsBytes();
        if (bytes.IsEmpty)
        {
            return new float[_adapter.Layout.TotalLength];
        }

        using ModelParameters c = _serializer.Deserialize(bytes);
        _adapter.Layout.EnsureCompatible(c.Layout, "the server's SCAFFOLD control variate");
        return c.Values.ToArray();
    }

    // c_i lives in the client's state when the deployment keeps one (so it survives re-creation of the client), else in this object.
    private float[] LoadControlVariate(ClientState? state, int length)
    {
        float[]? stored = state is null ? _controlVariate : state.GetFloats(ControlVariateKey);
        if (stored is not null && stored.Length != length)
        {
            throw new InvalidOperationException($"The stored SCAFFOLD control variate has {stored.Length} values; the model has {length}.");
        }

        return stored ?? new float[length];
    }

    private Tensor[] ControlCorrections(float[] serverControl, float[] local)
    {
        var corrections = new Tensor[_adapter.Layout.Count];
        for (int i = 0; i < corrections.Length; i++)
        {
            int offset = _adapter.Layout.GetOffset(i);
            TensorSpec spec = _adapter.Layout.Tensors[i];
            float[] values = new float[spec.ElementCount];
            for (int j = 0; j < values.Length; j++)
            {
                values[j] = serverControl[offset + j] - local[offset + j];
            }

            corrections[i] = torch.tensor(values, spec.Shape.Select(d => (long)d).ToArray());
        }

        return corrections;
    }

    // Option II of Karimireddy et al.: c_i+ = c_i - c + (x - y) / (K lr); returns dc = c_i+ - c_i, serialized.
    private byte[] UpdateControlVariate(float[] serverControl, float[] local, ReadOnlySpan<float> global, ReadOnlySpan<float> trained, long steps, double lr, ClientState? state)
    {
        using ModelParameters delta = ModelParameters.CreateUninitialized(_adapter.Layout);
        Span<float> d = delta.Values;
        double scale = 1.0 / (steps * lr);
        for (int j = 0; j < d.Length; j++)
        {
            d[j] = (float)(-serverControl[j] + ((global[j] - (double)trained[j]) * scale));
            local[j] += d[j];
        }

        _controlVariate = local;
        state?.SetFloats(ControlVariateKey, local);
        return _serializer.SerializeToArray(delta);
    }
}
