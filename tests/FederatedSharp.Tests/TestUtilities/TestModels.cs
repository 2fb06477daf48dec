using FederatedSharp.Parameters;

namespace FederatedSharp.Tests.TestUtilities;

public static class TestModels
{
    public static TensorLayout SmallLayout { get; } = TensorLayout.Create(new TensorSpec("fc.weight", 2, 3), new TensorSpec("fc.bias", 2));

    public static ModelParameters Filled(TensorLayout layout, float value)
    {
        ModelParameters p = ModelParameters.Create(layout);
        p.Values.Fill(value);
        return p;
    }

    public static ModelParameters Random(TensorLayout layout, ulong seed, float scale = 1f)
    {
        ModelParameters p = ModelParameters.Create(layout);
        var random = new DeterministicRandom(seed);
        Span<float> v = p.Values;
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return p;
    }

    public static float[] RandomArray(int length, DeterministicRandom random, float scale = 1f)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++)
        {
            v[i] = (float)((random.NextDouble() * 2) - 1) * scale;
        }

        return v;
    }
}
