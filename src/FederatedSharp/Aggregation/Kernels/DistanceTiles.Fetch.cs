using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>The sub-block a tile takes, and the next block's lines it fetches as it goes.</summary>
internal static unsafe partial class DistanceTiles
{
    /// <summary>
    /// The next block's lines one tile or triangle fetches into L2 as it goes, a line of each of up to four inputs per
    /// step: the calls of a sub-block share the inputs out (input q to call q mod calls), so the fetches spread over the
    /// whole block's arithmetic rather than arriving in one burst that would stall on the memory's queues.
    /// </summary>
    private readonly struct Fetch
    {
        /// <summary>The inputs' lines, at the sub-block's first coordinate (unused ones repeat a used one).</summary>
        public readonly float* P0, P1, P2, P3;

        /// <summary>Takes the inputs of call <paramref name="call"/> of <paramref name="calls"/>, from <paramref name="offset"/>.</summary>
        public Fetch(ReadOnlySpan<nint> inputs, int call, int calls, int offset)
        {
            int n = inputs.Length;
            Count = call < n ? ((n - call - 1) / calls) + 1 : 0;
            float* first = Count > 0 ? (float*)inputs[call] + offset : null;
            P0 = first;
            P1 = Count > 1 ? (float*)inputs[call + calls] + offset : first;
            P2 = Count > 2 ? (float*)inputs[call + (2 * calls)] + offset : first;
            P3 = Count > 3 ? (float*)inputs[call + (3 * calls)] + offset : P2; // three inputs fetch the third twice
            if (Count == 1)
            {
                // A call with one input of its own also fetches the previous call's lines again. A prefetch is a hint the
                // core may drop (when its miss queues are full, for one); a second request gives such a line another
                // chance. At 25 inputs the pass ran 5-10% faster with it, and slower again with three more.
                Count = 2;
                P1 = (float*)inputs[(call + n - 1) % n] + offset;
            }
        }

        /// <summary>The number of lines fetched a step: 0, or 2 to 4.</summary>
        public int Count { get; }
    }

    /// <summary>The sub-block every tile and triangle of a step takes.</summary>
    private readonly struct Pass(nint* inputs, int n, float* lanes, int at, int length)
    {
        /// <summary>The inputs' first elements.</summary>
        public readonly nint* Inputs = inputs;

        /// <summary>The per-lane pair sums.</summary>
        public readonly float* Lanes = lanes;

        /// <summary>The number of inputs.</summary>
        public readonly int N = n;

        /// <summary>The sub-block's first coordinate.</summary>
        public readonly int At = at;

        /// <summary>The sub-block's length, a whole number of vectors.</summary>
        public readonly int Length = length;
    }

    /// <summary>
    /// Fetches the lines at coordinate <paramref name="k"/> of the sub-block with PREFETCHT2, which fills L2 on the Zen 4
    /// and later cores this was measured on; it was faster there than T0 and T1.
    /// </summary>
    /// <typeparam name="TCount">The number of pointers to fetch through: 0, 2 or 4.</typeparam>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Ahead<TCount>(float* p0, float* p1, float* p2, float* p3, int k)
        where TCount : IConstant
    {
        if (TCount.Value > 0)
        {
            Sse.Prefetch2(p0 + k);
        }

        if (TCount.Value > 1)
        {
            Sse.Prefetch2(p1 + k);
        }

        if (TCount.Value > 2)
        {
            Sse.Prefetch2(p2 + k);
            Sse.Prefetch2(p3 + k);
        }
    }
}
