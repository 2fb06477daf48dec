using System.Collections.Concurrent;
using System.Numerics;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FederatedSharp.Aggregation.Kernels;

/// <summary>
/// A <see cref="SortingNetwork"/> compiled at run time into straight-line code over vector locals, so the JIT keeps
/// every wire in a register. Run from memory, each comparator stores two vectors and reloads them for the next one, and
/// those stores, not the comparisons, bound the kernel; compiled, the wires are loaded once, the comparators are pure
/// register minimum and maximum instructions, and only the ranks the statistic needs are stored. The network is the
/// exact one for the input count, pruned to the statistic's ranks (no padding to a power of two). Compiled once per
/// network and vector type, and used only where the runtime compiles dynamic code.
/// </summary>
internal static class CompiledNetwork
{
    /// <summary>Above this many wires the locals no longer fit the vector registers and the network runs from memory.</summary>
    public const int MaxWires = 32;

    private static readonly ConcurrentDictionary<(SortingNetwork Network, Type Vector, int First, int Last), SortKeys> Cache = new();

    private static readonly ConcurrentDictionary<(SortingNetwork Network, Type Vector, int First, int Last), SortPasses> PassCache = new();

    /// <summary>Sorts the wires at <paramref name="keys"/> (wire r at r x lanes) and stores the needed ranks back.</summary>
    /// <param name="keys">The first wire.</param>
    public delegate void SortKeys(ref int keys);

    /// <summary>
    /// Sorts <paramref name="passes"/> consecutive passes straight from the inputs: pass q loads input r's keys at
    /// <c>offsets[r] + start + q x lanes</c> into registers, sorts them, and stores the needed ranks of pass q at
    /// <c>keys + (q x n + rank) x lanes</c>. Nothing is staged, and one call serves many passes.
    /// </summary>
    /// <param name="sources">The N inputs' arrays.</param>
    /// <param name="offsets">Where each input's values start in its array.</param>
    /// <param name="start">The first coordinate.</param>
    /// <param name="passes">How many passes of one vector of lanes.</param>
    /// <param name="keys">Where the ranks go: N wires of one vector per pass.</param>
    public delegate void SortPasses(float[][] sources, int[] offsets, int start, int passes, ref int keys);

    /// <summary>Whether networks are compiled here (not under an interpreter or ahead-of-time compilation without a JIT).</summary>
    public static bool IsSupported => RuntimeFeature.IsDynamicCodeSupported && RuntimeFeature.IsDynamicCodeCompiled;

    /// <summary>
    /// The compiled <paramref name="network"/> over wires of one <typeparamref name="TVector"/> each: after a call,
    /// wires <paramref name="first"/> to <paramref name="last"/> hold those ranks; the other wires are not written.
    /// </summary>
    /// <typeparam name="TVector"><see cref="Vector512{T}"/> or <see cref="Vector{T}"/> of <see cref="int"/>.</typeparam>
    /// <param name="network">The network, at most <see cref="MaxWires"/> wires.</param>
    /// <param name="first">The lowest rank to store.</param>
    /// <param name="last">The highest rank to store.</param>
    /// <returns>A shared delegate.</returns>
    public static SortKeys For<TVector>(SortingNetwork network, int first, int last)
        where TVector : struct =>
        Cache.GetOrAdd((network, typeof(TVector), first, last), key => Compile(key.Network, key.Vector, key.First, key.Last));

    /// <summary>The compiled <paramref name="network"/> as a loop over passes read straight from the inputs (<see cref="SortPasses"/>).</summary>
    /// <typeparam name="TVector"><see cref="Vector512{T}"/> or <see cref="Vector{T}"/> of <see cref="int"/>.</typeparam>
    /// <param name="network">The network, at most <see cref="MaxWires"/> wires.</param>
    /// <param name="first">The lowest rank to store.</param>
    /// <param name="last">The highest rank to store.</param>
    /// <returns>A shared delegate.</returns>
    public static SortPasses ForPasses<TVector>(SortingNetwork network, int first, int last)
        where TVector : struct =>
        PassCache.GetOrAdd((network, typeof(TVector), first, last), key => CompilePasses(key.Network, key.Vector, key.First, key.Last));

