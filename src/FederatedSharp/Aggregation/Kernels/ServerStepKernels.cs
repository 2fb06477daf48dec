using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// The server optimisers' steps over one block of the round's mean, each a single vector loop: every coordinate's
/// global value, moments and mean are read once and the new values written once, in registers between, instead of a
/// dozen element-wise passes over the block. The operations and their order are those of the written-out steps (no
/// fused multiply-adds), so the results are the same bits on every vector path.
/// </summary>
internal static class ServerStepKernels
{
    /// <summary>
    /// FedAdagrad, FedAdam or FedYogi (Reddi et al. 2021, Algorithm 2) on a block: <c>d = mean - w</c>;
    /// <c>m = d (1 - b1) + m b1</c>; Adagrad <c>v = v + d^2</c>, Adam <c>v = d^2 (1 - b2) + v b2</c>, Yogi
    /// <c>v = v - (1 - b2) d^2 sign(v - d^2)</c>; then <c>mean = (m / (sqrt(v) + tau)) eta + w</c>.
    /// </summary>
    /// <param name="rule">The second-moment rule.</param>
    /// <param name="mean">On entry the round's mean, on exit the new global model.</param>
    /// <param name="w">The global model the round started from.</param>
    /// <param name="m">The first moment, updated in place.</param>
    /// <param name="v">The second moment, updated in place.</param>
    /// <param name="hyper">beta1, beta2, eta and tau.</param>
    /// <exception cref="ArgumentException">A length differs.</exception>
    public static void Adaptive(AdaptiveRule rule, Span<float> mean, ReadOnlySpan<float> w, Span<float> m, Span<float> v, AdaptiveHyperparameters hyper)
    {
        if (w.Length != mean.Length || m.Length != mean.Length || v.Length != mean.Length)
        {
            throw new ArgumentException($"Buffer lengths differ: mean {mean.Length}, model {w.Length}, moments {m.Length} and {v.Length}.");
        }

        var buffers = new StepBuffers(mean, w, m, v);
        if (Vector512.IsHardwareAccelerated)
        {
            Adaptive<Floats512, Vector512<float>>(rule, ref buffers, hyper);
        }
        else
        {
            Adaptive<FloatsVector, Vector<float>>(rule, ref buffers, hyper);
        }
    }

    /// <summary>
    /// FedAvgM on a block: <c>g = w - mean</c>; with momentum <c>u = g</c> the first round, else <c>u = u beta + g</c>,
    /// and <c>g = u</c>; then <c>mean = g (-lr) + w</c>.
    /// </summary>
    /// <param name="mean">On entry the round's mean, on exit the new global model.</param>
    /// <param name="w">The global model the round started from.</param>
    /// <param name="momentum">The momentum buffer, updated in place; empty for none.</param>
    /// <param name="first">The momentum buffer holds nothing yet (it is set to the gradient).</param>
    /// <param name="beta">The momentum factor.</param>
    /// <param name="learningRate">The server learning rate.</param>
    /// <exception cref="ArgumentException">A length differs.</exception>
    public static void Momentum(Span<float> mean, ReadOnlySpan<float> w, Span<float> momentum, bool first, float beta, float learningRate)
    {
        bool hasMomentum = !momentum.IsEmpty;
        if (w.Length != mean.Length || (hasMomentum && momentum.Length != mean.Length))
        {
            throw new ArgumentException($"Buffer lengths differ: mean {mean.Length}, model {w.Length}, momentum {momentum.Length}.");
        }

        var buffers = new StepBuffers(mean, w, hasMomentum ? momentum : mean, hasMomentum ? momentum : mean);
        int mode = !hasMomentum ? 0 : first ? 1 : 2;
        if (Vector512.IsHardwareAccelerated)
        {
            Momentum<Floats512, Vector512<float>>(mode, ref buffers, beta, -learningRate);
        }
        else
        {
            Momentum<FloatsVector, Vector<float>>(mode, ref buffers, beta, -learningRate);
        }
    }

    private static void Adaptive<TV, TVector>(AdaptiveRule rule, ref StepBuffers buffers, AdaptiveHyperparameters hyper)
        where TV : IFloatVector<TVector>
        where TVector : struct
    {
        switch (rule)
        {
            case AdaptiveRule.Adagrad: Adaptive<TV, TVector, C0>(ref buffers, hyper); break;
            case AdaptiveRule.Adam: Adaptive<TV, TVector, C1>(ref buffers, hyper); break;
            default: Adaptive<TV, TVector, C2>(ref buffers, hyper); break;
        }
    }

