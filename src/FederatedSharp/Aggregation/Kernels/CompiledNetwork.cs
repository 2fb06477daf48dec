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

    /// <summary>Sorts the wires at <paramref name="keys"/> (wire r at r x lanes) and stores the needed ranks back.</summary>
    /// <param name="keys">The first wire.</param>
    public delegate void SortKeys(ref int keys);

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

    /// <summary>The load, store, minimum and maximum of one vector type over <see cref="int"/>.</summary>
    private sealed record VectorMethods(int Count, MethodInfo Load, MethodInfo Store, MethodInfo Min, MethodInfo Max)
    {
        public static VectorMethods For(Type vector)
        {
            if (vector == typeof(Vector512<int>))
            {
                return From(typeof(Vector512), Vector512<int>.Count);
            }

            if (vector == typeof(Vector<int>))
            {
                return From(typeof(Vector), Vector<int>.Count);
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