    private static SortPasses CompilePasses(SortingNetwork network, Type vector, int first, int last)
    {
        VectorMethods methods = VectorMethods.For(vector);
        int n = network.Size, lanes = methods.Count;
        var method = new DynamicMethod(
            $"SortingNetworkPasses{n}_{first}_{last}", typeof(void), [typeof(float[][]), typeof(int[]), typeof(int), typeof(int), typeof(int).MakeByRefType()], typeof(CompiledNetwork).Module, skipVisibility: true);
        ILGenerator il = method.GetILGenerator();
        var wires = new LocalBuilder[n];
        for (int r = 0; r < n; r++)
        {
            wires[r] = il.DeclareLocal(vector);
        }

        LocalBuilder pass = il.DeclareLocal(typeof(int)), at = il.DeclareLocal(typeof(int)), output = il.DeclareLocal(typeof(int));
        Label loop = il.DefineLabel(), check = il.DefineLabel();
        il.Emit(OpCodes.Ldc_I4_0);
        il.Emit(OpCodes.Stloc, pass);
        il.Emit(OpCodes.Br, check);
        il.MarkLabel(loop);

        // at = start + pass x lanes; wire r = the keys of sources[r] at offsets[r] + at.
        il.Emit(OpCodes.Ldarg_2);
        il.Emit(OpCodes.Ldloc, pass);
        il.Emit(OpCodes.Ldc_I4, lanes);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, at);
        for (int r = 0; r < n; r++)
        {
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Ldc_I4, r);
            il.Emit(OpCodes.Ldelem_Ref);
            il.Emit(OpCodes.Ldarg_1);
            il.Emit(OpCodes.Ldc_I4, r);
            il.Emit(OpCodes.Ldelem_I4);
            il.Emit(OpCodes.Ldloc, at);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Call, methods.LoadKeys);
            il.Emit(OpCodes.Stloc, wires[r]);
        }

        EmitComparators(il, network, wires, vector, methods);

        // The needed ranks of this pass at (pass x n + rank) x lanes.
        il.Emit(OpCodes.Ldloc, pass);
        il.Emit(OpCodes.Ldc_I4, n * lanes);
        il.Emit(OpCodes.Mul);
        il.Emit(OpCodes.Stloc, output);
        for (int r = first; r <= last; r++)
        {
            il.Emit(OpCodes.Ldloc, wires[r]);
            il.Emit(OpCodes.Ldarg_S, (byte)4);
            il.Emit(OpCodes.Ldloc, output);
            il.Emit(OpCodes.Ldc_I4, r * lanes);
            il.Emit(OpCodes.Add);
            il.Emit(OpCodes.Conv_U);
            il.Emit(OpCodes.Call, methods.Store);
        }

        il.Emit(OpCodes.Ldloc, pass);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Add);
        il.Emit(OpCodes.Stloc, pass);
        il.MarkLabel(check);
        il.Emit(OpCodes.Ldloc, pass);
        il.Emit(OpCodes.Ldarg_3);
        il.Emit(OpCodes.Blt, loop);
        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<SortPasses>();
    }

    private static void EmitComparators(ILGenerator il, SortingNetwork network, LocalBuilder[] wires, Type vector, VectorMethods methods)
    {
        LocalBuilder smaller = il.DeclareLocal(vector);
        for (int c = 0; c < network.Low.Length; c++)
        {
            LocalBuilder a = wires[network.Low[c]], b = wires[network.High[c]];
            il.Emit(OpCodes.Ldloc, a);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Call, methods.Min);
            il.Emit(OpCodes.Stloc, smaller);
            il.Emit(OpCodes.Ldloc, a);
            il.Emit(OpCodes.Ldloc, b);
            il.Emit(OpCodes.Call, methods.Max);
            il.Emit(OpCodes.Stloc, b);
            il.Emit(OpCodes.Ldloc, smaller);
            il.Emit(OpCodes.Stloc, a);
        }
    }

    private static SortKeys Compile(SortingNetwork network, Type vector, int first, int last)
    {
        VectorMethods methods = VectorMethods.For(vector);
        int n = network.Size;
        var method = new DynamicMethod($"SortingNetwork{n}_{first}_{last}", typeof(void), [typeof(int).MakeByRefType()], typeof(CompiledNetwork).Module, skipVisibility: true);
        ILGenerator il = method.GetILGenerator();
        var wires = new LocalBuilder[n];
        for (int r = 0; r < n; r++)
        {
            wires[r] = il.DeclareLocal(vector);
            il.Emit(OpCodes.Ldarg_0);
            EmitOffset(il, r * methods.Count);
            il.Emit(OpCodes.Call, methods.Load);
            il.Emit(OpCodes.Stloc, wires[r]);
        }

        EmitComparators(il, network, wires, vector, methods);
        for (int r = first; r <= last; r++)
        {
            il.Emit(OpCodes.Ldloc, wires[r]);
            il.Emit(OpCodes.Ldarg_0);
            EmitOffset(il, r * methods.Count);
            il.Emit(OpCodes.Call, methods.Store);
        }

        il.Emit(OpCodes.Ret);
        return method.CreateDelegate<SortKeys>();
    }

    private static void EmitOffset(ILGenerator il, int elements)
    {
        il.Emit(OpCodes.Ldc_I4, elements);
        il.Emit(OpCodes.Conv_U);
    }

    /// <summary>The load, key load, store, minimum and maximum of one vector type over <see cref="int"/>.</summary>
    private sealed record VectorMethods(int Count, MethodInfo Load, MethodInfo Store, MethodInfo Min, MethodInfo Max)
    {
        /// <summary><see cref="ArrayKeys"/>' load of an array's floats as keys at an index, for this vector type.</summary>
        public MethodInfo LoadKeys { get; init; } = null!;

        public static VectorMethods For(Type vector)
        {
            if (vector == typeof(Vector512<int>))
            {
                return From(typeof(Vector512), Vector512<int>.Count) with { LoadKeys = typeof(ArrayKeys).GetMethod(nameof(ArrayKeys.Load512))! };
            }

            if (vector == typeof(Vector<int>))
            {
                return From(typeof(Vector), Vector<int>.Count) with { LoadKeys = typeof(ArrayKeys).GetMethod(nameof(ArrayKeys.LoadVector))! };
            }

            throw new ArgumentException($"{vector} is not a vector type the networks compile for.", nameof(vector));
        }

        private static VectorMethods From(Type statics, int count)
        {
            MethodInfo Find(string name, int parameters) =>
                statics.GetMethods(BindingFlags.Public | BindingFlags.Static)
                    .Single(m => m.Name == name && m.IsGenericMethodDefinition && m.GetParameters().Length == parameters)
                    .MakeGenericMethod(typeof(int));
            return new VectorMethods(count, Find("LoadUnsafe", 2), Find("StoreUnsafe", 3), Find("Min", 2), Find("Max", 2));
        }
    }
}