    // TRule: 0 Adagrad, 1 Adam, 2 Yogi.
    private static void Adaptive<TV, TVector, TRule>(ref StepBuffers buffers, AdaptiveHyperparameters hyper)
        where TV : IFloatVector<TVector>
        where TVector : struct
        where TRule : IConstant
    {
        ref float mean = ref buffers.Mean, w = ref buffers.Model, m = ref buffers.First, v = ref buffers.Second;
        float b1 = hyper.Beta1, ob1 = 1 - hyper.Beta1, b2 = hyper.Beta2, ob2 = 1 - hyper.Beta2, eta = hyper.Eta, tau = hyper.Tau;
        TVector vb1 = TV.Create(b1), vob1 = TV.Create(ob1), vb2 = TV.Create(b2), vob2 = TV.Create(ob2), veta = TV.Create(eta), vtau = TV.Create(tau);
        int length = buffers.Length;
        int i = 0;
        for (; i <= length - TV.Count; i += TV.Count)
        {
            nuint n = (nuint)i;
            TVector wi = TV.Load(ref w, n);
            TVector d = TV.Subtract(TV.Load(ref mean, n), wi);
            TVector mi = TV.Add(TV.Multiply(d, vob1), TV.Multiply(TV.Load(ref m, n), vb1));
            TVector d2 = TV.Multiply(d, d);
            TVector vi = TV.Load(ref v, n);
            vi = TRule.Value switch
            {
                0 => TV.Add(vi, d2),
                1 => TV.Add(TV.Multiply(d2, vob2), TV.Multiply(vi, vb2)),
                _ => TV.Subtract(vi, TV.Multiply(TV.Multiply(vob2, d2), TV.Sign(TV.Subtract(vi, d2)))),
            };
            TV.Store(mi, ref m, n);
            TV.Store(vi, ref v, n);
            TV.Store(TV.Add(TV.Multiply(TV.Divide(mi, TV.Add(TV.Sqrt(vi), vtau)), veta), wi), ref mean, n);
        }

        for (; i < length; i++)
        {
            float wi = Unsafe.Add(ref w, i);
            float d = Unsafe.Add(ref mean, i) - wi;
            float mi = (d * ob1) + (Unsafe.Add(ref m, i) * b1);
            float d2 = d * d;
            float vi = Unsafe.Add(ref v, i);
            vi = TRule.Value switch
            {
                0 => vi + d2,
                1 => (d2 * ob2) + (vi * b2),
                _ => vi - (ob2 * d2 * Sign(vi - d2)),
            };
            Unsafe.Add(ref m, i) = mi;
            Unsafe.Add(ref v, i) = vi;
            Unsafe.Add(ref mean, i) = ((mi / (MathF.Sqrt(vi) + tau)) * eta) + wi;
        }
    }

    // mode: 0 no momentum, 1 first round (u = g), 2 u = u beta + g.
    private static void Momentum<TV, TVector>(int mode, ref StepBuffers buffers, float beta, float negativeRate)
        where TV : IFloatVector<TVector>
        where TVector : struct
    {
        ref float mean = ref buffers.Mean, w = ref buffers.Model, u = ref buffers.First;
        TVector vbeta = TV.Create(beta), vrate = TV.Create(negativeRate);
        int length = buffers.Length;
        int i = 0;
        for (; i <= length - TV.Count; i += TV.Count)
        {
            nuint n = (nuint)i;
            TVector wi = TV.Load(ref w, n);
            TVector g = TV.Subtract(wi, TV.Load(ref mean, n));
            if (mode != 0)
            {
                g = mode == 1 ? g : TV.Add(TV.Multiply(TV.Load(ref u, n), vbeta), g);
                TV.Store(g, ref u, n);
            }

            TV.Store(TV.Add(TV.Multiply(g, vrate), wi), ref mean, n);
        }

        for (; i < length; i++)
        {
            float wi = Unsafe.Add(ref w, i);
            float g = wi - Unsafe.Add(ref mean, i);
            if (mode != 0)
            {
                g = mode == 1 ? g : (Unsafe.Add(ref u, i) * beta) + g;
                Unsafe.Add(ref u, i) = g;
            }

            Unsafe.Add(ref mean, i) = (g * negativeRate) + wi;
        }
    }

    private static float Sign(float x) => x > 0 ? 1 : x < 0 ? -1 : 0;

    /// <summary>The blocks a step reads and writes (unused moments alias the mean and are never touched).</summary>
    private readonly ref struct StepBuffers
    {
        public readonly ref float Mean;
        public readonly ref float Model;
        public readonly ref float First;
        public readonly ref float Second;
        public readonly int Length;

        public StepBuffers(Span<float> mean, ReadOnlySpan<float> model, Span<float> first, Span<float> second)
        {
            Mean = ref MemoryMarshal.GetReference(mean);
            Model = ref MemoryMarshal.GetReference(model);
            First = ref MemoryMarshal.GetReference(first);
            Second = ref MemoryMarshal.GetReference(second);
            Length = mean.Length;
        }
    }
}

/// <summary>The hyperparameters of an adaptive server optimiser, as floats.</summary>
/// <param name="Beta1">The first moment's decay.</param>
/// <param name="Beta2">The second moment's decay.</param>
/// <param name="Eta">The server learning rate.</param>
/// <param name="Tau">The adaptivity (added to the root of the second moment).</param>
internal readonly record struct AdaptiveHyperparameters(float Beta1, float Beta2, float Eta, float Tau);
